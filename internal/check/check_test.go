package check_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/device"
	"github.com/tether-iot/tether/internal/check"
	"github.com/tether-iot/tether/internal/hubtest"
	"github.com/tether-iot/tether/internal/server"
	"github.com/tether-iot/tether/internal/wire"
	"github.com/tether-iot/tether/sas"
)

// mustDevice registers id and returns check options for it.
func mustDevice(t *testing.T, h *hubtest.Hub, id string) check.Options {
	t.Helper()
	d, err := h.Client(t, h.Owner).CreateDevice(context.Background(), wire.Device{DeviceID: id})
	if err != nil {
		t.Fatal(err)
	}
	return check.Options{
		Credentials: sas.ConnectionString{HostName: h.Hostname(), DeviceID: id, Key: tether.Secret(*d.Authentication.SymmetricKey.PrimaryKey)},
		Addr:        h.MQTTAddr().String(), CAFile: h.CAFile(), HTTPSURL: h.URL, Timeout: 5 * time.Second,
	}
}

func mustRun(t *testing.T, o check.Options) *check.Report {
	t.Helper()
	r, err := check.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// step returns the named step, failing the test when it is missing.
func step(t *testing.T, r *check.Report, name string) check.Step {
	t.Helper()
	for _, s := range r.Steps {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no step %q in %+v", name, r.Steps)
	return check.Step{}
}

func want(t *testing.T, r *check.Report, name string, status check.Status, fix string) check.Step {
	t.Helper()
	s := step(t, r, name)
	if s.Status != status {
		t.Errorf("step %s = %s (%s), want %s", name, s.Status, s.Detail, status)
	}
	if fix != "" && !strings.Contains(s.Fix, fix) {
		t.Errorf("step %s fix = %q, want it to mention %q", name, s.Fix, fix)
	}
	return s
}

func TestHealthyHub(t *testing.T) {
	h := hubtest.Start(t)
	for _, tr := range []device.Transport{device.MQTT, device.MQTTWS} {
		t.Run(string(tr), func(t *testing.T) {
			o := mustDevice(t, h, "ok-"+string(tr))
			o.Transport = tr
			if tr == device.MQTTWS {
				o.Addr = h.HTTPSAddr().String()
			}
			o.Service = h.Client(t, h.Owner)
			r := mustRun(t, o)
			if !r.OK() {
				t.Fatalf("failed steps: %+v", r.Steps)
			}
			for _, s := range r.Steps {
				if s.Status != check.Pass {
					t.Errorf("step %s = %s: %s", s.Name, s.Status, s.Detail)
				}
			}
			if len(r.Steps) != 9 {
				t.Errorf("%d steps, want 9", len(r.Steps))
			}
		})
	}
}

func TestUntrustedCA(t *testing.T) {
	h := hubtest.Start(t)
	o := mustDevice(t, h, "dev-1")
	o.CAFile = ""
	r := mustRun(t, o)
	want(t, r, "tls", check.Fail, "--ca DATA/tls/ca.pem")
	want(t, r, "mqtt-connect", check.Skip, "")
	if r.OK() {
		t.Error("the report is OK with an untrusted certificate")
	}
}

func TestHostNameMismatch(t *testing.T) {
	h := hubtest.Start(t, func(c *server.Config) { c.Hostname = "tether.test" })
	o := mustDevice(t, h, "dev-1")
	o.Credentials.HostName = "other.test" // the device was given the wrong name
	r := mustRun(t, o)
	s := want(t, r, "tls", check.Fail, "--hostname other.test")
	if !strings.Contains(s.Detail, `does not cover "other.test"`) || !strings.Contains(s.Fix, "tether.test") {
		t.Errorf("tls step = %q / %q, want the names the certificate covers", s.Detail, s.Fix)
	}
}

func TestWrongKey(t *testing.T) {
	h := hubtest.Start(t)
	o := mustDevice(t, h, "dev-1")
	o.Credentials.Key = "d3JvbmctZGV2aWNlLWtleS13cm9uZy1kZXZpY2Uta2V5LTEyMzQ="
	r := mustRun(t, o)
	s := want(t, r, "mqtt-connect", check.Fail, "tether device show dev-1")
	if s.Code != tether.IoTHubUnauthorized || !strings.Contains(s.Docs, "errors.md#401003") {
		t.Errorf("mqtt-connect code %v docs %q, want 401003 and its docs anchor", s.Code, s.Docs)
	}
	want(t, r, "telemetry", check.Skip, "")
	want(t, r, "clock", check.Pass, "")
}

func TestExpiredToken(t *testing.T) {
	h := hubtest.Start(t)
	o := mustDevice(t, h, "dev-1")
	tok, err := sas.Sign("localhost/devices/dev-1", o.Credentials.Key, "", time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	o.Credentials.Key, o.Credentials.Signature = "", tether.Secret(tok)
	r := mustRun(t, o)
	if s := want(t, r, "mqtt-connect", check.Fail, ""); s.Code != tether.IoTHubUnauthorized {
		t.Errorf("expired token: code %v, want 401003", s.Code)
	}
}

func TestDisabledDevice(t *testing.T) {
	h := hubtest.Start(t)
	o := mustDevice(t, h, "dev-1")
	svc := h.Client(t, h.Owner)
	d, _ := svc.Device(context.Background(), "dev-1")
	d.Status = "disabled"
	if _, err := svc.UpdateDevice(context.Background(), d, "*"); err != nil {
		t.Fatal(err)
	}
	r := mustRun(t, o)
	if s := want(t, r, "mqtt-connect", check.Fail, "tether device enable dev-1"); s.Code != tether.ServiceUnavailable {
		t.Errorf("disabled: code %v, want 503001 (CONNACK 3)", s.Code)
	}
}

func TestClosedPortFailsFast(t *testing.T) {
	h := hubtest.Start(t)
	o := mustDevice(t, h, "dev-1")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o.Addr = ln.Addr().String()
	ln.Close() // nothing listens there now
	start := time.Now()
	r := mustRun(t, o)
	want(t, r, "tcp", check.Fail, "nothing listens on port")
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("a closed port took %v to report", took)
	}
	for _, name := range []string{"tls", "mqtt-connect", "telemetry", "twin", "method", "keepalive"} {
		want(t, r, name, check.Skip, "")
	}
}

// TestDeviceClockBehind runs the check with the device's clock two hours
// behind: the certificate is not yet valid for it, and the clock step
// says why.
func TestDeviceClockBehind(t *testing.T) {
	h := hubtest.Start(t)
	o := mustDevice(t, h, "dev-1")
	o.Now = func() time.Time { return time.Now().Add(-2 * time.Hour) }
	r := mustRun(t, o)
	if s := want(t, r, "tls", check.Fail, "NTP"); !strings.Contains(s.Detail, "not valid before") {
		t.Errorf("tls detail = %q", s.Detail)
	}
	want(t, r, "clock", check.Fail, "NTP")
}

func TestClockSkew(t *testing.T) {
	hub := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		offset time.Duration
		want   check.Status
	}{
		{"in sync", 300 * time.Millisecond, check.Pass},
		{"a second of rounding", -1500 * time.Millisecond, check.Pass},
		{"a minute behind", -time.Minute, check.Warn},
		{"ten minutes behind", -10 * time.Minute, check.Fail},
		{"ten minutes ahead", 10 * time.Minute, check.Warn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := check.ClockSkew(hub.Add(tt.offset), hub)
			if s.Status != tt.want {
				t.Errorf("ClockSkew(%v) = %s (%s), want %s", tt.offset, s.Status, s.Detail, tt.want)
			}
		})
	}
}
