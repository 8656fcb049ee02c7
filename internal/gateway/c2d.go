package gateway

import (
	"context"
	"strings"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/tether-iot/tether"
)

// NotifyC2D tells the gateway that a device has a new cloud-to-device
// message; a connected, subscribed device gets it at once.
func (g *Gateway) NotifyC2D(deviceID string) {
	if c, subs := g.current(deviceID); c != nil && subs&subC2D != 0 {
		go c.deliverC2D()
	}
}

// deliverC2D sends the device's pending messages that are not already in
// flight on this connection, with QoS 1. They stay queued until the
// device's PUBACK; after a reconnect they are sent again.
func (c *conn) deliverC2D() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msgs, err := c.g.o.C2D.PendingC2D(ctx, c.id.DeviceID, c.g.o.Now())
	if err != nil {
		c.g.log.Error("read pending C2D", "device", c.id.DeviceID, "err", err)
		return
	}
	for _, m := range msgs {
		c.mu.Lock()
		if c.inflight == nil {
			c.inflight = map[uint16]int64{}
		}
		sent := false
		for _, seq := range c.inflight {
			sent = sent || seq == m.Seq
		}
		if sent || c.closed.Load() {
			c.mu.Unlock()
			continue
		}
		c.nextPID++
		if c.nextPID == 0 {
			c.nextPID = 1
		}
		pid := c.nextPID
		c.inflight[pid] = m.Seq
		c.mu.Unlock()
		// Count the delivery before sending, so that a reconnect racing
		// with this send sees it and marks the redelivery DUP.
		if err := c.g.o.C2D.MarkC2DDelivered(ctx, c.id.DeviceID, m.Seq); err != nil {
			c.g.log.Error("mark C2D delivered", "device", c.id.DeviceID, "err", err)
		}
		delivered := m
		delivered.DeliveryCount++
		c.g.o.Observer.C2DDelivered(c.deviceOp(time.Time{}, len(m.Body), 0), delivered)
		pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1, Dup: m.DeliveryCount > 0},
			PacketID: pid, TopicName: c2dTopic(m), Payload: m.Body}
		c.sendPacket(&pk, (*packets.Packet).PublishEncode)
	}
}

// c2dAcked completes the message the device acknowledged.
func (c *conn) c2dAcked(pid uint16) {
	c.mu.Lock()
	seq, ok := c.inflight[pid]
	delete(c.inflight, pid)
	c.mu.Unlock()
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := c.g.o.C2D.CompleteC2D(ctx, c.id.DeviceID, seq)
	switch {
	case err == nil:
		c.g.o.Observer.C2DCompleted(c.deviceOp(c.g.o.Now(), 0, 0), seq)
	case tether.ErrorKind(err) != tether.KindNotFound:
		c.g.log.Error("complete C2D", "device", c.id.DeviceID, "err", err)
	}
}

// c2dTopic is the delivery topic with the message's properties, encoded
// as IoT Hub does: devices/{id}/messages/devicebound/%24.mid=…&%24.to=…&k=v.
func c2dTopic(m tether.C2DMessage) string {
	var b strings.Builder
	b.WriteString("devices/" + m.DeviceID + "/messages/devicebound/")
	add := func(k, v string) {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "/") {
			b.WriteByte('&')
		}
		b.WriteString(escape(k))
		b.WriteByte('=')
		b.WriteString(escape(v))
	}
	add("$.mid", m.MessageID)
	add("$.to", "/devices/"+m.DeviceID+"/messages/devicebound")
	for _, p := range []struct{ k, v string }{{"$.cid", m.CorrelationID}, {"$.uid", m.UserID}, {"$.ct", m.ContentType}, {"$.ce", m.ContentEncoding}} {
		if p.v != "" {
			add(p.k, p.v)
		}
	}
	if !m.ExpiryTime.IsZero() {
		add("$.exp", m.ExpiryTime.UTC().Format(time.RFC3339))
	}
	if m.Ack != "" {
		add("iothub-ack", m.Ack)
	}
	for k, v := range m.Properties {
		add(k, v)
	}
	return b.String()
}
