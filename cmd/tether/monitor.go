package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/tether-iot/tether/internal/hubclient"
	"github.com/tether-iot/tether/internal/server"
	"github.com/tether-iot/tether/internal/wire"
)

func newMonitorCmd(g *globals) *cobra.Command {
	var o hubclient.TelemetryOptions
	var timeout time.Duration
	var props bool
	cmd := &cobra.Command{
		Use:   "monitor-events",
		Short: "Print device-to-cloud telemetry as it arrives",
		Long: `Print the telemetry devices send, as 'az iot hub monitor-events' does: each
event as indented JSON (one compact JSON object per line with -o json).

It reads the hub's built-in telemetry endpoint, so it needs a running hub:
  tether monitor-events --api-url https://localhost:8443        (this --data folder's hub)
  tether monitor-events --connection-string "HostName=…" --api-url https://hub:8443

The consumer group remembers how far it has read: without --from, it resumes
after the last event it printed (or starts at the end the first time).
--from start reads everything the hub keeps; --from SEQ starts at that
sequence number. Ctrl-C stops; so do --count and --timeout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFrom(o.From); err != nil {
				return err
			}
			if o.Limit < 0 {
				return usagef("--count %d: give a positive number of events, or 0 for no limit", o.Limit)
			}
			if timeout < 0 {
				return usagef("--timeout %v must not be negative", timeout)
			}
			c, err := streamClient(cmd.Context(), g)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			if g.output != "json" {
				fmt.Fprintln(cmd.ErrOrStderr(), "Monitoring telemetry; press Ctrl-C to stop.")
			}
			o.Wait = true
			out := cmd.OutOrStdout()
			err = c.Telemetry(ctx, o, func(ev wire.TelemetryEvent) error {
				if !props {
					ev.Event.Properties, ev.Event.Annotations = nil, nil
				}
				return printEvent(out, ev, g.output == "json")
			})
			if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				return nil // Ctrl-C or --timeout: a normal end
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.DeviceID, "device", "d", "", "only this device's events")
	f.StringVar(&o.ConsumerGroup, "consumer-group", "", "the consumer group whose offset to resume from and commit (default $Default)")
	f.StringVar(&o.From, "from", "", "where to start: start, end or a sequence number (default: the consumer group's offset, else end)")
	f.IntVar(&o.Limit, "count", 0, "stop after this many events (0: no limit)")
	f.DurationVar(&timeout, "timeout", 0, "stop after this long, without error (0: run until Ctrl-C)")
	f.BoolVar(&props, "properties", false, "include system and application properties and annotations")
	return cmd
}

func checkFrom(from string) error {
	switch from {
	case "", "start", "end":
		return nil
	}
	if n, err := strconv.ParseInt(from, 10, 64); err != nil || n < 0 {
		return usagef("--from %q: use start, end or a sequence number", from)
	}
	return nil
}

// streamClient returns a client for a running hub. The local data folder
// cannot stream in-process, so it takes --api-url, and signs with the
// folder's owner key.
func streamClient(ctx context.Context, g *globals) (*hubclient.Client, error) {
	if g.connectionString != "" {
		h, err := openHub(ctx, g)
		if err != nil {
			return nil, err
		}
		return h.client, nil // a remote hubConn holds nothing to close
	}
	base := g.apiURL
	if ri, ok := server.Running(g.dataDir); ok && base == "" {
		base = "https://" + ri.HTTPSAddr
	}
	if base == "" {
		return nil, usagef("monitor-events streams from a running hub, and none runs on --data %s: start 'tether serve', or add --api-url https://localhost:PORT "+
			"(the port it prints; this --data folder's owner key signs the requests), or give --connection-string and --api-url for another hub", g.dataDir)
	}
	if fi, err := os.Stat(g.dataDir); err != nil || !fi.IsDir() {
		return nil, usagef("--data %s is not a hub data folder; give the folder of the running hub, or --connection-string", g.dataDir)
	}
	admin, err := server.OpenAdmin(ctx, server.AdminOptions{DataDir: g.dataDir, Hostname: g.hostname})
	if err != nil {
		return nil, err
	}
	cs, err := admin.PolicyConnectionString(ctx, "iothubowner")
	admin.Close()
	if err != nil {
		return nil, err
	}
	httpc, err := httpClient(g)
	if err != nil {
		return nil, err
	}
	return hubclient.New(hubclient.Options{ConnectionString: cs, HTTPClient: httpc, BaseURL: base})
}

// printEvent prints ev indented, or on one line for -o json.
func printEvent(w io.Writer, ev wire.TelemetryEvent, compact bool) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if !compact {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(ev); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}
