package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

// C2DQueue holds the cloud-to-device messages waiting for each device.
type C2DQueue interface {
	// SendC2D queues m for m.DeviceID and returns it as stored (Seq and
	// EnqueuedTime set) with the device's pending count, m included. A
	// full queue is a DeviceMaximumQueueDepthExceeded error.
	SendC2D(ctx context.Context, m tether.C2DMessage) (tether.C2DMessage, int, error)
	// PurgeC2D drops every message waiting for the device and returns how
	// many there were.
	PurgeC2D(ctx context.Context, deviceID string) (int, error)
}

// maxC2DTTL is the longest a cloud-to-device message may wait, as in
// Azure IoT Hub (2 days).
const maxC2DTTL = 48 * time.Hour

// maxMessageID is the longest message, correlation or user ID Azure takes.
const maxMessageID = 128

// sendC2D queues a cloud-to-device message: the body is the payload, and
// the iothub-* headers (see wire.HeaderMessageID) its properties. Azure
// sends these over AMQP; this route is Tether's own.
func (a *API) sendC2D(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if a.o.C2D == nil {
		return tether.Errorf(tether.ServiceUnavailable, "cloud-to-device messaging is not configured on this hub")
	}
	now := a.o.Now()
	m, err := c2dFromHeaders(r.Header, now)
	if err != nil {
		return err
	}
	if m.Body, err = readC2DBody(r); err != nil {
		return err
	}
	if m.MessageID == "" {
		if m.MessageID, err = a.newUUID(); err != nil {
			return err
		}
	}
	m.DeviceID, m.EnqueuedTime = id, now
	if n := note(r); n != nil {
		n.c2d = &m // what a refusal's report says; the queued message below
	}
	if _, err := a.o.Devices.Device(r.Context(), id); err != nil {
		return err
	}
	sent, pending, err := a.o.C2D.SendC2D(r.Context(), m)
	if err != nil {
		return err
	}
	m = sent
	a.log.Debug("cloud-to-device message queued", "device", id, "messageId", m.MessageID, "pending", pending)
	return writeJSON(w, http.StatusAccepted, "", wire.C2DResult{
		MessageID: m.MessageID, DeviceID: m.DeviceID, EnqueuedTime: wire.Time(m.EnqueuedTime),
		ExpiryTime: wire.Time(m.ExpiryTime), PendingCount: pending,
	})
}

// readC2DBody reads the payload, refusing one over tether.MaxC2DBytes.
func readC2DBody(r *http.Request) ([]byte, error) {
	tooLarge := func(n string) error {
		return tether.Errorf(tether.MessageTooLarge, "the message body is %s bytes; a cloud-to-device message may have at most %d", n, tether.MaxC2DBytes)
	}
	if r.ContentLength > tether.MaxC2DBytes {
		return nil, tooLarge(strconv.FormatInt(r.ContentLength, 10))
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, tether.MaxC2DBytes))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, tooLarge("over " + strconv.Itoa(tether.MaxC2DBytes))
	case err != nil:
		return nil, tether.Errorf(tether.ArgumentInvalid, "reading the message body: %v", err)
	}
	return body, nil
}

// c2dFromHeaders reads a message's properties from the request headers.
func c2dFromHeaders(h http.Header, now time.Time) (tether.C2DMessage, error) {
	m := tether.C2DMessage{
		MessageID:       h.Get(wire.HeaderMessageID),
		CorrelationID:   h.Get(wire.HeaderCorrelationID),
		UserID:          h.Get(wire.HeaderUserID),
		ContentType:     h.Get(wire.HeaderContentType),
		ContentEncoding: h.Get(wire.HeaderContentEncoding),
	}
	for _, name := range []string{wire.HeaderMessageID, wire.HeaderCorrelationID, wire.HeaderUserID} {
		if v := h.Get(name); len(v) > maxMessageID {
			return m, tether.Errorf(tether.ArgumentInvalid, "%s is %d characters; at most %d are allowed", name, len(v), maxMessageID)
		}
	}
	var err error
	if m.ExpiryTime, err = c2dExpiry(h.Get(wire.HeaderExpiry), h.Get(wire.HeaderTTL), now); err != nil {
		return m, err
	}
	switch ack := strings.ToLower(strings.TrimSpace(h.Get(wire.HeaderAck))); ack {
	case "", "none", "positive", "negative", "full":
		m.Ack = ack
	default:
		return m, tether.Errorf(tether.ArgumentInvalid, "%s %q: use none, positive, negative or full", wire.HeaderAck, h.Get(wire.HeaderAck))
	}
	for k, vs := range h {
		name, ok := cutPrefixFold(k, wire.HeaderAppPrefix)
		if !ok {
			continue
		}
		if name == "" {
			return m, tether.Errorf(tether.ArgumentInvalid, "header %s has no property name after %q", k, wire.HeaderAppPrefix)
		}
		if m.Properties == nil {
			m.Properties = map[string]string{}
		}
		m.Properties[strings.ToLower(name)] = strings.Join(vs, ",")
	}
	return m, nil
}

// c2dExpiry returns the absolute expiry the iothub-expiry or iothub-ttl
// header asks for, or now plus the default time to live.
func c2dExpiry(expiry, ttl string, now time.Time) (time.Time, error) {
	switch {
	case expiry != "" && ttl != "":
		return time.Time{}, tether.Errorf(tether.ArgumentInvalid, "send %s or %s, not both", wire.HeaderExpiry, wire.HeaderTTL)
	case ttl != "":
		n, err := strconv.Atoi(strings.TrimSpace(ttl))
		if err != nil || n < 1 || n > int(maxC2DTTL/time.Second) {
			return time.Time{}, tether.Errorf(tether.ArgumentInvalid, "%s %q: give a whole number of seconds from 1 to %d (2 days)", wire.HeaderTTL, ttl, int(maxC2DTTL/time.Second))
		}
		return now.Add(time.Duration(n) * time.Second), nil
	case expiry != "":
		t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(expiry))
		if err != nil {
			return time.Time{}, tether.Errorf(tether.ArgumentInvalid, "%s %q is not an RFC 3339 time such as 2026-01-02T15:04:05Z", wire.HeaderExpiry, expiry)
		}
		if !t.After(now) {
			return time.Time{}, tether.Errorf(tether.ArgumentInvalid, "%s %s is not in the future (the hub's time is %s)", wire.HeaderExpiry, expiry, now.UTC().Format(time.RFC3339))
		}
		if t.Sub(now) > maxC2DTTL {
			return time.Time{}, tether.Errorf(tether.ArgumentInvalid, "%s %s is more than 2 days ahead; a cloud-to-device message may wait at most 2 days", wire.HeaderExpiry, expiry)
		}
		return t, nil
	}
	return now.Add(tether.DefaultC2DTTL), nil
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return "", false
	}
	return s[len(prefix):], true
}

// newUUID returns a random version 4 UUID, the form Azure's SDKs give
// message IDs.
func (a *API) newUUID() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(a.o.Rand, b[:]); err != nil {
		return "", fmt.Errorf("generate message ID: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:]), nil
}

// purgeC2D drops a device's queued cloud-to-device messages.
func (a *API) purgeC2D(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if a.o.C2D == nil {
		return tether.Errorf(tether.ServiceUnavailable, "cloud-to-device messaging is not configured on this hub")
	}
	if _, err := a.o.Devices.Device(r.Context(), id); err != nil {
		return err
	}
	n, err := a.o.C2D.PurgeC2D(r.Context(), id)
	if err != nil {
		return err
	}
	a.log.Info("cloud-to-device queue purged", "device", id, "purged", n)
	return writeJSON(w, http.StatusOK, "", wire.PurgeResult{TotalMessagesPurged: n, DeviceID: id})
}
