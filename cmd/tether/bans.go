package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tether-iot/tether/internal/server"
	"github.com/tether-iot/tether/internal/wire"
)

func newBansCmd(g *globals) *cobra.Command {
	list := &cobra.Command{
		Use:   "list",
		Short: "List the auth-failure bans in force",
		Long: `List the source addresses and device ids that a running hub has banned after
repeated authentication failures (serve --auth-ban-threshold), with when each
ban ends. Bans live in the running hub's memory; it needs a ServiceConnect policy.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withHub(cmd, g, func(h *hubConn) error {
				if h.admin != nil {
					if ri, ok := server.Running(g.dataDir); !ok || !reachable(ri.HTTPSAddr) {
						return fmt.Errorf("no tether serve is running on %s; bans live in the running hub (start it, or give --connection-string of a remote hub)", g.dataDir)
					}
				}
				bans, err := h.client.Bans(cmd.Context())
				if err != nil {
					return err
				}
				if g.output == "json" {
					if bans == nil {
						bans = []wire.Ban{}
					}
					return printJSON(cmd.OutOrStdout(), bans)
				}
				return printBans(cmd.OutOrStdout(), bans, time.Now())
			})
		},
	}
	return groupCmd("bans", "Show the bans imposed after repeated authentication failures", list)
}

func printBans(w io.Writer, bans []wire.Ban, now time.Time) error {
	if len(bans) == 0 {
		_, err := fmt.Fprintln(w, "No bans in force.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tSUBJECT\tSINCE\tUNTIL\tLEFT\tFAILURES\tREFUSED")
	for _, b := range bans {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%d\t%d\n", b.Kind, b.Subject, b.Since.UTC().Format(time.RFC3339), b.Until.UTC().Format(time.RFC3339),
			b.Until.Sub(now).Round(time.Second), b.Failures, b.Refused)
	}
	return tw.Flush()
}
