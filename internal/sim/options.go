package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/device"
)

// Limits that keep a simulation bounded.
const (
	MaxDevices  = 100_000
	MaxDuration = 24 * time.Hour
)

// Registry is what the simulator needs from the hub's registry.
type Registry interface {
	// DeviceKey returns the primary key of device id, creating the device
	// first when create is true and it does not exist.
	DeviceKey(ctx context.Context, id string, create bool) (tether.Secret, error)
	// SetEnabled enables or disables device id.
	SetEnabled(ctx context.Context, id string, enabled bool) error
}

// KeySetter is what the rotated-key fault needs besides Registry; a
// Registry that does not implement it cannot run that fault.
type KeySetter interface {
	// SetPrimaryKey replaces device id's primary key.
	SetPrimaryKey(ctx context.Context, id string, key tether.Secret) error
}

// Options configure a simulation.
type Options struct {
	Devices  int    // how many; 1..MaxDevices
	Prefix   string // device IDs are Prefix + a zero-padded number; "": "sim-"
	Create   bool   // create devices that do not exist
	Registry Registry
	HostName string // the hub's name: token audience and TLS server name
	Addr     string // host:port of the hub's MQTT (or, for MQTTWS, HTTPS) listener; must be loopback
	CA       string // PEM or path of the CA to trust
	// Transport is device.MQTT (default) or device.MQTTWS.
	Transport device.Transport
	// TelemetryInterval is how often each device sends a message; 0: none.
	TelemetryInterval time.Duration
	Duration          time.Duration // how long to run; 0: 5 minutes
	// Rate is how many devices start connecting per second; 0: 200.
	Rate float64
	// Faults choose devices for each fault, in order from the first device.
	Faults []FaultSpec
	// FaultInterval is the mean time between drops, silences and flaps
	// of a faulty device; 0: 30 s.
	FaultInterval time.Duration
	KeepAlive     time.Duration // 0: 60 s
	TokenLifetime time.Duration // 0: one hour
	Retry         device.RetryPolicy
	// Progress, when set, receives a summary every ProgressEvery (0: 2 s).
	Progress      func(Summary)
	ProgressEvery time.Duration
	Logger        *slog.Logger
}

func (o *Options) fill() error {
	switch {
	case o.Devices < 1 || o.Devices > MaxDevices:
		return fmt.Errorf("sim: --devices %d: give 1 to %d", o.Devices, MaxDevices)
	case o.Registry == nil:
		return errors.New("sim: Options.Registry is required")
	case o.HostName == "" || o.Addr == "":
		return errors.New("sim: Options.HostName and Addr are required")
	}
	if o.Prefix == "" {
		o.Prefix = "sim-"
	}
	if o.Duration <= 0 {
		o.Duration = 5 * time.Minute
	}
	if o.Duration > MaxDuration {
		return fmt.Errorf("sim: --duration %v: at most %v", o.Duration, MaxDuration)
	}
	if o.Rate <= 0 {
		o.Rate = 200
	}
	if o.FaultInterval <= 0 {
		o.FaultInterval = 30 * time.Second
	}
	if o.KeepAlive <= 0 {
		o.KeepAlive = 60 * time.Second
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	n := 0
	for _, f := range o.Faults {
		n += f.Count
		if _, ok := o.Registry.(KeySetter); f.Fault == FaultRotatedKey && !ok {
			return errors.New("sim: the rotated-key fault needs a Registry that can set keys (KeySetter)")
		}
	}
	if n > o.Devices {
		return fmt.Errorf("sim: the faults take %d devices but only %d are simulated", n, o.Devices)
	}
	return checkLoopback(o.Addr)
}

// checkLoopback refuses a hub that is not on this machine: the simulator
// is a test tool, not a load generator for other people's hubs.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("sim: address %q: %v", addr, err)
	}
	ips, err := net.LookupIP(host)
	if err != nil {
		return fmt.Errorf("sim: resolve %q: %v", host, err)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return fmt.Errorf("sim: %s resolves to %s: the simulator only connects to a hub on this machine (loopback)", host, ip)
		}
	}
	return nil
}
