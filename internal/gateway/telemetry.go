package gateway

import (
	"fmt"
	"strings"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/tether-iot/tether"
)

// telemetry submits a device-to-cloud message to the stream; a QoS 1
// PUBACK goes out only once the message is durable.
func (c *conn) telemetry(pk *packets.Packet, t publishTopic) error {
	obs := c.g.o.Observer
	if len(pk.Payload) > tether.MaxTelemetryBytes {
		obs.Telemetry(c.deviceOp(c.g.o.Now(), len(pk.Payload), tether.MessageTooLarge))
		return protoErr(tether.ReasonMessageTooLarge, "a telemetry message of %d bytes is over the limit of %d bytes", len(pk.Payload), tether.MaxTelemetryBytes)
	}
	if !c.bucket.take(time.Now()) {
		obs.Telemetry(c.deviceOp(c.g.o.Now(), len(pk.Payload), tether.ThrottlingException))
		return protoErr(tether.ReasonThrottled, "more than %g telemetry messages per second (burst %d) from device '%s'",
			c.g.o.DeviceRate, c.g.o.DeviceBurst, c.id.DeviceID)
	}
	m := c.message(t.bag, pk.Payload, pk.FixedHeader.Retain)
	obs.Telemetry(c.deviceOp(time.Time{}, len(pk.Payload), 0))
	if pk.FixedHeader.Qos == 0 {
		c.g.o.Telemetry.Submit(m, c.telemetryDone0)
		return nil
	}
	id := pk.PacketID
	c.g.o.Telemetry.Submit(m, func(_ int64, err error) {
		if err != nil {
			c.close(tether.ReasonServerError, fmt.Sprintf("telemetry could not be stored: %v", err))
			return
		}
		c.puback(id)
	})
	return nil
}

// deviceOp describes a request of this connection's device to the
// Observer; start is when it arrived (zero: not needed).
func (c *conn) deviceOp(start time.Time, bytes int, code tether.ResultCode) DeviceOp {
	op := DeviceOp{DeviceID: c.id.DeviceID, ModuleID: c.id.ModuleID, Protocol: c.proto, AuthScope: c.authScope,
		SDKVersion: c.id.SDK, RemoteAddr: c.remote, Time: start, Bytes: bytes, Code: code}
	if !start.IsZero() {
		op.Duration = c.g.o.Now().Sub(start)
	}
	return op
}

func (c *conn) telemetryDone0(_ int64, err error) {
	if err != nil {
		c.g.log.Error("QoS 0 telemetry lost", "device", c.id.DeviceID, "err", err)
	}
}

// message builds a stream message from a telemetry PUBLISH, copying the
// payload and the property bag out of the packet buffer (the topic
// aliases it, and the next read overwrites it while the store may still
// be encoding the properties).
func (c *conn) message(bag string, payload []byte, retain bool) tether.Message {
	sys, app := parseBag(strings.Clone(bag), tether.SystemPropertyNames)
	if retain {
		if app == nil {
			app = map[string]string{}
		}
		app["mqtt-retain"] = "true"
	}
	return tether.Message{
		DeviceID: c.id.DeviceID, ModuleID: c.id.ModuleID, EnqueuedTime: c.g.o.Now(),
		System: sys, Properties: app, Body: append([]byte(nil), payload...),
	}
}

// tokenBucket limits a device's telemetry rate.
type tokenBucket struct {
	rate, tokens, burst float64
	last                time.Time
}

func newTokenBucket(rate float64, burst int, now time.Time) tokenBucket {
	return tokenBucket{rate: rate, tokens: float64(burst), burst: float64(burst), last: now}
}

// take reports whether a message may pass at time now.
func (b *tokenBucket) take(now time.Time) bool {
	if d := now.Sub(b.last).Seconds(); d > 0 {
		b.tokens = min(b.burst, b.tokens+d*b.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
