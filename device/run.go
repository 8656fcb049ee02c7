package device

import (
	"context"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/tether-iot/tether"
)

// Run connects and keeps the device connected until ctx ends (it then
// disconnects cleanly and returns nil) or a failure is final: a
// non-retryable refusal such as a wrong key (401003), or the retry
// policy giving up. Use either Run or Open, not both.
//
// The loop: connect; on a retryable failure wait [RetryPolicy.Delay] and
// try again; once connected, wait for the connection to drop (reconnect
// with back-off) or for the token to near its expiry (renew: DISCONNECT,
// then CONNECT at once with a new token, keeping the session).
func (c *Client) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return errTwice
	}
	// attempt counts failures in a row. A connection that drops before
	// it was up for StableAfter counts as one more failure, so a device
	// that is thrown out right after connecting backs off instead of
	// looping.
	attempt, renewal := 0, false
	var connectedAt time.Time
	for {
		c.state(ConnectionState{Status: Connecting, Renewal: renewal, Attempt: attempt})
		present, err := c.connect(ctx)
		if ctx.Err() != nil {
			c.state(ConnectionState{Status: Closed})
			return nil
		}
		if err != nil {
			attempt++
			if !err.Retryable() || c.o.Retry.GiveUp(attempt) {
				c.state(ConnectionState{Status: Closed, Err: err, Attempt: attempt})
				return err
			}
			d := c.o.Retry.Delay(attempt, err.throttled())
			c.state(ConnectionState{Status: Disconnected, Err: err, Attempt: attempt, RetryIn: d})
			if !sleep(ctx, d) {
				c.state(ConnectionState{Status: Closed})
				return nil
			}
			renewal = false
			continue
		}
		connectedAt = time.Now()
		c.resubscribe(ctx, present)
		c.setUp(true)
		c.state(ConnectionState{Status: Connected, Renewal: renewal, SessionPresent: present})
		renewal = false

		renewIn := time.Duration(1 << 62)
		if c.o.Credentials.Key != "" && !c.o.DisableRenewal {
			renewIn = c.TokenExpiry().Add(-c.o.RenewBefore).Sub(c.o.Now())
		}
		timer := time.NewTimer(renewIn)
		select {
		case <-ctx.Done():
			c.setUp(false)
			c.pc.Disconnect(250)
			c.state(ConnectionState{Status: Closed})
			return nil
		case <-timer.C:
			c.setUp(false)
			c.state(ConnectionState{Status: Disconnected, Renewal: true})
			c.pc.Disconnect(250)
			renewal = true
		case why := <-c.lost:
			c.setUp(false)
			err := lostError(why)
			if time.Since(connectedAt) >= c.o.Retry.StableAfter {
				attempt = 0
			}
			attempt++
			d := c.o.Retry.Delay(attempt, false)
			c.state(ConnectionState{Status: Disconnected, Err: err, Attempt: attempt, RetryIn: d})
			if !sleep(ctx, d) {
				c.state(ConnectionState{Status: Closed})
				return nil
			}
		}
		timer.Stop()
	}
}

// connect makes one connection attempt and reports whether the hub kept
// the session.
func (c *Client) connect(ctx context.Context) (bool, *Error) {
	select {
	case <-c.lost: // a stale report from the previous connection
	default:
	}
	var t mqtt.Token
	for i := 0; ; i++ {
		t = c.pc.Connect()
		// paho may still be tearing down the previous connection.
		if i < 50 && t.WaitTimeout(0) && t.Error() != nil && t.(*mqtt.ConnectToken).ReturnCode() == 0 && isStatusErr(t.Error()) {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		break
	}
	select {
	case <-t.Done():
	case <-ctx.Done():
		c.pc.Disconnect(0)
		return false, nil
	}
	ct := t.(*mqtt.ConnectToken)
	if t.Error() == nil {
		return ct.SessionPresent(), nil
	}
	if rc := ct.ReturnCode(); rc >= 1 && rc <= 5 {
		code, reason, detail := ConnackResult(rc)
		return false, &Error{Op: "connect", Code: code, Reason: reason, Connack: rc, Detail: detail}
	}
	c.mu.Lock()
	dialErr := c.dialErr
	c.mu.Unlock()
	if dialErr != nil {
		return false, classifyDial("connect", dialErr)
	}
	return false, &Error{Op: "connect", Code: tether.ServiceUnavailable, Reason: tether.ReasonConnectionLost,
		Detail: "the hub closed the connection without a CONNACK: " + t.Error().Error(), Err: t.Error()}
}

func isStatusErr(err error) bool {
	s := err.Error()
	return s == "status is already connected or reconnecting" || s == "status can only transition to connecting from disconnected"
}

// state reports a change to OnConnectionState and to Open.
func (c *Client) state(s ConnectionState) {
	s.Time = c.o.Now()
	if s.Status == Connected || s.Status == Closed {
		var err error
		if s.Err != nil {
			err = s.Err
		}
		select {
		case c.first <- err:
		default:
		}
	}
	if s.Err != nil {
		c.o.Logger.Debug("device connection", "status", s.Status.String(), "err", s.Err)
	}
	if c.o.OnConnectionState != nil {
		c.o.OnConnectionState(s)
	}
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

// ensureSub records that filter is wanted and subscribes now when
// connected.
func (c *Client) ensureSub(ctx context.Context, filter string, qos byte) error {
	c.mu.Lock()
	s, ok := c.subs[filter]
	if !ok {
		s = &sub{qos: qos}
		c.subs[filter] = s
	}
	need := !s.acked
	connected := false
	select {
	case <-c.up:
		connected = true
	default:
	}
	c.mu.Unlock()
	if !need || !connected {
		return nil
	}
	return c.subscribe(ctx, filter, qos)
}

func (c *Client) subscribe(ctx context.Context, filter string, qos byte) error {
	ctx, cancel := c.opContext(ctx)
	defer cancel()
	if err := wait(ctx, c.pc.Subscribe(filter, qos, nil)); err != nil {
		return &Error{Op: "subscribe " + filter, Code: tether.GenericTimeout, Detail: err.Error(), Err: err}
	}
	c.mu.Lock()
	if s := c.subs[filter]; s != nil {
		s.acked = true
	}
	c.mu.Unlock()
	return nil
}

// resubscribe subscribes the wanted filters the hub does not have: all of
// them when it kept no session, else only those added while offline.
func (c *Client) resubscribe(ctx context.Context, present bool) {
	c.mu.Lock()
	var todo []string
	for f, s := range c.subs {
		if !present {
			s.acked = false
		}
		if !s.acked {
			todo = append(todo, f)
		}
	}
	c.mu.Unlock()
	for _, f := range todo {
		c.mu.Lock()
		qos := c.subs[f].qos
		c.mu.Unlock()
		if err := c.subscribe(ctx, f, qos); err != nil {
			c.o.Logger.Warn("device resubscribe", "filter", f, "err", err)
		}
	}
}
