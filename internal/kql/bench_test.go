package kql

import (
	"context"
	"testing"
)

// BenchmarkCompile measures parse + bind + SQL generation of the corpus's
// longest documented query (Q11).
func BenchmarkCompile(b *testing.B) {
	q := `AzureDiagnostics
| where ResourceProvider == "MICROSOFT.DEVICES" and ResourceType == "IOTHUBS"
| where Category == "Connections"
| extend parsed_json = parse_json(properties_s)
| extend SDKVersion = tostring(parsed_json.sdkVersion) , DeviceId = tostring(parsed_json.deviceId) , Protocol =  tostring(parsed_json.protocol)
| distinct TimeGenerated, OperationName, Level, ResultType, ResultDescription, DeviceId, Protocol, SDKVersion`
	for b.Loop() {
		if _, err := Compile(q, Options{Now: testNow}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQuerySmall runs Q02 end to end on the small seeded store: the
// fixed cost of a query (compile, prepare, Go functions, conversion).
func BenchmarkQuerySmall(b *testing.B) {
	db := seed(b, testNow)
	q := `AzureDiagnostics
| where ResourceProvider == "MICROSOFT.DEVICES" and ResourceType == "IOTHUBS"
| where ResultType == "429001"
| extend DeviceId = tostring(parse_json(properties_s).deviceId)
| summarize count() by DeviceId, Category , _ResourceId
| order by count_ desc`
	for b.Loop() {
		if _, err := Query(context.Background(), db, q, Options{Now: testNow}); err != nil {
			b.Fatal(err)
		}
	}
}
