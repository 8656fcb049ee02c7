package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tether-iot/tether/internal/wire"
)

func newEventsCmd(g *globals) *cobra.Command {
	return groupCmd("events", "Deliver device lifecycle events to webhooks",
		newEventsSubscribeCmd(g), newEventsListCmd(g), newEventsDeleteCmd(g), newEventsDeliveriesCmd(g))
}

func newEventsSubscribeCmd(g *globals) *cobra.Command {
	var in wire.EventSubscription
	cmd := &cobra.Command{
		Use:   "subscribe --url URL",
		Short: "Post lifecycle events to a webhook",
		Long: `Post device lifecycle events to a webhook: DeviceConnected, DeviceDisconnected,
DeviceCreated and DeviceDeleted, in the JSON of Azure Event Grid's IoT Hub
events (a JSON array; --schema eventgrid, the default) or as CloudEvents 1.0
(one event per request, application/cloudevents+json; --schema cloudevents).

Events are stored before they are sent and retried with back-off until the
webhook answers 2xx (for up to 24 hours), so none is lost to a restart or an
outage. Every request is signed:

  X-Tether-Signature: sha256=<hex HMAC-SHA256 of the body, keyed with the secret>

Without --secret the hub makes one and shows it once. Subscribing with the
--name of an existing subscription replaces its URL, types and schema (and
keeps its secret unless --secret is given).

  tether events subscribe --url https://ops.example/hooks/iot --types DeviceConnected,DeviceDisconnected`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(in.URL) == "" {
				return usagef("%s needs --url, the http:// or https:// address to post events to", cmd.CommandPath())
			}
			if in.Name == "" {
				var b [4]byte
				rand.Read(b[:])
				in.Name = "sub-" + hex.EncodeToString(b[:])
			}
			return withHub(cmd, g, func(h *hubConn) (err error) {
				s, created, err := h.client.PutEventSubscription(cmd.Context(), in)
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), s)
				}
				return printSubscribed(cmd.OutOrStdout(), s, created)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.URL, "url", "", "the webhook: an absolute http:// or https:// URL (required)")
	f.StringSliceVar(&in.Types, "types", nil, "event types, comma-separated (default: DeviceConnected,DeviceDisconnected,DeviceCreated,DeviceDeleted)")
	f.StringVar(&in.Schema, "schema", "eventgrid", "eventgrid or cloudevents")
	f.StringVar(&in.Secret, "secret", "", "the HMAC key of X-Tether-Signature, 16 to 256 characters (default: generated and shown once)")
	f.StringVar(&in.Name, "name", "", "the subscription's name (default: sub-<random>)")
	return cmd
}

func printSubscribed(w io.Writer, s wire.EventSubscription, created bool) error {
	verb := "updated"
	if created {
		verb = "created"
	}
	fmt.Fprintf(w, "%s event subscription %s: %s to %s (%s schema)\n", verb, s.Name, strings.Join(s.Types, ", "), s.URL, s.Schema)
	if s.Secret == "" {
		return nil
	}
	_, err := fmt.Fprintf(w, "secret: %s\n(save it now: the hub does not show it again; each request carries\nX-Tether-Signature: sha256=<hex HMAC-SHA256 of the body keyed with it>)\n", s.Secret)
	return err
}

func newEventsListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the event subscriptions and their delivery state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withHub(cmd, g, func(h *hubConn) (err error) {
				subs, err := h.client.EventSubscriptions(cmd.Context())
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), subs)
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tSCHEMA\tTYPES\tURL\tPENDING\tDEAD\tSTATE")
				for _, s := range subs {
					state := "ok"
					if s.NextAttemptTime != nil {
						noun := "failures"
						if s.ConsecutiveFailures == 1 {
							noun = "failure"
						}
						state = fmt.Sprintf("backing off after %d %s, next attempt %s", s.ConsecutiveFailures, noun, fmtTime(*s.NextAttemptTime))
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\n", s.Name, s.Schema, strings.Join(s.Types, ","), s.URL,
						s.PendingCount, s.DeadCount, state)
				}
				return tw.Flush()
			})
		},
	}
}

func newEventsDeleteCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete an event subscription and the events waiting for it",
		Args:  exactArgs(1, "a subscription name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withHub(cmd, g, func(h *hubConn) (err error) {
				if err := h.client.DeleteEventSubscription(cmd.Context(), args[0]); err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), map[string]string{"deleted": args[0]})
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "deleted event subscription %s\n", args[0])
				return err
			})
		},
	}
}

func newEventsDeliveriesCmd(g *globals) *cobra.Command {
	var sub string
	var limit int
	cmd := &cobra.Command{
		Use:   "deliveries",
		Short: "Show the latest delivery attempts, newest first",
		Long: `Show the latest delivery attempts, newest first: when, to which subscription,
how many events, the webhook's HTTP status (0: no answer) or error, the
latency, and the outcome: delivered, retry (and when) or dead (given up on).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 || limit > 1000 {
				return usagef("--limit %d: use 1 to 1000", limit)
			}
			return withHub(cmd, g, func(h *hubConn) (err error) {
				ds, err := h.client.EventDeliveries(cmd.Context(), sub, limit)
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), ds)
				}
				return printDeliveries(cmd.OutOrStdout(), ds)
			})
		},
	}
	cmd.Flags().StringVar(&sub, "subscription", "", "only this subscription's attempts")
	cmd.Flags().IntVar(&limit, "limit", 20, "how many attempts to show (1 to 1000)")
	return cmd
}

func printDeliveries(w io.Writer, ds []wire.EventDelivery) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tSUBSCRIPTION\tATTEMPT\tEVENTS\tSTATUS\tLATENCY\tOUTCOME\tDETAIL")
	for _, d := range ds {
		var detail []string
		if d.NextAttemptTime != nil {
			detail = append(detail, "next attempt "+fmtTime(*d.NextAttemptTime))
		}
		if d.Error != "" {
			detail = append(detail, d.Error)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%.1fms\t%s\t%s\n", fmtTime(d.Time), d.Subscription, d.Attempt,
			len(d.EventIDs), d.StatusCode, d.LatencyMs, d.Outcome, orDash(strings.Join(detail, "; ")))
	}
	return tw.Flush()
}
