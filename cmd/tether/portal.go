package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tether-iot/tether/internal/server"
)

func newPortalCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "portal",
		Short: "Manage the web portal served at https://HOST/",
		Long: `The web portal is served by tether serve on its HTTPS port, at https://HOST/.
Log in with a shared access policy's connection string (the portal can then do
what the policy's rights allow) or with the admin password, which acts as the
iothubowner policy. The admin password is printed once, at the data folder's
first start; "tether portal reset-password" makes a new one.`,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "reset-password",
		Short: "Give the portal a new random admin password and print it",
		Long: `Replace the portal's admin password (stored hashed in DATA/portal/admin-password)
with a new random one and print it. A running hub accepts it at once; sessions
already logged in stay logged in until they log out or expire.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pw, err := server.ResetPortalPassword(g.dataDir)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "new portal admin password: %s\n", pw)
			return nil
		},
	})
	return cmd
}
