package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tether-iot/tether/internal/wire"
)

func newMethodCmd(g *globals) *cobra.Command {
	var payload string
	var timeout, connectTimeout time.Duration
	invoke := &cobra.Command{
		Use:   "invoke ID METHOD",
		Short: "Call a direct method and print the device's answer",
		Long: `Call a direct method on a device, as 'az iot hub invoke-device-method' does, and
print the status and payload the device answers with. A device that answers
with an error status is still a successful call (exit 0); a device that is not
connected is an error: DeviceNotOnline (404103).`,
		Args: exactArgs(2, "a device ID and a method name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			call := wire.MethodCall{MethodName: args[1]}
			var err error
			if call.Payload, err = parseJSONFlag("--payload", payload); err != nil {
				return err
			}
			if call.ResponseTimeoutInSeconds, err = wholeSeconds("--timeout", timeout, 5*time.Second, 300*time.Second); err != nil {
				return err
			}
			if call.ConnectTimeoutInSeconds, err = wholeSeconds("--connect-timeout", connectTimeout, 0, 300*time.Second); err != nil {
				return err
			}
			return withHub(cmd, g, func(h *hubConn) (err error) {
				res, err := h.client.InvokeMethod(cmd.Context(), args[0], call)
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), res)
				}
				return printMethodResult(cmd.OutOrStdout(), res)
			})
		},
	}
	f := invoke.Flags()
	f.StringVar(&payload, "payload", "null", `the method's JSON payload, such as '{"delay":5}'`)
	f.DurationVar(&timeout, "timeout", 30*time.Second, "how long the device has to answer (5s to 300s)")
	f.DurationVar(&connectTimeout, "connect-timeout", 0, "how long to wait for a disconnected device to connect (0 to 300s)")
	return groupCmd("method", "Call direct methods on connected devices", invoke)
}

func printMethodResult(w io.Writer, res wire.MethodResult) error {
	note := ""
	if res.Status < 200 || res.Status > 299 {
		note = " (the device answered with a non-success status)"
	}
	fmt.Fprintf(w, "status: %d%s\n", res.Status, note)
	return printIndentedJSON(w, "", res.Payload)
}

// printIndentedJSON prints raw JSON indented, every line after prefix;
// empty input prints as null.
func printIndentedJSON(w io.Writer, prefix string, raw json.RawMessage) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = json.RawMessage("null")
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, prefix, "  "); err != nil {
		buf.Reset()
		buf.Write(raw)
	}
	_, err := fmt.Fprintf(w, "%s%s\n", prefix, buf.Bytes())
	return err
}

// wholeSeconds checks a duration flag against its range and returns it in
// seconds, the unit of the service API.
func wholeSeconds(flag string, d, least, most time.Duration) (int, error) {
	if d%time.Second != 0 {
		return 0, usagef("%s %v: give whole seconds, such as 30s or 2m", flag, d)
	}
	if d < least || d > most {
		return 0, usagef("%s %v: it must be from %s to %s", flag, d, shortDuration(least), shortDuration(most))
	}
	return int(d / time.Second), nil
}

// shortDuration formats d without zero minutes and seconds: 5m, not 5m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
