package tether

import "time"

// Reason is the precise, canonical cause of a connection's end or of a
// refused connection attempt. Azure folds many of them into one result
// code (404104 covers a lost link, a keep-alive timeout and the end of a
// token's life); the reason keeps them apart.
type Reason string

// The reasons, from the taxonomy in shared/spec/disconnect-reasons.md.
const (
	ReasonNone              Reason = ""
	ReasonClientDisconnect  Reason = "client_disconnect"  // the device sent DISCONNECT
	ReasonConnectionLost    Reason = "connection_lost"    // EOF or reset without DISCONNECT
	ReasonKeepAliveTimeout  Reason = "keepalive_timeout"  // silent for 1.5 × keep-alive
	ReasonConnectTimeout    Reason = "connect_timeout"    // no CONNECT (or TLS) in time
	ReasonTLSError          Reason = "tls_error"          // the TLS handshake failed
	ReasonAuthFailed        Reason = "auth_failed"        // bad signature, unknown device, wrong audience
	ReasonCredentialExpired Reason = "credential_expired" // the SAS token expired
	ReasonDeviceDisabled    Reason = "device_disabled"    // the device is disabled
	ReasonDeviceDeleted     Reason = "device_deleted"     // the device was deleted while connected
	ReasonSessionTakenOver  Reason = "session_taken_over" // a newer connection for the same device
	ReasonThrottled         Reason = "throttled"          // a rate limit
	ReasonFlappingBanned    Reason = "flapping_banned"    // refused during a ban after repeated auth failures
	ReasonMessageTooLarge   Reason = "message_too_large"  // a publish over the size limit
	ReasonProtocolError     Reason = "protocol_error"     // a malformed or forbidden packet
	ReasonNotAuthorized     Reason = "not_authorized_action"
	ReasonServerShutdown    Reason = "server_shutdown" // the hub is stopping
	ReasonServerError       Reason = "server_error"    // a fault of the hub
)

// Deliberate reports whether a connection that ended for reason r was
// ended on purpose by a working device, or by the hub at the end of the
// device's token, so that the device reconnects at once: the DISCONNECT
// an Azure SDK sends to renew its SAS token, an expired token the SDK
// replaces, a newer connection of the same device. An unknown reason
// counts as deliberate. Every other reason is a drop.
func (r Reason) Deliberate() bool {
	switch r {
	case ReasonNone, ReasonClientDisconnect, ReasonCredentialExpired, ReasonSessionTakenOver:
		return true
	}
	return false
}

// Code returns the Azure result code logged for r.
func (r Reason) Code() ResultCode {
	switch r {
	case ReasonConnectionLost, ReasonKeepAliveTimeout:
		return DeviceConnectionClosedRemotely
	case ReasonConnectTimeout:
		return GenericTimeout
	case ReasonAuthFailed, ReasonCredentialExpired, ReasonTLSError, ReasonNotAuthorized:
		return IoTHubUnauthorized
	case ReasonDeviceDisabled:
		return DeviceDisabled
	case ReasonDeviceDeleted:
		return DeviceNotFound
	case ReasonSessionTakenOver:
		return ConnectionForcefullyClosedOnNewConnection
	case ReasonThrottled:
		return DeviceThrottlingLimitExceeded
	case ReasonFlappingBanned:
		return ThrottlingException
	case ReasonMessageTooLarge:
		return MessageTooLarge
	case ReasonProtocolError:
		return ArgumentInvalid
	case ReasonServerShutdown:
		return ConnectionForcefullyClosedOnFaultInjection
	case ReasonServerError:
		return ServerError
	}
	return 0
}

// Protocol names the transport of a connection as Azure logs it.
type Protocol string

const (
	ProtocolMQTT   Protocol = "Mqtt"
	ProtocolMQTTWS Protocol = "MqttWs"
)

// EventKind says what a ConnectionEvent records.
type EventKind int

const (
	EventConnectFailed EventKind = iota // an attempt that was refused or never finished
	EventConnect                        // a device connected
	EventDisconnect                     // a connected device's connection ended
	EventRefused                        // a connected device's operation was refused; it stays connected
)

// ConnectionEvent is what the gateway tells the diagnostics layer at each
// point of a connection's life. The gateway knows the exact cause; the
// recorder turns events into log rows, metrics and lifecycle events.
type ConnectionEvent struct {
	Kind         EventKind
	Time         time.Time
	ConnectionID string
	DeviceID     string // "" when the attempt failed before a device was known
	ModuleID     string
	Protocol     Protocol
	RemoteAddr   string // unmasked; the recorder masks it
	SDKVersion   string // DeviceClientType from the username
	APIVersion   string
	AuthScope    string // "device" or "hub" (a policy token)
	KeyName      string // the policy of a policy-signed token
	Reason       Reason
	Code         ResultCode // 0 for a normal connect or a clean disconnect
	Detail       string     // the precise human-readable cause
	KeepAlive    time.Duration
	Accepted     time.Time // when the network connection was accepted
	ConnectedAt  time.Time // when CONNECT succeeded (of the connection that ended)
	LastActivity time.Time
	TokenExpiry  time.Time
	TLSVersion   string
	CipherSuite  string
	BytesIn      int64
	BytesOut     int64
	MsgsIn       int64
	MsgsOut      int64
	WillSent     bool
}

func (k EventKind) String() string {
	switch k {
	case EventConnectFailed:
		return "connect_failed"
	case EventConnect:
		return "connect"
	case EventDisconnect:
		return "disconnect"
	case EventRefused:
		return "refused"
	}
	return "unknown"
}
