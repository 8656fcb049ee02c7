package e2e

import (
	"context"
	"crypto/tls"
	"database/sql"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/hubclient"
	"github.com/tether-iot/tether/internal/server"
	"github.com/tether-iot/tether/internal/wire"
)

// ownHub is a hub the test starts and stops itself (hubtest stops its
// hub only when the test ends).
type ownHub struct {
	srv     *server.Server
	api     *hubclient.Client
	cancel  context.CancelFunc
	done    chan error
	stopped bool
}

func startOwnHub(t *testing.T, dir string, events func(tether.ConnectionEvent)) *ownHub {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.DataDir, cfg.HTTPSAddr, cfg.MQTTAddr, cfg.Events = dir, "127.0.0.1:0", "127.0.0.1:0", events
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatalf("start hub: %v", err)
	}
	h := &ownHub{srv: srv, cancel: cancel, done: make(chan error, 1)}
	go func() { h.done <- srv.Run(ctx) }()
	t.Cleanup(func() { h.stop(t) })
	owner, err := srv.PolicyConnectionString(ctx, "iothubowner")
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: caPool(t, srv.CAFile()), ServerName: "localhost"}}
	t.Cleanup(tr.CloseIdleConnections)
	h.api, err = hubclient.New(hubclient.Options{ConnectionString: owner, BaseURL: "https://" + srv.HTTPSAddr().String(),
		HTTPClient: &http.Client{Transport: tr, Timeout: 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// stop cancels the hub and waits for Run to return.
func (h *ownHub) stop(t *testing.T) {
	t.Helper()
	if h.stopped {
		return
	}
	h.stopped = true
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			t.Errorf("hub stopped with %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("hub did not stop within 20s")
	}
}

// TestServerShutdown stops a hub with a device connected and reads its
// logs.db afterwards: the device's connection ended with server_shutdown
// (400029), and the registry says so after a restart.
func TestServerShutdown(t *testing.T) {
	dir := t.TempDir()
	evs := &eventLog{}
	h := startOwnHub(t, dir, evs.add)
	since := time.Now()
	d, err := h.api.CreateDevice(context.Background(), wire.Device{DeviceID: "stayer"})
	if err != nil {
		t.Fatal(err)
	}
	pool := caPool(t, h.srv.CAFile())
	host, addr := h.srv.Hostname(), h.srv.MQTTAddr().String()
	c := dialTLS(t, addr, pool)
	defer c.close()
	c.mustConnect(host, "stayer", signToken(t, host, "stayer", primaryKey(d), time.Now().Add(time.Hour)), true, 60)
	c.ping()
	// A second connection is past TLS and has not sent CONNECT yet.
	pending := dialTLS(t, addr, pool)
	defer pending.close()
	time.Sleep(200 * time.Millisecond)

	h.stop(t)
	c.expectClosed(5 * time.Second)
	pending.expectClosed(5 * time.Second)

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "logs.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	id := evs.connID(t, c.local)
	rows, err := queryRows(context.Background(), db, `json_extract(properties_s, '$.connectionId') = ?`, id)
	if err != nil {
		t.Fatal(err)
	}
	ws := []want{connected(0, "stayer"), {op: opDisconnect, code: faultInjection, reason: tether.ReasonServerShutdown,
		device: "stayer", detail: []string{"the hub is shutting down"}}}
	if len(rows) != len(ws) {
		t.Fatalf("%d rows of the connected device, want %d: %v", len(rows), len(ws), rows)
	}
	for i, w := range ws {
		checkRow(t, rows[i], w, id, c.local, since, nil)
	}

	// The connection that had not sent CONNECT: the hub closed it too,
	// and its row should say so.
	pid := evs.connID(t, pending.local)
	prow, err := queryRows(context.Background(), db, `json_extract(properties_s, '$.connectionId') = ?`, pid)
	if err != nil {
		t.Fatal(err)
	}
	if len(prow) != 1 {
		t.Fatalf("%d rows of the connection without CONNECT, want 1: %v", len(prow), prow)
	}
	checkRow(t, prow[0], want{op: opConnect, code: faultInjection, reason: tether.ReasonServerShutdown}, pid, pending.local, since, nil)

	// After a restart the registry shows why the device went away.
	h = startOwnHub(t, dir, nil)
	got, err := h.api.Device(context.Background(), "stayer")
	if err != nil {
		t.Fatal(err)
	}
	w := registryWant{"stayer", "Disconnected", &wire.LastDisconnect{Reason: string(tether.ReasonServerShutdown),
		ResultType: faultInjection.typ, ResultDescription: faultInjection.name}, 0}
	if !registryMatches(got, w) {
		t.Errorf("after the restart the device is %s with lastDisconnect %+v; want %s, %+v", got.ConnectionState, got.LastDisconnect, w.state, w.last)
	}
}
