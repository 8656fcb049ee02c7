package metrics

import "github.com/prometheus/client_golang/prometheus"

// NotificationCount is how many alert notification attempts to one kind
// of receiver had one outcome.
type NotificationCount struct {
	Receiver string // webhook, alertmanager or email
	Outcome  string // delivered, retry, dead or failed (a test)
	N        int64
}

var notificationsDesc = prometheus.NewDesc("tether_alert_notifications_total",
	"Alert notification attempts by receiver kind (webhook, alertmanager, email) and outcome: delivered, retry (failed, tried again), dead (given up on), failed (a test).",
	[]string{"receiver", "outcome"}, nil)

// notificationCollector exposes the alert notification dispatcher.
type notificationCollector func() []NotificationCount

func (c notificationCollector) Describe(ch chan<- *prometheus.Desc) { ch <- notificationsDesc }

func (c notificationCollector) Collect(ch chan<- prometheus.Metric) {
	for _, n := range c() {
		ch <- prometheus.MustNewConstMetric(notificationsDesc, prometheus.CounterValue, float64(n.N), n.Receiver, n.Outcome)
	}
}

// AddNotifications exposes the alert notification attempts; call it once.
func (m *Metrics) AddNotifications(counts func() []NotificationCount) {
	m.reg.MustRegister(notificationCollector(counts))
}
