package hubclient

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/tether-iot/tether/internal/wire"
)

// DiagnosticSettings reads the hub's diagnostic settings.
func (c *Client) DiagnosticSettings(ctx context.Context) (wire.DiagnosticSettings, error) {
	var out wire.DiagnosticSettings
	return out, c.do(ctx, http.MethodGet, "/v1/diagnosticSettings", "", nil, &out)
}

// PutDiagnosticSettings replaces the hub's diagnostic settings and
// returns them as the hub applied them.
func (c *Client) PutDiagnosticSettings(ctx context.Context, s wire.DiagnosticSettings) (wire.DiagnosticSettings, error) {
	var out wire.DiagnosticSettings
	return out, c.do(ctx, http.MethodPut, "/v1/diagnosticSettings", "", s, &out)
}

// Metric is one sample of the hub's Prometheus exposition.
type Metric struct {
	Name   string
	Labels map[string]string // nil when it has none
	Value  float64
}

// Metrics reads the hub's current metric values from its /metrics
// exposition, in the order the hub lists them.
func (c *Client) Metrics(ctx context.Context) ([]Metric, error) {
	resp, err := c.request(ctx, http.MethodGet, "/metrics", nil, http.Header{"Accept": {"text/plain"}}, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return ParseMetrics(io.LimitReader(resp.Body, 16<<20))
}

// ParseMetrics reads the Prometheus text exposition format (version
// 0.0.4): one sample per line, name{label="value",…} value [timestamp];
// comments and blank lines are skipped.
func ParseMetrics(r io.Reader) ([]Metric, error) {
	var out []Metric
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		m, err := parseSample(line)
		if err != nil {
			return nil, fmt.Errorf("metrics line %d %q: %w", n, line, err)
		}
		out = append(out, m)
	}
	return out, sc.Err()
}

func parseSample(line string) (Metric, error) {
	var m Metric
	end := strings.IndexAny(line, "{ \t")
	if end <= 0 {
		return m, fmt.Errorf("no value")
	}
	m.Name, line = line[:end], line[end:]
	if line[0] == '{' {
		m.Labels = map[string]string{}
		line = line[1:]
		for {
			line = strings.TrimLeft(line, " ,")
			if strings.HasPrefix(line, "}") {
				line = line[1:]
				break
			}
			eq := strings.Index(line, `="`)
			if eq <= 0 {
				return m, fmt.Errorf("malformed labels")
			}
			name := line[:eq]
			val, rest, err := unquoteLabel(line[eq+2:])
			if err != nil {
				return m, err
			}
			m.Labels[name], line = val, rest
		}
	}
	f := strings.Fields(line)
	if len(f) == 0 {
		return m, fmt.Errorf("no value")
	}
	switch f[0] {
	case "+Inf":
		m.Value = math.Inf(1)
	case "-Inf":
		m.Value = math.Inf(-1)
	case "NaN":
		m.Value = math.NaN()
	default:
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return m, err
		}
		m.Value = v
	}
	return m, nil
}

// unquoteLabel reads a label value up to its closing quote, undoing the
// \\, \" and \n escapes, and returns the rest of the line.
func unquoteLabel(s string) (string, string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), s[i+1:], nil
		case '\\':
			if i+1 == len(s) {
				return "", "", fmt.Errorf("unterminated label value")
			}
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			default:
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", "", fmt.Errorf("unterminated label value")
}
