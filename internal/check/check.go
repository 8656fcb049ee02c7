package check

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/device"
	"github.com/tether-iot/tether/internal/hubclient"
	"github.com/tether-iot/tether/internal/wire"
	"github.com/tether-iot/tether/sas"
)

// Status is a step's outcome.
type Status string

const (
	Pass Status = "pass"
	Warn Status = "warn" // works, but something needs attention
	Fail Status = "fail"
	Skip Status = "skip" // not run: an earlier step failed, or it needs an option
)

// Step is one check.
type Step struct {
	Name     string            `json:"name"`
	Status   Status            `json:"status"`
	Duration time.Duration     `json:"durationNs"`
	Detail   string            `json:"detail"`
	Fix      string            `json:"fix,omitempty"`
	Code     tether.ResultCode `json:"code,omitempty"` // the catalog entry, when one applies
	Docs     string            `json:"docs,omitempty"` // docs/errors.md#anchor of Code
}

// Report is the whole check.
type Report struct {
	Device    string `json:"device"`
	HostName  string `json:"hostName"`
	Addr      string `json:"addr"`
	Transport string `json:"transport"`
	Steps     []Step `json:"steps"`
	Failed    int    `json:"failed"`
}

// OK reports whether no step failed.
func (r *Report) OK() bool { return r.Failed == 0 }

// Service is what the telemetry-arrival and method steps need from the
// hub's service API.
type Service interface {
	Telemetry(ctx context.Context, o hubclient.TelemetryOptions, fn func(wire.TelemetryEvent) error) error
	InvokeMethod(ctx context.Context, id string, call wire.MethodCall) (wire.MethodResult, error)
}

// Options say what to check.
type Options struct {
	Credentials sas.ConnectionString // a device connection string
	Transport   device.Transport     // device.MQTT (default) or device.MQTTWS
	// Addr is host:port to dial; "": HostName (or GatewayHostName) on
	// 8883, or 443 for MQTTWS.
	Addr string
	// CAFile is the PEM file of the CA to trust; "": the system roots.
	CAFile string
	// HTTPSURL is where the hub's HTTPS (service API) listens, for the
	// clock step; "": https://HostName:443 (with MQTTWS, the Addr).
	HTTPSURL string
	// Service, when set, is used to watch the telemetry arrive and to call
	// a direct method on the device.
	Service Service
	Timeout time.Duration    // each step's limit; 0: 10 s
	Now     func() time.Time // the device's clock; nil: time.Now
}

func (o *Options) fill() error {
	cs := o.Credentials
	if cs.HostName == "" || cs.DeviceID == "" || cs.Kind() == sas.KindPolicy {
		return errors.New("check: give a device connection string (HostName=…;DeviceId=…;SharedAccessKey=…)")
	}
	if cs.Key == "" && cs.Signature == "" {
		return errors.New("check: the connection string has no SharedAccessKey")
	}
	switch o.Transport {
	case "":
		o.Transport = device.MQTT
	case device.MQTT, device.MQTTWS:
	default:
		return fmt.Errorf("check: transport %q: use mqtt or mqttws", o.Transport)
	}
	host := cs.HostName
	if cs.GatewayHostName != "" {
		host = cs.GatewayHostName
	}
	if o.Addr == "" {
		port := "8883"
		if o.Transport == device.MQTTWS {
			port = "443"
		}
		o.Addr = net.JoinHostPort(hostOnly(host), port)
		if _, _, err := net.SplitHostPort(host); err == nil {
			o.Addr = host // the connection string names the port
		}
	}
	if o.HTTPSURL == "" {
		o.HTTPSURL = "https://" + net.JoinHostPort(hostOnly(cs.HostName), "443")
		if o.Transport == device.MQTTWS {
			o.HTTPSURL = "https://" + o.Addr
		}
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

func hostOnly(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		return host
	}
	return h
}

// Run runs every step and returns the report; err is only for bad
// options.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.fill(); err != nil {
		return nil, err
	}
	r := &Report{Device: o.Credentials.DeviceID, HostName: o.Credentials.HostName, Addr: o.Addr, Transport: string(o.Transport)}
	c := &checker{o: o, r: r}
	c.run(ctx)
	for _, s := range r.Steps {
		if s.Status == Fail {
			r.Failed++
		}
	}
	return r, nil
}

// checker carries what later steps need from earlier ones.
type checker struct {
	o     Options
	r     *Report
	roots *x509.CertPool
	ips   []string
	raw   net.Conn // TCP, for MQTT over TLS
	mq    *mqttConn
}

func (c *checker) add(s Step) Step {
	if s.Code != 0 {
		s.Docs = s.Code.Info().DocsLink()
	}
	c.r.Steps = append(c.r.Steps, s)
	return s
}

func (c *checker) skip(name, why string) {
	c.add(Step{Name: name, Status: Skip, Detail: why})
}

// timed runs fn and stamps the step with its duration.
func timed(name string, fn func() Step) Step {
	start := time.Now()
	s := fn()
	s.Name, s.Duration = name, time.Since(start)
	return s
}

func (c *checker) run(ctx context.Context) {
	defer func() {
		if c.mq != nil {
			c.mq.close()
		} else if c.raw != nil {
			c.raw.Close()
		}
	}()
	ok := c.add(timed("dns", func() Step { return c.dns(ctx) })).Status != Fail
	if ok {
		ok = c.add(timed("tcp", func() Step { return c.tcp(ctx) })).Status != Fail
	} else {
		c.skip("tcp", "needs dns")
	}
	if ok {
		ok = c.add(timed("tls", func() Step { return c.tls(ctx) })).Status != Fail
	} else {
		c.skip("tls", "needs tcp")
	}
	if ok {
		ok = c.add(timed("mqtt-connect", func() Step { return c.connect(ctx) })).Status != Fail
	} else {
		c.skip("mqtt-connect", "needs tls")
	}
	c.add(timed("clock", func() Step { return c.clock(ctx) }))
	later := []struct {
		name string
		fn   func(context.Context) Step
	}{{"telemetry", c.telemetry}, {"twin", c.twin}, {"method", c.method}, {"keepalive", c.ping}}
	for _, l := range later {
		if !ok {
			c.skip(l.name, "needs mqtt-connect")
			continue
		}
		s := c.add(timed(l.name, func() Step { return l.fn(ctx) }))
		if s.Status == Fail && c.mq.broken() {
			ok = false // the connection is gone: the rest cannot run
		}
	}
}
