package diag

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tether-iot/tether"
)

const testRID = "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/TETHER/PROVIDERS/MICROSOFT.DEVICES/IOTHUBS/TETHER"

func TestSettingsValidate(t *testing.T) {
	dir := t.TempDir()
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o500)
	for _, tc := range []struct {
		s    Settings
		want string // "" valid
	}{
		{Settings{}, ""},
		{Settings{Logs: []CategorySetting{{"Connections", false}, {"DirectMethods", true}}}, ""},
		{Settings{Logs: []CategorySetting{{"Routes", true}}}, `unknown log category "Routes"`},
		{Settings{Logs: []CategorySetting{{"Connections", true}, {"Connections", false}}}, "twice"},
		{Settings{File: &FileSettings{Path: filepath.Join(dir, "diag.json")}}, ""},
		{Settings{File: &FileSettings{Path: "diag.json"}}, "absolute"},
		{Settings{File: &FileSettings{Path: dir}}, "is a folder"},
		{Settings{File: &FileSettings{Path: filepath.Join(dir, "missing", "x.json")}}, "cannot write"},
		{Settings{HTTP: &HTTPSettings{URL: "https://logs.example/ingest"}}, ""},
		{Settings{HTTP: &HTTPSettings{URL: "ftp://logs.example/"}}, "http:// or https://"},
		{Settings{HTTP: &HTTPSettings{URL: "http:///path"}}, "with a host"},
		{Settings{HTTP: &HTTPSettings{URL: "http://x", MaxRetries: 99}}, "maxRetries"},
	} {
		err := tc.s.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: %v", tc.s, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: error %v, want %q", tc.s, err, tc.want)
		case err != nil && tether.ErrorCode(err) != tether.ArgumentInvalid:
			t.Errorf("%+v: error code %v", tc.s, tether.ErrorCode(err))
		}
	}
	if os.Getuid() != 0 {
		if err := (Settings{File: &FileSettings{Path: filepath.Join(ro, "x.json")}}).Validate(); err == nil {
			t.Error("a file in a read-only folder was accepted")
		}
	}
}

func TestSettingsDefaults(t *testing.T) {
	s, err := ParseSettings("")
	if err != nil {
		t.Fatal(err)
	}
	n := s.Normalized()
	if len(n.Logs) != 7 || !n.StoreEnabled() || n.File != nil || n.HTTP != nil {
		t.Errorf("defaults = %+v", n)
	}
	for _, c := range n.Logs {
		if !c.Enabled {
			t.Errorf("category %s is off by default", c.Category)
		}
	}
	s, _ = ParseSettings(`{"logs":[{"category":"Connections","enabled":false}],"store":false,"file":{"path":"/x"}}`)
	n = s.Normalized()
	if n.Enabled("Connections") || !n.Enabled("DirectMethods") || n.StoreEnabled() || n.File.MaxSizeMB != 100 || n.File.MaxFiles != 5 {
		t.Errorf("parsed = %+v", n)
	}
	if _, err := ParseSettings("{"); err == nil {
		t.Error("malformed settings parsed")
	}
}

func TestEnvelopeShape(t *testing.T) {
	recs := ConnectionRecords(tether.ConnectionEvent{Kind: tether.EventDisconnect, Time: t0.Add(123456789), DeviceID: "d1", ConnectionID: "c",
		Reason: tether.ReasonKeepAliveTimeout, RemoteAddr: "73.162.215.91:1"})
	recs = append(recs, MethodOperation(Method{Call: Call{DeviceID: "d1", Duration: 7 * time.Millisecond}, MethodName: "m"}))
	line := Envelope(recs, testRID, "westus", t0)
	if !strings.HasSuffix(string(line), "}\n") || strings.Count(string(line), "\n") != 1 {
		t.Fatalf("envelope is not one line: %q", line)
	}
	var env struct {
		Records []map[string]any `json:"records"`
	}
	if err := json.Unmarshal(line, &env); err != nil || len(env.Records) != 2 {
		t.Fatalf("envelope %s: %v", line, err)
	}
	d := env.Records[0]
	for k, v := range map[string]any{"time": "2026-11-25T10:00:00.1234567Z", "resourceId": testRID, "operationName": "deviceDisconnect",
		"category": "Connections", "level": "Error", "resultType": "404104", "resultDescription": "DeviceConnectionClosedRemotely", "location": "westus"} {
		if d[k] != v {
			t.Errorf("record %s = %#v, want %#v", k, d[k], v)
		}
	}
	if _, ok := d["durationMs"]; ok {
		t.Error("a Connections record has durationMs")
	}
	if p, ok := d["properties"].(string); !ok || !strings.Contains(p, `"maskedIpAddress":"73.162.215.XXX"`) {
		t.Errorf("properties is not a JSON string: %#v", d["properties"])
	}
	if m := env.Records[1]; m["durationMs"] != "7" {
		t.Errorf("method durationMs = %#v, want the string \"7\" as Azure writes it", m["durationMs"])
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFileDestinationRotates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "diag.json")
	e := NewExporter(ExportOptions{ResourceID: testRID, Location: "local"})
	defer e.Close(time.Second)
	e.Apply(Settings{File: &FileSettings{Path: path, MaxSizeMB: 1, MaxFiles: 2}})
	big := strings.Repeat("x", 300<<10) // three lines fit in a file
	rec := tether.LogRecord{Time: t0, Category: "Connections", OperationName: "deviceConnect", Level: "Information", Properties: `{"pad":"` + big + `"}`}
	for i := 0; i < 10; i++ {
		e.Export([]tether.LogRecord{rec})
	}
	waitFor(t, "10 batches in the file", func() bool { return e.Stats()[0].Records == 10 })
	var lines int
	for _, name := range []string{path, path + ".1", path + ".2"} {
		f, err := os.Open(name)
		if err != nil {
			t.Fatalf("rotated file: %v", err)
		}
		fi, _ := f.Stat()
		if fi.Size() > 1<<20 {
			t.Errorf("%s is %d bytes, over the 1 MB limit", name, fi.Size())
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 4<<20)
		for sc.Scan() {
			var env struct{ Records []ExportRecord }
			if err := json.Unmarshal(sc.Bytes(), &env); err != nil || len(env.Records) != 1 || env.Records[0].ResourceID != testRID {
				t.Errorf("%s: line is not an envelope of one record: %v", name, err)
			}
			lines++
		}
		f.Close()
	}
	if _, err := os.Stat(path + ".3"); err == nil {
		t.Error("more than MaxFiles rotated files kept")
	}
	if lines != 7 { // 3 + 3 + 1: the oldest three went with the oldest file
		t.Errorf("%d lines kept over three files, want 7", lines)
	}
	if s := e.Stats()[0]; s.Failures != 0 || s.Dropped != 0 {
		t.Errorf("file stats %+v", s)
	}
}

func TestHTTPDestinationRetriesAndCounts(t *testing.T) {
	var calls atomic.Int32
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("Content-Type") != "application/json" || r.Method != "POST" {
			t.Errorf("%s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
		}
		if n%2 == 1 { // every first attempt fails
			w.WriteHeader(503)
			return
		}
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
	}))
	defer srv.Close()
	e := NewExporter(ExportOptions{ResourceID: testRID, Location: "local", Backoff: time.Millisecond})
	defer e.Close(time.Second)
	e.Apply(Settings{HTTP: &HTTPSettings{URL: srv.URL, MaxRetries: 2}})
	rec := tether.LogRecord{Time: t0, Category: "Connections", OperationName: "deviceConnect", Level: "Information", Properties: "{}"}
	e.Export([]tether.LogRecord{rec})
	e.Export([]tether.LogRecord{rec, rec})
	waitFor(t, "two batches delivered", func() bool { return e.Stats()[1].Records == 3 })
	mu.Lock()
	if len(bodies) != 2 || !strings.HasPrefix(bodies[0], `{"records":[{"time":"2026-11-25T10:00:00Z"`) {
		t.Errorf("bodies %q", bodies)
	}
	mu.Unlock()

	// A dead endpoint: the retries are bounded, the batch is counted lost.
	dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1); w.WriteHeader(500) }))
	defer dead.Close()
	e.Apply(Settings{HTTP: &HTTPSettings{URL: dead.URL, MaxRetries: 2}})
	before := calls.Load()
	e.Export([]tether.LogRecord{rec, rec})
	waitFor(t, "the failure counted", func() bool { return e.Stats()[1].Failures == 1 })
	if got := calls.Load() - before; got != 3 {
		t.Errorf("%d attempts, want 1 + 2 retries", got)
	}
	if s := e.Stats()[1]; s.Dropped != 2 || s.Records != 3 {
		t.Errorf("http stats %+v", s)
	}

	// A client error is not retried.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1); w.WriteHeader(400) }))
	defer bad.Close()
	e.Apply(Settings{HTTP: &HTTPSettings{URL: bad.URL, MaxRetries: 5}})
	before = calls.Load()
	e.Export([]tether.LogRecord{rec})
	waitFor(t, "the 400 counted", func() bool { return e.Stats()[1].Failures == 2 })
	if got := calls.Load() - before; got != 1 {
		t.Errorf("%d attempts at a 400, want 1", got)
	}
}

// TestSlowDestinationNeverBlocks: a hanging endpoint makes the exporter
// drop batches past its queue limit, and Export still returns at once.
func TestSlowDestinationNeverBlocks(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	e := NewExporter(ExportOptions{MaxQueued: 4 << 10})
	e.Apply(Settings{HTTP: &HTTPSettings{URL: srv.URL, TimeoutSeconds: 60}})
	rec := tether.LogRecord{Category: "Connections", Properties: `{"pad":"` + strings.Repeat("y", 1000) + `"}`}
	start := time.Now()
	for i := 0; i < 100; i++ {
		e.Export([]tether.LogRecord{rec})
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Export took %v with a hanging endpoint", d)
	}
	waitFor(t, "drops counted", func() bool { return e.Stats()[1].Dropped >= 90 })
	e.Close(10 * time.Millisecond)
	if s := e.Stats()[1]; s.Dropped != 100 {
		t.Errorf("after Close: %+v, want all 100 records counted lost", s)
	}
}

func TestRecorderFiltersAndExports(t *testing.T) {
	sink := &memSink{}
	var exported atomic.Int64
	r, _ := New(Options{Sink: sink, Export: func(recs []tether.LogRecord) { exported.Add(int64(len(recs))) }})
	r.SetSettings(Settings{Logs: []CategorySetting{{"DirectMethods", false}}})
	r.Record(MethodOperation(Method{MethodName: "m"}), IdentityOperation(OpGet, Call{}))
	r.Connection(tether.ConnectionEvent{Kind: tether.EventConnect, Time: t0, DeviceID: "d"})
	r.Flush(context.Background())
	if sink.count() != 2 || exported.Load() != 2 {
		t.Fatalf("stored %d, exported %d; want 2 and 2 (DirectMethods off)", sink.count(), exported.Load())
	}
	for _, rec := range sink.recs {
		if rec.Category == "DirectMethods" {
			t.Error("a DirectMethods record was stored with the category off")
		}
	}
	off := false
	r.SetSettings(Settings{Store: &off})
	r.Record(MethodOperation(Method{MethodName: "m"}))
	r.Flush(context.Background())
	if sink.count() != 2 || exported.Load() != 3 {
		t.Errorf("with the store off: stored %d, exported %d; want 2 and 3", sink.count(), exported.Load())
	}
	if s := r.Settings(); s.StoreEnabled() || !s.Enabled("DirectMethods") {
		t.Errorf("Settings() = %+v", s)
	}
}
