package tether

import "time"

// Message limits, as in Azure IoT Hub.
const (
	MaxTelemetryBytes = 256 * 1024 // a device-to-cloud message
	MaxC2DBytes       = 64 * 1024  // a cloud-to-device message
	MaxC2DPending     = 50         // queued cloud-to-device messages per device
)

// Message is a device-to-cloud telemetry message as it sits in the
// telemetry stream.
type Message struct {
	Seq          int64     // position in the stream, set when it is appended
	DeviceID     string    //
	ModuleID     string    // "" for a device's own messages
	EnqueuedTime time.Time // when the hub accepted it
	// System holds the system properties by their Azure names:
	// "message-id", "correlation-id", "user-id", "to",
	// "absolute-expiry-time", "content-type", "content-encoding",
	// "creation-time", "dt-subject", "dt-interface-id", "output-name", …
	System map[string]string
	// Properties are the application properties.
	Properties map[string]string
	Body       []byte
}

// SystemPropertyNames maps the short names of MQTT property bags ($.mid)
// to the Azure names Message.System uses.
var SystemPropertyNames = map[string]string{
	"$.mid":     "message-id",
	"$.cid":     "correlation-id",
	"$.uid":     "user-id",
	"$.to":      "to",
	"$.exp":     "absolute-expiry-time",
	"$.ct":      "content-type",
	"$.ce":      "content-encoding",
	"$.ctime":   "creation-time",
	"$.sub":     "dt-subject",
	"$.ifid":    "dt-interface-id",
	"$.on":      "output-name",
	"$.cdid":    "connection-device-id",
	"$.cmid":    "connection-module-id",
	"$.diagid":  "diag-id",
	"$.diagctx": "diag-context",
	"$.schema":  "message-schema",
}

// C2DMessage is a cloud-to-device message waiting for, or delivered to,
// a device.
type C2DMessage struct {
	Seq             int64 // the queue's own ID, set when it is enqueued
	DeviceID        string
	MessageID       string
	CorrelationID   string
	UserID          string
	ContentType     string
	ContentEncoding string
	Ack             string // iothub-ack: none, positive, negative or full
	EnqueuedTime    time.Time
	ExpiryTime      time.Time // zero: the default time to live
	Properties      map[string]string
	Body            []byte
	DeliveryCount   int
}

// DefaultC2DTTL is how long a cloud-to-device message waits for its
// device by default.
const DefaultC2DTTL = time.Hour
