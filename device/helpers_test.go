package device_test

import (
	"context"
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/device"
	"github.com/tether-iot/tether/internal/hubtest"
	"github.com/tether-iot/tether/internal/wire"
	"github.com/tether-iot/tether/sas"
)

// mustDevice registers id on h and returns options that reach it.
func mustDevice(tb testing.TB, h *hubtest.Hub, id string) device.Options {
	tb.Helper()
	d, err := h.Client(tb, h.Owner).CreateDevice(context.Background(), wire.Device{DeviceID: id})
	if err != nil {
		tb.Fatalf("create device %s: %v", id, err)
	}
	return device.Options{
		Credentials: sas.ConnectionString{HostName: "localhost", DeviceID: id, Key: tether.Secret(*d.Authentication.SymmetricKey.PrimaryKey)},
		Addr:        h.MQTTAddr().String(),
		CA:          h.CAFile(),
	}
}

// mustOpen opens a client and closes it when the test ends.
func mustOpen(tb testing.TB, o device.Options) *device.Client {
	tb.Helper()
	c, err := device.New(o)
	if err != nil {
		tb.Fatalf("device.New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Open(ctx); err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// states records connection states for a test.
type states struct{ ch chan device.ConnectionState }

func newStates() *states { return &states{ch: make(chan device.ConnectionState, 1000)} }

func (s *states) record(cs device.ConnectionState) {
	select {
	case s.ch <- cs:
	default:
	}
}

// next waits for a state that matches ok, failing after d.
func (s *states) next(tb testing.TB, d time.Duration, what string, ok func(device.ConnectionState) bool) device.ConnectionState {
	tb.Helper()
	deadline := time.After(d)
	for {
		select {
		case cs := <-s.ch:
			if ok(cs) {
				return cs
			}
		case <-deadline:
			tb.Fatalf("no %s state within %v", what, d)
		}
	}
}

func ctxT(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	tb.Cleanup(cancel)
	return ctx
}
