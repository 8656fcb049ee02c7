package device

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/tether-iot/tether"
)

// Twin is the device's twin as the device sees it.
type Twin struct {
	Desired         map[string]any // without "$version"
	Reported        map[string]any
	DesiredVersion  int64
	ReportedVersion int64
}

type twinReply struct {
	status  int
	version int64
	body    []byte
}

// GetTwin reads the twin's desired and reported properties.
func (c *Client) GetTwin(ctx context.Context) (Twin, error) {
	r, err := c.twinRequest(ctx, "twin get", "$iothub/twin/GET/?$rid=", []byte(" "))
	if err != nil {
		return Twin{}, err
	}
	var raw struct{ Desired, Reported map[string]any }
	if err := json.Unmarshal(r.body, &raw); err != nil {
		return Twin{}, &Error{Op: "twin get", Code: tether.ServerError, Detail: "the hub's twin is not JSON: " + err.Error(), Err: err}
	}
	t := Twin{Desired: raw.Desired, Reported: raw.Reported}
	t.DesiredVersion, t.ReportedVersion = takeVersion(t.Desired), takeVersion(t.Reported)
	return t, nil
}

// UpdateReported merges patch into the reported properties (a nil value
// deletes a property) and returns the new reported version.
func (c *Client) UpdateReported(ctx context.Context, patch map[string]any) (int64, error) {
	body, err := json.Marshal(patch)
	if err != nil {
		return 0, &Error{Op: "twin update", Code: tether.ArgumentInvalid, Detail: "the patch is not JSON: " + err.Error(), Err: err}
	}
	r, err := c.twinRequest(ctx, "twin update", "$iothub/twin/PATCH/properties/reported/?$rid=", body)
	if err != nil {
		return 0, err
	}
	return r.version, nil
}

// OnDesired sets the handler of desired-property updates and subscribes
// to them. fn receives the patch (without "$version") and the new desired
// version. After a reconnect, call GetTwin to catch up with updates made
// while the device was offline: the hub sends patches only to connected
// devices.
func (c *Client) OnDesired(fn func(patch map[string]any, version int64)) {
	c.mu.Lock()
	c.onDesired = fn
	c.mu.Unlock()
	if err := c.ensureSub(context.Background(), c.topics.desiredFilter, 0); err != nil {
		c.o.Logger.Warn("device subscribe desired", "err", err)
	}
}

func (c *Client) twinRequest(ctx context.Context, op, prefix string, body []byte) (twinReply, error) {
	ctx, cancel := c.opContext(ctx)
	defer cancel()
	if err := c.ensureSub(ctx, c.topics.twinResFilter, 0); err != nil {
		return twinReply{}, err
	}
	if err := c.waitUp(ctx); err != nil {
		err.(*Error).Op = op
		return twinReply{}, err
	}
	rid := strconv.FormatUint(c.rid.Add(1), 10)
	ch := make(chan twinReply, 1)
	c.mu.Lock()
	c.pending[rid] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, rid)
		c.mu.Unlock()
	}()
	if err := wait(ctx, c.pc.Publish(prefix+rid, 0, false, body)); err != nil {
		return twinReply{}, &Error{Op: op, Code: tether.DeviceConnectionClosedRemotely, Reason: tether.ReasonConnectionLost, Detail: err.Error(), Err: err}
	}
	select {
	case r := <-ch:
		if r.status >= 300 {
			return r, twinError(op, r)
		}
		return r, nil
	case <-ctx.Done():
		return twinReply{}, &Error{Op: op, Code: tether.GenericTimeout, Detail: "the hub did not answer the twin request: " + ctx.Err().Error(), Err: ctx.Err()}
	}
}

func twinError(op string, r twinReply) *Error {
	var body struct {
		ErrorCode int    `json:"errorCode"`
		Message   string `json:"message"`
	}
	_ = json.Unmarshal(r.body, &body)
	code := tether.ResultCode(body.ErrorCode)
	if code == 0 {
		code = tether.ResultCode(r.status*1000 + 1)
	}
	msg := body.Message
	if msg == "" {
		msg = fmt.Sprintf("the hub answered %d", r.status)
	}
	return &Error{Op: op, Code: code, Detail: msg}
}

func (c *Client) handleTwinReply(_ mqtt.Client, pm mqtt.Message) {
	seg, q := splitTopic(pm.Topic()) // $iothub/twin/res/{status}/?$rid={rid}&$version={v}
	if len(seg) < 4 {
		return
	}
	status, _ := strconv.Atoi(seg[3])
	version, _ := strconv.ParseInt(q["$version"], 10, 64)
	c.mu.Lock()
	ch := c.pending[q["$rid"]]
	c.mu.Unlock()
	if ch != nil {
		select {
		case ch <- twinReply{status: status, version: version, body: pm.Payload()}:
		default:
		}
	}
}

func (c *Client) handleDesired(_ mqtt.Client, pm mqtt.Message) {
	var patch map[string]any
	if err := json.Unmarshal(pm.Payload(), &patch); err != nil {
		c.o.Logger.Warn("device: desired patch is not JSON", "err", err)
		return
	}
	version := takeVersion(patch)
	if version == 0 {
		_, q := splitTopic(pm.Topic())
		version, _ = strconv.ParseInt(q["$version"], 10, 64)
	}
	c.mu.Lock()
	fn := c.onDesired
	c.mu.Unlock()
	if fn != nil {
		fn(patch, version)
	}
}

// takeVersion removes "$version" from m and returns it.
func takeVersion(m map[string]any) int64 {
	v, ok := m["$version"].(float64)
	delete(m, "$version")
	if !ok {
		return 0
	}
	return int64(v)
}
