package diag

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/tether-iot/tether"
)

// Operation names of the Connections category.
const (
	opConnect    = "deviceConnect"
	opDisconnect = "deviceDisconnect"
	opRefused    = "deviceOperationRefused" // Tether's: a refused operation on a live connection
)

// authType is Azure's authType property: a JSON object written as a
// string inside properties_s.
func authType(ev tether.ConnectionEvent) any {
	if ev.AuthScope == "" {
		return nil
	}
	b, _ := json.Marshal(struct {
		Scope                 string  `json:"scope"`
		Type                  string  `json:"type"`
		Issuer                string  `json:"issuer"`
		AcceptingIPFilterRule *string `json:"acceptingIpFilterRule"`
	}{ev.AuthScope, "sas", "iothub", nil})
	return string(b)
}

// connectionProps are properties_s of a Connections record: Azure's
// fields first, then Tether's.
type connectionProps struct {
	DeviceID        string  `json:"deviceId"`
	ModuleID        string  `json:"moduleId,omitempty"`
	SDKVersion      string  `json:"sdkVersion"`
	Protocol        string  `json:"protocol"`
	AuthType        any     `json:"authType"`
	MaskedIPAddress string  `json:"maskedIpAddress"`
	StatusCode      *string `json:"statusCode"`

	Reason            string `json:"reason,omitempty"`
	Detail            string `json:"detail,omitempty"`
	ConnectionID      string `json:"connectionId"`
	DurationMs        *int64 `json:"durationMs,omitempty"`
	KeepAliveSec      *int64 `json:"keepAliveSec,omitempty"`
	LastActivityAgoMs *int64 `json:"lastActivityAgoMs,omitempty"`
	APIVersion        string `json:"apiVersion,omitempty"`
	TLSVersion        string `json:"tlsVersion,omitempty"`
	CipherSuite       string `json:"cipherSuite,omitempty"`
	KeyName           string `json:"sasKeyName,omitempty"`
	TokenExpiry       string `json:"tokenExpiry,omitempty"`
	BytesIn           *int64 `json:"bytesIn,omitempty"`
	BytesOut          *int64 `json:"bytesOut,omitempty"`
	MessagesIn        *int64 `json:"messagesIn,omitempty"`
	MessagesOut       *int64 `json:"messagesOut,omitempty"`
	WillPublished     bool   `json:"willPublished,omitempty"`
	FollowsRecord     string `json:"follows,omitempty"`
}

func i64(v int64) *int64 { return &v }

// ConnectionRecords turns a connection event into its log records. A
// disconnect at token expiry gives two, as Azure logs it: 401003 (the hub
// noticed the expired token) and then 404104 (the connection closed).
func ConnectionRecords(ev tether.ConnectionEvent) []tether.LogRecord {
	p := connectionProps{
		DeviceID: ev.DeviceID, ModuleID: ev.ModuleID, SDKVersion: ev.SDKVersion, Protocol: string(ev.Protocol),
		AuthType: authType(ev), MaskedIPAddress: maskIP(ev.RemoteAddr),
		Reason: string(ev.Reason), Detail: ev.Detail, ConnectionID: ev.ConnectionID,
		APIVersion: ev.APIVersion, TLSVersion: ev.TLSVersion, CipherSuite: ev.CipherSuite, KeyName: ev.KeyName,
	}
	if ev.Protocol == "" {
		p.Protocol = string(tether.ProtocolMQTT)
	}
	if ev.KeepAlive > 0 || ev.Kind != tether.EventConnectFailed {
		p.KeepAliveSec = i64(int64(ev.KeepAlive / time.Second))
	}
	if !ev.TokenExpiry.IsZero() {
		p.TokenExpiry = ev.TokenExpiry.UTC().Format(time.RFC3339)
	}
	op := opConnect
	switch ev.Kind {
	case tether.EventDisconnect:
		op = opDisconnect
		if !ev.ConnectedAt.IsZero() {
			p.DurationMs = i64(ev.Time.Sub(ev.ConnectedAt).Milliseconds())
		}
		if !ev.LastActivity.IsZero() {
			p.LastActivityAgoMs = i64(max(0, ev.Time.Sub(ev.LastActivity).Milliseconds()))
		}
		p.BytesIn, p.BytesOut, p.MessagesIn, p.MessagesOut = i64(ev.BytesIn), i64(ev.BytesOut), i64(ev.MsgsIn), i64(ev.MsgsOut)
		p.WillPublished = ev.WillSent
	case tether.EventRefused:
		op = opRefused
	}
	rec := func(code tether.ResultCode, props connectionProps) tether.LogRecord {
		r := tether.LogRecord{Time: ev.Time, Category: tether.CategoryConnections, OperationName: op,
			Level: tether.LevelInformation, DeviceID: ev.DeviceID, Reason: ev.Reason}
		if code != 0 {
			r.Level, r.ResultType, r.ResultDescription = tether.LevelError, strconv.Itoa(int(code)), code.Name()
			props.StatusCode = ptr(strconv.Itoa(code.HTTPStatus()))
		}
		b, _ := json.Marshal(props)
		r.Properties = string(b)
		return r
	}
	code := ev.Code
	if code == 0 {
		code = ev.Reason.Code()
	}
	if ev.Kind == tether.EventDisconnect && ev.Reason == tether.ReasonCredentialExpired {
		first := rec(tether.IoTHubUnauthorized, p)
		p.FollowsRecord = strconv.Itoa(int(tether.IoTHubUnauthorized))
		second := rec(tether.DeviceConnectionClosedRemotely, p)
		second.Time = ev.Time.Add(time.Millisecond)
		return []tether.LogRecord{first, second}
	}
	return []tether.LogRecord{rec(code, p)}
}

func ptr[T any](v T) *T { return &v }
