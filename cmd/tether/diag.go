package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tether-iot/tether/internal/server"
	"github.com/tether-iot/tether/internal/wire"
)

func newDiagCmd(g *globals) *cobra.Command {
	return groupCmd("diag", "The hub's diagnostic logs: what is recorded and where it goes",
		groupCmd("settings", "Show or change the diagnostic settings", newDiagSettingsShowCmd(g), newDiagSettingsSetCmd(g)))
}

// settingsTarget reads and writes the settings of the hub the flags name:
// a remote or running hub through its API (applied at once), else the
// data folder's store (applied by the next tether serve).
type settingsTarget struct {
	h      *hubConn
	stored bool // the data folder's stored settings, no hub running
}

func openSettings(ctx context.Context, g *globals) (*settingsTarget, error) {
	h, err := openHub(ctx, g)
	if err != nil {
		return nil, err
	}
	t := &settingsTarget{h: h}
	if h.admin != nil {
		ri, ok := server.Running(g.dataDir)
		t.stored = !ok || !reachable(ri.HTTPSAddr)
	}
	return t, nil
}

func (t *settingsTarget) get(ctx context.Context) (wire.DiagnosticSettings, error) {
	if t.stored {
		return t.h.admin.DiagnosticSettings(ctx)
	}
	return t.h.client.DiagnosticSettings(ctx)
}

func (t *settingsTarget) put(ctx context.Context, s wire.DiagnosticSettings) (wire.DiagnosticSettings, error) {
	if t.stored {
		return t.h.admin.PutDiagnosticSettings(ctx, s)
	}
	return t.h.client.PutDiagnosticSettings(ctx, s)
}

func newDiagSettingsShowCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show",
		Short: "Show the log categories recorded and the destinations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := openSettings(cmd.Context(), g)
			if err != nil {
				return err
			}
			defer t.h.Close()
			s, err := t.get(cmd.Context())
			if err != nil {
				return err
			}
			if g.output == "json" {
				return printJSON(cmd.OutOrStdout(), s)
			}
			return printDiagSettings(cmd.OutOrStdout(), s, t.stored)
		},
	}
}

func newDiagSettingsSetCmd(g *globals) *cobra.Command {
	var (
		categories      []string
		store           string
		file, httpURL   string
		noFile, noHTTP  bool
		maxSize, maxN   int
		retries, timout int
	)
	cmd := &cobra.Command{
		Use:   "set",
		Short: "Turn log categories on or off and set the destinations",
		Long: `Change the diagnostic settings; what no flag names stays as it is.

Every category is recorded by default, to the store (the AzureDiagnostics
table). Besides the store, records can go to a JSON-lines file and to an HTTP
endpoint, in the shape Azure IoT Hub exports resource logs in: one
{"records":[…]} object per batch (about one a second), a file line or a POST
body. These destinations are best effort: a slow or failing one loses its own
batches (counted in tether_diag_export_*_total), never the store's.

  tether diag settings set --category Connections=on,DirectMethods=off
  tether diag settings set --file /var/log/tether/diagnostics.jsonl --file-max-size-mb 100 --file-max-files 5
  tether diag settings set --http https://logs.example/ingest --no-file

A running hub (remote, or tether serve on --data) applies the change at once;
with none running, it is stored in --data for the next tether serve.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			if file != "" && noFile {
				return usagef("give --file or --no-file, not both")
			}
			if httpURL != "" && noHTTP {
				return usagef("give --http or --no-http, not both")
			}
			changes := 0
			cmd.LocalFlags().VisitAll(func(fl *pflag.Flag) {
				if fl.Changed {
					changes++
				}
			})
			if changes == 0 {
				return usagef("%s needs at least one change (see --help)", cmd.CommandPath())
			}
			toggles := map[string]bool{}
			for _, c := range categories {
				name, val, ok := strings.Cut(c, "=")
				on, valid := onOff(val)
				if !ok || name == "" || !valid {
					return usagef("--category %q: write CATEGORY=on or CATEGORY=off (for example Connections=on,DirectMethods=off)", c)
				}
				toggles[name] = on
			}
			var storeOn *bool
			if f.Changed("store") {
				on, valid := onOff(store)
				if !valid {
					return usagef("--store %q: use on or off", store)
				}
				storeOn = &on
			}
			if file != "" && !filepath.IsAbs(file) {
				if g.connectionString != "" {
					return usagef("--file %q must be an absolute path on the hub's machine", file)
				}
				abs, err := filepath.Abs(file)
				if err != nil {
					return err
				}
				file = abs
			}
			t, err := openSettings(cmd.Context(), g)
			if err != nil {
				return err
			}
			defer t.h.Close()
			s, err := t.get(cmd.Context())
			if err != nil {
				return err
			}
			applyToggles(&s, toggles)
			if storeOn != nil {
				s.Store = storeOn
			}
			switch {
			case noFile:
				s.File = nil
			case file != "" || f.Changed("file-max-size-mb") || f.Changed("file-max-files"):
				if file == "" && s.File == nil {
					return usagef("--file-max-size-mb and --file-max-files need --file (no file destination is set)")
				}
				if s.File == nil || file != "" {
					old := s.File
					s.File = &wire.DiagnosticFile{Path: file}
					if old != nil {
						s.File.MaxSizeMB, s.File.MaxFiles = old.MaxSizeMB, old.MaxFiles
					}
				}
				if f.Changed("file-max-size-mb") {
					s.File.MaxSizeMB = maxSize
				}
				if f.Changed("file-max-files") {
					s.File.MaxFiles = maxN
				}
			}
			switch {
			case noHTTP:
				s.HTTP = nil
			case httpURL != "" || f.Changed("http-retries") || f.Changed("http-timeout"):
				if httpURL == "" && s.HTTP == nil {
					return usagef("--http-retries and --http-timeout need --http (no HTTP destination is set)")
				}
				if s.HTTP == nil || httpURL != "" {
					old := s.HTTP
					s.HTTP = &wire.DiagnosticHTTP{URL: httpURL}
					if old != nil {
						s.HTTP.MaxRetries, s.HTTP.TimeoutSeconds = old.MaxRetries, old.TimeoutSeconds
					}
				}
				if f.Changed("http-retries") {
					s.HTTP.MaxRetries = retries
				}
				if f.Changed("http-timeout") {
					s.HTTP.TimeoutSeconds = timout
				}
			}
			out, err := t.put(cmd.Context(), s)
			if err != nil {
				return err
			}
			if g.output == "json" {
				return printJSON(cmd.OutOrStdout(), out)
			}
			return printDiagSettings(cmd.OutOrStdout(), out, t.stored)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&categories, "category", nil, "CATEGORY=on|off, comma-separated: Connections, DeviceIdentityOperations, DirectMethods, D2CTwinOperations, C2DTwinOperations, C2DCommands, DeviceTelemetry")
	f.StringVar(&store, "store", "", "on or off: records to the store (the AzureDiagnostics table); default on")
	f.StringVar(&file, "file", "", "write records to this JSON-lines file (absolute on a remote hub)")
	f.BoolVar(&noFile, "no-file", false, "stop writing the file")
	f.IntVar(&maxSize, "file-max-size-mb", 0, "rotate the file at this size in MB (default 100)")
	f.IntVar(&maxN, "file-max-files", 0, "rotated files to keep: FILE.1 … FILE.N (default 5)")
	f.StringVar(&httpURL, "http", "", "POST records to this http:// or https:// URL")
	f.BoolVar(&noHTTP, "no-http", false, "stop posting records")
	f.IntVar(&retries, "http-retries", 0, "retries of a failed POST (default 3)")
	f.IntVar(&timout, "http-timeout", 0, "seconds each POST may take (default 10)")
	return cmd
}

func onOff(v string) (on, ok bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "on", "true", "enabled", "yes":
		return true, true
	case "off", "false", "disabled", "no":
		return false, true
	}
	return false, false
}

// applyToggles sets categories on or off, adding those not listed yet
// (the hub refuses unknown names).
func applyToggles(s *wire.DiagnosticSettings, toggles map[string]bool) {
	for i, l := range s.Logs {
		for name, on := range toggles {
			if strings.EqualFold(name, l.Category) {
				s.Logs[i].Enabled = on
				delete(toggles, name)
			}
		}
	}
	for name, on := range toggles {
		s.Logs = append(s.Logs, wire.DiagnosticLogSetting{Category: name, Enabled: on})
	}
}

func printDiagSettings(w io.Writer, s wire.DiagnosticSettings, stored bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CATEGORY\tRECORDED")
	for _, l := range s.Logs {
		fmt.Fprintf(tw, "%s\t%s\n", l.Category, onOffText(l.Enabled))
	}
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "store:\t%s\n", onOffText(s.Store == nil || *s.Store))
	file := "off"
	if f := s.File; f != nil {
		file = fmt.Sprintf("%s (rotated at %d MB, %d rotated files kept)", f.Path, f.MaxSizeMB, f.MaxFiles)
	}
	fmt.Fprintf(tw, "file:\t%s\n", file)
	post := "off"
	if h := s.HTTP; h != nil {
		post = fmt.Sprintf("POST %s (%d retries, %ds timeout)", h.URL, h.MaxRetries, h.TimeoutSeconds)
	}
	fmt.Fprintf(tw, "http:\t%s\n", post)
	if err := tw.Flush(); err != nil {
		return err
	}
	if stored {
		_, err := fmt.Fprintln(w, "(no tether serve is running on this data folder: these are the stored settings, applied at its next start)")
		return err
	}
	return nil
}

func onOffText(on bool) string {
	if on {
		return "on"
	}
	return "off"
}
