package diag

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/tether-iot/tether"
)

// Operation names of the categories other than Connections, as Azure IoT
// Hub writes them (C2DCommands "send" and "complete" are Tether's: Azure
// documents only its errors, such as messageExpired).
const (
	OpCreate   = "create"   // DeviceIdentityOperations
	OpGet      = "get"      // DeviceIdentityOperations
	OpUpdate   = "update"   // DeviceIdentityOperations, D2CTwinOperations, C2DTwinOperations
	OpDelete   = "delete"   // DeviceIdentityOperations
	OpList     = "list"     // DeviceIdentityOperations
	OpRead     = "read"     // D2CTwinOperations, C2DTwinOperations
	OpReplace  = "replace"  // C2DTwinOperations
	OpSend     = "send"     // DirectMethods, C2DCommands
	OpComplete = "complete" // C2DCommands: the device acknowledged the message
	OpExpired  = "messageExpired"
	OpIngress  = "ingress" // DeviceTelemetry
)

// Call is what every operation record says of the call that it records.
type Call struct {
	Time       time.Time     // when the call started; zero: when it is written
	Duration   time.Duration // < 0: not measured (no durationMs)
	DeviceID   string
	RemoteAddr string            // the caller's address, unmasked; the record masks it
	SDKVersion string            // a service's User-Agent, a device's DeviceClientType
	Code       tether.ResultCode // 0: the call succeeded
	Status     int               // the HTTP status answered; 0: from Code (or 200)
}

// result fills in the level, result type and description and returns the
// statusCode property.
func (c Call) result(r *tether.LogRecord) *string {
	status := c.Status
	if c.Code != 0 {
		r.Level, r.ResultType, r.ResultDescription = tether.LevelError, strconv.Itoa(int(c.Code)), c.Code.Name()
		if status == 0 {
			status = c.Code.HTTPStatus()
		}
	}
	if status == 0 {
		status = 200
	}
	return ptr(strconv.Itoa(status))
}

func (c Call) record(category, op string, props any) tether.LogRecord {
	r := tether.LogRecord{Time: c.Time, Category: category, OperationName: op, Level: tether.LevelInformation, DeviceID: c.DeviceID}
	if c.Duration >= 0 {
		r.DurationMs = i64(c.Duration.Milliseconds())
	}
	b, _ := json.Marshal(props)
	r.Properties = string(b)
	return r
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// IdentityOperation is the DeviceIdentityOperations record of a registry
// call (op: create, get, update, delete or list; deviceId is null for a
// list).
func IdentityOperation(op string, c Call) tether.LogRecord {
	return build(tether.CategoryDeviceIdentityOperations, op, c, func(status *string) any {
		return struct {
			MaskedIPAddress string  `json:"maskedIpAddress"`
			DeviceID        *string `json:"deviceId"`
			StatusCode      *string `json:"statusCode"`
			SDKVersion      string  `json:"sdkVersion,omitempty"`
		}{maskIP(c.RemoteAddr), nullable(c.DeviceID), status, c.SDKVersion}
	})
}

// build makes a record whose properties carry a statusCode.
func build(category, op string, c Call, props func(status *string) any) tether.LogRecord {
	var res tether.LogRecord
	status := c.result(&res)
	r := c.record(category, op, props(status))
	if res.Level != "" {
		r.Level, r.ResultType, r.ResultDescription = res.Level, res.ResultType, res.ResultDescription
	}
	return r
}

// TwinOperation is the C2DTwinOperations record of a service's twin call
// (op: read, update or replace); messageSize is the size of the twin
// document read, or of the patch or replacement sent.
func TwinOperation(op string, c Call, messageSize int64) tether.LogRecord {
	return build(tether.CategoryC2DTwinOperations, op, c, func(status *string) any {
		return struct {
			DeviceID        string  `json:"deviceId"`
			SDKVersion      string  `json:"sdkVersion"`
			MessageSize     string  `json:"messageSize"`
			MaskedIPAddress string  `json:"maskedIpAddress"`
			StatusCode      *string `json:"statusCode"`
		}{c.DeviceID, c.SDKVersion, strconv.FormatInt(messageSize, 10), maskIP(c.RemoteAddr), status}
	})
}

// DeviceTwin is what a device did with its twin, for a D2CTwinOperations
// record.
type DeviceTwin struct {
	Call
	ModuleID    string
	Protocol    tether.Protocol
	AuthScope   string // "device" or "hub"
	MessageSize int64  // of the twin document read or the patch sent
}

// DeviceTwinOperation is the D2CTwinOperations record of a device's twin
// request (op: read or update).
func DeviceTwinOperation(op string, t DeviceTwin) tether.LogRecord {
	return build(tether.CategoryD2CTwinOperations, op, t.Call, func(status *string) any {
		proto := string(t.Protocol)
		if proto == "" {
			proto = string(tether.ProtocolMQTT)
		}
		return struct {
			DeviceID           string  `json:"deviceId"`
			ModuleID           string  `json:"moduleId,omitempty"`
			Protocol           string  `json:"protocol"`
			AuthenticationType any     `json:"authenticationType"`
			SDKVersion         string  `json:"sdkVersion"`
			MessageSize        string  `json:"messageSize"`
			MaskedIPAddress    string  `json:"maskedIpAddress"`
			StatusCode         *string `json:"statusCode"`
		}{t.DeviceID, t.ModuleID, proto, authType(tether.ConnectionEvent{AuthScope: t.AuthScope}), t.SDKVersion,
			strconv.FormatInt(t.MessageSize, 10), maskIP(t.RemoteAddr), status}
	})
}

// Method is a direct method call, for a DirectMethods record.
type Method struct {
	Call
	MethodName   string
	RequestSize  int64 // the payload sent to the device
	ResponseSize int64 // the payload the device answered
	DeviceStatus *int  // the status the device answered; nil: it did not answer
}

// MethodOperation is the DirectMethods record of a method call: op send,
// durationMs the call's duration. A device's own error status (≥ 400) is
// an answer, not a failure: the record stays Information with the
// device's status in statusCode.
func MethodOperation(m Method) tether.LogRecord {
	if m.DeviceStatus != nil && m.Code == 0 {
		m.Status = *m.DeviceStatus
	}
	return build(tether.CategoryDirectMethods, OpSend, m.Call, func(status *string) any {
		return struct {
			DeviceID        string  `json:"deviceId"`
			MethodName      string  `json:"methodName"`
			RequestSize     int64   `json:"RequestSize"`
			ResponseSize    int64   `json:"ResponseSize"`
			SDKVersion      string  `json:"sdkVersion"`
			MaskedIPAddress string  `json:"maskedIpAddress"`
			StatusCode      *string `json:"statusCode"`
		}{m.DeviceID, m.MethodName, m.RequestSize, m.ResponseSize, m.SDKVersion, maskIP(m.RemoteAddr), status}
	})
}

// C2DMessage is what a C2DCommands record says of a cloud-to-device
// message.
type C2DMessage struct {
	MessageID     string
	Size          int64
	Ack           string // none, positive, negative, full; "" is none
	DeliveryCount int
	Enqueued      time.Time
	Expiry        time.Time
	Protocol      tether.Protocol // of the device's connection, for complete
}

// deliveryAck writes iothub-ack as Azure's deliveryAcknowledgement.
func deliveryAck(ack string) string {
	switch ack {
	case "positive":
		return "PositiveOnly"
	case "negative":
		return "NegativeOnly"
	case "full":
		return "Full"
	}
	return "None"
}

func utc(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Truncate(100 * time.Nanosecond).Format(time.RFC3339Nano)
}

// C2DOperation is the C2DCommands record of a cloud-to-device message
// (op: send when queued, complete when the device acknowledged it,
// messageExpired when it was removed unacknowledged at its expiry).
func C2DOperation(op string, c Call, m C2DMessage) tether.LogRecord {
	expired := op == OpExpired && c.Code == 0
	if expired {
		c.Status = 410 // Gone
	}
	at := c.Time // when the hub processed it: the end of the call
	if at.IsZero() {
		at = time.Now()
	} else if c.Duration > 0 {
		at = at.Add(c.Duration)
	}
	r := build(tether.CategoryC2DCommands, op, c, func(status *string) any {
		p := struct {
			DeviceID                string  `json:"deviceId"`
			MessageID               string  `json:"messageId"`
			MessageSizeInBytes      string  `json:"messageSizeInBytes"`
			Protocol                string  `json:"protocol,omitempty"`
			DeliveryAcknowledgement string  `json:"deliveryAcknowledgement"`
			DeliveryCount           string  `json:"deliveryCount"`
			ExpiryTime              string  `json:"expiryTime,omitempty"`
			TimeInSystem            *int64  `json:"timeInSystem,omitempty"` // ms since enqueued
			TTL                     *int64  `json:"ttl,omitempty"`          // seconds
			EventEnqueuedUtcTime    string  `json:"EventEnqueuedUtcTime,omitempty"`
			EventProcessedUtcTime   string  `json:"EventProcessedUtcTime"`
			MaskedIPAddress         string  `json:"maskedIpAddress"`
			SDKVersion              string  `json:"sdkVersion,omitempty"`
			StatusCode              *string `json:"statusCode"`
		}{DeviceID: c.DeviceID, MessageID: m.MessageID, MessageSizeInBytes: strconv.FormatInt(m.Size, 10),
			Protocol: string(m.Protocol), DeliveryAcknowledgement: deliveryAck(m.Ack), DeliveryCount: strconv.Itoa(m.DeliveryCount),
			ExpiryTime: utc(m.Expiry), EventEnqueuedUtcTime: utc(m.Enqueued), EventProcessedUtcTime: utc(at),
			MaskedIPAddress: maskIP(c.RemoteAddr), SDKVersion: c.SDKVersion, StatusCode: status}
		if !m.Enqueued.IsZero() {
			p.TimeInSystem = i64(max(0, at.Sub(m.Enqueued).Milliseconds()))
			if !m.Expiry.IsZero() {
				p.TTL = i64(int64(m.Expiry.Sub(m.Enqueued) / time.Second))
			}
		}
		return p
	})
	if expired {
		// Azure logs an expired message as an error; it has no six-digit
		// code for it.
		r.Level, r.ResultDescription = tether.LevelError, "MessageExpired"
	}
	return r
}

// Telemetry is a device-to-cloud message the hub refused, for a
// DeviceTelemetry record.
type Telemetry struct {
	Call
	ModuleID string
	Protocol tether.Protocol
	Size     int64
}

// TelemetryError is the DeviceTelemetry record of a refused message: op
// ingress, Level Error with the code (429001 throttled, 413001 too
// large). Accepted messages are not logged, as in Azure.
func TelemetryError(t Telemetry) tether.LogRecord {
	t.Duration = -1
	if t.Code == 0 {
		t.Code = tether.ServerError
	}
	at := t.Time
	if at.IsZero() {
		at = time.Now()
	}
	return build(tether.CategoryDeviceTelemetry, OpIngress, t.Call, func(status *string) any {
		return struct {
			DeviceID              string  `json:"deviceId"`
			ModuleID              string  `json:"moduleId,omitempty"`
			Protocol              string  `json:"protocol,omitempty"`
			Batching              string  `json:"batching"`
			MessageSizeInBytes    string  `json:"messageSizeInBytes"`
			EventProcessedUtcTime string  `json:"EventProcessedUtcTime"`
			EventEnqueuedUtcTime  string  `json:"EventEnqueuedUtcTime"`
			PartitionID           string  `json:"partitionId"`
			SDKVersion            string  `json:"sdkVersion,omitempty"`
			MaskedIPAddress       string  `json:"maskedIpAddress"`
			StatusCode            *string `json:"statusCode"`
		}{t.DeviceID, t.ModuleID, string(t.Protocol), "0", strconv.FormatInt(t.Size, 10), utc(at), utc(at), "0",
			t.SDKVersion, maskIP(t.RemoteAddr), status}
	})
}
