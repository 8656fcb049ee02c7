package e2e

import (
	"bufio"
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/hubclient"
	"github.com/tether-iot/tether/internal/hubtest"
	"github.com/tether-iot/tether/internal/server"
	"github.com/tether-iot/tether/internal/wire"
)

// eventLog keeps the hub's connection events (Config.Events). The tests
// use it only to learn the hub's connection id of a client from the
// client's address; what they assert is read back from logs.db.
type eventLog struct {
	mu  sync.Mutex
	evs []tether.ConnectionEvent
}

func (l *eventLog) add(ev tether.ConnectionEvent) {
	l.mu.Lock()
	l.evs = append(l.evs, ev)
	l.mu.Unlock()
}

// connID waits for an event of the connection from client address remote
// and returns its connection id.
func (l *eventLog) connID(tb testing.TB, remote string) string {
	tb.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		l.mu.Lock()
		for _, ev := range l.evs {
			if ev.RemoteAddr == remote {
				l.mu.Unlock()
				return ev.ConnectionID
			}
		}
		l.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatalf("no connection event from %s within 15s", remote)
	return ""
}

// site is a running hub with what the scenarios need to reach it.
type site struct {
	t     *testing.T // owns the hub; client connections are closed when it ends
	h     *hubtest.Hub
	evs   *eventLog
	api   *hubclient.Client
	pool  *x509.CertPool
	host  string
	mqtt  string
	start time.Time
}

func startSite(t *testing.T, opts ...func(*server.Config)) *site {
	t.Helper()
	s := &site{t: t, evs: &eventLog{}, start: time.Now()}
	opts = append(opts, func(c *server.Config) { c.Events = s.evs.add })
	s.h = hubtest.Start(t, opts...)
	s.api = s.h.Client(t, s.h.Owner)
	s.pool = caPool(t, filepath.Join(s.h.Config.DataDir, "tls", "ca.pem"))
	s.host = s.h.Hostname()
	s.mqtt = s.h.MQTTAddr().String()
	return s
}

// createDevice registers a device (with keys the hub generates) and
// returns it.
func (s *site) createDevice(tb testing.TB, id string, status tether.Status) wire.Device {
	tb.Helper()
	d, err := s.api.CreateDevice(context.Background(), wire.Device{DeviceID: id, Status: string(status)})
	if err != nil {
		tb.Fatalf("create device %s: %v", id, err)
	}
	if d.Authentication == nil || d.Authentication.SymmetricKey == nil || d.Authentication.SymmetricKey.PrimaryKey == nil {
		tb.Fatalf("device %s was created without keys: %+v", id, d)
	}
	return d
}

func primaryKey(d wire.Device) tether.Secret {
	return tether.Secret(*d.Authentication.SymmetricKey.PrimaryKey)
}

// rowsOf returns the AzureDiagnostics rows of a connection, oldest first.
func (s *site) rowsOf(tb testing.TB, connID string) []row {
	tb.Helper()
	rows, err := queryRows(context.Background(), s.h.LogsDB(), `json_extract(properties_s, '$.connectionId') = ?`, connID)
	if err != nil {
		tb.Fatal(err)
	}
	return rows
}

// waitRows flushes the hub's log queue until a connection has n rows, or
// 15 s passed, and returns its rows.
func (s *site) waitRows(tb testing.TB, connID string, n int) []row {
	tb.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		s.h.FlushLogs(context.Background())
		rows := s.rowsOf(tb, connID)
		if len(rows) >= n || time.Now().After(deadline) {
			return rows
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// row is one AzureDiagnostics row, its properties_s decoded.
type row struct {
	Time       int64
	Category   string
	Op         string
	Level      string
	ResultType string
	ResultDesc string
	Props      string
	DeviceCol  string // _DeviceId
	ReasonCol  string // _Reason
	P          props
	keys       map[string]json.RawMessage
}

// props are the fields of properties_s the tests look at.
type props struct {
	DeviceID          string  `json:"deviceId"`
	SDKVersion        string  `json:"sdkVersion"`
	Protocol          string  `json:"protocol"`
	AuthType          *string `json:"authType"`
	MaskedIPAddress   string  `json:"maskedIpAddress"`
	StatusCode        *string `json:"statusCode"`
	Reason            string  `json:"reason"`
	Detail            string  `json:"detail"`
	ConnectionID      string  `json:"connectionId"`
	DurationMs        *int64  `json:"durationMs"`
	KeepAliveSec      *int64  `json:"keepAliveSec"`
	LastActivityAgoMs *int64  `json:"lastActivityAgoMs"`
	APIVersion        string  `json:"apiVersion"`
	TLSVersion        string  `json:"tlsVersion"`
	CipherSuite       string  `json:"cipherSuite"`
	TokenExpiry       string  `json:"tokenExpiry"`
	BytesIn           *int64  `json:"bytesIn"`
	BytesOut          *int64  `json:"bytesOut"`
	MessagesIn        *int64  `json:"messagesIn"`
	MessagesOut       *int64  `json:"messagesOut"`
	Follows           string  `json:"follows"`
}

func (r row) String() string {
	sc := "null"
	if r.P.StatusCode != nil {
		sc = strconv.Quote(*r.P.StatusCode)
	}
	return fmt.Sprintf("%s %s %q %q reason=%q device=%q statusCode=%s detail=%q", r.Op, r.Level, r.ResultType, r.ResultDesc,
		r.P.Reason, r.P.DeviceID, sc, r.P.Detail)
}

const rowColumns = `TimeGenerated, Category, OperationName, Level, ResultType, ResultDescription, properties_s, _DeviceId, _Reason`

func queryRows(ctx context.Context, db *sql.DB, where string, args ...any) ([]row, error) {
	rs, err := db.QueryContext(ctx, `SELECT `+rowColumns+` FROM AzureDiagnostics WHERE `+where+` ORDER BY TimeGenerated, rowid`, args...)
	if err != nil {
		return nil, fmt.Errorf("query AzureDiagnostics: %w", err)
	}
	defer rs.Close()
	var out []row
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.Time, &r.Category, &r.Op, &r.Level, &r.ResultType, &r.ResultDesc, &r.Props, &r.DeviceCol, &r.ReasonCol); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(r.Props), &r.P); err != nil {
			return nil, fmt.Errorf("properties_s %q: %w", r.Props, err)
		}
		if err := json.Unmarshal([]byte(r.Props), &r.keys); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rs.Err()
}

// code is the Azure result code a row must carry; the zero code means an
// Information row without one.
type code struct{ typ, name, status string }

var (
	info            = code{}
	argumentInvalid = code{"400004", "ArgumentInvalid", "400"}
	newConnection   = code{"400027", "ConnectionForcefullyClosedOnNewConnection", "400"}
	faultInjection  = code{"400029", "ConnectionForcefullyClosedOnFaultInjection", "400"}
	unauthorized    = code{"401003", "IoTHubUnauthorized", "401"}
	deviceDisabled  = code{"403012", "DeviceDisabled", "403"}
	deviceNotFound  = code{"404001", "DeviceNotFound", "404"}
	closedRemotely  = code{"404104", "DeviceConnectionClosedRemotely", "404"}
	tooLarge        = code{"413001", "MessageTooLarge", "413"}
	deviceThrottled = code{"429005", "DeviceThrottlingLimitExceeded", "429"}
	genericTimeout  = code{"500008", "GenericTimeout", "500"}
)

// Operation names of the Connections category.
const (
	opConnect    = "deviceConnect"
	opDisconnect = "deviceDisconnect"
	opRefused    = "deviceOperationRefused"
)

// want is a row a scenario must leave.
type want struct {
	conn   int // which of the scenario's connections, in the order opened
	op     string
	code   code
	reason tether.Reason
	device string
	detail []string // substrings of properties_s.detail
	// check, if set, checks more; ids are the hub's connection ids of the
	// scenario's connections.
	check func(t *testing.T, r row, ids []string)
}

// azureKeys are the properties every Connections record carries, null or
// not, as Azure writes them.
var azureKeys = []string{"deviceId", "sdkVersion", "protocol", "authType", "maskedIpAddress", "statusCode"}

const deviceAuthType = `{"scope":"device","type":"sas","issuer":"iothub","acceptingIpFilterRule":null}`

// checkRow compares a row with what it must be. remote is the client's
// unmasked address, which must appear nowhere in the row.
func checkRow(t *testing.T, r row, w want, connID, remote string, since time.Time, ids []string) {
	t.Helper()
	bad := func(format string, args ...any) {
		t.Helper()
		t.Errorf("row %s: "+format, append([]any{r}, args...)...)
	}
	if r.Category != "Connections" {
		bad("Category %q, want Connections", r.Category)
	}
	if r.Op != w.op {
		bad("OperationName %q, want %q", r.Op, w.op)
	}
	level := "Error"
	if w.code == info {
		level = "Information"
	}
	if r.Level != level || r.ResultType != w.code.typ || r.ResultDesc != w.code.name {
		bad("Level/ResultType/ResultDescription %q/%q/%q, want %q/%q/%q", r.Level, r.ResultType, r.ResultDesc, level, w.code.typ, w.code.name)
	}
	switch {
	case w.code == info && r.P.StatusCode != nil:
		bad("statusCode %q, want null", *r.P.StatusCode)
	case w.code != info && (r.P.StatusCode == nil || *r.P.StatusCode != w.code.status):
		bad("statusCode, want %q", w.code.status)
	}
	if r.P.Reason != string(w.reason) || r.ReasonCol != string(w.reason) {
		bad("reason %q, _Reason %q, want %q", r.P.Reason, r.ReasonCol, w.reason)
	}
	if r.P.DeviceID != w.device || r.DeviceCol != w.device {
		bad("deviceId %q, _DeviceId %q, want %q", r.P.DeviceID, r.DeviceCol, w.device)
	}
	if r.P.Protocol != "Mqtt" {
		bad("protocol %q, want Mqtt", r.P.Protocol)
	}
	if r.P.MaskedIPAddress != "127.0.0.XXX" {
		bad("maskedIpAddress %q, want 127.0.0.XXX", r.P.MaskedIPAddress)
	}
	if r.P.ConnectionID != connID {
		bad("connectionId %q, want %q", r.P.ConnectionID, connID)
	}
	for _, d := range w.detail {
		if !strings.Contains(r.P.Detail, d) {
			bad("detail does not contain %q", d)
		}
	}
	for _, k := range azureKeys {
		if _, ok := r.keys[k]; !ok {
			bad("properties_s has no %q", k)
		}
	}
	if w.device != "" && r.P.SDKVersion != sdkVersion {
		bad("sdkVersion %q, want %q", r.P.SDKVersion, sdkVersion)
	}
	if r.Time%100 != 0 || r.Time < since.Add(-time.Second).UnixNano() || r.Time > time.Now().Add(time.Second).UnixNano() {
		bad("TimeGenerated %d (%s) is not a 100 ns tick within the test", r.Time, time.Unix(0, r.Time).UTC().Format(time.RFC3339Nano))
	}
	if w.op == opConnect && w.code == info {
		if r.P.AuthType == nil || *r.P.AuthType != deviceAuthType {
			bad("authType %v, want %s", r.P.AuthType, deviceAuthType)
		}
		if r.P.KeepAliveSec == nil || r.P.TLSVersion != "TLS 1.3" || r.P.CipherSuite == "" || r.P.TokenExpiry == "" || r.P.APIVersion != "2021-04-12" {
			bad("a connect must say keepAliveSec, tlsVersion TLS 1.3, cipherSuite, tokenExpiry and apiVersion: %s", r.Props)
		}
	}
	if w.op == opDisconnect && (r.P.DurationMs == nil || r.P.BytesIn == nil || r.P.BytesOut == nil || r.P.MessagesIn == nil ||
		r.P.MessagesOut == nil || r.P.KeepAliveSec == nil) {
		bad("a disconnect must say durationMs, bytes and messages in and out and keepAliveSec: %s", r.Props)
	}
	if w.check != nil {
		w.check(t, r, ids)
	}
}

// leaks reports whether a row shows the client's unmasked address.
func leaks(r row, remote string) bool { return remote != "" && strings.Contains(r.Props, remote) }

var metricLine = regexp.MustCompile(`^(tether_connection_attempts_total|tether_disconnects_total)\{([^}]*)\} (\S+)$`)

// scrapeCounters reads the connection counters of GET /metrics, keyed
// like `tether_disconnects_total{reason="keepalive_timeout",result="404104"}`.
func scrapeCounters(t *testing.T, h *hubtest.Hub) map[string]float64 {
	t.Helper()
	resp, err := h.HTTP.Get(h.URL + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		m := metricLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", sc.Text(), err)
		}
		out[m[1]+"{"+m[2]+"}"] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
