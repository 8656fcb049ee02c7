package device

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"

	"github.com/tether-iot/tether"
)

// Error is what the client returns when the hub refused something or the
// connection failed. Code is the hub's result code from the error catalog
// of package tether: Code.Info() explains it, and Retryable says whether
// the client will try again by itself.
type Error struct {
	Op      string            // "connect", "send event", "twin get", …
	Code    tether.ResultCode // the catalog entry that explains the failure
	Reason  tether.Reason     // the precise cause, when the device can know it
	Connack byte              // the CONNACK return code (1–5); 0 if the hub sent none
	Detail  string            // what exactly happened, in words
	Err     error             // the underlying error, if any
}

func (e *Error) Error() string {
	msg := "device: " + e.Op + ": "
	if e.Code != 0 {
		msg += e.Code.String() + ": "
	}
	msg += e.Detail
	if e.Err != nil && e.Detail == "" {
		msg += e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether trying again can succeed, from the catalog.
// A certificate the device does not trust is final; a refused or
// dropped network connection is not.
func (e *Error) Retryable() bool {
	if e.Reason == tether.ReasonTLSError {
		return false
	}
	return e.Code.Info().Retryable
}

// throttled reports whether the hub asked the device to slow down.
func (e *Error) throttled() bool {
	return e.Code.Kind() == tether.KindThrottled || e.Code == tether.ServerBusy
}

// ConnackResult maps an MQTT 3.1.1 CONNACK return code to the catalog,
// as a device sees it. IoT Hub (and Tether) answer 5 for a bad or expired
// token and for an unknown device, and 3 for a disabled device and for a
// hub that cannot take the connection right now: the device cannot tell
// those two apart, so 3 is retried with back-off, as the Azure SDKs do.
func ConnackResult(rc byte) (tether.ResultCode, tether.Reason, string) {
	switch rc {
	case 0:
		return 0, tether.ReasonNone, "connection accepted"
	case 1:
		return tether.InvalidProtocolVersion, tether.ReasonProtocolError, "CONNACK 1 (unacceptable protocol version): the hub speaks MQTT 3.1.1 only"
	case 2:
		return tether.IoTHubUnauthorized, tether.ReasonAuthFailed, "CONNACK 2 (identifier rejected): the client ID must be the device ID"
	case 3:
		return tether.ServiceUnavailable, tether.ReasonNone, "CONNACK 3 (server unavailable): the device is disabled in the registry, or the hub cannot take connections right now; the hub's connection log says which"
	case 4:
		return tether.IoTHubUnauthorized, tether.ReasonAuthFailed, "CONNACK 4 (bad user name or password): the user name or SAS token is malformed"
	case 5:
		return tether.IoTHubUnauthorized, tether.ReasonAuthFailed, "CONNACK 5 (not authorized): the SAS token was refused: wrong key, unknown device, a token for another hub, or an expired token (check the device's clock)"
	}
	return tether.ServerError, tether.ReasonProtocolError, fmt.Sprintf("CONNACK %d: not an MQTT 3.1.1 return code", rc)
}

// classifyDial turns an error from dialling, TLS or the WebSocket
// upgrade into an *Error.
func classifyDial(op string, err error) *Error {
	e := &Error{Op: op, Err: err}
	var (
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
		verify    *tls.CertificateVerificationError
		netErr    net.Error
		dnsErr    *net.DNSError
	)
	switch {
	case errors.As(err, &unknownCA):
		e.Code, e.Reason = tether.IoTHubUnauthorized, tether.ReasonTLSError
		e.Detail = "TLS: the hub's certificate is signed by a CA this device does not trust; give the device the hub's CA (Tether: DATA/tls/ca.pem) with Options.CA: " + err.Error()
	case errors.As(err, &hostErr):
		e.Code, e.Reason = tether.IoTHubUnauthorized, tether.ReasonTLSError
		e.Detail = "TLS: the hub's certificate does not cover the host name the device dials; use the name the hub was started with (tether serve --hostname): " + err.Error()
	case errors.As(err, &invalid):
		e.Code, e.Reason = tether.IoTHubUnauthorized, tether.ReasonTLSError
		e.Detail = "TLS: the hub's certificate is not valid (expired, or not yet valid: check the device's clock): " + err.Error()
	case errors.As(err, &verify):
		e.Code, e.Reason = tether.IoTHubUnauthorized, tether.ReasonTLSError
		e.Detail = "TLS: the hub's certificate was not accepted: " + err.Error()
	case errors.As(err, &dnsErr):
		e.Code, e.Reason = tether.ServiceUnavailable, tether.ReasonConnectionLost
		e.Detail = "DNS: cannot resolve the hub's host name: " + err.Error()
	case errors.As(err, &netErr) && netErr.Timeout():
		e.Code, e.Reason = tether.GenericTimeout, tether.ReasonConnectTimeout
		e.Detail = "the connection to the hub timed out (a firewall dropping packets, or the hub is overloaded): " + err.Error()
	default:
		e.Code, e.Reason = tether.ServiceUnavailable, tether.ReasonConnectionLost
		e.Detail = "cannot reach the hub (nothing listening, a firewall, or the network is down): " + err.Error()
	}
	return e
}

// lostError explains a connection that dropped after it was up.
func lostError(err error) *Error {
	detail := "the connection to the hub dropped"
	if err != nil {
		detail += ": " + err.Error()
	}
	return &Error{Op: "connection", Code: tether.DeviceConnectionClosedRemotely, Reason: tether.ReasonConnectionLost, Detail: detail, Err: err}
}

var errTwice = errors.New("device: Open or Run called twice")
