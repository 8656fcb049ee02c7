package e2e

import (
	"context"
	"crypto/tls"
	"net"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

// scenario provokes one cause for real and says which rows it must leave.
type scenario struct {
	name string
	// run provokes the cause through s, which records every network
	// connection it opens; want's conn indexes follow that order.
	run  func(s *stage)
	want []want
	// reg, if set, is what the registry must show of a device afterwards.
	reg *registryWant
}

// registryWant is a device's connection state and lastDisconnect as the
// service API shows them; last nil means no lastDisconnect.
type registryWant struct {
	device string
	state  string
	last   *wire.LastDisconnect
	hold   time.Duration // how long it must keep showing that once it does
}

// stage is what a scenario's run works with.
type stage struct {
	*testing.T
	site  *site
	conns []string // client addresses of the connections opened, in order
	start time.Time
}

// opened records a connection the scenario opened; it is closed when the
// hub's test ends, not the scenario's, so that the counters of /metrics
// are read before the hub sees it go.
func (s *stage) opened(local string, closer func()) {
	s.conns = append(s.conns, local)
	s.site.t.Cleanup(closer)
}

// tls dials the hub's MQTT port over TLS.
func (s *stage) tls() *mqttConn {
	s.Helper()
	c := dialTLS(s.T, s.site.mqtt, s.site.pool)
	s.opened(c.local, c.close)
	return c
}

// tlsWith dials the MQTT port and runs a TLS handshake with cfg, which
// may fail; the connection is recorded either way.
func (s *stage) tlsWith(cfg *tls.Config) error {
	s.Helper()
	nc := s.tcp()
	tc := tls.Client(nc, cfg)
	tc.SetDeadline(time.Now().Add(5 * time.Second))
	return tc.Handshake()
}

// tcp dials the hub's MQTT port without TLS.
func (s *stage) tcp() net.Conn {
	s.Helper()
	nc := dialTCP(s.T, s.site.mqtt)
	s.opened(nc.LocalAddr().String(), func() { nc.Close() })
	return nc
}

// device registers an enabled device and returns its primary key.
func (s *stage) device(id string) tether.Secret {
	s.Helper()
	return primaryKey(s.site.createDevice(s.T, id, tether.StatusEnabled))
}

// token signs a token for a device of the hub.
func (s *stage) token(id string, key tether.Secret, expiry time.Time) string {
	s.Helper()
	return signToken(s.T, s.site.host, id, key, expiry)
}

// connect connects a device with an hour-long token.
func (s *stage) connect(id string, key tether.Secret, clean bool, keepAlive uint16) *mqttConn {
	s.Helper()
	c := s.tls()
	c.mustConnect(s.site.host, id, s.token(id, key, time.Now().Add(time.Hour)), clean, keepAlive)
	return c
}

// waitClosedTCP reads from a plain connection until the hub closes it.
func waitClosedTCP(tb testing.TB, nc net.Conn, timeout time.Duration) time.Time {
	tb.Helper()
	nc.SetReadDeadline(time.Now().Add(timeout))
	buf := make([]byte, 1024)
	for i := 0; i < 1000; i++ {
		if _, err := nc.Read(buf); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				break
			}
			return time.Now()
		}
	}
	tb.Fatalf("the hub did not close the connection within %v", timeout)
	return time.Time{}
}

// leak is a row that shows a client's unmasked address.
type leak struct {
	scenario, addr string
	r              row
}

// runScenarios runs scenarios in parallel against st, checks each one's
// rows and registry state, and then that /metrics counted exactly the
// connection attempts and disconnects the rows record.
func runScenarios(t *testing.T, st *site, scenarios []scenario) {
	var mu sync.Mutex
	var leaks []leak
	seen := map[string]bool{}
	for _, sc := range scenarios {
		if seen[sc.name] {
			t.Fatalf("two scenarios named %s", sc.name)
		}
		seen[sc.name] = true
	}
	t.Run("scenarios", func(t *testing.T) {
		for _, sc := range scenarios {
			t.Run(sc.name, func(t *testing.T) {
				t.Parallel()
				s := &stage{T: t, site: st, start: time.Now()}
				sc.run(s)
				ids := make([]string, len(s.conns))
				for i, a := range s.conns {
					ids[i] = st.evs.connID(t, a)
				}
				for i, id := range ids {
					var ws []want
					for _, w := range sc.want {
						if w.conn == i {
							ws = append(ws, w)
						}
					}
					rows := st.waitRows(t, id, len(ws))
					if len(rows) != len(ws) {
						var b strings.Builder
						for _, r := range rows {
							b.WriteString("\n\t" + r.String())
						}
						t.Errorf("connection %d (%s, %s): %d rows, want %d:%s", i, s.conns[i], id, len(rows), len(ws), b.String())
						continue
					}
					for j, w := range ws {
						checkRow(t, rows[j], w, id, s.conns[i], s.start, ids)
						for _, a := range s.conns {
							if strings.Contains(rows[j].Props, a) {
								mu.Lock()
								leaks = append(leaks, leak{sc.name, a, rows[j]})
								mu.Unlock()
							}
						}
					}
				}
				for _, w := range sc.want {
					if w.conn >= len(ids) {
						t.Errorf("a wanted row of connection %d, but the scenario opened %d", w.conn, len(ids))
					}
				}
				if sc.reg != nil {
					checkRegistry(t, st, *sc.reg)
				}
			})
		}
	})
	if t.Failed() {
		return
	}
	t.Run("metrics", func(t *testing.T) { checkMetrics(t, st, scenarios) })
	t.Run("masked addresses", func(t *testing.T) {
		for _, l := range leaks {
			t.Errorf("%s: a row shows the unmasked client address %s: %s", l.scenario, l.addr, l.r)
		}
	})
}

// checkRegistry waits for the registry to show a device as wanted.
func checkRegistry(t *testing.T, st *site, w registryWant) {
	t.Helper()
	deadline := time.Now().Add(8 * time.Second)
	var d wire.Device
	var err error
	var matched time.Time
	for {
		d, err = st.api.Device(context.Background(), w.device)
		ok := err == nil && registryMatches(d, w)
		switch {
		case ok && matched.IsZero():
			matched = time.Now()
		case !ok && !matched.IsZero():
			t.Errorf("registry device %s showed %s for %v, then connectionState %s, lastDisconnect %+v (err %v)",
				w.device, w.state, time.Since(matched).Round(time.Millisecond), d.ConnectionState, d.LastDisconnect, err)
			return
		}
		if ok && time.Since(matched) >= w.hold {
			return
		}
		if time.Now().After(deadline.Add(w.hold)) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("read device %s: %v", w.device, err)
	}
	t.Errorf("registry device %s: connectionState %s, lastDisconnect %+v; want %s, %+v", w.device, d.ConnectionState, d.LastDisconnect, w.state, w.last)
}

func registryMatches(d wire.Device, w registryWant) bool {
	if d.ConnectionState != w.state {
		return false
	}
	if w.last == nil || d.LastDisconnect == nil {
		return w.last == nil && d.LastDisconnect == nil
	}
	l := d.LastDisconnect
	return l.Reason == w.last.Reason && l.ResultType == w.last.ResultType && l.ResultDescription == w.last.ResultDescription &&
		!time.Time(l.Time).IsZero()
}

// checkMetrics compares the connection counters of /metrics with what
// the scenarios' rows record: an attempt per deviceConnect row, by result
// code; a disconnect per deviceDisconnect row, by reason and result code,
// the 404104 that follows a credential_expired 401003 excepted.
func checkMetrics(t *testing.T, st *site, scenarios []scenario) {
	want := map[string]float64{}
	for _, sc := range scenarios {
		for _, w := range sc.want {
			result := w.code.typ
			if result == "" {
				result = "0"
			}
			switch {
			case w.op == opConnect:
				want[`tether_connection_attempts_total{result="`+result+`"}`]++
			case w.op == opDisconnect && !(w.reason == tether.ReasonCredentialExpired && w.code == closedRemotely):
				want[`tether_disconnects_total{reason="`+string(w.reason)+`",result="`+result+`"}`]++
			}
		}
	}
	got := scrapeCounters(t, st.h)
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if got[k] != want[k] {
			t.Errorf("%s = %v, want %v", k, got[k], want[k])
		}
	}
}
