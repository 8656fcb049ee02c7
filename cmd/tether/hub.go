package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newHubCmd(g *globals) *cobra.Command {
	var policy string
	cs := &cobra.Command{
		Use:   "connection-string",
		Short: "Print a shared access policy's connection string (local --data only)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if g.connectionString != "" {
				return usagef("hub connection-string reads the local --data folder; a remote hub does not reveal its policy keys")
			}
			return withHub(cmd, g, func(h *hubConn) (err error) {
				c, err := h.admin.PolicyConnectionString(cmd.Context(), policy)
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), map[string]string{"policy": policy, "connectionString": c.String()})
				}
				_, err = fmt.Fprintln(cmd.OutOrStdout(), c.String())
				return err
			})
		},
	}
	cs.Flags().StringVar(&policy, "policy", "iothubowner", "policy name: iothubowner, service, device, registryRead, registryReadWrite")
	return groupCmd("hub", "The hub's own settings and credentials", cs)
}
