package server_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/diag"
	"github.com/tether-iot/tether/internal/store"
)

// connectionLogs generates the Connections records a busy hub writes:
// many devices connecting, disconnecting for the reasons real fleets
// disconnect for, and failing to connect, evenly over a time span. The
// records are built by diag.ConnectionRecords, the recorder's own code,
// so properties_s, result codes and the helper columns are exactly the
// hub's. A seed makes the sequence the same every time.
type connectionLogs struct {
	Devices int
	Start   time.Time
	Span    time.Duration
	Seed    uint64
}

// weighted picks an entry with probability weight/sum.
type weighted[T any] []struct {
	w int
	v T
}

func (ws weighted[T]) pick(r *rand.Rand) T {
	sum := 0
	for _, x := range ws {
		sum += x.w
	}
	n := r.IntN(sum)
	for _, x := range ws {
		if n < x.w {
			return x.v
		}
		n -= x.w
	}
	return ws[len(ws)-1].v
}

var (
	// What an event is: 44% connects, 40% disconnects, 16% failed attempts.
	eventKinds        = weighted[tether.EventKind]{{44, tether.EventConnect}, {40, tether.EventDisconnect}, {16, tether.EventConnectFailed}}
	disconnectReasons = weighted[tether.Reason]{
		{35, tether.ReasonClientDisconnect}, {25, tether.ReasonConnectionLost}, {20, tether.ReasonKeepAliveTimeout},
		{8, tether.ReasonCredentialExpired}, {6, tether.ReasonSessionTakenOver}, {3, tether.ReasonThrottled},
		{1, tether.ReasonServerError}, {1, tether.ReasonDeviceDisabled}, {1, tether.ReasonProtocolError},
	}
	failReasons = weighted[tether.Reason]{
		{55, tether.ReasonAuthFailed}, {15, tether.ReasonConnectTimeout}, {10, tether.ReasonTLSError},
		{10, tether.ReasonDeviceDisabled}, {10, tether.ReasonThrottled},
	}
	sdks = weighted[string]{
		{50, "azure-iot-device/1.17.3 (node v18.19.0; Linux 5.15; x64)"},
		{30, "com.microsoft.azure.sdk.iot.iot-device-client/1.30.1"},
		{20, "azure-iot-sdk-c/1.9.0 (Linux; arm)"},
	}
)

// deviceName is the ID of device i.
func deviceName(i int) string { return fmt.Sprintf("dev-%05d", i) }

// write writes n records to st in batches and returns how many of them
// are Connections errors.
func (g connectionLogs) write(ctx context.Context, st *store.Store, n int) (errs int, err error) {
	r := rand.New(rand.NewPCG(g.Seed, g.Seed^0x9e3779b97f4a7c15))
	batch := make([]tether.LogRecord, 0, 10000)
	step := g.Span / time.Duration(n)
	for i := 0; i < n; {
		ev := g.event(r, g.Start.Add(time.Duration(i)*step+time.Duration(r.Int64N(int64(step)+1))))
		for _, rec := range diag.ConnectionRecords(ev) {
			if i == n {
				break
			}
			if rec.Level == tether.LevelError {
				errs++
			}
			batch = append(batch, rec)
			i++
		}
		if len(batch) >= 10000 || i == n {
			if err := st.WriteLogs(ctx, batch); err != nil {
				return errs, err
			}
			batch = batch[:0]
		}
	}
	return errs, nil
}

func (g connectionLogs) event(r *rand.Rand, at time.Time) tether.ConnectionEvent {
	dev := r.IntN(g.Devices)
	ev := tether.ConnectionEvent{
		Kind: eventKinds.pick(r), Time: at, ConnectionID: fmt.Sprintf("c%08x", r.Uint32()),
		DeviceID: deviceName(dev), Protocol: tether.ProtocolMQTT, SDKVersion: sdks.pick(r),
		RemoteAddr: fmt.Sprintf("10.%d.%d.%d:%d", dev>>16&255, dev>>8&255, dev&255, 30000+r.IntN(30000)),
		APIVersion: "2021-04-12", AuthScope: "device", KeepAlive: 60 * time.Second,
		TLSVersion: "1.2", CipherSuite: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
	}
	if dev%5 == 0 {
		ev.Protocol, ev.TLSVersion, ev.CipherSuite = tether.ProtocolMQTTWS, "1.3", "TLS_AES_128_GCM_SHA256"
	}
	switch ev.Kind {
	case tether.EventDisconnect:
		ev.Reason = disconnectReasons.pick(r)
		ev.ConnectedAt = at.Add(-time.Duration(1+r.IntN(3600)) * time.Second)
		ev.LastActivity = at.Add(-time.Duration(r.IntN(90)) * time.Second)
		ev.BytesIn, ev.BytesOut, ev.MsgsIn, ev.MsgsOut = r.Int64N(1<<20), r.Int64N(1<<16), r.Int64N(1000), r.Int64N(50)
		ev.Detail = "closed: " + string(ev.Reason)
	case tether.EventConnectFailed:
		ev.Reason = failReasons.pick(r)
		ev.Detail = "refused: " + string(ev.Reason)
		if ev.Reason == tether.ReasonTLSError {
			ev.DeviceID, ev.AuthScope, ev.SDKVersion = "", "", ""
		}
	}
	return ev
}

// TestConnectionLogGenerator checks the benchmark's generator writes what
// it says: the count asked for, errors among them, many devices, all in
// the span.
func TestConnectionLogGenerator(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Path: t.TempDir() + "/tether.db"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	start := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	g := connectionLogs{Devices: 500, Start: start, Span: 24 * time.Hour, Seed: 1}
	errs, err := g.write(ctx, st, 20000)
	if err != nil {
		t.Fatal(err)
	}
	var n, devices, errRows, codes int
	var first, last int64
	db := st.LogsDB()
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT _DeviceId), sum(Level = 'Error'), count(DISTINCT ResultType), min(TimeGenerated), max(TimeGenerated)
		FROM AzureDiagnostics WHERE Category = 'Connections'`).Scan(&n, &devices, &errRows, &codes, &first, &last); err != nil {
		t.Fatal(err)
	}
	if n != 20000 || errRows != errs || devices < 400 || codes < 6 {
		t.Errorf("generated %d rows, %d devices, %d errors (generator said %d), %d result types; want 20000 rows, most of 500 devices, several codes", n, devices, errRows, errs, codes)
	}
	if errs < n/5 || errs > n/2 {
		t.Errorf("%d of %d rows are errors; want a realistic share (20-50%%)", errs, n)
	}
	if time.Unix(0, first).Before(start) || time.Unix(0, last).After(start.Add(24*time.Hour+time.Second)) {
		t.Errorf("rows from %v to %v, want within %v + 24h", time.Unix(0, first).UTC(), time.Unix(0, last).UTC(), start)
	}
}
