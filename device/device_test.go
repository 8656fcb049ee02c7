package device_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/device"
	"github.com/tether-iot/tether/internal/hubclient"
	"github.com/tether-iot/tether/internal/hubtest"
	"github.com/tether-iot/tether/internal/wire"
)

func TestTelemetryArrives(t *testing.T) {
	h := hubtest.Start(t)
	for _, tr := range []device.Transport{device.MQTT, device.MQTTWS} {
		t.Run(string(tr), func(t *testing.T) {
			id := "tel-" + string(tr)
			o := mustDevice(t, h, id)
			o.Transport = tr
			if tr == device.MQTTWS {
				o.Addr = h.HTTPSAddr().String()
			}
			c := mustOpen(t, o)
			ctx := ctxT(t)
			m := device.Message{Payload: []byte(`{"t":21.5}`), MessageID: "m-1", ContentType: "application/json", ContentEncoding: "utf-8",
				Properties: map[string]string{"needs encoding": "a&b=c/d?é"}}
			if err := c.SendEvent(ctx, m); err != nil {
				t.Fatalf("SendEvent: %v", err)
			}
			var got wire.TelemetryEvent
			err := h.Client(t, h.Owner).Telemetry(ctx, hubclient.TelemetryOptions{DeviceID: id, From: "start", Limit: 1, Wait: true},
				func(ev wire.TelemetryEvent) error { got = ev; return nil })
			if err != nil {
				t.Fatalf("read telemetry: %v", err)
			}
			if string(got.Event.Payload) != `{"t":21.5}` {
				t.Errorf("payload = %s, want {\"t\":21.5}", got.Event.Payload)
			}
			sys, app := got.Event.Properties.System, got.Event.Properties.Application
			if sys["message-id"] != "m-1" || sys["content-type"] != "application/json" || sys["content-encoding"] != "utf-8" {
				t.Errorf("system properties = %v", sys)
			}
			if app["needs encoding"] != "a&b=c/d?é" {
				t.Errorf("application properties = %v, want the property decoded", app)
			}
		})
	}
}

func TestC2DTwinAndMethod(t *testing.T) {
	h := hubtest.Start(t)
	o := mustDevice(t, h, "dev-1")
	c2d := make(chan device.Message, 1)
	desired := make(chan int64, 1)
	c, err := device.New(o)
	if err != nil {
		t.Fatal(err)
	}
	c.OnC2D(func(m device.Message) { c2d <- m })
	c.OnDesired(func(patch map[string]any, v int64) {
		if patch["interval"] == 5.0 {
			desired <- v
		}
	})
	c.OnMethod("echo", func(_ context.Context, p json.RawMessage) (int, any, error) { return 200, p, nil })
	c.OnMethod("fail", func(context.Context, json.RawMessage) (int, any, error) { return 0, nil, errors.New("sensor offline") })
	ctx := ctxT(t)
	if err := c.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	svc := h.Client(t, h.Owner)

	t.Run("c2d", func(t *testing.T) {
		if _, err := svc.SendC2D(ctx, "dev-1", hubclient.C2DSend{Body: []byte("reboot"), MessageID: "c-1", Properties: map[string]string{"prio": "high"}}); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-c2d:
			if string(m.Payload) != "reboot" || m.MessageID != "c-1" || m.Properties["prio"] != "high" {
				t.Errorf("C2D = %+v", m)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no C2D message within 10s")
		}
	})
	t.Run("twin", func(t *testing.T) {
		v, err := c.UpdateReported(ctx, map[string]any{"fw": "1.2.3"})
		if err != nil || v < 1 {
			t.Fatalf("UpdateReported = %d, %v", v, err)
		}
		patch := wire.TwinPatch{}
		patch.Properties = &struct {
			Desired  map[string]any `json:"desired,omitempty"`
			Reported map[string]any `json:"reported,omitempty"`
		}{Desired: map[string]any{"interval": 5}}
		if _, err := svc.PatchTwin(ctx, "dev-1", patch, "*"); err != nil {
			t.Fatal(err)
		}
		select {
		case <-desired:
		case <-time.After(10 * time.Second):
			t.Fatal("no desired patch within 10s")
		}
		tw, err := c.GetTwin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if tw.Reported["fw"] != "1.2.3" || tw.Desired["interval"] != 5.0 || tw.DesiredVersion < 1 {
			t.Errorf("GetTwin = %+v", tw)
		}
	})
	t.Run("method", func(t *testing.T) {
		r, err := svc.InvokeMethod(ctx, "dev-1", wire.MethodCall{MethodName: "echo", Payload: json.RawMessage(`{"x":1}`), ResponseTimeoutInSeconds: 10})
		if err != nil || r.Status != 200 || string(r.Payload) != `{"x":1}` {
			t.Errorf("echo = %+v, %v", r, err)
		}
		r, err = svc.InvokeMethod(ctx, "dev-1", wire.MethodCall{MethodName: "fail", ResponseTimeoutInSeconds: 10})
		if err != nil || r.Status != 500 || string(r.Payload) != `{"message":"sensor offline"}` {
			t.Errorf("fail = %d %s, %v", r.Status, r.Payload, err)
		}
		r, err = svc.InvokeMethod(ctx, "dev-1", wire.MethodCall{MethodName: "nope", ResponseTimeoutInSeconds: 10})
		if err != nil || r.Status != 501 {
			t.Errorf("nope = %d %s, %v", r.Status, r.Payload, err)
		}
	})
}

// TestWrongKey: a refused token is final: one attempt, a catalog error,
// no retry loop.
func TestWrongKey(t *testing.T) {
	h := hubtest.Start(t)
	o := mustDevice(t, h, "dev-1")
	o.Credentials.Key = tether.Secret("d3JvbmctZGV2aWNlLWtleS13cm9uZy1kZXZpY2Uta2V5LTEyMzQ=")
	st := newStates()
	o.OnConnectionState = st.record
	c, err := device.New(o)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = c.Open(ctxT(t))
	var de *device.Error
	if !errors.As(err, &de) || de.Code != tether.IoTHubUnauthorized || de.Connack != 5 || de.Retryable() {
		t.Fatalf("Open = %v, want a non-retryable 401003 with CONNACK 5", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("Open took %v to fail", time.Since(start))
	}
	time.Sleep(300 * time.Millisecond) // any retry would have started by now
	close(st.ch)
	var attempts int
	for cs := range st.ch {
		if cs.Status == device.Connecting {
			attempts++
		}
	}
	if attempts != 1 {
		t.Errorf("%d connection attempts, want 1", attempts)
	}
}

func TestUntrustedCA(t *testing.T) {
	h := hubtest.Start(t)
	o := mustDevice(t, h, "dev-1")
	o.CA = ""
	c, err := device.New(o)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Open(ctxT(t))
	var de *device.Error
	if !errors.As(err, &de) || de.Reason != tether.ReasonTLSError || de.Retryable() {
		t.Fatalf("Open = %v, want a final TLS error", err)
	}
}

// TestTokenRenewal: with a 3 s token renewed 2 s before expiry, the client
// reconnects about every second with a fresh token, and methods keep
// working across the renewals without a new SUBSCRIBE.
func TestTokenRenewal(t *testing.T) {
	h := hubtest.Start(t)
	o := mustDevice(t, h, "dev-1")
	o.TokenLifetime, o.RenewBefore = 3*time.Second, 2*time.Second
	st := newStates()
	o.OnConnectionState = st.record
	c, err := device.New(o)
	if err != nil {
		t.Fatal(err)
	}
	c.OnMethod("ping", func(context.Context, json.RawMessage) (int, any, error) { return 200, "pong", nil })
	if err := c.Open(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	first := c.TokenExpiry()
	for i := 0; i < 3; i++ {
		cs := st.next(t, 5*time.Second, "renewed connection", func(cs device.ConnectionState) bool {
			if cs.Err != nil {
				t.Errorf("unexpected failure during renewal: %s", cs.Explain())
			}
			return cs.Status == device.Connected && cs.Renewal
		})
		if !cs.SessionPresent {
			t.Errorf("renewal %d: the hub kept no session", i)
		}
	}
	if !c.TokenExpiry().After(first) {
		t.Errorf("token expiry %v did not move past the first %v", c.TokenExpiry(), first)
	}
	r, err := h.Client(t, h.Owner).InvokeMethod(ctxT(t), "dev-1", wire.MethodCall{MethodName: "ping", ResponseTimeoutInSeconds: 10, ConnectTimeoutInSeconds: 5})
	if err != nil || r.Status != 200 {
		t.Errorf("method after renewals = %+v, %v", r, err)
	}
}

// TestDisableRenewal: with renewal off the client keeps its first token;
// the hub, not the client, ends the connection when it expires.
func TestDisableRenewal(t *testing.T) {
	h := hubtest.Start(t)
	o := mustDevice(t, h, "dev-1")
	o.TokenLifetime, o.RenewBefore, o.DisableRenewal = 3*time.Second, 2*time.Second, true
	st := newStates()
	o.OnConnectionState = st.record
	c := mustOpen(t, o)
	first := c.TokenExpiry()
	time.Sleep(2500 * time.Millisecond) // a renewing client would have renewed after 1s
	for done := false; !done; {
		select {
		case cs := <-st.ch:
			if cs.Renewal {
				t.Errorf("renewal state with renewal disabled: %s", cs.Explain())
			}
		default:
			done = true
		}
	}
	if !c.TokenExpiry().Equal(first) || !c.Connected() {
		t.Errorf("token expiry moved from %v to %v, or the client disconnected", first, c.TokenExpiry())
	}
}

// TestDuplicateIdentityBacksOff: two clients with one identity throw each
// other out right after connecting. Short-lived connections count as
// failures, so they back off instead of taking over at 10 Hz.
func TestDuplicateIdentityBacksOff(t *testing.T) {
	h := hubtest.Start(t)
	o := mustDevice(t, h, "twin-id")
	o.Retry = device.RetryPolicy{Min: 100 * time.Millisecond, Max: 2 * time.Second}
	var connects atomic.Int64
	o.OnConnectionState = func(cs device.ConnectionState) {
		if cs.Status == device.Connected {
			connects.Add(1)
		}
	}
	mustOpen(t, o)
	mustOpen(t, o)
	time.Sleep(5 * time.Second)
	// Without the growing back-off each client reconnects within 100 ms
	// of being thrown out: about 100 connects in 5 s.
	t.Logf("%d connects in 5s", connects.Load())
	if n := connects.Load(); n < 3 || n > 30 {
		t.Errorf("%d connects in 5s, want a few (they take over) but not a loop", n)
	}
}
