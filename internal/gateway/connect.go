package gateway

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/sas"
)

// CONNACK return codes of MQTT 3.1.1. The hub never sends 2 or 4: the C
// SDK stops retrying on them.
const (
	connAccepted        = 0
	connBadProtocol     = 1
	connUnavailable     = 3
	connNotAuthorized   = 5
	defaultCleanSession = false
)

// refusal is why a CONNECT was refused.
type refusal struct {
	rc     byte
	reason tether.Reason
	code   tether.ResultCode
	detail string
}

// connect reads and answers the CONNECT packet. It reports whether the
// device is now connected.
func (c *conn) connect() bool {
	c.nc.SetReadDeadline(c.opened.Add(c.g.o.ConnectTimeout))
	var pk *packets.Packet
	err := c.readPacket(func(p *packets.Packet, buf []byte) error {
		if p.FixedHeader.Type != packets.Connect {
			return protoErr(tether.ReasonProtocolError, "the first packet was %s, not CONNECT", packets.PacketNames[p.FixedHeader.Type])
		}
		if err := p.ConnectDecode(buf); err != nil {
			return protoErr(tether.ReasonProtocolError, "malformed CONNECT: %v", err)
		}
		clone := cloneConnect(p)
		pk = &clone
		return nil
	})
	if err != nil {
		c.failConnect(err)
		return false
	}
	if r := c.admit(pk); r != nil {
		c.refuse(pk, r)
		return false
	}
	return true
}

// failConnect records an attempt that never produced a CONNECT.
func (c *conn) failConnect(err error) {
	reason, detail := tether.ReasonProtocolError, err.Error()
	var pe *protocolError
	var ne interface{ Timeout() bool }
	c.mu.Lock()
	closedBy, closedWhy := c.reason, c.detail
	c.mu.Unlock()
	switch {
	case closedBy != "": // the hub closed it (a shutdown)
		reason, detail = closedBy, closedWhy
	case errors.As(err, &pe):
		reason, detail = pe.reason, pe.detail
	case errors.As(err, &ne) && ne.Timeout():
		reason, detail = tether.ReasonConnectTimeout, fmt.Sprintf("no CONNECT within %v of the connection opening", c.g.o.ConnectTimeout)
	default:
		reason, detail = tether.ReasonConnectionLost, "the connection closed before CONNECT: "+netErrText(err)
	}
	c.g.emit(c.event(tether.EventConnectFailed, reason, detail))
}

// refuse answers CONNACK with a refusal and records it.
func (c *conn) refuse(pk *packets.Packet, r *refusal) {
	ack := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connack}, ReasonCode: r.rc, ProtocolVersion: 4}
	c.sendPacket(&ack, (*packets.Packet).ConnackEncode)
	c.drain()
	ev := c.event(tether.EventConnectFailed, r.reason, r.detail)
	ev.Code = r.code
	c.g.emit(ev)
}

// drain waits briefly for the writer to send what is queued.
func (c *conn) drain() {
	for i := 0; i < 100; i++ {
		c.mu.Lock()
		busy := c.writing
		c.mu.Unlock()
		if !busy {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func cloneConnect(p *packets.Packet) packets.Packet {
	cp := *p
	cp.Connect.ClientIdentifier = strings.Clone(p.Connect.ClientIdentifier)
	cp.Connect.Username = append([]byte(nil), p.Connect.Username...)
	cp.Connect.Password = append([]byte(nil), p.Connect.Password...)
	cp.Connect.WillTopic = strings.Clone(p.Connect.WillTopic)
	cp.Connect.WillPayload = append([]byte(nil), p.Connect.WillPayload...)
	cp.Connect.ProtocolName = nil
	return cp
}

// admit authenticates the CONNECT and, when it passes, registers the
// session and answers CONNACK 0. It returns a refusal otherwise.
func (c *conn) admit(pk *packets.Packet) *refusal {
	g := c.g
	if pk.ProtocolVersion != 4 && pk.ProtocolVersion != 3 {
		return &refusal{connBadProtocol, tether.ReasonProtocolError, tether.ArgumentInvalid,
			fmt.Sprintf("MQTT protocol version %d is not supported; IoT Hub speaks MQTT 3.1.1 (version 4)", pk.ProtocolVersion)}
	}
	now := g.o.Now()
	ip := hostOf(c.remote)
	id, err := parseIdentity(pk.Connect.ClientIdentifier, string(pk.Connect.Username))
	c.id, c.clientID = id, pk.Connect.ClientIdentifier
	if err != nil {
		return &refusal{connNotAuthorized, tether.ReasonAuthFailed, tether.IoTHubUnauthorized, err.Error() + g.authFailed(ip, "", now)}
	}
	for _, v := range []string{id.DeviceID, id.ModuleID} {
		if v == "" {
			continue
		}
		if err := tether.ValidateDeviceID(v); err != nil {
			return &refusal{connNotAuthorized, tether.ReasonAuthFailed, tether.IoTHubUnauthorized, tether.ErrorMessage(err) + g.authFailed(ip, "", now)}
		}
	}
	if ban := g.bans.banned(ip, id.DeviceID, now); ban != nil {
		g.refused[refusedBanned].Add(1)
		what := "the source address"
		if ban.Kind == "device" {
			what = fmt.Sprintf("device '%s'", id.DeviceID)
		}
		return &refusal{connUnavailable, tether.ReasonFlappingBanned, tether.ThrottlingException,
			fmt.Sprintf("%s is banned until %s after %d authentication failures within %v (--auth-ban-threshold, --auth-ban-window); fix the device's credentials, then wait for the ban to end",
				what, ban.Until.UTC().Format(time.RFC3339), ban.Failures, g.o.AuthBanWindow)}
	}
	if ok, detail := g.limiter.allow(id.DeviceID, now); !ok {
		g.refused[refusedRate].Add(1)
		return &refusal{connUnavailable, tether.ReasonThrottled, tether.ThrottlingException, detail}
	}
	if r := c.authenticate(pk, id, now); r != nil {
		if r.reason == tether.ReasonAuthFailed || r.reason == tether.ReasonCredentialExpired {
			r.detail += g.authFailed(ip, id.DeviceID, now)
		}
		return r
	}
	g.bans.succeeded(id.DeviceID)
	return c.accept(pk, now)
}

// authenticate checks the CONNECT's credentials and the device's status.
func (c *conn) authenticate(pk *packets.Packet, id identity, now time.Time) *refusal {
	g := c.g
	if len(pk.Connect.Password) == 0 {
		return &refusal{connNotAuthorized, tether.ReasonAuthFailed, tether.IoTHubUnauthorized,
			"CONNECT has no password: send a SAS token (X.509 client certificates are not supported yet)"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dev, err := g.o.Registry.Device(ctx, id.DeviceID)
	if err != nil {
		if tether.ErrorKind(err) == tether.KindNotFound {
			return &refusal{connNotAuthorized, tether.ReasonAuthFailed, tether.IoTHubUnauthorized,
				fmt.Sprintf("device '%s' is not registered in this hub", id.DeviceID)}
		}
		g.log.Error("registry lookup for CONNECT", "device", id.DeviceID, "err", err)
		return &refusal{connUnavailable, tether.ReasonServerError, tether.ServerError, "registry lookup failed"}
	}
	target := sas.ResourceURI(g.o.Hostname, id.DeviceID, id.ModuleID)
	tok, err := sas.Verify(sas.Request{
		Token: string(pk.Connect.Password), Now: now, Skew: g.o.TokenSkew, Target: target, Need: tether.DeviceConnect,
		Device: func() (sas.Credential, error) {
			return sas.Credential{Name: id.DeviceID, PrimaryKey: dev.Auth.PrimaryKey, SecondaryKey: dev.Auth.SecondaryKey, Rights: tether.DeviceConnect}, nil
		},
		Policy: func(name string) (sas.Credential, error) {
			p, err := g.o.Registry.Policy(ctx, name)
			if err != nil {
				if tether.ErrorKind(err) == tether.KindNotFound {
					return sas.Credential{}, fmt.Errorf("%w %q", sas.ErrUnknownPolicy, name)
				}
				return sas.Credential{}, err
			}
			return sas.Credential{Name: p.Name, PrimaryKey: p.PrimaryKey, SecondaryKey: p.SecondaryKey, Rights: p.Rights}, nil
		},
	})
	if err != nil {
		reason, detail := tether.ReasonAuthFailed, err.Error()
		var ee *sas.ExpiredError
		if errors.As(err, &ee) {
			reason = tether.ReasonCredentialExpired
			c.tokenExpiry = ee.Expiry // recorded as tokenExpiry: the doctor compares it with the attempt's time
			detail += fmt.Sprintf("; the token was already %v past its expiry when it arrived: either the device reuses an old token, or its clock is at least that far behind the hub's (clock skew suspected: sync the device with NTP)",
				ee.Now.Sub(ee.Expiry).Round(time.Second))
		}
		return &refusal{connNotAuthorized, reason, tether.IoTHubUnauthorized, detail}
	}
	if dev.Status == tether.StatusDisabled {
		detail := fmt.Sprintf("device '%s' is disabled", id.DeviceID)
		if dev.StatusReason != "" {
			detail += " (" + dev.StatusReason + ")"
		}
		return &refusal{connUnavailable, tether.ReasonDeviceDisabled, tether.DeviceDisabled, detail}
	}
	c.tokenExpiry, c.keyName, c.authScope = tok.Expiry, tok.KeyName, "device"
	if tok.KeyName != "" {
		c.authScope = "hub"
	}
	return nil
}

// accept registers the authenticated session and answers CONNACK 0.
func (c *conn) accept(pk *packets.Packet, now time.Time) *refusal {
	g, id := c.g, c.id
	c.keepAlive = time.Duration(pk.Connect.Keepalive) * time.Second
	c.idle = idleTimeout(c.keepAlive)
	if pk.Connect.WillFlag {
		w := packets.Packet{TopicName: pk.Connect.WillTopic, Payload: pk.Connect.WillPayload,
			FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: pk.Connect.WillQos, Retain: pk.Connect.WillRetain}}
		c.will = &w
	}
	c.bucket = newTokenBucket(g.o.DeviceRate, g.o.DeviceBurst, now)
	c.connectedAt = now
	c.lastActivity.Store(now.UnixNano())
	present := g.attach(c, pk.Connect.Clean)
	ack := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connack}, SessionPresent: present, ProtocolVersion: 4}
	c.sendPacket(&ack, (*packets.Packet).ConnackEncode)
	if d := c.tokenExpiry.Add(g.o.TokenSkew).Sub(now); g.o.TokenSkew >= 0 {
		c.expiry = time.AfterFunc(d, func() {
			c.close(tether.ReasonCredentialExpired, fmt.Sprintf("the SAS token expired at %s (allowed clock skew %v); the device must reconnect with a new token",
				c.tokenExpiry.UTC().Format(time.RFC3339), g.o.TokenSkew))
		})
	}
	g.connected.Add(1)
	g.queuePresence(PresenceUpdate{DeviceID: id.DeviceID, State: tether.Connected, StateChanged: now, LastActivity: now})
	g.emit(c.event(tether.EventConnect, "", ""))
	if c.sess.subs&subC2D != 0 {
		go c.deliverC2D()
	}
	return nil
}

// event builds a ConnectionEvent about c.
func (c *conn) event(kind tether.EventKind, reason tether.Reason, detail string) tether.ConnectionEvent {
	return tether.ConnectionEvent{
		Kind: kind, Time: c.g.o.Now(), ConnectionID: c.connID, DeviceID: c.id.DeviceID, ModuleID: c.id.ModuleID,
		Protocol: c.proto, RemoteAddr: c.remote, SDKVersion: c.id.SDK, APIVersion: c.id.APIVersion,
		AuthScope: c.authScope, KeyName: c.keyName, Reason: reason, Code: reason.Code(), Detail: detail,
		KeepAlive: c.keepAlive, Accepted: c.opened, ConnectedAt: c.connectedAt, LastActivity: c.lastActive(),
		TokenExpiry: c.tokenExpiry, TLSVersion: c.tlsVersion, CipherSuite: c.cipher,
		BytesIn: c.bytesIn.Load(), BytesOut: c.bytesOut.Load(), MsgsIn: c.msgsIn.Load(), MsgsOut: c.msgsOut.Load(),
	}
}

// lastActive is the time of the last packet read, or zero before any.
func (c *conn) lastActive() time.Time {
	if n := c.lastActivity.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}
