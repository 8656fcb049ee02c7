package metrics

import "github.com/prometheus/client_golang/prometheus"

// AdmissionStats is what the gateway's admission control reports. The
// bans themselves (addresses, device ids) are not exposed here: /metrics
// needs no token; GET /v1/bans lists them.
type AdmissionStats struct {
	RefusedRate, RefusedHandshakes, RefusedBanned int64
	BansImposed                                   int64
	BansActive, Handshakes                        int
}

var (
	refusedDesc = prometheus.NewDesc("tether_connects_refused_total",
		"Connections refused by admission control, by cause: rate (--max-connect-rate, CONNACK 3, 429001), handshakes (--max-handshakes, closed before TLS, 429003), banned (during an auth-failure ban, CONNACK 3, 429001).",
		[]string{"cause"}, nil)
	bansImposedDesc = prometheus.NewDesc("tether_auth_bans_total", "Bans imposed after repeated authentication failures.", nil, nil)
	bansActiveDesc  = prometheus.NewDesc("tether_auth_bans_active", "Bans in force now.", nil, nil)
	handshakesDesc  = prometheus.NewDesc("tether_tls_handshakes_in_progress", "TLS handshakes in progress on the MQTT listener.", nil, nil)
)

// admissionCollector exposes admission control.
type admissionCollector func() AdmissionStats

func (c admissionCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{refusedDesc, bansImposedDesc, bansActiveDesc, handshakesDesc} {
		ch <- d
	}
}

func (c admissionCollector) Collect(ch chan<- prometheus.Metric) {
	s := c()
	ch <- prometheus.MustNewConstMetric(refusedDesc, prometheus.CounterValue, float64(s.RefusedRate), "rate")
	ch <- prometheus.MustNewConstMetric(refusedDesc, prometheus.CounterValue, float64(s.RefusedHandshakes), "handshakes")
	ch <- prometheus.MustNewConstMetric(refusedDesc, prometheus.CounterValue, float64(s.RefusedBanned), "banned")
	ch <- prometheus.MustNewConstMetric(bansImposedDesc, prometheus.CounterValue, float64(s.BansImposed))
	ch <- prometheus.MustNewConstMetric(bansActiveDesc, prometheus.GaugeValue, float64(s.BansActive))
	ch <- prometheus.MustNewConstMetric(handshakesDesc, prometheus.GaugeValue, float64(s.Handshakes))
}

// AddAdmission exposes the gateway's admission control; call it once.
func (m *Metrics) AddAdmission(stats func() AdmissionStats) {
	m.reg.MustRegister(admissionCollector(stats))
}
