package device

import (
	"context"
	"fmt"
	"time"

	"github.com/tether-iot/tether"
)

// Message is a telemetry message to send, or a cloud-to-device message
// received.
type Message struct {
	Payload         []byte
	MessageID       string // $.mid
	CorrelationID   string // $.cid
	UserID          string // $.uid
	ContentType     string // $.ct, such as "application/json"
	ContentEncoding string // $.ce, such as "utf-8"
	// Properties are the application properties.
	Properties map[string]string
	// To, Expiry and Ack are set on received cloud-to-device messages.
	To     string
	Expiry string // $.exp, ISO 8601, as the hub sent it
	Ack    string // iothub-ack: none, positive, negative or full
}

func (m Message) system() [][2]string {
	return [][2]string{{"$.mid", m.MessageID}, {"$.cid", m.CorrelationID}, {"$.uid", m.UserID},
		{"$.ct", m.ContentType}, {"$.ce", m.ContentEncoding}}
}

// SendEvent sends a telemetry message with QoS 1 and returns when the hub
// acknowledged it (PUBACK). While the client is reconnecting it waits for
// the connection, within ctx (or OpTimeout when ctx has no deadline). A
// message that was sent but not acknowledged when the connection dropped
// is sent again after the reconnect, as MQTT requires, so the hub may
// receive it twice; give it a MessageID to tell.
func (c *Client) SendEvent(ctx context.Context, m Message) error {
	if len(m.Payload) > tether.MaxTelemetryBytes {
		return &Error{Op: "send event", Code: tether.MessageTooLarge,
			Detail: fmt.Sprintf("the payload is %d bytes; the hub accepts at most %d", len(m.Payload), tether.MaxTelemetryBytes)}
	}
	ctx, cancel := c.opContext(ctx)
	defer cancel()
	topic := c.topics.events + encodeBag(m.system(), m.Properties)
	if err := c.waitUp(ctx); err != nil {
		err.(*Error).Op = "send event"
		return err
	}
	start := time.Now()
	if err := wait(ctx, c.pc.Publish(topic, 1, false, m.Payload)); err != nil {
		if ctx.Err() != nil {
			return &Error{Op: "send event", Code: tether.GenericTimeout, Reason: tether.ReasonNone,
				Detail: fmt.Sprintf("no PUBACK from the hub after %v (the connection may have dropped; the message is resent after the reconnect)", time.Since(start).Round(time.Millisecond)), Err: err}
		}
		return &Error{Op: "send event", Code: tether.DeviceConnectionClosedRemotely, Reason: tether.ReasonConnectionLost, Detail: err.Error(), Err: err}
	}
	return nil
}
