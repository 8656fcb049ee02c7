package notify

import (
	"encoding/json"
	"strings"
	"time"
)

// CommonAlert is Azure Monitor's common alert schema: what a webhook
// receiver gets. Field names and values follow Azure's; see
// docs/notifications.md for examples.
type CommonAlert struct {
	SchemaID string          `json:"schemaId"` // always azureMonitorCommonAlertSchema
	Data     CommonAlertData `json:"data"`
}

// CommonAlertData is the schema's data member.
type CommonAlertData struct {
	Essentials       Essentials        `json:"essentials"`
	AlertContext     json.RawMessage   `json:"alertContext"`
	CustomProperties map[string]string `json:"customProperties"`
}

// Essentials are the fields every alert type shares.
type Essentials struct {
	AlertID             string   `json:"alertId"`
	AlertRule           string   `json:"alertRule"`
	Severity            string   `json:"severity"`         // Sev0 .. Sev4
	SignalType          string   `json:"signalType"`       // Metric or Log
	MonitorCondition    string   `json:"monitorCondition"` // Fired or Resolved
	MonitoringService   string   `json:"monitoringService"`
	AlertTargetIDs      []string `json:"alertTargetIDs"`
	ConfigurationItems  []string `json:"configurationItems"`
	OriginAlertID       string   `json:"originAlertId"`
	FiredDateTime       string   `json:"firedDateTime"`
	ResolvedDateTime    string   `json:"resolvedDateTime,omitempty"`
	Description         string   `json:"description"`
	EssentialsVersion   string   `json:"essentialsVersion"`
	AlertContextVersion string   `json:"alertContextVersion"`
	InvestigationLink   string   `json:"investigationLink,omitempty"`
}

// MetricContext is the alertContext of a metric alert.
type MetricContext struct {
	Properties    map[string]string `json:"properties"`
	ConditionType string            `json:"conditionType"` // SingleResourceMultipleMetricCriteria
	Condition     MetricCondition   `json:"condition"`
}

// MetricCondition is a metric alert's condition.
type MetricCondition struct {
	WindowSize      string            `json:"windowSize"` // ISO 8601: PT5M
	AllOf           []MetricCriterion `json:"allOf"`
	WindowStartTime string            `json:"windowStartTime"`
	WindowEndTime   string            `json:"windowEndTime"`
}

// MetricCriterion is one criterion of a metric condition.
type MetricCriterion struct {
	MetricName      string      `json:"metricName"`
	MetricNamespace string      `json:"metricNamespace"`
	Operator        string      `json:"operator"`  // LessThan, GreaterThan, ...
	Threshold       string      `json:"threshold"` // a number, as a string (as Azure sends it)
	TimeAggregation string      `json:"timeAggregation"`
	Dimensions      []Dimension `json:"dimensions"`
	MetricValue     float64     `json:"metricValue"`
	WebTestName     *string     `json:"webTestName"`
}

// Dimension is a name and value pair of a criterion.
type Dimension struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// LogContext is the alertContext of a log search alert (Azure's "Log
// Alerts V2").
type LogContext struct {
	Properties    map[string]string `json:"properties"`
	ConditionType string            `json:"conditionType"` // LogQueryCriteria
	Condition     LogCondition      `json:"condition"`
}

// LogCondition is a log alert's condition.
type LogCondition struct {
	WindowSize      string         `json:"windowSize"`
	AllOf           []LogCriterion `json:"allOf"`
	WindowStartTime string         `json:"windowStartTime"`
	WindowEndTime   string         `json:"windowEndTime"`
}

// LogCriterion is one criterion of a log condition.
type LogCriterion struct {
	SearchQuery                   string         `json:"searchQuery"`
	MetricMeasureColumn           *string        `json:"metricMeasureColumn"`
	TargetResourceTypes           string         `json:"targetResourceTypes"`
	Operator                      string         `json:"operator"`
	Threshold                     string         `json:"threshold"`
	TimeAggregation               string         `json:"timeAggregation"`
	Dimensions                    []Dimension    `json:"dimensions"`
	MetricValue                   float64        `json:"metricValue"`
	FailingPeriods                FailingPeriods `json:"failingPeriods"`
	LinkToSearchResultsUI         string         `json:"linkToSearchResultsUI,omitempty"`
	LinkToFilteredSearchResultsUI string         `json:"linkToFilteredSearchResultsUI,omitempty"`
}

// FailingPeriods says how many evaluations must fail to fire.
type FailingPeriods struct {
	NumberOfEvaluationPeriods int `json:"numberOfEvaluationPeriods"`
	MinFailingPeriodsToAlert  int `json:"minFailingPeriodsToAlert"`
}

// SchemaID is the common alert schema's schemaId.
const SchemaID = "azureMonitorCommonAlertSchema"

// hubNamespace is the metric namespace and resource type of an IoT hub.
const hubNamespace = "Microsoft.Devices/IotHubs"

// azureTime formats a time as Azure's alert payloads do: UTC, seven
// fraction digits.
func azureTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.0000000Z") }

// subscriptionOf returns the subscription ID of an Azure resource ID, or
// Tether's placeholder.
func subscriptionOf(resourceID string) string {
	parts := strings.Split(strings.Trim(resourceID, "/"), "/")
	for i := 0; i+1 < len(parts); i++ {
		if strings.EqualFold(parts[i], "subscriptions") {
			return parts[i+1]
		}
	}
	return "00000000-0000-0000-0000-000000000000"
}

// lastSegment is a resource ID's name: the hub's name.
func lastSegment(resourceID string) string {
	s := strings.Trim(resourceID, "/")
	return s[strings.LastIndex(s, "/")+1:]
}

// CommonSchema renders a (validated) as Azure's common alert schema.
// resourceID is used when a.ResourceID is empty.
func CommonSchema(a Alert, resourceID string) (CommonAlert, error) {
	if a.ResourceID != "" {
		resourceID = a.ResourceID
	}
	condition := a.State
	custom := map[string]string(nil)
	if a.State == StateTest {
		condition = StateFired
		custom = map[string]string{"tetherTest": "true", "tetherNote": "a test notification sent on request; no rule fired"}
	}
	e := Essentials{
		AlertID:             "/subscriptions/" + subscriptionOf(resourceID) + "/providers/Microsoft.AlertsManagement/alerts/" + a.ID(),
		AlertRule:           a.RuleName,
		Severity:            "Sev" + string(rune('0'+a.Severity)),
		SignalType:          a.SignalType,
		MonitorCondition:    condition,
		MonitoringService:   "Platform",
		AlertTargetIDs:      []string{strings.ToLower(resourceID)},
		ConfigurationItems:  []string{lastSegment(resourceID)},
		OriginAlertID:       a.RuleID + "_" + a.FiredAt.UTC().Format("20060102T150405Z"),
		FiredDateTime:       azureTime(a.FiredAt),
		Description:         a.Description,
		EssentialsVersion:   "1.0",
		AlertContextVersion: "1.0",
		InvestigationLink:   a.Link,
	}
	if a.State == StateResolved {
		e.ResolvedDateTime = azureTime(a.ResolvedAt)
	}
	end := a.FiredAt
	if a.State == StateResolved {
		end = a.ResolvedAt
	}
	start := end.Add(-a.WindowSize)
	threshold := formatNumber(a.Threshold)
	var ctx any
	if a.SignalType == SignalLog {
		e.MonitoringService = "Log Alerts V2"
		c := LogCriterion{
			SearchQuery:           a.Query,
			TargetResourceTypes:   "['" + hubNamespace + "']",
			Operator:              azureOperator(a.Operator),
			Threshold:             threshold,
			TimeAggregation:       "Count",
			Dimensions:            []Dimension{},
			MetricValue:           float64(a.ResultCount),
			FailingPeriods:        FailingPeriods{NumberOfEvaluationPeriods: 1, MinFailingPeriodsToAlert: 1},
			LinkToSearchResultsUI: a.Link,
		}
		if a.MetricName != "" { // a threshold on a column of the result
			col := a.MetricName
			c.MetricMeasureColumn = &col
			c.TimeAggregation = azureAggregation(a.Aggregation)
			c.MetricValue = a.MetricValue
		}
		ctx = LogContext{Properties: map[string]string{}, ConditionType: "LogQueryCriteria",
			Condition: LogCondition{WindowSize: isoDuration(a.WindowSize), AllOf: []LogCriterion{c},
				WindowStartTime: azureTime(start), WindowEndTime: azureTime(end)}}
	} else {
		ctx = MetricContext{ConditionType: "SingleResourceMultipleMetricCriteria",
			Condition: MetricCondition{WindowSize: isoDuration(a.WindowSize), AllOf: []MetricCriterion{{
				MetricName:      a.MetricName,
				MetricNamespace: hubNamespace,
				Operator:        azureOperator(a.Operator),
				Threshold:       threshold,
				TimeAggregation: azureAggregation(a.Aggregation),
				Dimensions:      []Dimension{},
				MetricValue:     a.MetricValue,
			}}, WindowStartTime: azureTime(start), WindowEndTime: azureTime(end)}}
	}
	raw, err := json.Marshal(ctx)
	if err != nil {
		return CommonAlert{}, err
	}
	return CommonAlert{SchemaID: SchemaID, Data: CommonAlertData{Essentials: e, AlertContext: raw, CustomProperties: custom}}, nil
}
