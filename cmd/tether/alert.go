package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tether-iot/tether/internal/wire"
)

// newAlertCmd is "tether alert". ("tether alert test", which sends a test
// notification, lives with the action groups.)
func newAlertCmd(g *globals, extra ...*cobra.Command) *cobra.Command {
	subs := []*cobra.Command{newAlertCreateCmd(g), newAlertListCmd(g), newAlertShowCmd(g), newAlertDeleteCmd(g),
		newAlertEnableCmd(g, true), newAlertEnableCmd(g, false), newAlertHistoryCmd(g), newAlertExportCmd(g)}
	return groupCmd("alert", "Alert rules on metrics and logs", append(subs, extra...)...)
}

func newAlertCreateCmd(g *globals) *cobra.Command {
	var in wire.AlertRule
	var threshold float64
	var noAutoResolve, disabled bool
	cmd := &cobra.Command{
		Use:   "create NAME (--metric NAME | --query KQL) ...",
		Short: "Create or replace an alert rule",
		Long: `Create or replace an alert rule. A metric rule aggregates one of the hub's
metrics over a window; a log rule runs a KQL query over the window. Either
compares the value with --operator and --threshold, or (metric rules) fires
when the value dropped by --drop-percent against the previous window.

  tether alert create devices-low --metric connectedDeviceCount --aggregation min \
      --operator lt --threshold 90 --window 5m --frequency 1m --action-group ops
  tether alert create fleet-drop --metric connectedDeviceCount --aggregation avg \
      --drop-percent 20 --window 10m --frequency 1m --action-group ops
  tether alert create bad-keys --query 'AzureDiagnostics | where ResultType == "401003"' \
      --operator gt --threshold 5 --window 5m --frequency 1m --action-group ops

Frequency is 10s at least and no longer than the window. See docs/alerts.md.`,
		Args: exactArgs(1, "a rule name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			in.Name = args[0]
			if cmd.Flags().Changed("threshold") {
				in.Threshold = &threshold
			}
			if noAutoResolve {
				f := false
				in.AutoResolve = &f
			}
			if disabled {
				f := false
				in.Enabled = &f
			}
			return withHub(cmd, g, func(h *hubConn) error {
				r, created, err := h.client.PutAlertRule(cmd.Context(), in)
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), r)
				}
				verb := "updated"
				if created {
					verb = "created"
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s alert rule %s: %s, every %s%s\n", verb, r.Name, condition(r), r.Frequency, groupsText(r.ActionGroups))
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.Metric, "metric", "", "the metric to watch, such as connectedDeviceCount (see tether metrics)")
	f.StringVar(&in.Query, "query", "", "a KQL query, for a log rule")
	f.StringVar(&in.Column, "column", "", "log rule: the numeric column to aggregate (default: count the rows)")
	f.StringVar(&in.Aggregation, "aggregation", "", "avg, min, max, total or count (default: avg for metrics, total for logs)")
	f.StringVar(&in.Operator, "operator", "", "gt, ge, lt, le, eq or ne")
	f.Float64Var(&threshold, "threshold", 0, "the value the aggregate is compared with")
	f.Float64Var(&in.DropPercent, "drop-percent", 0, "metric rule: fire when the value fell by this % against the previous window")
	f.StringVar(&in.Window, "window", "5m", "the window the value is aggregated over (5m, PT5M)")
	f.StringVar(&in.Frequency, "frequency", "1m", "how often the rule is evaluated, 10s at least")
	f.StringSliceVar(&in.ActionGroups, "action-group", nil, "action groups to notify (repeat or comma-separate)")
	f.IntVar(&in.Severity, "severity", 3, "0 critical, 1 error, 2 warning, 3 informational, 4 verbose")
	f.StringVar(&in.Description, "description", "", "text carried in notifications")
	f.IntVar(&in.PendingEvaluations, "pending", 1, "evaluations in a row the condition must hold before the rule fires")
	f.BoolVar(&noAutoResolve, "no-auto-resolve", false, "stay fired when the condition stops holding")
	f.BoolVar(&disabled, "disabled", false, "create the rule disabled")
	return cmd
}

// condition describes a rule's condition.
func condition(r wire.AlertRule) string {
	what := r.Aggregation + " " + r.Metric
	if r.SignalType == "Log" {
		what = "rows of the query"
		if r.Column != "" {
			what = r.Aggregation + " of " + r.Column
		}
	}
	if r.DropPercent != 0 {
		return fmt.Sprintf("%s over %s drops by %v%%", what, r.Window, r.DropPercent)
	}
	op := map[string]string{"gt": ">", "ge": ">=", "lt": "<", "le": "<=", "eq": "==", "ne": "!="}[r.Operator]
	th := ""
	if r.Threshold != nil {
		th = strconv.FormatFloat(*r.Threshold, 'g', -1, 64)
	}
	return fmt.Sprintf("%s over %s %s %s", what, r.Window, op, th)
}

func groupsText(gs []string) string {
	if len(gs) == 0 {
		return " (no action groups: state changes are only recorded)"
	}
	return ", notifying " + strings.Join(gs, ", ")
}

func newAlertListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the alert rules and their state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withHub(cmd, g, func(h *hubConn) error {
				rs, err := h.client.AlertRules(cmd.Context())
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), rs)
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tSEV\tSTATE\tSINCE\tCONDITION\tEVERY\tLAST VALUE\tACTION GROUPS")
				for _, r := range rs {
					fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Severity, r.State, fmtOptTime(r.StateSince),
						condition(r), r.Frequency, lastValue(r), orDash(strings.Join(r.ActionGroups, ",")))
				}
				return tw.Flush()
			})
		},
	}
}

func fmtOptTime(t *wire.Time) string {
	if t == nil {
		return "-"
	}
	return fmtTime(*t)
}

func lastValue(r wire.AlertRule) string {
	if r.LastError != "" {
		return "(" + r.LastError + ")"
	}
	if r.LastValue == nil {
		return "-"
	}
	return strconv.FormatFloat(*r.LastValue, 'g', 6, 64)
}

func newAlertShowCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME",
		Short: "Show an alert rule and its state",
		Args:  exactArgs(1, "a rule name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withHub(cmd, g, func(h *hubConn) error {
				r, err := h.client.AlertRule(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), r)
				}
				return printAlertRule(cmd.OutOrStdout(), r)
			})
		},
	}
}

func printAlertRule(w io.Writer, r wire.AlertRule) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	row("name", r.Name)
	row("signal", r.SignalType)
	if r.Query != "" {
		row("query", r.Query)
	}
	row("condition", condition(r))
	row("frequency", r.Frequency)
	row("severity", strconv.Itoa(r.Severity))
	row("pendingEvaluations", strconv.Itoa(r.PendingEvaluations))
	row("autoResolve", strconv.FormatBool(r.AutoResolve == nil || *r.AutoResolve))
	row("actionGroups", orDash(strings.Join(r.ActionGroups, ", ")))
	row("description", orDash(r.Description))
	row("state", r.State+" since "+fmtOptTime(r.StateSince))
	row("lastEvaluated", fmtOptTime(r.LastEvaluated))
	row("lastValue", lastValue(r))
	row("created", fmtTime(r.CreatedTime))
	row("updated", fmtTime(r.UpdatedTime))
	return tw.Flush()
}

func newAlertDeleteCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete an alert rule (its history stays)",
		Args:  exactArgs(1, "a rule name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withHub(cmd, g, func(h *hubConn) error {
				if err := h.client.DeleteAlertRule(cmd.Context(), args[0]); err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), map[string]string{"deleted": args[0]})
				}
				_, err := fmt.Fprintf(cmd.OutOrStdout(), "deleted alert rule %s\n", args[0])
				return err
			})
		},
	}
}

func newAlertEnableCmd(g *globals, enable bool) *cobra.Command {
	verb, short := "disable", "Stop evaluating an alert rule (it goes back to Inactive, without a notification)"
	if enable {
		verb, short = "enable", "Evaluate an alert rule again, with fresh samples"
	}
	return &cobra.Command{
		Use:   verb + " NAME",
		Short: short,
		Args:  exactArgs(1, "a rule name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withHub(cmd, g, func(h *hubConn) error {
				r, err := h.client.SetAlertRuleEnabled(cmd.Context(), args[0], enable)
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), r)
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "%sd alert rule %s (%s)\n", verb, r.Name, r.State)
				return err
			})
		},
	}
}

func newAlertHistoryCmd(g *globals) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "history [NAME]",
		Short: "Show state changes of one rule, or of all, newest first",
		Long: `Show state changes of one rule, or of all, newest first. The same rows are the
Alerts table of the logs: tether logs query 'Alerts | where State == "Fired"'.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if limit < 1 || limit > 10000 {
				return usagef("--limit %d: use 1 to 10000", limit)
			}
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			return withHub(cmd, g, func(h *hubConn) error {
				es, err := h.client.AlertHistory(cmd.Context(), name, limit)
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), es)
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "TIME\tRULE\tSEV\tFROM\tTO\tVALUE\tTHRESHOLD\tWINDOW")
				for _, e := range es {
					fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", fmtTime(e.Time), e.AlertName, e.Severity, e.PreviousState, e.State,
						strconv.FormatFloat(e.Value, 'g', 6, 64), strconv.FormatFloat(e.Threshold, 'g', 6, 64), e.WindowSize)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 50, "how many changes to show (1 to 10000)")
	return cmd
}

func newAlertExportCmd(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "export --format prometheus",
		Short: "Write the metric rules as Prometheus alerting rules",
		Long: `Write the metric rules as a Prometheus rule file over the hub's /metrics names,
one group per rule at the rule's frequency. Log (KQL) rules have no PromQL
equivalent and are listed in comments. Check it with: promtool check rules FILE.

  tether alert export --format prometheus > tether.rules.yml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "prometheus" {
				return usagef("--format %q: the one format is prometheus", format)
			}
			return withHub(cmd, g, func(h *hubConn) error {
				b, err := h.client.ExportAlertRules(cmd.Context(), format)
				if err != nil {
					return err
				}
				_, err = cmd.OutOrStdout().Write(b)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&format, "format", "prometheus", "prometheus")
	return cmd
}
