package gateway

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/tether-iot/tether"
)

// recObserver keeps what the gateway reports.
type recObserver struct {
	mu        sync.Mutex
	telemetry []DeviceOp
	twins     []string // kind:code
	twinOps   []DeviceOp
	delivered []tether.C2DMessage
	completed []int64
	c2dOps    []DeviceOp
}

func (o *recObserver) Telemetry(op DeviceOp) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.telemetry = append(o.telemetry, op)
}

func (o *recObserver) DeviceTwin(kind string, op DeviceOp) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.twins = append(o.twins, kind+":"+op.Code.Name())
	o.twinOps = append(o.twinOps, op)
}

func (o *recObserver) C2DDelivered(op DeviceOp, m tether.C2DMessage) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.delivered = append(o.delivered, m)
	o.c2dOps = append(o.c2dOps, op)
}

func (o *recObserver) C2DCompleted(op DeviceOp, seq int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.completed = append(o.completed, seq)
	o.c2dOps = append(o.c2dOps, op)
}

func (o *recObserver) wait(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		o.mu.Lock()
		done := ok()
		o.mu.Unlock()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("observer never saw %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestObserverHearsDeviceRequests: telemetry (accepted, too large,
// throttled), twin reads and updates, C2D deliveries and completions reach
// the Observer with the device, its protocol, auth and SDK, and the code.
func TestObserverHearsDeviceRequests(t *testing.T) {
	obs := &recObserver{}
	h := newTestHub(t, func(o *Options) { o.Observer = obs; o.DeviceRate = 1; o.DeviceBurst = 2 })
	key := h.device(t, "d1", tether.StatusEnabled)
	c := h.connect(t, "d1", key, true)
	c.subscribe("$iothub/twin/res/#")
	c.publish("$iothub/twin/GET/?$rid=1", 0, 0, nil)
	c.expect(packets.Publish)
	c.publish("$iothub/twin/PATCH/properties/reported/?$rid=2", 0, 0, []byte(`{"fw":"2"}`))
	c.expect(packets.Publish)
	c.publish("$iothub/twin/PATCH/properties/reported/?$rid=3", 0, 0, []byte(`[1]`))
	c.expect(packets.Publish)
	obs.wait(t, "three twin requests", func() bool { return len(obs.twins) == 3 })
	if got := strings.Join(obs.twins, " "); got != "read:0 update:0 update:ArgumentInvalid" {
		t.Errorf("twin reports %s", got)
	}
	op := obs.twinOps[1]
	if op.DeviceID != "d1" || op.Protocol != tether.ProtocolMQTT || op.AuthScope != "device" || op.Bytes != 10 || op.Time.IsZero() || op.Duration < 0 ||
		op.RemoteAddr == "" || op.SDKVersion == "" {
		t.Errorf("twin update report %+v", op)
	}

	// C2D: delivered, then completed by the PUBACK.
	ctx := context.Background()
	m, err := h.st.EnqueueC2D(ctx, tether.C2DMessage{DeviceID: "d1", MessageID: "c-1", EnqueuedTime: time.Now(), Body: []byte("hello")})
	if err != nil {
		t.Fatal(err)
	}
	c.subscribe("devices/d1/messages/devicebound/#")
	pub := c.expect(packets.Publish)
	c.write(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: pub.PacketID})
	obs.wait(t, "the completion", func() bool { return len(obs.completed) == 1 })
	if d := obs.delivered[0]; d.MessageID != "c-1" || d.DeliveryCount != 1 || d.Seq != m.Seq || obs.completed[0] != m.Seq || obs.c2dOps[1].DeviceID != "d1" {
		t.Errorf("C2D reports: delivered %+v, completed %v", d, obs.completed)
	}

	// Telemetry: two pass the bucket of 2, the third is throttled.
	for i := uint16(1); i <= 2; i++ {
		c.publish("devices/d1/messages/events/", 1, i, []byte("{}"))
		c.expect(packets.Puback)
	}
	c.publish("devices/d1/messages/events/", 1, 3, []byte("{}"))
	c.expectClosed()
	obs.wait(t, "three telemetry reports", func() bool { return len(obs.telemetry) == 3 })
	if obs.telemetry[0].Code != 0 || obs.telemetry[2].Code != tether.ThrottlingException || obs.telemetry[2].DeviceID != "d1" || obs.telemetry[2].Time.IsZero() {
		t.Errorf("telemetry reports %+v", obs.telemetry)
	}

	c = h.connect(t, "d1", key, true)
	c.publish("devices/d1/messages/events/", 1, 1, make([]byte, tether.MaxTelemetryBytes+1))
	c.expectClosed()
	obs.wait(t, "the oversized message", func() bool { return len(obs.telemetry) == 4 })
	if op := obs.telemetry[3]; op.Code != tether.MessageTooLarge || op.Bytes != tether.MaxTelemetryBytes+1 {
		t.Errorf("oversized report %+v", op)
	}
}
