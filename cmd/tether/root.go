package main

import (
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// globals are the flags every command shares.
type globals struct {
	dataDir          string
	hostname         string
	output           string
	connectionString string
	caFile           string
	apiURL           string
}

func newRootCmd() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "tether",
		Short: "Tether: a self-hosted IoT hub that tells you why devices disconnect",
		Long: `Tether is a self-hosted IoT hub compatible with the Azure IoT device and service SDKs.

Run "tether serve" to start the hub. The other commands administer it: locally
on its --data folder, or remotely when --connection-string (or
TETHER_CONNECTION_STRING) holds a policy connection string.

The global flags and those of "serve" can also be set with environment
variables: TETHER_ and the flag name in upper case with dashes as underscores
(--https-addr: TETHER_HTTPS_ADDR, --connection-string: TETHER_CONNECTION_STRING).`,
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd); err != nil {
				return err
			}
			if err := checkOutput(cmd, g.output); err != nil {
				return err
			}
			return nil
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.dataDir, "data", "./tether-data", "the hub's data folder (store, TLS material)")
	pf.StringVarP(&g.output, "output", "o", "table", "output format: table or json (and csv for logs query)")
	pf.StringVar(&g.connectionString, "connection-string", "", "a policy connection string: work on a remote hub instead of --data")
	pf.StringVar(&g.caFile, "ca", "", "PEM file of the CA to trust for a remote hub (default: DATA/tls/ca.pem if present, else the system roots)")
	pf.StringVar(&g.apiURL, "api-url", "", "base URL of a remote hub's service API when it is not https://HOST:443 (e.g. https://localhost:8443)")
	pf.StringVar(&g.hostname, "hostname", "", "the host name devices and SDKs use (default: the one tether serve last used, else localhost)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newServeCmd(g), newHubCmd(g), newDeviceCmd(g), newTokenCmd(g),
		newMethodCmd(g), newTwinCmd(g), newC2DCmd(g), newMonitorCmd(g),
		newEventsCmd(g), newDiagCmd(g), newMetricsCmd(g), newAlertCmd(g, newAlertTestCmd(g)))
	root.AddCommand(newErrorsCmd(g), newDiagnoseCmd(g))
	root.AddCommand(newLogsCmd(g))
	root.AddCommand(newActionGroupCmd(g))
	root.AddCommand(newSimulateCmd(g))
	root.AddCommand(newCheckCmd(g))
	root.AddCommand(newBansCmd(g))
	root.AddCommand(newPortalCmd(g))
	return root
}

// applyEnv sets the global flags and those of serve that the user did
// not give from TETHER_<NAME>. Flags of other commands (--device, --status)
// are not read from the environment: a stray TETHER_STATUS must not
// change what "device create" does.
func applyEnv(cmd *cobra.Command) error {
	var err error
	set := func(f *pflag.Flag) {
		if f.Changed || err != nil {
			return
		}
		name := "TETHER_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok {
			if e := f.Value.Set(v); e != nil {
				err = usagef("%s=%q: %v", name, v, e)
			}
			f.Changed = true
		}
	}
	cmd.InheritedFlags().VisitAll(set)
	if cmd.Name() == "serve" {
		cmd.LocalFlags().VisitAll(set)
	} else {
		cmd.PersistentFlags().VisitAll(set)
	}
	return err
}

// groupCmd is a command that only holds subcommands; an unknown
// subcommand is a usage error, not a silent help page.
func groupCmd(use, short string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("%s needs a subcommand; see '%s --help'", cmd.CommandPath(), cmd.CommandPath())
			}
			return usagef("unknown command %q for %q; see '%s --help'", args[0], cmd.CommandPath(), cmd.CommandPath())
		},
	}
	cmd.AddCommand(subs...)
	return cmd
}

// exactArgs is cobra.ExactArgs with a message that names what is missing.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s needs %s (usage: %s)", cmd.CommandPath(), what, cmd.UseLine())
		}
		return nil
	}
}

// checkOutput accepts table and json, and the formats the command lists
// in its outputsAnnotation.
func checkOutput(cmd *cobra.Command, output string) error {
	if output == "table" || output == "json" {
		return nil
	}
	extra := cmd.Annotations[outputsAnnotation]
	for _, f := range strings.Split(extra, ",") {
		if f != "" && f == output {
			return nil
		}
	}
	if output == "csv" {
		return usagef("--output csv is for 'tether logs query'; %s prints table or json", cmd.CommandPath())
	}
	if extra != "" {
		return usagef("--output %q: use table, json or %s", output, strings.ReplaceAll(extra, ",", ", "))
	}
	return usagef("--output %q: use table or json", output)
}
