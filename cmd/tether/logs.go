package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tether-iot/tether/internal/wire"
)

// outputsAnnotation lists the --output values a command takes beyond
// table and json (see the root command's check).
const outputsAnnotation = "tether/outputs"

func newLogsCmd(g *globals) *cobra.Command {
	return groupCmd("logs", "Search the hub's diagnostic logs with KQL", newLogsQueryCmd(g))
}

func newLogsQueryCmd(g *globals) *cobra.Command {
	var (
		timespan string
		file     string
		width    int
	)
	cmd := &cobra.Command{
		Use:   "query ['KQL' | -f FILE]",
		Short: "Run a KQL query over the AzureDiagnostics and AzureMetrics tables",
		Long: `Run a KQL (Kusto) query over the hub's diagnostic logs, as in Log Analytics:
the AzureDiagnostics table (connections, disconnects and the other resource-log
categories) and AzureMetrics. The queries of Azure IoT Hub's documentation run
unchanged, for example the troubleshooting guide's:

  tether logs query 'AzureDiagnostics
  | where ResourceType == "IOTHUBS" and Category == "Connections" and Level == "Error"'

Multi-line queries read well from a file (or - for standard input):

  tether logs query -f drops.kql --timespan P7D
  tether logs query -f - < drops.kql

Without a time filter on TimeGenerated and without --timespan a query sees the
last 24 hours. --timespan takes an ISO 8601 duration (PT1H, P1D, P7DT12H) or an
interval (2026-11-25T00:00:00Z/2026-11-26T00:00:00Z, START/PT6H) and applies
in addition to the query's own filters.

--output table (the default) cuts long cells and shows rows as records when
they are wider than the terminal; --output json prints the Log Analytics
answer; --output csv prints every value whole.

The query runs on the hub --connection-string names, on the tether serve
running on --data, or else in-process on the --data folder's logs.`,
		Annotations: map[string]string{outputsAnnotation: "csv"},
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) > 1:
				return usagef("%s takes one query; quote it ('AzureDiagnostics | take 10') or use -f FILE", cmd.CommandPath())
			case len(args) == 1 && file != "":
				return usagef("give the query as an argument or with -f, not both")
			case len(args) == 0 && file == "":
				return usagef("%s needs a query: %s 'AzureDiagnostics | take 10', or -f FILE (- for standard input)", cmd.CommandPath(), cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if width < 8 {
				return usagef("--max-width %d: cells need at least 8 characters", width)
			}
			query, err := readQuery(cmd.InOrStdin(), args, file)
			if err != nil {
				return err
			}
			return withHub(cmd, g, func(h *hubConn) error {
				res, err := h.client.Query(cmd.Context(), wire.QueryRequest{Query: query, Timespan: timespan})
				if err != nil {
					return explainQueryError(err, query)
				}
				w := cmd.OutOrStdout()
				switch g.output {
				case "json":
					return printJSON(w, res)
				case "csv":
					if res.Truncated {
						fmt.Fprintf(cmd.ErrOrStderr(), "tether: the result was cut at %d rows by the hub's row cap (--query-max-rows); narrow the query\n", len(res.Tables[0].Rows))
					}
					return printCSV(w, res.Tables[0])
				}
				return printQueryTable(w, res, tableLayout{cell: width, term: terminalWidth()})
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&timespan, "timespan", "", "ISO 8601 time range on top of the query's own filters: PT1H, P1D, START/END (default: the last 24h unless the query filters TimeGenerated)")
	f.StringVarP(&file, "file", "f", "", "read the query from this file (- for standard input)")
	f.IntVar(&width, "max-width", 40, "table output: cut cells longer than this many characters")
	return cmd
}

// readQuery returns the query from the argument or the -f file.
func readQuery(stdin io.Reader, args []string, file string) (string, error) {
	if len(args) == 1 {
		return args[0], nil
	}
	var (
		b   []byte
		err error
	)
	if file == "-" {
		b, err = io.ReadAll(io.LimitReader(stdin, 1<<20))
	} else {
		b, err = os.ReadFile(file)
	}
	if err != nil {
		return "", fmt.Errorf("read the query: %w", err)
	}
	if strings.TrimSpace(string(b)) == "" {
		name := file
		if file == "-" {
			name = "standard input"
		}
		return "", usagef("the query in %s is empty", name)
	}
	return string(b), nil
}

// explainQueryError adds the query's offending line, and a caret under
// the column, to a positioned query error.
func explainQueryError(err error, query string) error {
	var qe *wire.QueryError
	if !errors.As(err, &qe) || qe.Line < 1 {
		return err
	}
	lines := strings.Split(query, "\n")
	if qe.Line > len(lines) {
		return err
	}
	line := strings.TrimRight(strings.ReplaceAll(lines[qe.Line-1], "\t", " "), "\r")
	pos := max(qe.Pos, 1)
	pad := strings.Repeat(" ", min(pos-1, len([]rune(line))))
	return fmt.Errorf("%w\n  %d | %s\n  %s | %s^", err, qe.Line, line, strings.Repeat(" ", len(fmt.Sprint(qe.Line))), pad)
}

// terminalWidth is $COLUMNS, else 160.
func terminalWidth() int {
	var n int
	if _, err := fmt.Sscan(os.Getenv("COLUMNS"), &n); err == nil && n >= 40 {
		return n
	}
	return 160
}
