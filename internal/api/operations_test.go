package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/api"
	"github.com/tether-iot/tether/internal/store"
	"github.com/tether-iot/tether/internal/wire"
	"github.com/tether-iot/tether/sas"
)

// recOps keeps what the API reports.
type recOps struct {
	mu    sync.Mutex
	lines []string
	calls []api.Call
	meth  []api.MethodInfo
	c2d   []tether.C2DMessage
}

func (o *recOps) add(line string, c api.Call) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if c.Err != nil {
		line += ":" + tether.ErrorCode(c.Err).Name()
	}
	o.lines = append(o.lines, line+fmt.Sprintf(":%d", c.Status))
	o.calls = append(o.calls, c)
}

func (o *recOps) Registry(op string, c api.Call) { o.add("registry "+op, c) }
func (o *recOps) Twin(op string, c api.Call)     { o.add("twin "+op, c) }
func (o *recOps) Method(c api.Call, m api.MethodInfo) {
	o.add("method", c)
	o.mu.Lock()
	o.meth = append(o.meth, m)
	o.mu.Unlock()
}
func (o *recOps) C2DSent(c api.Call, m tether.C2DMessage) {
	o.add("c2d", c)
	o.mu.Lock()
	o.c2d = append(o.c2d, m)
	o.mu.Unlock()
}

type answeringMethods struct{}

func (answeringMethods) InvokeMethod(context.Context, string, api.MethodCall) (api.MethodResult, error) {
	return api.MethodResult{Status: 200, Payload: json.RawMessage(`"done"`)}, nil
}

type memQueue struct{}

func (memQueue) SendC2D(_ context.Context, m tether.C2DMessage) (tether.C2DMessage, int, error) {
	m.Seq = 1
	return m, 1, nil
}
func (memQueue) PurgeC2D(context.Context, string) (int, error) { return 0, nil }

type opsHub struct {
	url, token string
	ops        *recOps
}

func startOpsHub(t *testing.T, diag api.DiagnosticSettings) *opsHub {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(t.TempDir(), "tether.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key, _ := sas.GenerateKey(nil)
	if err := st.PutPolicy(ctx, tether.Policy{Name: "iothubowner", PrimaryKey: key, SecondaryKey: key, Rights: tether.AllRights}); err != nil {
		t.Fatal(err)
	}
	ops := &recOps{}
	a, err := api.New(api.Options{Hostname: "hub.test", Devices: st, Twins: st, Stats: st, Policy: st.Policy,
		Methods: answeringMethods{}, C2D: memQueue{}, Operations: ops, Diagnostics: diag})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	tok, _ := sas.Sign("hub.test", key, "iothubowner", time.Now().Add(time.Hour))
	return &opsHub{url: srv.URL, token: tok.String(), ops: ops}
}

func (h *opsHub) do(t *testing.T, method, path, body string, hdr ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, h.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", h.token)
	req.Header.Set("User-Agent", "ops-test/2")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestOperationsReported(t *testing.T) {
	h := startOpsHub(t, nil)
	h.do(t, "PUT", "/devices/d1"+apiVersion, `{"deviceId":"d1"}`)
	h.do(t, "PUT", "/devices/d1"+apiVersion, `{"deviceId":"d1"}`, "If-Match", "*")
	h.do(t, "GET", "/devices/d1"+apiVersion, "")
	h.do(t, "GET", "/devices"+apiVersion, "")
	h.do(t, "GET", "/devices/"+apiVersion, "")
	h.do(t, "DELETE", "/devices/zz"+apiVersion, "")
	h.do(t, "GET", "/devices/d1", "") // no api-version
	h.do(t, "GET", "/twins/d1"+apiVersion, "")
	h.do(t, "PATCH", "/twins/d1"+apiVersion, `{"tags":{"a":1}}`)
	h.do(t, "PUT", "/twins/d1"+apiVersion, `{}`)
	h.do(t, "POST", "/twins/d1/methods"+apiVersion, `{"methodName":"go","payload":[1,2]}`)
	h.do(t, "POST", "/twins/d1/methods"+apiVersion, `{"methodName":"bad name"}`)
	h.do(t, "POST", "/devices/d1/messages/deviceBound"+apiVersion, "abc", "iothub-messageid", "m1")
	h.do(t, "GET", "/statistics/devices"+apiVersion, "") // not an operation
	h.token = "SharedAccessSignature sr=hub.test&sig=x&se=1&skn=iothubowner"
	h.do(t, "DELETE", "/devices/d1"+apiVersion, "")

	want := []string{"registry create:200", "registry update:200", "registry get:200", "registry list:200", "registry list:200",
		"registry delete:DeviceNotFound:404", "registry get:InvalidProtocolVersion:400",
		"twin read:200", "twin update:200", "twin replace:200", "method:200", "method:ArgumentInvalid:400", "c2d:202",
		"registry delete:IotHubUnauthorizedAccess:401"}
	if got := strings.Join(h.ops.lines, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("reports:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	c := h.ops.calls[0]
	if c.DeviceID != "d1" || c.UserAgent != "ops-test/2" || !strings.HasPrefix(c.RemoteAddr, "127.0.0.1:") || c.RequestBytes != 17 ||
		c.ResponseBytes == 0 || c.Duration <= 0 || c.Time.IsZero() {
		t.Errorf("create call %+v", c)
	}
	if c := h.ops.calls[7]; c.ResponseBytes == 0 || c.RequestBytes != 0 {
		t.Errorf("twin read call %+v", c)
	}
	if m := h.ops.meth[0]; m.MethodName != "go" || m.RequestSize != 5 || m.ResponseSize != 6 || m.DeviceStatus == nil || *m.DeviceStatus != 200 {
		t.Errorf("method info %+v", m)
	}
	if m := h.ops.meth[1]; m.MethodName != "" {
		t.Errorf("refused method info %+v", m)
	}
	if m := h.ops.c2d[0]; m.MessageID != "m1" || m.Seq != 1 || string(m.Body) != "abc" {
		t.Errorf("c2d message %+v", m)
	}
}

type fixedSettings struct{ s wire.DiagnosticSettings }

func (f *fixedSettings) DiagnosticSettings(context.Context) (wire.DiagnosticSettings, error) {
	return f.s, nil
}

func (f *fixedSettings) PutDiagnosticSettings(_ context.Context, s wire.DiagnosticSettings) (wire.DiagnosticSettings, error) {
	if s.HTTP != nil && !strings.HasPrefix(s.HTTP.URL, "http") {
		return s, tether.Errorf(tether.ArgumentInvalid, "http: bad url")
	}
	f.s = s
	return s, nil
}

func TestDiagnosticSettingsRoutes(t *testing.T) {
	none := startOpsHub(t, nil)
	if code, body := none.do(t, "GET", "/v1/diagnosticSettings", ""); code != 503 || !strings.Contains(body, "ServiceUnavailable") {
		t.Errorf("no settings: %d %s", code, body)
	}
	h := startOpsHub(t, &fixedSettings{})
	if code, body := h.do(t, "PUT", "/v1/diagnosticSettings", `{"logs":[{"category":"Connections","enabled":false}],"http":{"url":"https://x"}}`); code != 200 ||
		!strings.Contains(body, `"enabled":false`) {
		t.Errorf("PUT: %d %s", code, body)
	}
	if code, body := h.do(t, "GET", "/v1/diagnosticSettings", ""); code != 200 || !strings.Contains(body, `"url":"https://x"`) {
		t.Errorf("GET: %d %s", code, body)
	}
	for _, bad := range []string{`{"http":{"url":"x"}}`, `{"files":{}}`, `[]`, ``} {
		if code, body := h.do(t, "PUT", "/v1/diagnosticSettings", bad); code != 400 || !strings.Contains(body, "ArgumentInvalid") {
			t.Errorf("PUT %s: %d %s", bad, code, body)
		}
	}
	h.token = ""
	if code, _ := h.do(t, "GET", "/v1/diagnosticSettings", ""); code != 401 {
		t.Errorf("GET without a token: %d", code)
	}
}
