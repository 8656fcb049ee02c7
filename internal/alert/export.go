package alert

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ExportPrometheus writes the metric rules as a Prometheus rule file:
// one group per rule, evaluated at the rule's frequency, over the /metrics
// names. A gauge aggregates with <agg>_over_time; a counter's total is
// increase(). Log rules and aggregations Prometheus cannot express are
// listed in comments at the top, not exported.
func (e *Engine) ExportPrometheus(ctx context.Context) ([]byte, error) {
	if err := e.load(ctx); err != nil {
		return nil, err
	}
	e.mu.Lock()
	var rules []Rule
	for _, en := range e.rules {
		rules = append(rules, en.rule)
	}
	metrics := e.metrics
	e.mu.Unlock()
	return exportPrometheus(rules, metrics), nil
}

func exportPrometheus(rules []Rule, metrics map[string]MetricInfo) []byte {
	sortRules(rules)
	var b, skipped bytes.Buffer
	b.WriteString("groups:\n")
	n := 0
	for _, r := range rules {
		expr, err := promExpr(r, metrics)
		if err != nil {
			fmt.Fprintf(&skipped, "# %s: not exported: %v\n", r.Name, err)
			continue
		}
		n++
		fmt.Fprintf(&b, "  - name: %s\n    interval: %s\n    rules:\n", yamlString("tether-"+r.Name), promDuration(r.Frequency))
		fmt.Fprintf(&b, "      - alert: %s\n        expr: %s\n", yamlString(promAlertName(r.Name)), yamlString(expr))
		if r.Pending > 1 {
			fmt.Fprintf(&b, "        for: %s\n", promDuration(r.Frequency*timeDuration(r.Pending-1)))
		}
		fmt.Fprintf(&b, "        labels:\n          severity: %s\n          tether_rule: %s\n", yamlString(strconv.Itoa(r.Severity)), yamlString(r.Name))
		summary := r.Condition()
		if !r.Enabled {
			summary += " (disabled in Tether)"
		}
		fmt.Fprintf(&b, "        annotations:\n          summary: %s\n", yamlString(summary))
		if r.Description != "" {
			fmt.Fprintf(&b, "          description: %s\n", yamlString(r.Description))
		}
	}
	out := []byte("# Prometheus alerting rules exported by tether alert export --format prometheus.\n")
	out = append(out, skipped.Bytes()...)
	if n == 0 {
		return append(out, "groups: []\n"...)
	}
	return append(out, b.Bytes()...)
}

func timeDuration(n int) time.Duration { return time.Duration(n) }

// promExpr is the PromQL of a metric rule.
func promExpr(r Rule, metrics map[string]MetricInfo) (string, error) {
	if r.Signal != SignalMetric {
		return "", fmt.Errorf("log rules (KQL) have no PromQL equivalent")
	}
	m, ok := metrics[r.Metric]
	if !ok || m.Prometheus == "" {
		return "", fmt.Errorf("metric %s has no /metrics name", r.Metric)
	}
	w := promDuration(r.Window)
	var sel func(offset string) string
	if m.Counter {
		if r.Aggregation != "total" {
			return "", fmt.Errorf("aggregation %s of the counter %s: only total (increase) is exported", r.Aggregation, r.Metric)
		}
		sel = func(off string) string { return fmt.Sprintf("sum(increase(%s[%s]%s))", m.Prometheus, w, off) }
	} else {
		fn := map[string]string{"avg": "avg_over_time", "min": "min_over_time", "max": "max_over_time",
			"total": "sum_over_time", "count": "count_over_time"}[r.Aggregation]
		sel = func(off string) string { return fmt.Sprintf("%s(%s[%s]%s)", fn, m.Prometheus, w, off) }
	}
	if r.DropPercent != 0 {
		return fmt.Sprintf("%s <= %s * %s", sel(""), strconv.FormatFloat(1-r.DropPercent/100, 'g', -1, 64), sel(" offset "+w)), nil
	}
	return fmt.Sprintf("%s %s %s", sel(""), operators[r.Operator], strconv.FormatFloat(r.Threshold, 'g', -1, 64)), nil
}

// promAlertName makes a rule name a valid Prometheus alert name.
func promAlertName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, s)
}

// yamlString quotes s as a YAML double-quoted scalar.
func yamlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteRune(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteRune(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
