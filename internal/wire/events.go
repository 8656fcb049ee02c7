package wire

// EventSubscription is a lifecycle-event subscription as Tether's own
// routes (PUT/GET /v1/eventSubscriptions/{name}) take and show it. On
// input only url, types, schema and secret are read; name comes from the
// path (a name in the body must match it).
type EventSubscription struct {
	Name   string   `json:"name"`
	URL    string   `json:"url"`
	Types  []string `json:"types"`  // DeviceConnected, DeviceDisconnected, DeviceCreated, DeviceDeleted
	Schema string   `json:"schema"` // eventgrid or cloudevents
	// Secret is the HMAC-SHA256 key of the X-Tether-Signature header. The
	// hub shows it once: in the answer to the PUT that created the
	// subscription, when it generated it.
	Secret              string `json:"secret,omitempty"`
	CreatedTime         Time   `json:"createdTime"`
	UpdatedTime         Time   `json:"updatedTime"`
	PendingCount        int    `json:"pendingCount"`        // events waiting for delivery
	DeadCount           int    `json:"deadCount"`           // events given up on
	ConsecutiveFailures int    `json:"consecutiveFailures"` // failed attempts since the last success
	NextAttemptTime     *Time  `json:"nextAttemptTime,omitempty"`
}

// EventDelivery is one recorded delivery attempt
// (GET /v1/eventDeliveries): one HTTP request carrying one or more events.
type EventDelivery struct {
	ID           int64    `json:"id"`
	Subscription string   `json:"subscription"`
	Time         Time     `json:"time"`
	Attempt      int      `json:"attempt"` // 1 for a first attempt
	EventIDs     []string `json:"eventIds"`
	StatusCode   int      `json:"statusCode"` // 0 when the receiver did not answer
	Error        string   `json:"error,omitempty"`
	LatencyMs    float64  `json:"latencyMs"`
	// Outcome is delivered, retry (NextAttemptTime says when) or dead
	// (given up on).
	Outcome         string `json:"outcome"`
	NextAttemptTime *Time  `json:"nextAttemptTime,omitempty"`
}
