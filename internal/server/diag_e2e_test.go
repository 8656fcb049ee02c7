package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/hubclient"
	"github.com/tether-iot/tether/internal/hubtest"
	"github.com/tether-iot/tether/internal/server"
	"github.com/tether-iot/tether/internal/wire"
	"github.com/tether-iot/tether/sas"
)

// mqttDevice is a bare MQTT 3.1.1 client over TLS, as a device SDK talks.
type mqttDevice struct {
	t  testing.TB
	nc net.Conn
}

// nodeClientType is the DeviceClientType the Node SDK puts in its MQTT
// user name.
const nodeClientType = "azure-iot-device%2F1.18.4%20(node%20v20.20.2%3B%20Debian%2012%3B%20x64)"

// dialRaw opens a TLS connection to the hub's MQTT port, nothing sent.
// It is closed when the test ends.
func dialRaw(t testing.TB, h *hubtest.Hub) *mqttDevice {
	t.Helper()
	pem, err := os.ReadFile(h.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	nc, err := tls.Dial("tcp", h.MQTTAddr().String(), &tls.Config{RootCAs: pool, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &mqttDevice{t: t, nc: nc}
}

// sendConnect sends CONNECT for id with a one-hour SAS token signed with
// key, as an Azure SDK does (clientType, if set, goes in the user name).
func (d *mqttDevice) sendConnect(id string, key tether.Secret, clientType string) {
	d.t.Helper()
	tok, err := sas.Sign("localhost/devices/"+id, key, "", time.Now().Add(time.Hour))
	if err != nil {
		d.t.Fatal(err)
	}
	user := "localhost/" + id + "/?api-version=2021-04-12"
	if clientType != "" {
		user += "&DeviceClientType=" + clientType
	}
	d.write(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}, ProtocolVersion: 4,
		Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"), ClientIdentifier: id, Clean: true, Keepalive: 60,
			UsernameFlag: true, Username: []byte(user), PasswordFlag: true, Password: []byte(tok.String())}})
}

// dialDevice connects id as the Node SDK would and fails the test unless
// the CONNACK accepts it.
func dialDevice(t testing.TB, h *hubtest.Hub, id string, key tether.Secret) *mqttDevice {
	t.Helper()
	d := dialRaw(t, h)
	d.sendConnect(id, key, nodeClientType)
	if ack := d.expect(packets.Connack); ack.ReasonCode != 0 {
		t.Fatalf("CONNACK %d", ack.ReasonCode)
	}
	return d
}

func (d *mqttDevice) write(pk *packets.Packet) {
	d.t.Helper()
	var b bytes.Buffer
	var err error
	switch pk.FixedHeader.Type {
	case packets.Connect:
		err = pk.ConnectEncode(&b)
	case packets.Publish:
		err = pk.PublishEncode(&b)
	case packets.Subscribe:
		err = pk.SubscribeEncode(&b)
	case packets.Puback:
		err = pk.PubackEncode(&b)
	case packets.Disconnect:
		err = pk.DisconnectEncode(&b)
	default:
		d.t.Fatalf("mqttDevice.write: no encoder for packet type %d", pk.FixedHeader.Type)
	}
	if err != nil {
		d.t.Fatal(err)
	}
	d.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	d.nc.Write(b.Bytes())
}

// read returns the next packet, nil once the connection closed.
func (d *mqttDevice) read() *packets.Packet {
	d.t.Helper()
	d.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var hdr [1]byte
	if _, err := io.ReadFull(d.nc, hdr[:]); err != nil {
		return nil
	}
	var fh packets.FixedHeader
	fh.Decode(hdr[0])
	n, mult := 0, 1
	for {
		var b [1]byte
		if _, err := io.ReadFull(d.nc, b[:]); err != nil {
			return nil
		}
		n += int(b[0]&127) * mult
		mult *= 128
		if b[0]&128 == 0 {
			break
		}
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(d.nc, buf); err != nil {
		return nil
	}
	fh.Remaining = n
	pk := &packets.Packet{FixedHeader: fh, ProtocolVersion: 4}
	switch fh.Type {
	case packets.Connack:
		pk.ConnackDecode(buf)
	case packets.Publish:
		pk.PublishDecode(buf)
		pk.TopicName = string([]byte(pk.TopicName))
	case packets.Puback:
		pk.PubackDecode(buf)
	case packets.Suback:
		pk.SubackDecode(buf)
	}
	return pk
}

func (d *mqttDevice) expect(typ byte) *packets.Packet {
	d.t.Helper()
	for {
		pk := d.read()
		if pk == nil {
			d.t.Fatalf("connection closed waiting for packet type %d", typ)
		}
		if pk.FixedHeader.Type == typ {
			return pk
		}
	}
}

func (d *mqttDevice) publish(topic string, qos byte, id uint16, payload []byte) {
	d.write(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: qos}, TopicName: topic, PacketID: id, Payload: payload, ProtocolVersion: 4})
}

func (d *mqttDevice) subscribe(filters ...string) {
	pk := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe, Qos: 1}, PacketID: 9, ProtocolVersion: 4}
	for _, f := range filters {
		pk.Filters = append(pk.Filters, packets.Subscription{Filter: f, Qos: 1})
	}
	d.write(pk)
	d.expect(packets.Suback)
}

// TestDiagnosticsEndToEnd drives a running hub as a service and a device
// would and checks every category's rows and the file destination.
func TestDiagnosticsEndToEnd(t *testing.T) {
	h := hubtest.Start(t, func(c *server.Config) { c.DeviceRate = 1 })
	ctx := context.Background()
	c := h.Client(t, h.Owner)
	file := filepath.Join(t.TempDir(), "diagnostics.jsonl")
	if _, err := c.PutDiagnosticSettings(ctx, wire.DiagnosticSettings{File: &wire.DiagnosticFile{Path: file}}); err != nil {
		t.Fatal(err)
	}

	dev, err := c.CreateDevice(ctx, wire.Device{DeviceID: "Contoso-Test-Device"})
	if err != nil {
		t.Fatal(err)
	}
	c.Device(ctx, "no-such-device")
	var patch wire.TwinPatch
	if err := json.Unmarshal([]byte(`{"properties":{"desired":{"interval":30}}}`), &patch); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PatchTwin(ctx, dev.DeviceID, patch, "*"); err != nil {
		t.Fatal(err)
	}
	c.InvokeMethod(ctx, dev.DeviceID, wire.MethodCall{MethodName: "reboot", ResponseTimeoutInSeconds: 5})
	if _, err := c.SendC2D(ctx, dev.DeviceID, hubclient.C2DSend{Body: []byte(`{"cmd":"blink"}`), MessageID: "msg-1", Ack: "full"}); err != nil {
		t.Fatal(err)
	}

	d := dialDevice(t, h, dev.DeviceID, tether.Secret(wire.Deref(dev.Authentication.SymmetricKey.PrimaryKey)))
	d.subscribe("$iothub/twin/res/#", "devices/"+dev.DeviceID+"/messages/devicebound/#")
	c2d := d.expect(packets.Publish)
	d.write(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: c2d.PacketID})
	d.publish("$iothub/twin/GET/?$rid=1", 0, 0, nil)
	d.expect(packets.Publish)
	d.publish("$iothub/twin/PATCH/properties/reported/?$rid=2", 0, 0, []byte(`{"firmware":"1.2.0"}`))
	d.expect(packets.Publish)
	for i := uint16(1); i <= 3; i++ { // the third is over the rate of 1/s (burst 2)
		d.publish("devices/"+dev.DeviceID+"/messages/events/", 1, i, []byte(`{"temperature":21.5}`))
	}
	for d.read() != nil {
	}

	deadline := time.Now().Add(10 * time.Second)
	var rows map[string][]string
	for {
		h.FlushLogs(ctx)
		rows = map[string][]string{}
		rs, err := h.LogsDB().Query(`SELECT Category, OperationName || ':' || Level || ':' || ResultType FROM AzureDiagnostics ORDER BY TimeGenerated, rowid`)
		if err != nil {
			t.Fatal(err)
		}
		for rs.Next() {
			var cat, row string
			rs.Scan(&cat, &row)
			rows[cat] = append(rows[cat], row)
		}
		rs.Close()
		if len(rows["DeviceTelemetry"]) > 0 && len(rows["C2DCommands"]) > 1 && len(rows["Connections"]) > 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for cat, want := range map[string]string{
		"DeviceIdentityOperations": "create:Information: get:Error:404001",
		"C2DTwinOperations":        "update:Information:",
		"DirectMethods":            "send:Error:404103",
		"C2DCommands":              "send:Information: complete:Information:",
		"D2CTwinOperations":        "read:Information: update:Information:",
		"DeviceTelemetry":          "ingress:Error:429001",
	} {
		if got := strings.Join(rows[cat], " "); got != want {
			t.Errorf("%s rows: %q, want %q", cat, got, want)
		}
	}
	if len(rows["Connections"]) < 2 {
		t.Errorf("Connections rows: %v", rows["Connections"])
	}

	// The file destination has the same records in Azure's export shape.
	deadline = time.Now().Add(10 * time.Second)
	var records []map[string]any
	for len(records) < 10 && time.Now().Before(deadline) {
		records = nil
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		// Only whole lines: the exporter may be writing the last one.
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
			b = b[:i]
		} else {
			b = nil
		}
		for _, line := range bytes.Split(b, []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			var env struct{ Records []map[string]any }
			if err := json.Unmarshal(line, &env); err != nil {
				t.Fatalf("file line %s: %v", line, err)
			}
			records = append(records, env.Records...)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, r := range records {
		if r["resourceId"] != "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/TETHER/PROVIDERS/MICROSOFT.DEVICES/IOTHUBS/TETHER" {
			t.Errorf("exported record %v", r)
		}
		if testing.Verbose() {
			b, _ := json.Marshal(r)
			t.Logf("%s", b)
		}
	}
	if len(records) < 10 {
		t.Errorf("%d records in the file", len(records))
	}

	// tether metrics' source: the /metrics exposition.
	resp, err := h.HTTP.Get(h.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	ms, err := hubclient.ParseMetrics(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatal(resp.Status, err)
	}
	got := map[string]float64{}
	for _, m := range ms {
		if len(m.Labels) == 0 || m.Labels["destination"] == "file" {
			got[m.Name] = m.Value
		}
	}
	for name, want := range map[string]float64{"tether_c2d_methods_failure_total": 1, "tether_c2d_twin_update_success_total": 1,
		"tether_d2c_twin_read_success_total": 1, "tether_c2d_commands_completed_total": 1, "tether_d2c_telemetry_ingress_throttled_total": 1,
		"tether_diag_export_failures_total": 0} {
		if got[name] != want {
			t.Errorf("%s = %v, want %v", name, got[name], want)
		}
	}
}
