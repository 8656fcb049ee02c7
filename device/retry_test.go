package device

import (
	"testing"
	"time"

	"github.com/tether-iot/tether"
)

func TestDelayFullJitter(t *testing.T) {
	p := RetryPolicy{Min: 100 * time.Millisecond, Max: 10 * time.Second}
	tests := []struct {
		attempt int
		ceil    time.Duration
	}{{1, 100 * time.Millisecond}, {2, 200 * time.Millisecond}, {5, 1600 * time.Millisecond}, {8, 10 * time.Second}, {200, 10 * time.Second}}
	for _, tt := range tests {
		for _, r := range []float64{0, 0.5, 0.999} {
			p.Rand = func() float64 { return r }
			want := time.Duration(r * float64(tt.ceil))
			if got := p.Delay(tt.attempt, false); got != want {
				t.Errorf("Delay(%d) with rand %v = %v, want %v", tt.attempt, r, got, want)
			}
		}
	}
}

func TestDelayNoJitterAndThrottled(t *testing.T) {
	p := RetryPolicy{NoJitter: true}
	if got := p.Delay(3, false); got != 400*time.Millisecond {
		t.Errorf("NoJitter Delay(3) = %v, want 400ms", got)
	}
	p = RetryPolicy{Rand: func() float64 { return 0.5 }}
	if got := p.Delay(1, true); got != 35*time.Second {
		t.Errorf("throttled Delay = %v, want 35s (half-way between 10s and 60s)", got)
	}
	if !NoRetry.GiveUp(1) || (RetryPolicy{}).GiveUp(1000) {
		t.Error("GiveUp: NoRetry must stop after one attempt, the default never")
	}
}

func TestConnackResult(t *testing.T) {
	for rc, want := range map[byte]tether.ResultCode{1: tether.InvalidProtocolVersion, 3: tether.ServiceUnavailable, 4: tether.IoTHubUnauthorized, 5: tether.IoTHubUnauthorized} {
		code, _, detail := ConnackResult(rc)
		if code != want || detail == "" {
			t.Errorf("ConnackResult(%d) = %v %q, want %v", rc, code, detail, want)
		}
	}
	if (&Error{Code: tether.IoTHubUnauthorized}).Retryable() || !(&Error{Code: tether.ServiceUnavailable}).Retryable() {
		t.Error("401003 must be final and 503001 retried")
	}
}

func TestPropertyBag(t *testing.T) {
	m := Message{MessageID: "x-0", CorrelationID: "x", ContentType: "application/json", ContentEncoding: "utf-8",
		Properties: map[string]string{"seq": "0", "needs encoding": "a&b=c/d?é"}}
	got := encodeBag(m.system(), m.Properties)
	want := "%24.mid=x-0&%24.cid=x&%24.ct=application%2Fjson&%24.ce=utf-8&needs%20encoding=a%26b%3Dc%2Fd%3F%C3%A9&seq=0"
	if got != want {
		t.Errorf("encodeBag = %q, want %q", got, want)
	}
	back := decodeBag(got)
	if back["$.mid"] != "x-0" || back["needs encoding"] != "a&b=c/d?é" {
		t.Errorf("decodeBag(%q) = %v", got, back)
	}
	seg, q := splitTopic("$iothub/methods/POST/reboot/?$rid=7")
	if len(seg) != 4 || seg[3] != "reboot" || q["$rid"] != "7" {
		t.Errorf("splitTopic = %q %v", seg, q)
	}
}

func FuzzDecodeBag(f *testing.F) {
	f.Add("%24.mid=1&k=v")
	f.Add("?a&b=&c=%zz")
	f.Fuzz(func(t *testing.T, s string) {
		decodeBag(s)
		splitTopic(s)
	})
}
