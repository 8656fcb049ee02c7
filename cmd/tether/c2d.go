package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/hubclient"
)

func newC2DCmd(g *globals) *cobra.Command {
	return groupCmd("c2d", "Send cloud-to-device messages and purge device queues", newC2DSendCmd(g), newC2DPurgeCmd(g))
}

func newC2DSendCmd(g *globals) *cobra.Command {
	var m hubclient.C2DSend
	var bodyFile string
	var props []string
	cmd := &cobra.Command{
		Use:   "send ID [BODY]",
		Short: "Queue a cloud-to-device message for a device",
		Long: `Queue a cloud-to-device message for a device, as
'az iot device c2d-message send' does. The device receives it when it is
connected and subscribed (MQTT devices/ID/messages/devicebound/#).

The body is BODY, or the contents of --body-file (- for standard input), or
empty. It may be at most 64 KB; a device may have at most 50 messages waiting.
Application property names are sent as HTTP header names, so the hub stores
them in lower case.

  tether c2d send d1 '{"led":"on"}' --content-type application/json --property prio=high --ack full`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return usagef("%s needs a device ID and at most one BODY (usage: %s)", cmd.CommandPath(), cmd.UseLine())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if m.Body, err = c2dBody(cmd, args, bodyFile); err != nil {
				return err
			}
			if m.Properties, err = parseProperties(props); err != nil {
				return err
			}
			if m.TTL != 0 {
				if _, err := wholeSeconds("--ttl", m.TTL, time.Second, 48*time.Hour); err != nil {
					return err
				}
			}
			switch m.Ack {
			case "", "none", "positive", "negative", "full":
			default:
				return usagef("--ack %q: use none, positive, negative or full", m.Ack)
			}
			return withHub(cmd, g, func(h *hubConn) (err error) {
				res, err := h.client.SendC2D(cmd.Context(), args[0], m)
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), res)
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "queued message %s for %s (expires %s; %d waiting for the device)\n",
					res.MessageID, res.DeviceID, fmtTime(res.ExpiryTime), res.PendingCount)
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&bodyFile, "body-file", "", "read the body from this file (- for standard input)")
	f.StringArrayVar(&props, "property", nil, "an application property NAME=VALUE (repeatable)")
	f.StringVar(&m.MessageID, "message-id", "", "the message ID (default: a new UUID)")
	f.StringVar(&m.CorrelationID, "correlation-id", "", "the correlation ID")
	f.StringVar(&m.UserID, "user-id", "", "the user ID")
	f.StringVar(&m.ContentType, "content-type", "", "the content type, such as application/json")
	f.StringVar(&m.ContentEncoding, "content-encoding", "", "the content encoding, such as utf-8")
	f.DurationVar(&m.TTL, "ttl", 0, "how long the message waits for the device (1s to 48h; default 1h)")
	f.StringVar(&m.Ack, "ack", "", "delivery feedback to ask for: none, positive, negative or full")
	return cmd
}

// c2dBody returns the message body from BODY or --body-file.
func c2dBody(cmd *cobra.Command, args []string, file string) ([]byte, error) {
	switch {
	case len(args) == 2 && file != "":
		return nil, usagef("give the body as BODY or --body-file, not both")
	case len(args) == 2:
		return []byte(args[1]), nil
	case file == "":
		return nil, nil
	}
	var r io.Reader = cmd.InOrStdin()
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("--body-file: %w", err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, tether.MaxC2DBytes+1))
	if err != nil {
		return nil, fmt.Errorf("--body-file %s: %w", file, err)
	}
	if len(b) > tether.MaxC2DBytes {
		return nil, tether.Errorf(tether.MessageTooLarge, "--body-file %s is over %d bytes, the most a cloud-to-device message may carry", file, tether.MaxC2DBytes)
	}
	return b, nil
}

// parseProperties reads NAME=VALUE pairs. Names travel as HTTP header
// names, so they must be header tokens.
func parseProperties(kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	props := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usagef("--property %q: use NAME=VALUE", kv)
		}
		if i := strings.IndexFunc(k, func(r rune) bool { return !isTokenChar(r) }); i >= 0 {
			return nil, usagef("--property %q: the name may not contain %q; use letters, digits and !#$%%&'*+-.^_`|~", kv, k[i:i+1])
		}
		if strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) {
			return nil, usagef("--property %q: the value may not contain line breaks or other control characters", k)
		}
		props[k] = v
	}
	return props, nil
}

// isTokenChar reports whether r may appear in an HTTP header name.
func isTokenChar(r rune) bool {
	return r < 0x7f && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r))
}

func newC2DPurgeCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "purge ID",
		Short: "Drop every cloud-to-device message waiting for a device",
		Args:  exactArgs(1, "a device ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withHub(cmd, g, func(h *hubConn) (err error) {
				res, err := h.client.PurgeC2D(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), res)
				}
				noun := "messages"
				if res.TotalMessagesPurged == 1 {
					noun = "message"
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "purged %d %s from the queue of %s\n", res.TotalMessagesPurged, noun, res.DeviceID)
				return err
			})
		},
	}
}
