package device

import (
	"context"
	"strings"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// OnC2D sets the handler of cloud-to-device messages and subscribes to
// them (QoS 1). The hub counts a message delivered when the handler
// returns: the client acknowledges it then. Handlers run on their own
// goroutines; a nil fn stops delivery to the application but keeps the
// subscription.
func (c *Client) OnC2D(fn func(Message)) {
	c.mu.Lock()
	c.onC2D = fn
	c.mu.Unlock()
	if err := c.ensureSub(context.Background(), c.topics.c2dFilter, 1); err != nil {
		c.o.Logger.Warn("device subscribe C2D", "err", err)
	}
}

func (c *Client) handleC2D(_ mqtt.Client, pm mqtt.Message) {
	topic := pm.Topic()
	bag := ""
	if strings.HasPrefix(topic, c.topics.c2dPrefix) {
		bag = topic[len(c.topics.c2dPrefix):]
	}
	m := Message{Payload: pm.Payload(), Properties: map[string]string{}}
	for k, v := range decodeBag(bag) {
		switch k {
		case "$.mid":
			m.MessageID = v
		case "$.cid":
			m.CorrelationID = v
		case "$.uid":
			m.UserID = v
		case "$.ct":
			m.ContentType = v
		case "$.ce":
			m.ContentEncoding = v
		case "$.to":
			m.To = v
		case "$.exp":
			m.Expiry = v
		case "iothub-ack":
			m.Ack = v
		default:
			m.Properties[k] = v
		}
	}
	c.mu.Lock()
	fn := c.onC2D
	c.mu.Unlock()
	if fn != nil {
		fn(m)
	}
}
