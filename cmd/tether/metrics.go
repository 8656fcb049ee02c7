package main

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tether-iot/tether/internal/hubclient"
	"github.com/tether-iot/tether/internal/metrics"
	"github.com/tether-iot/tether/internal/server"
)

// metricValue is one metric as tether metrics prints it.
type metricValue struct {
	Azure      string            `json:"azure,omitempty"` // Azure's metric name; "" for Tether's own
	Prometheus string            `json:"prometheus"`
	Labels     map[string]string `json:"labels,omitempty"`
	Unit       string            `json:"unit,omitempty"`
	Value      float64           `json:"value"`
}

func newMetricsCmd(g *globals) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "metrics",
		Short: "Print the hub's current metric values, by Azure metric name",
		Long: `Print the current values of a running hub's metrics: the counters since it
started and the gauges now, by Azure IoT Hub metric name (connectedDeviceCount,
d2c.telemetry.ingress.success, …) with the Prometheus name the hub serves at
/metrics, then Tether's own (connection attempts by result code, disconnects by
reason, the diagnostic log writer and export destinations).

It reads the /metrics of the hub --connection-string names, or of the tether
serve running on --data. --all adds the Go runtime and process metrics.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withHub(cmd, g, func(h *hubConn) (err error) {
				if h.admin != nil {
					if ri, ok := server.Running(g.dataDir); !ok || !reachable(ri.HTTPSAddr) {
						return fmt.Errorf("no tether serve is running on %s; metrics live in the running hub (start it, or give --connection-string of a remote hub)", g.dataDir)
					}
				}
				samples, err := h.client.Metrics(cmd.Context())
				if err != nil {
					return err
				}
				vals := metricValues(samples, all)
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), vals)
				}
				return printMetrics(cmd.OutOrStdout(), vals)
			})
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "also print the Go runtime and process metrics")
	return cmd
}

// metricValues pairs the samples with Azure's names: one row per Azure
// metric (a labelled series summed), then Tether's own series.
func metricValues(samples []hubclient.Metric, all bool) []metricValue {
	byName := map[string][]hubclient.Metric{}
	for _, s := range samples {
		byName[s.Name] = append(byName[s.Name], s)
	}
	var out []metricValue
	known := map[string]bool{}
	for _, n := range metrics.Names {
		ss, ok := byName[n.Prometheus]
		if !ok {
			continue
		}
		known[n.Prometheus] = true
		v := metricValue{Azure: n.Azure, Prometheus: n.Prometheus, Unit: n.Unit}
		for _, s := range ss {
			v.Value += s.Value
		}
		out = append(out, v)
	}
	var rest []metricValue
	for _, s := range samples {
		own := strings.HasPrefix(s.Name, "tether_") && !strings.HasSuffix(s.Name, "_bucket")
		if (!own && !all) || (known[s.Name] && len(s.Labels) == 0) {
			continue
		}
		rest = append(rest, metricValue{Prometheus: s.Name, Labels: s.Labels, Value: s.Value})
	}
	sort.SliceStable(rest, func(i, j int) bool { return rest[i].Prometheus < rest[j].Prometheus })
	return append(out, rest...)
}

func printMetrics(w io.Writer, vals []metricValue) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "AZURE METRIC\tPROMETHEUS\tVALUE")
	for _, v := range vals {
		name := v.Prometheus
		if len(v.Labels) > 0 {
			keys := make([]string, 0, len(v.Labels))
			for k := range v.Labels {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var parts []string
			for _, k := range keys {
				parts = append(parts, k+"="+strconv.Quote(v.Labels[k]))
			}
			name += "{" + strings.Join(parts, ",") + "}"
		}
		value := strconv.FormatFloat(v.Value, 'f', -1, 64)
		if v.Unit == "Bytes" {
			value += " B"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", orDash(v.Azure), name, value)
	}
	return tw.Flush()
}
