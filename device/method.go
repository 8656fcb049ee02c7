package device

import (
	"context"
	"encoding/json"
	"strconv"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// MethodHandler answers a direct method. payload is the JSON the caller
// sent ("null" when none). The response is marshalled to JSON; a non-nil
// error answers status 500 with {"message": err}.
type MethodHandler func(ctx context.Context, payload json.RawMessage) (status int, response any, err error)

// OnMethod sets the handler of the direct method name ("*" handles every
// method without its own handler) and subscribes to direct methods. A
// method without a handler is answered 501. Handlers run on their own
// goroutines, bounded by the caller's response timeout only on the
// caller's side: keep them short.
func (c *Client) OnMethod(name string, fn MethodHandler) {
	c.mu.Lock()
	if fn == nil {
		delete(c.methods, name)
	} else {
		c.methods[name] = fn
	}
	c.mu.Unlock()
	if err := c.ensureSub(context.Background(), c.topics.methodsFilter, 0); err != nil {
		c.o.Logger.Warn("device subscribe methods", "err", err)
	}
}

func (c *Client) handleMethod(_ mqtt.Client, pm mqtt.Message) {
	seg, q := splitTopic(pm.Topic()) // $iothub/methods/POST/{name}/?$rid={rid}
	rid := q["$rid"]
	if len(seg) < 4 || rid == "" {
		c.o.Logger.Warn("device: malformed method request topic", "topic", pm.Topic())
		return
	}
	name := seg[3]
	c.mu.Lock()
	fn := c.methods[name]
	if fn == nil {
		fn = c.methods["*"]
	}
	c.mu.Unlock()
	status := 501
	body, _ := json.Marshal(map[string]string{"message": "this device has no handler for method " + strconv.Quote(name)})
	if fn != nil {
		status, body = c.callMethod(fn, pm.Payload())
	}
	c.pc.Publish("$iothub/methods/res/"+strconv.Itoa(status)+"/?$rid="+escape(rid), 0, false, body)
}

func (c *Client) callMethod(fn MethodHandler, payload []byte) (int, []byte) {
	if len(payload) == 0 {
		payload = []byte("null")
	}
	if !json.Valid(payload) {
		return 400, []byte(`{"message":"the method payload is not JSON"}`)
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.o.OpTimeout)
	defer cancel()
	status, resp, err := fn(ctx, payload)
	if err != nil {
		b, _ := json.Marshal(map[string]string{"message": err.Error()})
		return 500, b
	}
	b, err := json.Marshal(resp)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"message": "the device's response is not JSON: " + err.Error()})
		return 500, b
	}
	return status, b
}
