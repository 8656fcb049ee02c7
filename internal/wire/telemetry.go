package wire

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"time"
	"unicode/utf8"

	"github.com/tether-iot/tether"
)

// The event types of the telemetry stream (GET /telemetry, server-sent
// events). A "message" event carries a TelemetryEvent; an "error" event
// carries an ErrorBody and ends the stream.
const (
	EventMessage = "message"
	EventError   = "error"
)

// DefaultConsumerGroup is the consumer group every hub has.
const DefaultConsumerGroup = "$Default"

// TelemetryEvent is one device-to-cloud message as the telemetry stream
// shows it, shaped like the output of
// "az iot hub monitor-events --properties all".
type TelemetryEvent struct {
	Event Event `json:"event"`
}

// Event is the body of a TelemetryEvent.
type Event struct {
	Origin    string `json:"origin"`    // the device ID
	Module    string `json:"module"`    // the module ID, or ""
	Interface string `json:"interface"` // dt-interface-id, or ""
	Component string `json:"component"` // dt-subject, or ""
	// Payload is the body: itself when it is JSON, else a string when it
	// is UTF-8 text, else a base64 string.
	Payload     json.RawMessage  `json:"payload"`
	Properties  *EventProperties `json:"properties,omitempty"`
	Annotations *Annotations     `json:"annotations,omitempty"`
}

// EventProperties are a message's system properties, by their Azure names
// ("message-id", "content-type", "iothub-enqueuedtime", …), and its
// application properties.
type EventProperties struct {
	System      map[string]string `json:"system"`
	Application map[string]string `json:"application"`
}

// Annotations are the Event Hubs annotations of a message.
type Annotations struct {
	ConnectionDeviceID string `json:"iothub-connection-device-id"`
	ConnectionModuleID string `json:"iothub-connection-module-id,omitempty"`
	EnqueuedTime       string `json:"iothub-enqueuedtime"`
	MessageSource      string `json:"iothub-message-source"`
	SequenceNumber     int64  `json:"x-opt-sequence-number"`
}

// FromMessage returns m as the telemetry stream shows it.
func FromMessage(m tether.Message) TelemetryEvent {
	enq := m.EnqueuedTime.UTC().Format(time.RFC3339Nano)
	sys := make(map[string]string, len(m.System)+4)
	for k, v := range m.System {
		sys[k] = v
	}
	sys["iothub-connection-device-id"] = m.DeviceID
	if m.ModuleID != "" {
		sys["iothub-connection-module-id"] = m.ModuleID
	}
	sys["iothub-enqueuedtime"] = enq
	sys["iothub-message-source"] = "Telemetry"
	app := m.Properties
	if app == nil {
		app = map[string]string{}
	}
	return TelemetryEvent{Event: Event{
		Origin:      m.DeviceID,
		Module:      m.ModuleID,
		Interface:   m.System["dt-interface-id"],
		Component:   m.System["dt-subject"],
		Payload:     Payload(m.Body),
		Properties:  &EventProperties{System: sys, Application: app},
		Annotations: &Annotations{ConnectionDeviceID: m.DeviceID, ConnectionModuleID: m.ModuleID, EnqueuedTime: enq, MessageSource: "Telemetry", SequenceNumber: m.Seq},
	}}
}

// Payload renders a message body as JSON on one line: the body itself
// when it is valid JSON, else a JSON string of the body when it is UTF-8,
// else a JSON string of its base64 encoding. An empty body is "".
func Payload(body []byte) json.RawMessage {
	var buf bytes.Buffer
	if len(bytes.TrimSpace(body)) > 0 && json.Compact(&buf, body) == nil {
		return buf.Bytes()
	}
	s := string(body)
	if !utf8.Valid(body) {
		s = base64.StdEncoding.EncodeToString(body)
	}
	buf.Reset()
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
