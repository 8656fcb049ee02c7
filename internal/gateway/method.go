package gateway

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/tether-iot/tether"
)

// MethodCall is a direct method invocation.
type MethodCall struct {
	Name            string
	Payload         json.RawMessage // JSON; nil sends an empty body
	ResponseTimeout time.Duration
	ConnectTimeout  time.Duration
}

// MethodResult is a device's answer.
type MethodResult struct {
	Status  int
	Payload json.RawMessage
}

type methodCall struct {
	conn *conn
	done chan MethodResult
}

// InvokeMethod sends a direct method to the device and waits for its
// answer. It fails with 404103 DeviceNotOnline when the device is not
// connected with a methods subscription within the connect timeout, and
// with 504101 GatewayTimeout when it does not answer in time.
func (g *Gateway) InvokeMethod(ctx context.Context, deviceID string, call MethodCall) (MethodResult, error) {
	c, subs := g.current(deviceID)
	if c == nil || subs&subMethods == 0 {
		if call.ConnectTimeout <= 0 {
			return MethodResult{}, g.notOnline(deviceID, c != nil)
		}
		wctx, cancel := context.WithTimeout(ctx, call.ConnectTimeout)
		var ok bool
		c, ok = g.waitSubscribed(wctx, deviceID)
		cancel()
		if !ok {
			return MethodResult{}, tether.Errorf(tether.DeviceNotOnline, "Timed out waiting for device '%s' to connect and subscribe to direct methods (connectTimeoutInSeconds %d)", deviceID, int(call.ConnectTimeout.Seconds()))
		}
	}
	rid := strconv.FormatUint(g.nextRID.Add(1), 16)
	mc := &methodCall{conn: c, done: make(chan MethodResult, 1)}
	g.mmu.Lock()
	g.methods[rid] = mc
	g.mmu.Unlock()
	defer func() {
		g.mmu.Lock()
		delete(g.methods, rid)
		g.mmu.Unlock()
	}()
	payload := []byte(call.Payload)
	if len(payload) == 0 {
		payload = []byte("null")
	}
	c.publishTo("$iothub/methods/POST/"+call.Name+"/?$rid="+rid, payload)
	t := time.NewTimer(call.ResponseTimeout)
	defer t.Stop()
	select {
	case r, ok := <-mc.done:
		if !ok {
			return MethodResult{}, tether.Errorf(tether.DeviceNotOnline, "device '%s' disconnected before answering method '%s'", deviceID, call.Name)
		}
		return r, nil
	case <-t.C:
		return MethodResult{}, tether.Errorf(tether.GatewayTimeout, "device '%s' did not answer method '%s' within %v", deviceID, call.Name, call.ResponseTimeout)
	case <-ctx.Done():
		return MethodResult{}, tether.Errorf(tether.ClientClosedRequest, "the caller went away: %v", ctx.Err())
	}
}

func (g *Gateway) notOnline(deviceID string, connected bool) error {
	if connected {
		return tether.Errorf(tether.DeviceNotOnline, "device '%s' is connected but has not subscribed to direct methods ($iothub/methods/POST/#)", deviceID)
	}
	return tether.Errorf(tether.DeviceNotOnline, "device '%s' is not connected", deviceID)
}

// methodResult delivers a device's answer to the waiting caller; answers
// from another connection or for unknown request ids are dropped.
func (g *Gateway) methodResult(c *conn, rid string, status int, payload []byte) {
	g.mmu.Lock()
	mc := g.methods[rid]
	if mc != nil && mc.conn == c {
		delete(g.methods, rid)
	} else {
		mc = nil
	}
	g.mmu.Unlock()
	if mc == nil {
		g.log.Debug("method answer for no waiting call", "device", c.id.DeviceID, "rid", rid)
		return
	}
	p := json.RawMessage(append([]byte(nil), payload...))
	if len(p) == 0 {
		p = json.RawMessage("null")
	} else if !json.Valid(p) {
		p, _ = json.Marshal(string(payload))
	}
	mc.done <- MethodResult{Status: status, Payload: p}
}

// failMethods ends the calls waiting on a closed connection.
func (g *Gateway) failMethods(c *conn) {
	g.mmu.Lock()
	defer g.mmu.Unlock()
	for rid, mc := range g.methods {
		if mc.conn == c {
			close(mc.done)
			delete(g.methods, rid)
		}
	}
}
