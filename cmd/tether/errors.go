package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tether-iot/tether"
)

func newErrorsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "errors [CODE]",
		Short: "Explain a result code (401003, IoTHubUnauthorized, …), or list them all",
		Long: `Print an entry of the hub's error catalog: what the code means, its likely
causes, what to do, whether retrying helps, and its section in docs/errors.md.
CODE is the six-digit number or the name in any case (401003,
IoTHubUnauthorized, iothubunauthorized). Without CODE, print the whole table.

  tether errors 404104
  tether errors devicedisabled -o json
  tether errors`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			if len(args) == 0 {
				if g.output == "json" {
					return printJSON(w, tether.Codes())
				}
				return printCodeTable(w, tether.Codes())
			}
			info, err := tether.LookupCode(args[0])
			if err != nil {
				return err
			}
			if g.output == "json" {
				return printJSON(w, codeJSON{info, info.DocsLink()})
			}
			return printCode(w, info)
		},
	}
}

// codeJSON is one catalog entry with its docs link, as -o json prints it.
type codeJSON struct {
	tether.CodeInfo
	Docs string `json:"docs"`
}

func printCodeTable(w io.Writer, infos []tether.CodeInfo) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CODE\tNAME\tHTTP\tRETRY\tMEANING")
	for _, info := range infos {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", int(info.Code), info.Name, httpOrDash(info.HTTP), yesNo(info.Retryable), info.Meaning)
	}
	return tw.Flush()
}

func printCode(w io.Writer, info tether.CodeInfo) error {
	fmt.Fprintf(w, "%d %s\n  %s\n\nHTTP status: %s    Retryable: %s\n\nLikely causes:\n", int(info.Code), info.Name, info.Meaning,
		httpOrDash(info.HTTP), yesNo(info.Retryable))
	for _, c := range info.Causes {
		fmt.Fprintf(w, "  - %s\n", c)
	}
	fmt.Fprintln(w, "\nWhat to do:")
	for i, f := range info.Fix {
		fmt.Fprintf(w, "  %d. %s\n", i+1, f)
	}
	_, err := fmt.Fprintf(w, "\nDocs: %s\n", info.DocsLink())
	return err
}

func httpOrDash(s int) string {
	if s == 0 {
		return "-"
	}
	return fmt.Sprint(s)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
