package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/hubclient"
	"github.com/tether-iot/tether/internal/wire"
	"github.com/tether-iot/tether/sas"
)

// TestNoSecretsInOutput runs a full scenario against tether serve (devices
// connect, fail authentication, send telemetry, get twins, C2D and
// methods; the API and the CLI are used) and then scans the hub's log
// (at debug level), /metrics, every connection-log record, the answers of
// the API routes that do not hand out keys, and the output of the CLI
// commands that do not print keys, for every key, token and signature of
// the run. Addresses in the connection log must be masked.
func TestNoSecretsInOutput(t *testing.T) {
	bin := tetherBinary(t)
	dir := t.TempDir()
	p := startServe(t, bin, dir, "--log-level", "debug")
	api := p.apiClient(t, bin, dir)
	ctx := context.Background()
	var secrets []string
	add := func(s ...string) {
		for _, x := range s {
			if len(x) >= 8 {
				secrets = append(secrets, x)
			}
		}
	}
	addToken := func(tok string) {
		add(tok)
		if pt, err := sas.ParseToken(tok); err == nil {
			add(string(pt.Signature), url.QueryEscape(string(pt.Signature)))
		}
	}
	// Policy keys, read from the store.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "tether.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT name, primary_key, secondary_key FROM policies`)
	if err != nil {
		t.Fatal(err)
	}
	var ownerKey tether.Secret
	for rows.Next() {
		var name, a, b string
		rows.Scan(&name, &a, &b)
		add(a, b)
		if name == "iothubowner" {
			ownerKey = tether.Secret(a)
		}
	}
	rows.Close()
	db.Close()

	// Devices, with their keys.
	keys := map[string]tether.Secret{}
	for _, id := range []string{"sec-1", "sec-2", "sec-off"} {
		d, err := api.CreateDevice(ctx, wire.Device{DeviceID: id})
		if err != nil {
			t.Fatal(err)
		}
		keys[id] = primaryKey(d)
		if k := d.Authentication.SymmetricKey; k != nil && k.PrimaryKey != nil && k.SecondaryKey != nil {
			add(*k.PrimaryKey, *k.SecondaryKey)
		}
	}
	recv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer recv.Close()
	sub, _, err := api.PutEventSubscription(ctx, wire.EventSubscription{Name: "sec", URL: recv.URL, Types: []string{"DeviceConnected", "DeviceDisconnected"}})
	if err != nil {
		t.Fatal(err)
	}
	add(sub.Secret)

	// Devices: good connects, telemetry, twin, C2D, a method; bad tokens.
	good := signToken(t, "localhost", "sec-1", keys["sec-1"], time.Now().Add(time.Hour))
	addToken(good)
	c := dialTLS(t, p.mqtt, p.pool)
	c.mustConnect("localhost", "sec-1", good, false, 60)
	c.subscribe("devices/sec-1/messages/devicebound/#", "$iothub/methods/POST/#", "$iothub/twin/res/#")
	c.publish("devices/sec-1/messages/events/a=1", 1, 1, []byte(`{"t":1}`))
	c.publish("$iothub/twin/GET/?$rid=1", 0, 0, nil)
	if _, err := api.SendC2D(ctx, "sec-1", hubclient.C2DSend{Body: []byte("hello"), MessageID: "m1"}); err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			pk, err := c.readPacket(10 * time.Second)
			if err != nil {
				return
			}
			if pk.FixedHeader.Type == packets.Publish {
				if strings.HasPrefix(pk.TopicName, "$iothub/methods/POST/") {
					c.publish("$iothub/methods/res/200/?$rid="+pk.TopicName[strings.Index(pk.TopicName, "$rid=")+5:], 0, 0, []byte(`{"ok":true}`))
				}
				if pk.FixedHeader.Qos == 1 {
					c.send(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: pk.PacketID})
				}
			}
		}
	}()
	if _, err := api.InvokeMethod(ctx, "sec-1", wire.MethodCall{MethodName: "reboot", Payload: json.RawMessage(`{}`), ResponseTimeoutInSeconds: 5}); err != nil {
		t.Errorf("method: %v", err)
	}
	wrong := tether.Secret("CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=")
	for _, tok := range []string{
		signToken(t, "localhost", "sec-2", wrong, time.Now().Add(time.Hour)),                   // wrong key
		signToken(t, "localhost", "sec-2", keys["sec-2"], time.Now().Add(-time.Hour)),          // expired
		signToken(t, "otherhub", "sec-2", keys["sec-2"], time.Now().Add(time.Hour)),            // other hub
		"SharedAccessSignature sr=localhost%2Fdevices%2Fsec-2&sig=bm90LWEtcmVhbC1zaWc%3D&se=1", // forged
	} {
		addToken(tok)
		d := dialTLS(t, p.mqtt, p.pool)
		d.connect("localhost", "sec-2", tok, true, 60)
		d.close()
	}
	c.disconnect()
	// A service call with a bad token.
	req, _ := http.NewRequest("GET", "https://"+p.https+"/devices/sec-1?api-version=2021-04-12", nil)
	bad := "SharedAccessSignature sr=localhost&sig=c2VjcmV0LXNpZ25hdHVyZS1ndWVzcw%3D%3D&se=9999999999&skn=iothubowner"
	addToken(bad)
	req.Header.Set("Authorization", bad)
	if resp, err := p.http.Do(req); err == nil {
		resp.Body.Close()
	}
	time.Sleep(1500 * time.Millisecond) // a flush of the connection log

	// What is scanned.
	outputs := map[string]string{}
	for _, path := range []string{"/metrics", "/healthz", "/statistics/devices", "/statistics/service", "/twins/sec-1", "/v1/eventSubscriptions",
		"/v1/eventDeliveries", "/v1/diagnosticSettings", "/v1/bans", "/telemetry?from=start&wait=0",
		"/v1/query?query=" + url.QueryEscape("AzureDiagnostics") + "&timespan=P1D"} {
		req, _ := http.NewRequest("GET", "https://"+p.https+path+sep(path)+"api-version=2021-04-12", nil)
		tok, err := sas.Sign("localhost", ownerKey, "iothubowner", time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", tok.String())
		resp, err := p.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		outputs["GET "+path] = string(b)
	}
	for _, args := range [][]string{{"device", "list"}, {"device", "show", "sec-1"}, {"metrics", "--all"}, {"diag", "settings", "show"},
		{"events", "list"}, {"bans", "list"}, {"logs", "query", "AzureDiagnostics | take 500"}, {"device", "show", "nope"}} {
		cmd := exec.Command(bin, append([]string{"--data", dir}, args...)...)
		cmd.Env = cleanEnv()
		out, _ := cmd.CombinedOutput()
		outputs["tether "+strings.Join(args, " ")] = string(out)
	}
	db, err = sql.Open("sqlite", "file:"+filepath.Join(dir, "logs.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	records := dumpTable(t, db, "AzureDiagnostics")
	outputs["AzureDiagnostics"] = records
	outputs["hub log"] = p.log.String()
	if !strings.Contains(records, "IoTHubUnauthorized") && !strings.Contains(records, "401003") {
		t.Fatalf("the connection log has no authentication failure: the scenario did not run\n%s", records)
	}
	// The outputs are real (the scan would pass vacuously on empty ones),
	// and the scan finds a key where one is meant to be printed.
	for where, want := range map[string]string{"tether device list": "sec-1", "GET /metrics": "tether_connection_attempts_total",
		"hub log": "level=DEBUG", "GET /twins/sec-1": "sec-1",
		"GET /v1/query?query=AzureDiagnostics&timespan=P1D": "sec-2", "tether logs query AzureDiagnostics | take 500": "sec-2"} {
		if !strings.Contains(outputs[where], want) {
			t.Errorf("%s lacks %q; output:\n%.500s", where, want, outputs[where])
		}
	}
	cmd := exec.Command(bin, "--data", dir, "device", "connection-string", "sec-1")
	cmd.Env = cleanEnv()
	if out, _ := cmd.CombinedOutput(); !strings.Contains(string(out), string(keys["sec-1"])) {
		t.Errorf("the scan would not find a key: 'device connection-string' printed %q", out)
	}
	for where, text := range outputs {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s contains a secret (%.6s…)", where, s)
			}
		}
		for _, marker := range []string{"sig=", "SharedAccessKey=", "SharedAccessSignature sr"} {
			if strings.Contains(text, marker) {
				i := strings.Index(text, marker)
				t.Errorf("%s contains %q: …%s…", where, marker, text[max(0, i-40):min(len(text), i+60)])
			}
		}
	}
	// Addresses: the connection log keeps only masked ones.
	if strings.Contains(records, "127.0.0.1") {
		i := strings.Index(records, "127.0.0.1")
		t.Errorf("an unmasked address in the connection log: …%s…", records[max(0, i-80):min(len(records), i+40)])
	}
	if !strings.Contains(records, "127.0.0.XXX") {
		t.Errorf("no masked address (127.0.0.XXX) in the connection log")
	}
	t.Logf("scanned %d outputs (%d bytes of connection log, %d of hub log) for %d secrets", len(outputs), len(records), len(p.log.String()), len(secrets))
}

func sep(path string) string {
	if strings.Contains(path, "?") {
		return "&"
	}
	return "?"
}

// dumpTable returns every row of table as text.
func dumpTable(t *testing.T, db *sql.DB, table string) string {
	t.Helper()
	rows, err := db.Query("SELECT * FROM " + table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			fmt.Fprintf(&b, "%s=%v\t", cols[i], v)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
