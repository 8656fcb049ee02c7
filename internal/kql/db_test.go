package kql

import (
	"database/sql"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// openLogsDB creates a real SQLite file with the store's logs schema, read
// from the store's migration files on disk (package kql must not import
// the store).
func openLogsDB(t testing.TB) *sql.DB {
	t.Helper()
	files, err := filepath.Glob("../store/migrations-logs/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no store migrations found: %v", err)
	}
	sort.Strings(files)
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "logs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(string(b)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	return db
}

const hubID = "/SUBSCRIPTIONS/SUB-1/RESOURCEGROUPS/RG-1/PROVIDERS/MICROSOFT.DEVICES/IOTHUBS/HUB-1"

// diagRow is one AzureDiagnostics fixture row.
type diagRow struct {
	ago                         time.Duration
	category, op, level, result string
	description, props, corrID  string
	duration                    any
	deviceID                    string // _DeviceId, as the store fills it
}

// fixture is the seeded store of the result tests (kql-semantics.md
// section 7): connects, disconnects and errors, Routes endpoint rows,
// 429001 throttling, distributed tracing, a malformed properties_s, a
// JSON null deviceId, a row without sdkVersion, and a row older than the
// default 24 h range.
var fixture = []diagRow{
	{10 * time.Hour, "Connections", "deviceConnect", "Information", "", "", `{"deviceId":"dev-1","sdkVersion":"azure-iot-device/1.18.0","protocol":"Mqtt","tlsVersion":"1.2","maskedIpAddress":"10.0.0.XXX","authType":"{\"scope\":\"device\",\"type\":\"sas\"}"}`, "", nil, "dev-1"},
	{9 * time.Hour, "Connections", "deviceDisconnect", "Error", "404104", "DeviceConnectionClosedRemotely", `{"deviceId":"dev-1","sdkVersion":"azure-iot-device/1.18.0","protocol":"Mqtt"}`, "", nil, "dev-1"},
	{8 * time.Hour, "Connections", "deviceConnect", "Information", "", "", `{"deviceId":"test-device","protocol":"Mqtt","tlsVersion":"1.2"}`, "", nil, "test-device"},
	{7 * time.Hour, "Connections", "deviceDisconnect", "Error", "404104", "DeviceConnectionClosedRemotely", `{"deviceId":"test-device","protocol":"Mqtt"}`, "", nil, "test-device"},
	{6 * time.Hour, "DeviceTelemetry", "ingress", "Error", "429001", "ThrottlingException", `{"deviceId":"dev-2","messageSize":"100"}`, "", nil, "dev-2"},
	{5 * time.Hour, "DeviceTelemetry", "ingress", "Error", "429001", "ThrottlingException", `{"deviceId":"dev-2"}`, "", nil, "dev-2"},
	{5*time.Hour + time.Minute, "DeviceTelemetry", "ingress", "Error", "429001", "ThrottlingException", `{"deviceId":"dev-1"}`, "", nil, "dev-1"},
	{4 * time.Hour, "Routes", "endpointDead", "Error", "", "", `{"endpointName":"ep1","details":"dead","deviceId":null}`, "", nil, ""},
	{4*time.Hour + time.Minute, "Routes", "endpointUnhealthy", "Error", "", "", `{"endpointName":"ep1","details":"unhealthy"}`, "", nil, ""},
	{3 * time.Hour, "Routes", "endpointUnhealthy", "Error", "", "", `{"endpointName":"ep1","details":"unhealthy"}`, "", nil, ""},
	{2 * time.Hour, "DistributedTracing", "DiagnosticIoTHubD2C", "Information", "Success", "", `{"deviceId":"dev-1","messageSize":"1"}`, "00-8cd869a412459a25f5b4f31311223344-0000000000000001-01", int64(12), "dev-1"},
	{1 * time.Hour, "DistributedTracing", "DiagnosticIoTHubIngress", "Information", "Success", "", `{"isRoutingEnabled":"false"}`, "00-aaaa69a412459a25f5b4f31311223344-0000000000000002-01", int64(5), ""},
	{30 * time.Minute, "Connections", "deviceConnect", "Information", "", "", `not json{`, "", nil, ""},
	{90 * time.Minute, "D2CTwinOperations", "read", "Information", "", "", `{"deviceId":"dev-3","sdkVersion":"sdk-3","protocol":"Mqtt"}`, "", int64(3), "dev-3"},
	{72 * time.Hour, "Connections", "deviceConnect", "Error", "401003", "IotHubUnauthorized", `{"deviceId":"old-dev"}`, "", nil, "old-dev"},
}

// metricRow is one AzureMetrics fixture row.
type metricRow struct {
	ago        time.Duration
	name, unit string
	total, cnt float64
	min, max   float64
}

var metricFixture = []metricRow{
	{3 * time.Hour, "d2c.telemetry.ingress.success", "Count", 5, 5, 1, 1},
	{2 * time.Hour, "d2c.telemetry.ingress.success", "Count", 7, 7, 1, 1},
	{4 * time.Hour, "connectedDeviceCount", "Count", 1, 1, 1, 1},
	{1 * time.Hour, "connectedDeviceCount", "Count", 3, 1, 3, 3},
}

// seed fills a fresh logs database with the fixtures, relative to now.
func seed(t testing.TB, now time.Time) *sql.DB {
	db := openLogsDB(t)
	for _, r := range fixture {
		_, err := db.Exec(`INSERT INTO AzureDiagnostics (TimeGenerated, ResourceId, _ResourceId, SubscriptionId, ResourceGroup,
			Resource, Category, OperationName, Level, ResultType, ResultDescription, DurationMs, properties_s, location,
			CorrelationId, _DeviceId) VALUES (?, ?, ?, 'SUB-1', 'RG-1', 'HUB-1', ?, ?, ?, ?, ?, ?, ?, 'westeurope', ?, ?)`,
			now.Add(-r.ago).UnixNano(), hubID, hubID, r.category, r.op, r.level, r.result, r.description, r.duration, r.props, r.corrID, r.deviceID)
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range metricFixture {
		_, err := db.Exec(`INSERT INTO AzureMetrics (TimeGenerated, ResourceId, _ResourceId, SubscriptionId, ResourceGroup,
			Resource, MetricName, Total, Count, Minimum, Maximum, Average, TimeGrain, UnitName)
			VALUES (?, ?, ?, 'SUB-1', 'RG-1', 'HUB-1', ?, ?, ?, ?, ?, ?, 'PT1M', ?)`,
			now.Add(-m.ago).UnixNano(), hubID, hubID, m.name, m.total, m.cnt, m.min, m.max, m.total/m.cnt, m.unit)
		if err != nil {
			t.Fatal(err)
		}
	}
	for i, state := range []string{"Pending", "Fired", "Resolved", "Fired"} {
		_, err := db.Exec(`INSERT INTO Alerts (TimeGenerated, AlertName, Severity, State, SignalType, MetricName, Threshold, MetricValue)
			VALUES (?, ?, 2, ?, 'Metric', 'connectedDeviceCount', 1, 3)`, now.Add(-time.Duration(4-i)*time.Hour).UnixNano(), []string{"drop", "drop", "drop", "storm"}[i], state)
		if err != nil {
			t.Fatal(err)
		}
	}
	return db
}
