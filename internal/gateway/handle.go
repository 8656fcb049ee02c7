package gateway

import (
	"fmt"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/tether-iot/tether"
)

// handle dispatches one packet of a connected device. buf is the packet's
// body, valid only during the call.
func (c *conn) handle(pk *packets.Packet, buf []byte) error {
	c.msgsIn.Add(1)
	switch pk.FixedHeader.Type {
	case packets.Publish:
		if err := pk.PublishDecode(buf); err != nil {
			return protoErr(tether.ReasonProtocolError, "malformed PUBLISH: %v", err)
		}
		return c.publish(pk)
	case packets.Puback:
		if err := pk.PubackDecode(buf); err != nil {
			return protoErr(tether.ReasonProtocolError, "malformed PUBACK: %v", err)
		}
		c.c2dAcked(pk.PacketID)
		return nil
	case packets.Subscribe:
		if err := pk.SubscribeDecode(buf); err != nil {
			return protoErr(tether.ReasonProtocolError, "malformed SUBSCRIBE: %v", err)
		}
		return c.subscribe(pk)
	case packets.Unsubscribe:
		if err := pk.UnsubscribeDecode(buf); err != nil {
			return protoErr(tether.ReasonProtocolError, "malformed UNSUBSCRIBE: %v", err)
		}
		return c.unsubscribe(pk)
	case packets.Pingreq:
		c.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingresp}}, (*packets.Packet).PingrespEncode)
		return nil
	case packets.Disconnect:
		return errClientDisconnect
	case packets.Connect:
		return protoErr(tether.ReasonProtocolError, "a second CONNECT on an open connection")
	case packets.Pubrec, packets.Pubrel, packets.Pubcomp:
		return protoErr(tether.ReasonProtocolError, "%s: QoS 2 is not supported by IoT Hub", packets.PacketNames[pk.FixedHeader.Type])
	}
	return protoErr(tether.ReasonProtocolError, "unexpected %s packet from a device", packets.PacketNames[pk.FixedHeader.Type])
}

// publish handles a device's PUBLISH.
func (c *conn) publish(pk *packets.Packet) error {
	if pk.FixedHeader.Qos == 2 {
		return protoErr(tether.ReasonProtocolError, "PUBLISH with QoS 2 to %q: IoT Hub supports QoS 0 and 1 only", pk.TopicName)
	}
	t := parsePublish(pk.TopicName, c.id)
	switch t.kind {
	case topicTelemetry:
		return c.telemetry(pk, t)
	case topicTwinGet:
		c.twinGet(t.rid)
	case topicTwinReported:
		c.twinReported(t.rid, pk.Payload)
	case topicMethodResult:
		c.g.methodResult(c, t.rid, t.status, pk.Payload)
	case topicOtherDevice:
		return protoErr(tether.ReasonNotAuthorized, "PUBLISH to %q: device '%s' may publish only to its own topics", pk.TopicName, c.id.DeviceID)
	default:
		return protoErr(tether.ReasonProtocolError, "PUBLISH to unknown topic %q; devices publish to devices/%s/messages/events/ and $iothub/ topics", pk.TopicName, c.id.DeviceID)
	}
	if pk.FixedHeader.Qos == 1 {
		c.puback(pk.PacketID)
	}
	return nil
}

func (c *conn) puback(id uint16) {
	c.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: id}, (*packets.Packet).PubackEncode)
}

// subscribe grants the filters IoT Hub supports (QoS at most 1) and
// refuses the rest with 0x80, recording why.
func (c *conn) subscribe(pk *packets.Packet) error {
	codes := make([]byte, len(pk.Filters))
	var granted subscription
	for i, f := range pk.Filters {
		s, other, ok := parseFilter(f.Filter, c.id)
		switch {
		case ok:
			codes[i] = min(f.Qos, 1)
			granted |= s
		case other:
			codes[i] = packets.ErrUnspecifiedError.Code
			c.g.emit(c.refusedEvent(tether.ReasonNotAuthorized, fmt.Sprintf("SUBSCRIBE to %q refused: device '%s' may subscribe only to its own topics", f.Filter, c.id.DeviceID)))
		default:
			codes[i] = packets.ErrUnspecifiedError.Code
			c.g.emit(c.refusedEvent(tether.ReasonProtocolError, fmt.Sprintf("SUBSCRIBE to %q refused: not a topic filter IoT Hub supports", f.Filter)))
		}
	}
	c.g.subscribed(c, granted)
	c.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Suback}, PacketID: pk.PacketID, ReasonCodes: codes}, (*packets.Packet).SubackEncode)
	if granted&subC2D != 0 {
		go c.deliverC2D()
	}
	return nil
}

func (c *conn) unsubscribe(pk *packets.Packet) error {
	var drop subscription
	for _, f := range pk.Filters {
		if s, _, ok := parseFilter(f.Filter, c.id); ok {
			drop |= s
		}
	}
	c.g.mu.Lock()
	c.sess.subs &^= drop
	subs, persist := c.sess.subs, c.sess.persist
	c.g.mu.Unlock()
	if persist && drop != 0 {
		c.g.queueSession(c.clientID, int(subs))
	}
	c.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Unsuback}, PacketID: pk.PacketID}, (*packets.Packet).UnsubackEncode)
	return nil
}

// refusedEvent records a refused operation on a live connection; it does
// not end the connection.
func (c *conn) refusedEvent(reason tether.Reason, detail string) tether.ConnectionEvent {
	ev := c.event(tether.EventConnectFailed, reason, detail)
	ev.Kind = tether.EventRefused
	return ev
}
