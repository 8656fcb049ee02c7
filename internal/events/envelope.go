package events

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
)

// The subscription schemas.
const (
	SchemaEventGrid   = "eventgrid"   // Event Grid schema: a JSON array of events
	SchemaCloudEvents = "cloudevents" // CloudEvents 1.0, structured mode
)

// The headers of a delivery request.
const (
	// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the body
	// keyed with the subscription's secret.
	SignatureHeader = "X-Tether-Signature"
	// EventTypeHeader is Event Grid's aeg-event-type; always Notification.
	EventTypeHeader = "aeg-event-type"
	// SubscriptionHeader is Event Grid's aeg-subscription-name.
	SubscriptionHeader = "aeg-subscription-name"
	// DeliveryCountHeader is Event Grid's aeg-delivery-count: 0 on the
	// first attempt.
	DeliveryCountHeader = "aeg-delivery-count"
)

// The content types of delivery requests.
const (
	contentTypeEventGrid  = "application/json; charset=utf-8"
	contentTypeCloudEvent = "application/cloudevents+json; charset=utf-8"
	contentTypeCloudBatch = "application/cloudevents-batch+json; charset=utf-8"
)

// EventGridEvent is one event in Event Grid's schema.
type EventGridEvent struct {
	ID              string          `json:"id"`
	Topic           string          `json:"topic"`
	Subject         string          `json:"subject"`
	EventType       string          `json:"eventType"`
	EventTime       string          `json:"eventTime"`
	Data            json.RawMessage `json:"data"`
	DataVersion     string          `json:"dataVersion"`
	MetadataVersion string          `json:"metadataVersion"`
}

// CloudEvent is one event in CloudEvents 1.0 JSON, as Event Grid sends
// IoT Hub events in that schema.
type CloudEvent struct {
	ID          string          `json:"id"`
	Source      string          `json:"source"`
	Subject     string          `json:"subject"`
	Type        string          `json:"type"`
	Time        string          `json:"time"`
	Data        json.RawMessage `json:"data"`
	SpecVersion string          `json:"specversion"`
}

// encodeBatch returns the request body for events in schema, and its
// content type: an Event Grid array, one structured CloudEvent, or a
// CloudEvents batch.
func encodeBatch(schema, topic string, events []Pending) ([]byte, string, error) {
	if schema == SchemaCloudEvents {
		ces := make([]CloudEvent, len(events))
		for i, e := range events {
			ces[i] = CloudEvent{ID: e.EventID, Source: topic, Subject: e.Subject, Type: EventType(e.Type).FullName(),
				Time: azureTime(e.Time), Data: e.Data, SpecVersion: "1.0"}
		}
		if len(ces) == 1 {
			b, err := marshal(ces[0])
			return b, contentTypeCloudEvent, err
		}
		b, err := marshal(ces)
		return b, contentTypeCloudBatch, err
	}
	egs := make([]EventGridEvent, len(events))
	for i, e := range events {
		egs[i] = EventGridEvent{ID: e.EventID, Topic: topic, Subject: e.Subject, EventType: EventType(e.Type).FullName(),
			EventTime: azureTime(e.Time), Data: e.Data, DataVersion: "1", MetadataVersion: "1"}
	}
	b, err := marshal(egs)
	return b, contentTypeEventGrid, err
}

func marshal(v any) ([]byte, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return []byte(strings.TrimSuffix(b.String(), "\n")), nil
}

// Sign returns the X-Tether-Signature value of body for secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether header, an X-Tether-Signature value, signs body
// with secret. It compares in constant time.
func Verify(secret string, body []byte, header string) bool {
	got, ok := strings.CutPrefix(strings.TrimSpace(header), "sha256=")
	if !ok {
		return false
	}
	sig, err := hex.DecodeString(got)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hmac.Equal(sig, m.Sum(nil))
}
