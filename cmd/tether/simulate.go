package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/device"
	"github.com/tether-iot/tether/internal/hubclient"
	"github.com/tether-iot/tether/internal/server"
	"github.com/tether-iot/tether/internal/sim"
	"github.com/tether-iot/tether/internal/wire"
)

func newSimulateCmd(g *globals) *cobra.Command {
	var (
		o         sim.Options
		faults    []string
		transport string
		mqttAddr  string
		quiet     bool
	)
	var faultHelp strings.Builder
	for _, f := range sim.Faults {
		fmt.Fprintf(&faultHelp, "  %-14s %s\n", f.Fault, f.Help)
	}
	cmd := &cobra.Command{
		Use:   "simulate --devices N",
		Short: "Run a fleet of simulated devices, with injected faults",
		Long: `Run N simulated devices against a hub on this machine, each one a client of
Tether's Go device SDK (keep-alive, jittered back-off and token renewal as the
SDK does them), sending telemetry every --telemetry-interval, for --duration.
A live summary goes to stderr every 2 seconds; a report is printed at the end.

Devices are named PREFIX0000, PREFIX0001, …; --create registers those that do
not exist. --fault NAME[:N|:P%] gives a fault to the next N devices (default 1)
or P percent of them, starting with the first device; repeat it for several:

` + faultHelp.String() + `
The simulator is bounded: at most 100000 devices, at most 24h, and only a hub
on this machine (loopback).`,
		Example: `  tether simulate --devices 50 --create --duration 2m
  tether simulate --devices 20 --fault drop:5 --fault duplicate --fault wrong-key --duration 5m
  tether simulate --devices 1000 --rate 500 --telemetry-interval 0 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, f := range faults {
				spec, err := sim.ParseFault(f, o.Devices)
				if err != nil {
					return usagef("--fault: %v", err)
				}
				o.Faults = append(o.Faults, spec)
			}
			switch o.Transport = device.Transport(transport); o.Transport {
			case device.MQTT, device.MQTTWS:
			default:
				return usagef("--transport %q: use mqtt or mqttws", transport)
			}
			return withHub(cmd, g, func(h *hubConn) error {
				if err := simTarget(g, h, &o, mqttAddr); err != nil {
					return err
				}
				o.Registry = simRegistry{h.client}
				if !quiet {
					o.Progress = func(s sim.Summary) { fmt.Fprintln(cmd.ErrOrStderr(), s) }
				}
				s, err := sim.New(o)
				if err != nil {
					return usageError{err}
				}
				r, err := s.Run(cmd.Context())
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), r)
				}
				_, err = fmt.Fprint(cmd.OutOrStdout(), r.Text())
				return err
			})
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Devices, "devices", 10, "how many devices to simulate (1 to 100000)")
	f.StringVar(&o.Prefix, "prefix", "sim-", "device ID prefix")
	f.BoolVar(&o.Create, "create", false, "register simulated devices that do not exist")
	f.DurationVar(&o.TelemetryInterval, "telemetry-interval", 10*time.Second, "how often each device sends a message; 0: none")
	f.DurationVar(&o.Duration, "duration", 5*time.Minute, "how long to run (at most 24h)")
	f.Float64Var(&o.Rate, "rate", 200, "devices that start connecting per second")
	f.StringArrayVar(&faults, "fault", nil, "NAME[:N|:P%]: inject a fault into N devices (see above); repeatable")
	f.DurationVar(&o.FaultInterval, "fault-interval", 30*time.Second, "mean time between injected drops and silences")
	f.DurationVar(&o.KeepAlive, "keepalive", 60*time.Second, "MQTT keep-alive of the devices")
	f.DurationVar(&o.TokenLifetime, "token-lifetime", time.Hour, "SAS token lifetime; tokens are renewed 15 min (or a quarter of the lifetime) before expiry")
	f.DurationVar(&o.Retry.Max, "max-backoff", 10*time.Second, "the longest reconnect back-off")
	f.StringVar(&transport, "transport", "mqtt", "mqtt (TLS, 8883) or mqttws (WebSockets, 443)")
	f.StringVar(&mqttAddr, "mqtt-addr", "", "host:port to dial (default: the running hub's MQTT address, or its HTTPS address with mqttws)")
	f.BoolVarP(&quiet, "quiet", "q", false, "no live summary")
	return cmd
}

// simTarget fills the hub's name, address and CA.
func simTarget(g *globals, h *hubConn, o *sim.Options, addr string) error {
	o.HostName = h.hostname()
	o.CA = g.caFile
	if o.CA == "" {
		if p := filepath.Join(g.dataDir, "tls", "ca.pem"); fileExists(p) {
			o.CA = p
		}
	}
	if addr != "" {
		o.Addr = addr
		return nil
	}
	if h.admin == nil { // a remote hub, by its name
		port := "8883"
		if o.Transport == device.MQTTWS {
			port = "443"
		}
		o.Addr = net.JoinHostPort(o.HostName, port)
		return nil
	}
	ri, ok := server.Running(g.dataDir)
	if !ok {
		return fmt.Errorf("no tether serve is running on --data %s: start it first, or give --mqtt-addr", g.dataDir)
	}
	o.Addr = ri.MQTTAddr
	if o.Transport == device.MQTTWS {
		o.Addr = ri.HTTPSAddr
	}
	if ri.Hostname != "" {
		o.HostName = ri.Hostname
	}
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// simRegistry is the simulator's registry over the service API.
type simRegistry struct{ c *hubclient.Client }

func (r simRegistry) DeviceKey(ctx context.Context, id string, create bool) (tether.Secret, error) {
	d, err := r.c.Device(ctx, id)
	if err != nil && create && tether.ErrorKind(err) == tether.KindNotFound {
		d, err = r.c.CreateDevice(ctx, wire.Device{DeviceID: id})
	}
	if err != nil {
		return "", err
	}
	if d.Authentication == nil || d.Authentication.SymmetricKey == nil || d.Authentication.SymmetricKey.PrimaryKey == nil {
		return "", fmt.Errorf("device %s has no symmetric key (X.509 devices cannot be simulated yet)", id)
	}
	return tether.Secret(*d.Authentication.SymmetricKey.PrimaryKey), nil
}

func (r simRegistry) SetEnabled(ctx context.Context, id string, enabled bool) error {
	d, err := r.c.Device(ctx, id)
	if err != nil {
		return err
	}
	d.Status = "disabled"
	if enabled {
		d.Status = "enabled"
	}
	_, err = r.c.UpdateDevice(ctx, d, "*")
	return err
}

func (r simRegistry) SetPrimaryKey(ctx context.Context, id string, key tether.Secret) error {
	d, err := r.c.Device(ctx, id)
	if err != nil {
		return err
	}
	if d.Authentication == nil || d.Authentication.SymmetricKey == nil {
		return fmt.Errorf("device %s has no symmetric key", id)
	}
	k := key.Reveal()
	d.Authentication.SymmetricKey.PrimaryKey = &k
	_, err = r.c.UpdateDevice(ctx, d, "*")
	return err
}
