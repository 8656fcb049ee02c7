package kql

// The built-in tables: the KQL view of the store's AzureDiagnostics,
// AzureMetrics and Alerts tables (internal/store/migrations-logs). schema_test.go
// checks them against the migration files, so the two cannot drift.
//
// The store's hidden helper columns _DeviceId and _Reason are not part
// of the KQL view: neither * nor a name reaches them. The compiler reads
// _DeviceId only to answer tostring(parse_json(properties_s).deviceId) ==
// "x" through its index.

// AzureDiagnostics is the resource-log table.
var azureDiagnostics = Table{
	Name:       "AzureDiagnostics",
	TimeColumn: "TimeGenerated",
	hourIndex:  true,
	Columns: []Column{
		{"TimeGenerated", "datetime"},
		{"Type", "string"},
		{"TenantId", "string"},
		{"SourceSystem", "string"},
		{"ResourceId", "string"},
		{"_ResourceId", "string"},
		{"SubscriptionId", "string"},
		{"ResourceGroup", "string"},
		{"Resource", "string"},
		{"ResourceProvider", "string"},
		{"ResourceType", "string"},
		{"Category", "string"},
		{"OperationName", "string"},
		{"Level", "string"},
		{"ResultType", "string"},
		{"ResultDescription", "string"},
		{"DurationMs", "long"},
		{"properties_s", "string"},
		{"location", "string"},
		{"CorrelationId", "string"},
	},
}

// azureMetrics is the metric-sample table.
var azureMetrics = Table{
	Name:       "AzureMetrics",
	TimeColumn: "TimeGenerated",
	Columns: []Column{
		{"TimeGenerated", "datetime"},
		{"Type", "string"},
		{"TenantId", "string"},
		{"SourceSystem", "string"},
		{"ResourceId", "string"},
		{"_ResourceId", "string"},
		{"SubscriptionId", "string"},
		{"ResourceGroup", "string"},
		{"Resource", "string"},
		{"ResourceProvider", "string"},
		{"MetricName", "string"},
		{"Total", "real"},
		{"Count", "real"},
		{"Minimum", "real"},
		{"Maximum", "real"},
		{"Average", "real"},
		{"TimeGrain", "string"},
		{"UnitName", "string"},
	},
}

// alerts is the alert-state-change table (see docs/alerts.md).
var alerts = Table{
	Name:       "Alerts",
	TimeColumn: "TimeGenerated",
	Columns: []Column{
		{"TimeGenerated", "datetime"},
		{"Type", "string"},
		{"TenantId", "string"},
		{"SourceSystem", "string"},
		{"ResourceId", "string"},
		{"_ResourceId", "string"},
		{"AlertName", "string"},
		{"AlertRuleId", "string"},
		{"Severity", "long"},
		{"State", "string"},
		{"PreviousState", "string"},
		{"SignalType", "string"},
		{"MetricName", "string"},
		{"Aggregation", "string"},
		{"Operator", "string"},
		{"Threshold", "real"},
		{"MetricValue", "real"},
		{"WindowSize", "string"},
		{"Query", "string"},
		{"ResultCount", "long"},
		{"Description", "string"},
	},
}

// deviceIDColumn is AzureDiagnostics' hidden, indexed copy of
// tostring(parse_json(properties_s).deviceId).
const deviceIDColumn = "_DeviceId"

// hiddenColumns are the store's helper columns, per table.
var hiddenColumns = map[string][]Column{
	"AzureDiagnostics": {{deviceIDColumn, "string"}, {"_Reason", "string"}},
}

// BuiltinTables returns the KQL view of the store's tables.
func BuiltinTables() []Table {
	return []Table{clone(azureDiagnostics), clone(azureMetrics), clone(alerts)}
}

func clone(t Table) Table {
	t.Columns = append([]Column(nil), t.Columns...)
	return t
}

// types are the KQL types a column may have.
var types = map[string]bool{"string": true, "datetime": true, "long": true, "int": true, "real": true,
	"bool": true, "dynamic": true, "timespan": true}
