package wire

// AlertRule is an alert rule as Tether's own routes take and show it
// (PUT/GET /v1/alertRules/{name}). A metric rule names Metric; a log rule
// names Query. On input the read-only fields (signalType, state and the
// times) are ignored; name comes from the path.
type AlertRule struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	SignalType  string `json:"signalType,omitempty"`  // Metric or Log (read only)
	Severity    int    `json:"severity"`              // 0 (critical) to 4 (verbose)
	Enabled     *bool  `json:"enabled,omitempty"`     // default true
	AutoResolve *bool  `json:"autoResolve,omitempty"` // default true

	Metric      string `json:"metric,omitempty"`      // Azure's metric name, such as connectedDeviceCount
	Query       string `json:"query,omitempty"`       // KQL, for a log rule
	Column      string `json:"column,omitempty"`      // log rule: the numeric result column; "" means the row count
	Aggregation string `json:"aggregation,omitempty"` // avg, min, max, total or count

	Operator    string   `json:"operator,omitempty"`    // gt, ge, lt, le, eq or ne
	Threshold   *float64 `json:"threshold,omitempty"`   // with operator
	DropPercent float64  `json:"dropPercent,omitempty"` // instead of operator and threshold: fire when the value fell by this % against the previous window

	Window             string   `json:"window"`    // such as 5m or PT5M
	Frequency          string   `json:"frequency"` // such as 1m or PT1M; at least 10s
	PendingEvaluations int      `json:"pendingEvaluations,omitempty"`
	ActionGroups       []string `json:"actionGroups,omitempty"`

	State         string   `json:"state,omitempty"` // Inactive, Pending, Fired or Resolved (read only)
	StateSince    *Time    `json:"stateSince,omitempty"`
	LastEvaluated *Time    `json:"lastEvaluated,omitempty"`
	LastValue     *float64 `json:"lastValue,omitempty"`
	LastError     string   `json:"lastError,omitempty"`
	CreatedTime   Time     `json:"createdTime"`
	UpdatedTime   Time     `json:"updatedTime"`
}

// AlertEvent is one state change of an alert rule, a row of the Alerts
// table (GET /v1/alertRules/{name}/history).
type AlertEvent struct {
	Time          Time    `json:"time"`
	AlertName     string  `json:"alertName"`
	State         string  `json:"state"`
	PreviousState string  `json:"previousState"`
	Severity      int     `json:"severity"`
	SignalType    string  `json:"signalType"`
	MetricName    string  `json:"metricName,omitempty"`
	Aggregation   string  `json:"aggregation,omitempty"`
	Operator      string  `json:"operator,omitempty"`
	Threshold     float64 `json:"threshold"`
	Value         float64 `json:"value"`
	WindowSize    string  `json:"windowSize"`
	Query         string  `json:"query,omitempty"`
	ResultCount   int64   `json:"resultCount"`
	Description   string  `json:"description,omitempty"`
}
