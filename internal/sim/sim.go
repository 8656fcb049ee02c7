package sim

import (
	"context"
	"crypto/x509"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/device"
	"github.com/tether-iot/tether/sas"
)

// Sim is one simulation. Run it once.
type Sim struct {
	o       Options
	roots   *x509.CertPool
	plan    []planned
	clients int
	c       *counters
}

// planned is one simulated identity and its fault.
type planned struct {
	id    string
	fault Fault // "" for a healthy device
	key   tether.Secret
}

// New checks o and plans the fleet; it does not touch the hub.
func New(o Options) (*Sim, error) {
	if err := o.fill(); err != nil {
		return nil, err
	}
	s := &Sim{o: o, c: newCounters(o.Duration)}
	if o.CA != "" {
		pem := []byte(o.CA)
		if !strings.Contains(o.CA, "-----BEGIN") {
			b, err := os.ReadFile(o.CA)
			if err != nil {
				return nil, fmt.Errorf("sim: CA: %w", err)
			}
			pem = b
		}
		s.roots = x509.NewCertPool()
		if !s.roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("sim: CA %s holds no PEM certificate", o.CA)
		}
	}
	width := len(fmt.Sprint(o.Devices - 1))
	width = max(width, 4)
	s.plan = make([]planned, o.Devices)
	for i := range s.plan {
		s.plan[i].id = fmt.Sprintf("%s%0*d", o.Prefix, width, i)
	}
	i := 0
	for _, f := range o.Faults {
		for n := 0; n < f.Count; n++ {
			s.plan[i].fault = f.Fault
			i++
		}
	}
	s.clients = o.Devices
	for _, p := range s.plan {
		if p.fault == FaultDuplicate {
			s.clients++
		}
	}
	return s, nil
}

// Run prepares the devices (keys; creating them with Create; disabling
// those with the disabled fault), runs the fleet for Duration or until
// ctx ends, restores disabled devices, and reports.
func (s *Sim) Run(ctx context.Context) (*Report, error) {
	if err := s.prepare(ctx); err != nil {
		return nil, err
	}
	defer s.restore()
	start := time.Now()
	s.c.start = start
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()

	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		s.progress(runCtx, start)
	}()
	go func() {
		defer wg.Done()
		s.launch(runCtx, &wg)
	}()
	t := time.NewTimer(s.o.Duration)
	select {
	case <-t.C:
	case <-ctx.Done():
		t.Stop()
	}
	final := s.c.summary(start, s.o.Devices, s.clients) // before the clients close
	runtime.GC()                                        // what the fleet holds, without garbage
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	live := ms.HeapAlloc + ms.StackInuse
	cancel()
	wg.Wait()
	r := s.report(final)
	r.LiveBytes = live
	r.PerClientBytes = live / uint64(max(1, s.clients))
	return r, nil
}

// progress reports a summary every ProgressEvery until ctx ends.
func (s *Sim) progress(ctx context.Context, start time.Time) {
	t := time.NewTicker(s.o.ProgressEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			sum := s.c.summary(start, s.o.Devices, s.clients)
			if s.o.Progress != nil {
				s.o.Progress(sum)
			}
		}
	}
}

// launch starts the clients at Rate per second.
func (s *Sim) launch(ctx context.Context, wg *sync.WaitGroup) {
	gap := time.Duration(float64(time.Second) / s.o.Rate)
	next := time.Now()
	for _, p := range s.plan {
		n := 1
		if p.fault == FaultDuplicate {
			n = 2
		}
		for k := 0; k < n; k++ {
			if d := time.Until(next); d > 0 && !sleep(ctx, d) {
				return
			}
			next = next.Add(gap)
			wg.Add(1)
			s.c.started.Add(1)
			go func() {
				defer wg.Done()
				s.runClient(ctx, p)
			}()
		}
	}
}

// report builds the final report from the last summary.
func (s *Sim) report(sum Summary) *Report {
	r := &Report{Summary: sum, Failures: map[string]int64{}, Drops: map[string]int64{}}
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	for k, v := range s.c.byFail {
		r.Failures[k] = v
	}
	for k, v := range s.c.byDrop {
		r.Drops[k] = v
	}
	for _, f := range s.o.Faults {
		fr := FaultReport{Fault: f.Fault, Injected: s.c.injected[f.Fault]}
		for _, p := range s.plan {
			if p.fault == f.Fault {
				fr.Devices = append(fr.Devices, p.id)
			}
		}
		r.Faults = append(r.Faults, fr)
	}
	r.PeakHeapBytes, r.PeakStackBytes, r.PeakGoroutines = s.c.peakHeap, s.c.peakStack, s.c.peakG
	last := int(min(sum.Elapsed, s.o.Duration)/tenth) + 1
	for i := 0; i < last && i < len(s.c.perTenth); i++ {
		n := s.c.perTenth[i].Load()
		r.PeakAttempts100ms = max(r.PeakAttempts100ms, n)
		if i%10 == 0 {
			r.AttemptsPerSecond = append(r.AttemptsPerSecond, 0)
		}
		r.AttemptsPerSecond[len(r.AttemptsPerSecond)-1] += n
	}
	for _, n := range r.AttemptsPerSecond {
		r.PeakAttempts = max(r.PeakAttempts, n)
	}
	return r
}

// prepare fetches (or creates) every device's key, 16 at a time, and
// disables the devices of the disabled fault.
func (s *Sim) prepare(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i := range s.plan {
		p := &s.plan[i]
		g.Go(func() error {
			key, err := s.o.Registry.DeviceKey(gctx, p.id, s.o.Create)
			if err != nil {
				if !s.o.Create && tether.ErrorKind(err) == tether.KindNotFound {
					return fmt.Errorf("device %s is not registered; add --create to create the simulated devices", p.id)
				}
				return fmt.Errorf("device %s: %w", p.id, err)
			}
			p.key = key
			if p.fault == FaultDisabled {
				return s.o.Registry.SetEnabled(gctx, p.id, false)
			}
			return nil
		})
	}
	return g.Wait()
}

// restore enables the devices the simulation disabled.
func (s *Sim) restore() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, p := range s.plan {
		switch p.fault {
		case FaultDisabled:
			if err := s.o.Registry.SetEnabled(ctx, p.id, true); err != nil {
				s.o.Logger.Warn("sim: re-enable device", "device", p.id, "err", err)
			}
		case FaultRotatedKey:
			if err := s.o.Registry.(KeySetter).SetPrimaryKey(ctx, p.id, p.key); err != nil {
				s.o.Logger.Warn("sim: restore key", "device", p.id, "err", err)
			}
		}
	}
}

// rotateKey gives device id a new key in the registry.
func (s *Sim) rotateKey(ctx context.Context, id string) error {
	key, err := sas.GenerateKey(nil)
	if err != nil {
		return err
	}
	return s.o.Registry.(KeySetter).SetPrimaryKey(ctx, id, key)
}

// runClient runs one MQTT client of device p until ctx ends or it gives up.
func (s *Sim) runClient(ctx context.Context, p planned) {
	var cur atomic.Pointer[faultConn]
	o := device.Options{
		Credentials: sas.ConnectionString{HostName: s.o.HostName, DeviceID: p.id, Key: p.key},
		Transport:   s.o.Transport, Addr: s.o.Addr, RootCAs: s.roots,
		KeepAlive: s.o.KeepAlive, TokenLifetime: s.o.TokenLifetime, Retry: s.o.Retry,
		ClientType: "tether-simulator/1",
		WrapConn: func(c net.Conn) net.Conn {
			fc := newFaultConn(c)
			cur.Store(fc)
			return fc
		},
	}
	lifetime := s.o.TokenLifetime
	if lifetime <= 0 {
		lifetime = device.DefaultTokenLifetime
	}
	switch p.fault {
	case FaultWrongKey:
		o.Credentials.Key = wrongKey(p.key)
	case FaultExpiredToken:
		o.Now = func() time.Time { return time.Now().Add(-lifetime - sas.DefaultSkew - 10*time.Minute) }
	case FaultClockSkew:
		o.Now = func() time.Time { return time.Now().Add(-3 * time.Hour) }
	case FaultTokenExpiry:
		o.DisableRenewal = true
	case FaultNoJitter:
		// Naive firmware: a fixed delay, and a back-off that starts over
		// at every connect, so every reconnect after a drop comes exactly
		// Min later.
		o.Retry.NoJitter, o.Retry.StableAfter = true, time.Nanosecond
	}
	connected := false
	o.OnConnectionState = func(cs device.ConnectionState) { s.observe(&connected, cs) }
	c, err := device.New(o)
	if err != nil {
		s.o.Logger.Error("sim: device client", "device", p.id, "err", err)
		return
	}
	var timers []*timer
	if s.o.TelemetryInterval > 0 {
		timers = append(timers, s.telemetry(ctx, c, p.id))
	}
	if t := s.faultTimer(ctx, p, &cur, c.Connected); t != nil {
		timers = append(timers, t)
	}
	_ = c.Run(ctx) // a final error is counted by observe
	for _, t := range timers {
		t.stop()
	}
}

// observe counts one connection-state change of a client.
func (s *Sim) observe(connected *bool, cs device.ConnectionState) {
	switch cs.Status {
	case device.Connecting:
		s.c.attempt(time.Now()) // not cs.Time: a skewed device clock must not move it
	case device.Connected:
		*connected = true
		s.c.connected.Add(1)
		s.c.connects.Add(1)
		if cs.Renewal {
			s.c.renewals.Add(1)
		}
	case device.Disconnected, device.Closed:
		was := *connected
		if was {
			*connected = false
			s.c.connected.Add(-1)
		}
		switch {
		case cs.Err == nil:
		case was && cs.Status == device.Disconnected:
			s.c.disconnects.Add(1)
			s.c.add(s.c.byDrop, cs.Err.Code.String())
		default:
			s.c.failures.Add(1)
			s.c.add(s.c.byFail, cs.Err.Code.String())
		}
		if cs.Status == device.Closed && cs.Err != nil {
			s.c.gaveUp.Add(1)
		}
	}
}

// wrongKey returns a valid key that is not k.
func wrongKey(k tether.Secret) tether.Secret {
	b, err := tether.DecodeKey(k.Reveal())
	if err != nil || len(b) == 0 {
		return "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktMTI="
	}
	for i := range b {
		b[i] ^= 0x5a
	}
	return tether.Secret(encodeKey(b))
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// jittered returns a random duration in [d/2, 3d/2).
func jittered(d time.Duration) time.Duration {
	return d/2 + time.Duration(rand.Int64N(int64(d)))
}
