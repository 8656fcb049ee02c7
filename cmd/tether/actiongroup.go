package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tether-iot/tether/internal/wire"
)

func newActionGroupCmd(g *globals) *cobra.Command {
	return groupCmd("action-group", "Manage the receivers that alert rules notify",
		newActionGroupCreateCmd(g), newActionGroupListCmd(g), newActionGroupShowCmd(g),
		newActionGroupDeleteCmd(g), newActionGroupHistoryCmd(g), newActionGroupTestCmd(g))
}

func newActionGroupCreateCmd(g *globals) *cobra.Command {
	var webhooks, alertmanagers, emails []string
	cmd := &cobra.Command{
		Use:   "create NAME [--webhook URL] [--alertmanager URL] [--email ADDRESS]",
		Short: "Create an action group: receivers that alert rules notify",
		Long: `Create an action group: a named list of receivers that alert rules share.
Each flag may be repeated; give at least one receiver.

  --webhook URL        POST Azure Monitor's common alert schema JSON, signed with
                       X-Tether-Signature: sha256=<hex HMAC-SHA256 of the body>
  --alertmanager URL   a Prometheus Alertmanager (POST URL/api/v2/alerts)
  --email ADDRESS      a plain-text email, when tether serve has --smtp-addr

Notifications are stored before they are sent and retried with back-off for
up to 24 hours. Webhook URLs often carry credentials in their query string:
the hub never shows or logs query values or passwords of a URL.

  tether action-group create ops --webhook https://ops.example/hooks/tether \
      --alertmanager http://127.0.0.1:9093 --email oncall@example.com`,
		Args: exactArgs(1, "an action group name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := wire.ActionGroup{Name: args[0]}
			for _, u := range webhooks {
				in.Receivers = append(in.Receivers, wire.Receiver{Type: "webhook", URL: u})
			}
			for _, u := range alertmanagers {
				in.Receivers = append(in.Receivers, wire.Receiver{Type: "alertmanager", URL: u})
			}
			for _, a := range emails {
				in.Receivers = append(in.Receivers, wire.Receiver{Type: "email", Address: a})
			}
			if len(in.Receivers) == 0 {
				return usagef("%s needs at least one receiver: --webhook URL, --alertmanager URL or --email ADDRESS", cmd.CommandPath())
			}
			return withHub(cmd, g, func(h *hubConn) error {
				out, err := h.client.CreateActionGroup(cmd.Context(), in)
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), out)
				}
				return printActionGroupCreated(cmd.OutOrStdout(), out)
			})
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&webhooks, "webhook", nil, "a webhook URL (http:// or https://); repeatable")
	f.StringArrayVar(&alertmanagers, "alertmanager", nil, "an Alertmanager base URL, such as http://127.0.0.1:9093; repeatable")
	f.StringArrayVar(&emails, "email", nil, "an email address; repeatable")
	return cmd
}

func printActionGroupCreated(w io.Writer, g wire.ActionGroup) error {
	fmt.Fprintf(w, "created action group %s:\n", g.Name)
	for _, r := range g.Receivers {
		fmt.Fprintf(w, "  %s\n", receiverText(r))
	}
	if g.Secret == "" {
		return nil
	}
	_, err := fmt.Fprintf(w, "webhook signing secret: %s\n(save it now: the hub does not show it again; each webhook request carries\nX-Tether-Signature: sha256=<hex HMAC-SHA256 of the body keyed with it>)\n", g.Secret)
	return err
}

func receiverText(r wire.Receiver) string {
	if r.Type == "email" {
		return "email " + r.Address
	}
	return r.Type + " " + r.URL
}

func newActionGroupListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the action groups",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withHub(cmd, g, func(h *hubConn) error {
				gs, err := h.client.ActionGroups(cmd.Context())
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), gs)
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tRECEIVERS\tPENDING\tDEAD")
				for _, ag := range gs {
					rs := make([]string, len(ag.Receivers))
					for i, r := range ag.Receivers {
						rs[i] = receiverText(r)
					}
					fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", ag.Name, strings.Join(rs, ", "), ag.PendingCount, ag.DeadCount)
				}
				return tw.Flush()
			})
		},
	}
}

func newActionGroupShowCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME",
		Short: "Show an action group's receivers and delivery state",
		Args:  exactArgs(1, "an action group name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withHub(cmd, g, func(h *hubConn) error {
				ag, err := h.client.ActionGroup(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), ag)
				}
				w := cmd.OutOrStdout()
				fmt.Fprintf(w, "name:       %s\ncreated:    %s\n", ag.Name, fmtTime(ag.CreatedTime))
				fmt.Fprintf(w, "pending:    %d\ndead:       %d\nreceivers:\n", ag.PendingCount, ag.DeadCount)
				for _, r := range ag.Receivers {
					fmt.Fprintf(w, "  %s\n", receiverText(r))
				}
				return nil
			})
		},
	}
}

func newActionGroupDeleteCmd(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete an action group and the notifications waiting for it",
		Long: `Delete an action group and the notifications waiting for it.

The hub refuses to delete a group that alert rules still notify, and names
those rules: delete or re-create them without the group first, or give
--force to delete it anyway (the rules then notify only their other groups).`,
		Args: exactArgs(1, "an action group name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withHub(cmd, g, func(h *hubConn) error {
				if err := h.client.DeleteActionGroup(cmd.Context(), args[0], force); err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), map[string]string{"deleted": args[0]})
				}
				_, err := fmt.Fprintf(cmd.OutOrStdout(), "deleted action group %s\n", args[0])
				return err
			})
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "delete the group even though alert rules use it")
	return cmd
}

func newActionGroupHistoryCmd(g *globals) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "history [NAME]",
		Short: "Show the latest notification attempts, newest first",
		Long: `Show the latest notification attempts of one action group (or of all),
newest first: when, which receiver, the rule and its condition (Fired,
Resolved, Test), the attempt number, the HTTP or SMTP status (0: no
answer), the latency, and the outcome: delivered, retry (and when), dead
(given up on) or failed (a test, which is not retried).`,
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
				hs, err := h.client.NotificationHistory(cmd.Context(), name, limit)
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), hs)
				}
				return printNotificationAttempts(cmd.OutOrStdout(), hs)
			})
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "how many attempts to show (1 to 10000)")
	return cmd
}

func printNotificationAttempts(w io.Writer, hs []wire.NotificationAttempt) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tGROUP\tRECEIVER\tRULE\tCONDITION\tATTEMPT\tSTATUS\tLATENCY\tOUTCOME\tDETAIL")
	for _, a := range hs {
		var detail []string
		if a.NextAttemptTime != nil {
			detail = append(detail, "next attempt "+fmtTime(*a.NextAttemptTime))
		}
		if a.Error != "" {
			detail = append(detail, a.Error)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s %s\t%s\t%s\t%d\t%d\t%.1fms\t%s\t%s\n", fmtTime(a.Time), a.ActionGroup, a.Receiver,
			a.Target, a.AlertRule, a.MonitorCondition, a.Attempt, a.StatusCode, a.LatencyMs, a.Outcome,
			orDash(strings.Join(detail, "; ")))
	}
	return tw.Flush()
}

func newActionGroupTestCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "test NAME",
		Short: "Send a test notification to each receiver of an action group now",
		Long: `Send a test notification (a made-up metric alert marked as a test) to each
receiver of an action group at once, wait for the answers, and report each:
delivered, or failed with the receiver's status or error. Tests are recorded in
the history and are not retried. The command fails when a receiver failed.`,
		Args: exactArgs(1, "an action group name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withHub(cmd, g, func(h *hubConn) error {
				res, err := h.client.TestActionGroup(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return reportNotificationTest(cmd, g, res)
			})
		},
	}
}

// reportNotificationTest prints a test's results and fails when a
// receiver failed.
func reportNotificationTest(cmd *cobra.Command, g *globals, res wire.NotificationTest) error {
	if g.output == "json" {
		if err := printJSON(cmd.OutOrStdout(), res); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "GROUP\tRECEIVER\tOUTCOME\tSTATUS\tLATENCY\tERROR")
		for _, r := range res.Results {
			fmt.Fprintf(tw, "%s\t%s %s\t%s\t%d\t%.1fms\t%s\n", r.ActionGroup, r.Receiver, r.Target, r.Outcome,
				r.StatusCode, r.LatencyMs, orDash(r.Error))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if res.Failed > 0 {
		return fmt.Errorf("%d of %d receivers failed the test", res.Failed, res.Failed+res.Delivered)
	}
	return nil
}

// newAlertTestCmd is "tether alert test NAME".
func newAlertTestCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "test NAME",
		Short: "Send a test notification of an alert rule to its action groups now",
		Long: `Send a test notification of an alert rule (its metric or query, threshold and
last value, marked as a test) to each receiver of its action groups at once,
wait for the answers, and report each: delivered, or failed with the
receiver's status or error (an unreachable receiver shows its connection
error). Tests are recorded in 'tether action-group history' and are not
retried. The command fails when a receiver failed.`,
		Args: exactArgs(1, "an alert rule name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withHub(cmd, g, func(h *hubConn) error {
				res, err := h.client.TestAlertRule(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return reportNotificationTest(cmd, g, res)
			})
		},
	}
}
