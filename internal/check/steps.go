package check

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/hubclient"
	"github.com/tether-iot/tether/internal/wire"
)

func nonce() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// telemetry publishes one QoS 1 message and waits for the PUBACK; with a
// Service it also waits for the message in the hub's telemetry stream.
func (c *checker) telemetry(ctx context.Context) Step {
	cs := c.o.Credentials
	mid := "tether-check-" + nonce()
	var arrived chan error
	if c.o.Service != nil {
		arrived = make(chan error, 1)
		sctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
		defer cancel()
		go func() {
			arrived <- c.o.Service.Telemetry(sctx, hubclient.TelemetryOptions{DeviceID: cs.DeviceID, From: "end", Wait: true, ConsumerGroup: "tether-check"},
				func(ev wire.TelemetryEvent) error {
					if ev.Event.Properties != nil && ev.Event.Properties.System["message-id"] == mid {
						return errFound
					}
					return nil
				})
		}()
		time.Sleep(200 * time.Millisecond) // let the stream start at the end before publishing
	}
	own := "devices/" + cs.DeviceID + "/"
	if cs.ModuleID != "" {
		own += "modules/" + cs.ModuleID + "/"
	}
	topic := own + "messages/events/%24.mid=" + mid + "&%24.ct=application%2Fjson&%24.ce=utf-8&tether-check=1"
	start := time.Now()
	id, err := c.mq.publish(topic, 1, []byte(`{"tetherCheck":true}`))
	if err != nil {
		return Step{Status: Fail, Detail: "cannot publish: " + err.Error()}
	}
	_, err = c.mq.expect(time.Now().Add(c.o.Timeout), func(p *packets.Packet) bool { return p.FixedHeader.Type == packets.Puback && p.PacketID == id })
	puback := time.Since(start)
	if err != nil {
		return Step{Status: Fail, Code: tether.DeviceConnectionClosedRemotely, Detail: "no PUBACK for a QoS 1 telemetry message: " + err.Error(),
			Fix: "the hub may be throttling this device or refusing the message: see its connection log"}
	}
	detail := fmt.Sprintf("PUBACK after %v (message-id %s)", puback.Round(time.Microsecond), mid)
	if arrived == nil {
		return Step{Status: Pass, Detail: detail + "; give --service-connection-string to also see it arrive in the telemetry stream"}
	}
	if err := <-arrived; err != errFound {
		return Step{Status: Fail, Detail: detail + fmt.Sprintf("; but it did not show up in the hub's telemetry stream: %v", err),
			Fix: "check the service connection string's rights (ServiceConnect) and that no message route drops the device's telemetry"}
	}
	return Step{Status: Pass, Detail: detail + fmt.Sprintf("; in the telemetry stream after %v", time.Since(start).Round(time.Millisecond))}
}

var errFound = fmt.Errorf("found")

// twin reads the twin.
func (c *checker) twin(context.Context) Step {
	deadline := time.Now().Add(c.o.Timeout)
	if err := c.mq.subscribe(deadline, "$iothub/twin/res/#", 0); err != nil {
		return Step{Status: Fail, Detail: "subscribe to twin responses: " + err.Error()}
	}
	rid := nonce()
	if _, err := c.mq.publish("$iothub/twin/GET/?$rid="+rid, 0, []byte(" ")); err != nil {
		return Step{Status: Fail, Detail: "cannot publish the twin GET: " + err.Error()}
	}
	res, err := c.mq.expect(deadline, func(p *packets.Packet) bool {
		return p.FixedHeader.Type == packets.Publish && strings.HasPrefix(p.TopicName, "$iothub/twin/res/") && strings.Contains(p.TopicName, "$rid="+rid)
	})
	if err != nil {
		return Step{Status: Fail, Detail: "no answer to the twin GET: " + err.Error()}
	}
	status := strings.SplitN(strings.TrimPrefix(res.TopicName, "$iothub/twin/res/"), "/", 2)[0]
	var twin struct {
		Desired, Reported map[string]any
		ErrorCode         int    `json:"errorCode"`
		Message           string `json:"message"`
	}
	if err := json.Unmarshal(res.Payload, &twin); err != nil {
		return Step{Status: Fail, Detail: fmt.Sprintf("twin answer %s is not JSON: %v", status, err)}
	}
	if status != "200" {
		code := tether.ResultCode(twin.ErrorCode)
		return Step{Status: Fail, Code: code, Detail: fmt.Sprintf("twin GET answered %s: %s", status, twin.Message)}
	}
	return Step{Status: Pass, Detail: fmt.Sprintf("twin read: desired $version %v, reported $version %v", twin.Desired["$version"], twin.Reported["$version"])}
}

// method calls a direct method on the device through the service API
// and answers it from the device side.
func (c *checker) method(ctx context.Context) Step {
	if c.o.Service == nil {
		return Step{Status: Skip, Detail: "give --service-connection-string to call a direct method back to this device"}
	}
	if c.o.Credentials.ModuleID != "" {
		return Step{Status: Skip, Detail: "the method step does not check modules yet"}
	}
	deadline := time.Now().Add(c.o.Timeout)
	if err := c.mq.subscribe(deadline, "$iothub/methods/POST/#", 0); err != nil {
		return Step{Status: Fail, Detail: "subscribe to direct methods: " + err.Error()}
	}
	n := nonce()
	type result struct {
		r   wire.MethodResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := c.o.Service.InvokeMethod(ctx, c.o.Credentials.DeviceID, wire.MethodCall{MethodName: "tether-check",
			Payload: json.RawMessage(`{"nonce":"` + n + `"}`), ResponseTimeoutInSeconds: int(c.o.Timeout / time.Second)})
		done <- result{r, err}
	}()
	req, err := c.mq.expect(deadline, func(p *packets.Packet) bool {
		return p.FixedHeader.Type == packets.Publish && strings.HasPrefix(p.TopicName, "$iothub/methods/POST/tether-check/")
	})
	if err != nil {
		res := <-done
		return Step{Status: Fail, Code: tether.ErrorCode(res.err), Detail: fmt.Sprintf("the method request never reached the device (%v); the service call said: %v", err, res.err),
			Fix: "check the service connection string's rights (ServiceConnect)"}
	}
	rid := req.TopicName[strings.Index(req.TopicName, "$rid=")+5:]
	if _, err := c.mq.publish("$iothub/methods/res/200/?$rid="+rid, 0, req.Payload); err != nil {
		return Step{Status: Fail, Detail: "cannot answer the method: " + err.Error()}
	}
	res := <-done
	switch {
	case res.err != nil:
		return Step{Status: Fail, Code: tether.ErrorCode(res.err), Detail: "the service call failed: " + res.err.Error()}
	case res.r.Status != 200 || !strings.Contains(string(res.r.Payload), n):
		return Step{Status: Fail, Detail: fmt.Sprintf("the service got status %d and %s, not the device's echo", res.r.Status, res.r.Payload)}
	}
	return Step{Status: Pass, Detail: "direct method tether-check went service → hub → device → hub → service"}
}

// ping sends PINGREQ and waits for PINGRESP, as keep-alive does.
func (c *checker) ping(context.Context) Step {
	start := time.Now()
	if err := c.mq.write(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingreq}}, (*packets.Packet).PingreqEncode); err != nil {
		return Step{Status: Fail, Detail: "cannot send PINGREQ: " + err.Error()}
	}
	if _, err := c.mq.expect(time.Now().Add(c.o.Timeout), func(p *packets.Packet) bool { return p.FixedHeader.Type == packets.Pingresp }); err != nil {
		return Step{Status: Fail, Code: tether.DeviceConnectionClosedRemotely, Detail: "no PINGRESP: " + err.Error(),
			Fix: "something between the device and the hub drops idle or keep-alive traffic"}
	}
	c.mq.write(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Disconnect}}, (*packets.Packet).DisconnectEncode)
	return Step{Status: Pass, Detail: fmt.Sprintf("PINGRESP after %v; keep-alive works (keep the device's keep-alive below any NAT or load-balancer idle timeout)", time.Since(start).Round(time.Microsecond))}
}
