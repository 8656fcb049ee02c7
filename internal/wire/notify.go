package wire

// ActionGroup is a named list of alert notification receivers as
// Tether's own routes (/v1/actionGroups) take and show it. On input only
// name and receivers are read.
type ActionGroup struct {
	Name      string     `json:"name"`
	Receivers []Receiver `json:"receivers"`
	// Secret is the HMAC-SHA256 key of the webhooks' X-Tether-Signature
	// header, shown once: in the answer to the request that created the
	// group.
	Secret       string `json:"secret,omitempty"`
	CreatedTime  Time   `json:"createdTime"`
	UpdatedTime  Time   `json:"updatedTime"`
	PendingCount int    `json:"pendingCount"` // notifications waiting for delivery
	DeadCount    int    `json:"deadCount"`    // notifications given up on
}

// Receiver is one receiver of an action group. Type is webhook,
// alertmanager or email; URL is set for the first two, Address for email.
// In answers a URL's password and query values read REDACTED.
type Receiver struct {
	Type    string `json:"type"`
	URL     string `json:"url,omitempty"`
	Address string `json:"address,omitempty"`
}

// NotificationAttempt is one recorded attempt to deliver an alert
// notification (GET /v1/actionGroups/{name}/history).
type NotificationAttempt struct {
	ID          int64  `json:"id"`
	ActionGroup string `json:"actionGroup"`
	Receiver    string `json:"receiver"` // webhook, alertmanager or email
	Target      string `json:"target"`   // redacted
	AlertID     string `json:"alertId"`
	AlertRule   string `json:"alertRule"`
	// MonitorCondition is Fired, Resolved or Test.
	MonitorCondition string  `json:"monitorCondition"`
	Time             Time    `json:"time"`
	Attempt          int     `json:"attempt"`    // 1 for a first attempt
	StatusCode       int     `json:"statusCode"` // HTTP or SMTP; 0 when there was no answer
	Error            string  `json:"error,omitempty"`
	LatencyMs        float64 `json:"latencyMs"`
	// Outcome is delivered, retry (NextAttemptTime says when), dead
	// (given up on) or failed (a test, not retried).
	Outcome         string `json:"outcome"`
	NextAttemptTime *Time  `json:"nextAttemptTime,omitempty"`
}

// NotificationTest is the answer to a test notification: one result per
// receiver, sent at once and not retried.
type NotificationTest struct {
	ActionGroups []string              `json:"actionGroups"`
	AlertRule    string                `json:"alertRule"`
	Results      []NotificationAttempt `json:"results"`
	Delivered    int                   `json:"delivered"`
	Failed       int                   `json:"failed"`
}
