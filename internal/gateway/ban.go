package gateway

import (
	"fmt"
	"net"
	"sort"
	"sync"
	"time"
)

// Ban is a temporary ban of a source address or a device id after
// repeated authentication failures.
type Ban struct {
	Kind     string    // "ip" or "device"
	Subject  string    // the address (unmasked) or the device id
	Since    time.Time // when the ban started
	Until    time.Time // when it ends
	Failures int       // failures within the window that caused it
	Refused  int       // connects refused during the ban so far
}

// banList counts authentication failures per device id and per source
// address, and bans a subject that reaches its threshold of failures
// within window for duration (like EMQX's flapping detection). Addresses
// have a threshold of their own, higher by default: many devices may sit
// behind one address. All methods take the time as an argument and are
// safe for concurrent use.
type banList struct {
	threshold   int // per device id; 0: device ids are not banned
	ipThreshold int // per source address; 0: addresses are not banned
	window      time.Duration
	duration    time.Duration

	mu    sync.Mutex
	fails map[banKey][]time.Time // the last failures, at most threshold
	bans  map[banKey]*Ban
	total int64 // bans ever imposed
}

type banKey struct{ kind, subject string }

// maxFailTracked bounds the subjects whose failures are counted; beyond
// it, failures older than the window are swept and, if still full, new
// subjects are not counted until room frees up.
const maxFailTracked = 100_000

func newBanList(threshold, ipThreshold int, window, duration time.Duration) *banList {
	if threshold <= 0 && ipThreshold <= 0 || window <= 0 || duration <= 0 {
		return nil
	}
	return &banList{threshold: max(threshold, 0), ipThreshold: max(ipThreshold, 0), window: window, duration: duration,
		fails: map[banKey][]time.Time{}, bans: map[banKey]*Ban{}}
}

// hostOf is the address part of a remote address, without the port.
func hostOf(remote string) string {
	if h, _, err := net.SplitHostPort(remote); err == nil {
		return h
	}
	return remote
}

// banned returns the ban in force on the address or the device at now,
// counting the refusal, or nil.
func (b *banList) banned(ip, device string, now time.Time) *Ban {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, k := range []banKey{{"ip", ip}, {"device", device}} {
		ban, ok := b.bans[k]
		if !ok {
			continue
		}
		if !now.Before(ban.Until) {
			delete(b.bans, k)
			continue
		}
		ban.Refused++
		cp := *ban
		return &cp
	}
	return nil
}

// fail counts an authentication failure of device from ip, and returns
// the bans it caused.
func (b *banList) fail(ip, device string, now time.Time) []Ban {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Ban
	for _, k := range []banKey{{"ip", ip}, {"device", device}} {
		limit := b.threshold
		if k.kind == "ip" {
			limit = b.ipThreshold
		}
		if k.subject == "" || limit == 0 {
			continue
		}
		ts, ok := b.fails[k]
		if !ok && len(b.fails) >= maxFailTracked {
			b.sweep(now)
			if len(b.fails) >= maxFailTracked {
				continue
			}
		}
		ts = append(ts, now)
		if len(ts) > limit {
			ts = ts[len(ts)-limit:]
		}
		if len(ts) == limit && now.Sub(ts[0]) <= b.window {
			ban := &Ban{Kind: k.kind, Subject: k.subject, Since: now, Until: now.Add(b.duration), Failures: len(ts)}
			b.bans[k] = ban
			b.total++
			delete(b.fails, k)
			out = append(out, *ban)
			continue
		}
		b.fails[k] = ts
	}
	return out
}

// succeeded forgets the failures of a device that authenticated.
func (b *banList) succeeded(device string) {
	if b == nil {
		return
	}
	b.mu.Lock()
	delete(b.fails, banKey{"device", device})
	b.mu.Unlock()
}

// sweep forgets failures older than the window.
func (b *banList) sweep(now time.Time) {
	for k, ts := range b.fails {
		if now.Sub(ts[len(ts)-1]) > b.window {
			delete(b.fails, k)
		}
	}
}

// list returns the bans in force at now, oldest first, dropping the
// expired ones.
func (b *banList) list(now time.Time) []Ban {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Ban, 0, len(b.bans))
	for k, ban := range b.bans {
		if !now.Before(ban.Until) {
			delete(b.bans, k)
			continue
		}
		out = append(out, *ban)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Since.Equal(out[j].Since) {
			return out[i].Since.Before(out[j].Since)
		}
		return out[i].Kind+out[i].Subject < out[j].Kind+out[j].Subject
	})
	return out
}

// imposed is the number of bans ever imposed.
func (b *banList) imposed() int64 {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.total
}

// authFailed counts an authentication failure and, when it bans the
// address or the device, logs the ban and returns a sentence for the
// attempt's diagnostic record (which names neither the address nor
// the ban's end beyond what the record already masks).
func (g *Gateway) authFailed(ip, device string, now time.Time) string {
	bans := g.bans.fail(ip, device, now)
	detail := ""
	for _, b := range bans {
		g.log.Warn("banned after repeated authentication failures", "kind", b.Kind, "subject", b.Subject,
			"failures", b.Failures, "window", g.o.AuthBanWindow, "until", b.Until.UTC().Format(time.RFC3339))
		what := "the source address"
		if b.Kind == "device" {
			what = "this device id"
		}
		detail += fmt.Sprintf("; this was authentication failure %d within %v, so %s is banned until %s (--auth-ban-duration)",
			b.Failures, g.o.AuthBanWindow, what, b.Until.UTC().Format(time.RFC3339))
	}
	return detail
}

// Bans lists the bans in force at now.
func (g *Gateway) Bans(now time.Time) []Ban { return g.bans.list(now) }

// The admission refusals counted by [Gateway.Admission].
const (
	refusedRate = iota
	refusedHandshakes
	refusedBanned
)

// AdmissionStats counts what admission control did since the start.
type AdmissionStats struct {
	RefusedRate       int64 // CONNECTs refused by the connect-rate limit (CONNACK 3, 429001)
	RefusedHandshakes int64 // connections closed before TLS: no handshake slot in time (429003)
	RefusedBanned     int64 // CONNECTs refused during a ban (CONNACK 3, 429001, flapping_banned)
	BansImposed       int64 // bans ever imposed
	BansActive        int   // bans in force now
	Handshakes        int   // TLS handshakes in progress now
}

// Admission returns the admission counters at now.
func (g *Gateway) Admission(now time.Time) AdmissionStats {
	return AdmissionStats{RefusedRate: g.refused[refusedRate].Load(), RefusedHandshakes: g.refused[refusedHandshakes].Load(),
		RefusedBanned: g.refused[refusedBanned].Load(), BansImposed: g.bans.imposed(), BansActive: len(g.bans.list(now)),
		Handshakes: g.slots.inProgress()}
}
