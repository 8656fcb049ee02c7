package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tether-iot/tether/internal/api"
	"github.com/tether-iot/tether/internal/wire"
)

// Exit statuses of tether diagnose by the highest severity found; 1 and
// 2 stay "the command failed" and "usage error".
var severityExit = map[string]int{"": 0, wire.SeverityInfo: 0, wire.SeverityWarning: 3, wire.SeverityError: 4, wire.SeverityCritical: 5}

func newDiagnoseCmd(g *globals) *cobra.Command {
	var since, silentAfter string
	cmd := &cobra.Command{
		Use:   "diagnose [DEVICE]",
		Short: "Find patterns in the connection history: the cause, the evidence and the fix",
		Long: `Read the hub's connection log, metrics and registry, and report what is going
on: periodic token expiry, keep-alive timeouts at one duration (a NAT or load
balancer idle timer), takeovers between two addresses (a cloned identity),
reconnect loops, back-off without jitter, authentication failures after a
stretch of success (rotated key, stale token or clock skew), disabled or
deleted devices still trying, fleet-wide drops, connect storms, throttling,
devices that never connected and connected devices that stay silent.

Each finding has a severity, the log rows behind it, the probable cause and the
fix. With DEVICE, only that device's history is read; without, the whole hub's.
See docs/diagnose.md.

Exit status: 0 when nothing above info was found, 3 for a warning, 4 for an
error, 5 for a critical finding (1: the command failed, 2: usage error).

  tether diagnose thermostat-1
  tether diagnose --since 7d -o json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for name, v := range map[string]string{"--since": since, "--silent-after": silentAfter} {
				if _, err := api.ParseSince(name, v); err != nil {
					return usagef("%s %q: write a duration such as 90m, 24h or 7d", name, v)
				}
			}
			device := ""
			if len(args) == 1 {
				device = args[0]
			}
			return withHub(cmd, g, func(h *hubConn) error {
				d, err := h.client.Diagnose(cmd.Context(), device, since, silentAfter)
				if err != nil {
					return err
				}
				if g.output == "json" {
					err = printJSON(cmd.OutOrStdout(), d)
				} else {
					err = printDiagnosis(cmd.OutOrStdout(), d)
				}
				if err != nil {
					return err
				}
				if code := severityExit[d.Highest]; code != 0 {
					return exitStatus(code)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&since, "since", "24h", "how far back to look: 90m, 24h, 7d (at most 31d)")
	cmd.Flags().StringVar(&silentAfter, "silent-after", "1h", "report a connected device that has sent nothing for this long")
	return cmd
}

// exitStatus ends the program with a status and no message: the output
// already said everything.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func printDiagnosis(w io.Writer, d wire.Diagnosis) error {
	what := "the whole hub"
	if d.DeviceID != "" {
		what = d.DeviceID
	}
	fmt.Fprintf(w, "Diagnosis of %s from %s to %s: %s, %s.\n", what,
		d.Since.UTC().Format(time.RFC3339), d.Until.UTC().Format(time.RFC3339), count(d.Rows, "connection-log row"), count(d.Devices, "device"))
	if d.Truncated {
		fmt.Fprintln(w, "Only the newest rows were read; narrow --since or name a DEVICE to see the older ones.")
	}
	if len(d.Findings) == 0 {
		if d.DeviceID != "" && d.Rows == 0 && d.Devices == 0 {
			// Nothing to read is not a clean bill of health.
			_, err := fmt.Fprintf(w, "\nNothing to diagnose: %s is not in the registry and has no connection-log rows in this window.\nCheck the device ID (tether device list), or look further back with --since 7d.\n", d.DeviceID)
			return err
		}
		_, err := fmt.Fprintln(w, "\nNo problems found.")
		return err
	}
	counts := map[string]int{}
	for _, f := range d.Findings {
		counts[f.Severity]++
	}
	var parts []string
	for _, s := range []string{wire.SeverityCritical, wire.SeverityError, wire.SeverityWarning, wire.SeverityInfo} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	fmt.Fprintf(w, "Findings: %s.\n", strings.Join(parts, ", "))
	for _, f := range d.Findings {
		fmt.Fprintf(w, "\n[%s] %s\n", strings.ToUpper(f.Severity), f.Title)
		if len(f.Devices) > 0 && f.DeviceID == "" {
			fmt.Fprintf(w, "  Devices: %s\n", strings.Join(f.Devices, ", "))
		}
		fmt.Fprintf(w, "  Cause: %s\n", f.Cause)
		if len(f.Evidence) > 0 {
			fmt.Fprintln(w, "  Evidence:")
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			for _, e := range f.Evidence {
				fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.UTC().Format("2006-01-02T15:04:05.000Z"), orDash(e.DeviceID),
					e.Operation, orDash(e.ResultType), orDash(e.Reason), orDash(e.MaskedIP), evidenceText(e))
			}
			tw.Flush()
			if f.More > 0 {
				fmt.Fprintf(w, "    (%d more rows not shown; -o json has the same selection)\n", f.More)
			}
		}
		fmt.Fprintln(w, "  Fix:")
		for i, x := range f.Fix {
			fmt.Fprintf(w, "    %d. %s\n", i+1, x)
		}
		if f.Docs != "" {
			fmt.Fprintf(w, "  Docs: %s\n", f.Docs)
		}
	}
	return nil
}

func evidenceText(e wire.Evidence) string {
	switch {
	case e.Note != "" && e.Detail != "":
		return e.Note + ": " + e.Detail
	case e.Note != "":
		return e.Note
	}
	return orDash(e.Detail)
}

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
