package check

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"time"
)

// Clock-skew thresholds. The hub accepts a token up to 5 minutes after
// its expiry, so a device clock more than 5 minutes behind gets its
// fresh tokens refused; well before that, renewals cut it close.
const (
	SkewFail = 5 * time.Minute
	SkewWarn = 30 * time.Second
)

// clock compares the device's clock with the Date header of an HTTPS
// answer from the hub.
func (c *checker) clock(ctx context.Context) Step {
	ctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: c.roots, ServerName: hostOnly(c.o.Credentials.HostName), InsecureSkipVerify: c.roots == nil}}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, c.o.HTTPSURL+"/", nil)
	if err != nil {
		return Step{Status: Skip, Detail: "bad HTTPS URL: " + err.Error()}
	}
	local0 := c.o.Now()
	sent := time.Now()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return Step{Status: Skip, Detail: fmt.Sprintf("cannot read the hub's time from %s: %v", c.o.HTTPSURL, err),
			Fix: "give --api-url with the hub's HTTPS address to compare clocks"}
	}
	resp.Body.Close()
	rtt := time.Since(sent)
	server, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return Step{Status: Skip, Detail: "the hub's answer has no Date header"}
	}
	return ClockSkew(local0.Add(rtt/2), server)
}

// ClockSkew judges the device's clock (local, at the moment the hub
// stamped its answer) against the hub's (server, whole seconds).
func ClockSkew(local, server time.Time) Step {
	skew := local.Sub(server) // > 0: the device is ahead
	abs := skew.Abs()
	// The Date header has whole seconds: up to 1 s is measurement noise.
	abs = max(0, abs-time.Second)
	dir := "ahead of"
	if skew < 0 {
		dir = "behind"
	}
	detail := fmt.Sprintf("the device's clock is %v %s the hub's (device %s, hub %s)", abs.Round(time.Second), dir,
		local.UTC().Format(time.RFC3339), server.UTC().Format(time.RFC3339))
	switch {
	case abs > SkewFail && skew < 0:
		return Step{Name: "clock", Status: Fail,
			Detail: detail + fmt.Sprintf(": its tokens expire %v earlier than it thinks, so a token living less than %v is refused as expired (401003), and at an hour or more behind so is the hub's certificate", abs.Round(time.Second), (abs-SkewFail).Round(time.Second)),
			Fix:    "sync the device's clock with NTP (timedatectl set-ntp true, or your RTOS's SNTP client) before connecting; the hub tolerates 5 minutes"}
	case abs > SkewFail:
		return Step{Name: "clock", Status: Warn, Detail: detail + ": its tokens live longer than intended, and certificate checks may fail",
			Fix: "sync the device's clock with NTP"}
	case abs > SkewWarn:
		return Step{Name: "clock", Status: Warn, Detail: detail, Fix: "sync the device's clock with NTP: beyond 5 minutes the hub refuses its tokens"}
	}
	return Step{Name: "clock", Status: Pass, Detail: detail}
}
