package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/tether-iot/tether"
)

// publishTo queues a QoS 0 PUBLISH to the device.
func (c *conn) publishTo(topic string, payload []byte) {
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish}, TopicName: topic, Payload: payload}
	c.sendPacket(&pk, (*packets.Packet).PublishEncode)
}

// twinError answers a twin request with an error body the SDKs parse.
func (c *conn) twinError(rid string, status int, code tether.ResultCode, msg string) {
	body, _ := json.Marshal(map[string]any{"errorCode": int(code), "message": msg})
	c.publishTo("$iothub/twin/res/"+strconv.Itoa(status)+"/?$rid="+escape(rid), body)
}

func (c *conn) twinID() string {
	if c.id.ModuleID != "" {
		return c.id.DeviceID + "/" + c.id.ModuleID
	}
	return c.id.DeviceID
}

// twinGet answers $iothub/twin/GET with the desired and reported
// properties, each with its $version.
func (c *conn) twinGet(rid string) {
	start := c.g.o.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	t, err := c.g.o.Twins.Twin(ctx, c.twinID())
	var body []byte
	if err == nil {
		body, err = json.Marshal(map[string]any{"desired": withVersion(t.Desired), "reported": withVersion(t.Reported)})
	}
	if err != nil {
		c.g.o.Observer.DeviceTwin("read", c.deviceOp(start, 0, tether.ErrorCode(err)))
		c.twinFailed(rid, err)
		return
	}
	c.g.o.Observer.DeviceTwin("read", c.deviceOp(start, len(body), 0))
	c.publishTo("$iothub/twin/res/200/?$rid="+escape(rid), body)
}

func withVersion(tc tether.TwinCollection) map[string]any {
	out := make(map[string]any, len(tc.Props)+1)
	for k, v := range tc.Props {
		out[k] = v
	}
	out["$version"] = tc.Version
	return out
}

// twinReported merges a reported-properties patch and answers 204 with
// the new version (an empty body, as Azure sends), or an error body.
func (c *conn) twinReported(rid string, payload []byte) {
	start := c.g.o.Now()
	var patch map[string]any
	if err := json.Unmarshal(payload, &patch); err != nil || patch == nil {
		c.g.o.Observer.DeviceTwin("update", c.deviceOp(start, len(payload), tether.ArgumentInvalid))
		c.twinError(rid, 400, tether.ArgumentInvalid, fmt.Sprintf("the reported properties patch is not a JSON object: %v", err))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	t, err := c.g.o.Twins.UpdateTwin(ctx, c.twinID(), func(t *tether.Twin) error {
		return t.Reported.Patch("reported", patch, start)
	})
	var code tether.ResultCode
	if err != nil {
		code = tether.ErrorCode(err)
	}
	c.g.o.Observer.DeviceTwin("update", c.deviceOp(start, len(payload), code))
	if err != nil {
		c.twinFailed(rid, err)
		return
	}
	c.publishTo("$iothub/twin/res/204/?$rid="+escape(rid)+"&$version="+strconv.FormatInt(t.Reported.Version, 10), nil)
}

func (c *conn) twinFailed(rid string, err error) {
	code := tether.ErrorCode(err)
	if code == tether.ServerError {
		c.g.log.Error("twin request failed", "device", c.id.DeviceID, "err", err)
	}
	c.twinError(rid, code.HTTPStatus(), code, tether.ErrorMessage(err))
}

// NotifyDesired sends a desired-properties patch to a connected device
// that subscribed to desired updates; the patch carries "$version".
func (g *Gateway) NotifyDesired(deviceID string, patch map[string]any, version int64) {
	c, subs := g.current(deviceID)
	if c == nil || subs&subTwinDesired == 0 {
		return
	}
	body := make(map[string]any, len(patch)+1)
	for k, v := range patch {
		body[k] = v
	}
	body["$version"] = version
	b, err := json.Marshal(body)
	if err != nil {
		g.log.Error("encode desired patch", "device", deviceID, "err", err)
		return
	}
	c.publishTo("$iothub/twin/PATCH/properties/desired/?$version="+strconv.FormatInt(version, 10), b)
}
