package doctor

import (
	"testing"
	"time"
)

func TestRound(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Hour: "1h", 65 * time.Minute: "1h5m", 70 * time.Minute: "1h10m", 6 * time.Minute: "6m", 6*time.Minute + 2*time.Second: "6m2s",
		1500 * time.Millisecond: "1.5s", 230 * time.Millisecond: "230ms",
	} {
		if got := round(d); got != want {
			t.Errorf("round(%v) = %q, want %q", d, got, want)
		}
	}
}
