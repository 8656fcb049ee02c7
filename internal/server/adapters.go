package server

import (
	"context"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/api"
	"github.com/tether-iot/tether/internal/gateway"
	"github.com/tether-iot/tether/internal/store"
	"github.com/tether-iot/tether/internal/stream"
)

// The adapters below connect components whose small interfaces differ in
// a type or two; they hold no logic of their own.

// streamStorage is the store as the stream's Storage.
type streamStorage struct{ *store.Store }

func (s streamStorage) ReadTelemetry(ctx context.Context, q stream.Query) ([]tether.Message, error) {
	return s.Store.ReadTelemetry(ctx, store.TelemetryQuery(q))
}

// presence is the store as the gateway's Presence.
type presence struct{ *store.Store }

func (p presence) SetPresence(ctx context.Context, ups []gateway.PresenceUpdate) error {
	ps := make([]store.Presence, len(ups))
	for i, u := range ups {
		ps[i] = store.Presence(u)
	}
	return p.Store.SetPresence(ctx, ps)
}

// notifier is what the API tells the gateway; nil in local mode, where no
// gateway runs in the process.
type notifier interface {
	NotifyC2D(deviceID string)
	NotifyDesired(deviceID string, patch map[string]any, version int64)
	Kick(deviceID string, reason tether.Reason, detail string) bool
}

// c2dQueue is the store's C2D queue as the API's, waking the gateway.
type c2dQueue struct {
	st *store.Store
	gw notifier
}

func (q c2dQueue) SendC2D(ctx context.Context, m tether.C2DMessage) (tether.C2DMessage, int, error) {
	m, err := q.st.EnqueueC2D(ctx, m)
	if err != nil {
		return m, 0, err
	}
	pending, err := q.st.PendingC2D(ctx, m.DeviceID, m.EnqueuedTime)
	if err != nil {
		return m, 0, err
	}
	if q.gw != nil {
		q.gw.NotifyC2D(m.DeviceID)
	}
	return m, len(pending), nil
}

func (q c2dQueue) PurgeC2D(ctx context.Context, deviceID string) (int, error) {
	return q.st.PurgeC2D(ctx, deviceID)
}

// telemetrySource is the stream and its consumer-group offsets as the
// API's TelemetrySource.
type telemetrySource struct {
	s  *stream.Stream
	st *store.Store
}

func (t telemetrySource) ReadTelemetry(ctx context.Context, after int64, deviceID string, limit int) ([]tether.Message, error) {
	return t.s.Read(ctx, after, deviceID, limit)
}
func (t telemetrySource) WaitTelemetry(ctx context.Context, after int64) error {
	return t.s.Wait(ctx, after)
}
func (t telemetrySource) LastTelemetrySeq(ctx context.Context) (int64, error) { return t.s.Last(ctx) }
func (t telemetrySource) TelemetryOffset(ctx context.Context, group string) (int64, bool, error) {
	return t.st.TelemetryOffset(ctx, group)
}
func (t telemetrySource) SetTelemetryOffset(ctx context.Context, group string, seq int64) error {
	return t.st.SetTelemetryOffset(ctx, group, seq)
}

// methods is the gateway as the API's MethodInvoker.
type methods struct{ gw *gateway.Gateway }

func (m methods) InvokeMethod(ctx context.Context, deviceID string, call api.MethodCall) (api.MethodResult, error) {
	r, err := m.gw.InvokeMethod(ctx, deviceID, gateway.MethodCall{
		Name: call.MethodName, Payload: call.Payload,
		ResponseTimeout: time.Duration(call.ResponseTimeoutInSeconds) * time.Second,
		ConnectTimeout:  time.Duration(call.ConnectTimeoutInSeconds) * time.Second,
	})
	return api.MethodResult{Status: r.Status, Payload: r.Payload}, err
}

// changes passes registry and twin changes to the gateway.
type changes struct{ gw notifier }

func (c changes) DesiredChanged(deviceID string, patch map[string]any, version int64) {
	c.gw.NotifyDesired(deviceID, patch, version)
}

func (c changes) DeviceChanged(d tether.Device, deleted bool) {
	switch {
	case deleted:
		c.gw.Kick(d.ID, tether.ReasonDeviceDeleted, "the device was deleted from the registry")
	case d.Status == tether.StatusDisabled:
		c.gw.Kick(d.ID, tether.ReasonDeviceDisabled, "the device was disabled in the registry")
	}
}

// sessions is the store as the gateway's Sessions.
type sessions struct{ *store.Store }

func (s sessions) SaveSessions(ctx context.Context, ss []gateway.SessionState) error {
	out := make([]store.Session, len(ss))
	for i, x := range ss {
		out[i] = store.Session(x)
	}
	return s.Store.SaveSessions(ctx, out)
}
