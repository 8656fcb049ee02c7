package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tether-iot/tether/internal/wire"
)

func newTwinCmd(g *globals) *cobra.Command {
	return groupCmd("twin", "Read and change device twins", newTwinShowCmd(g), newTwinUpdateCmd(g))
}

func newTwinShowCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show a device's twin: tags, desired and reported properties",
		Args:  exactArgs(1, "a device ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withHub(cmd, g, func(h *hubConn) (err error) {
				t, err := h.client.Twin(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return g.printTwin(cmd, t)
			})
		},
	}
}

func newTwinUpdateCmd(g *globals) *cobra.Command {
	var desired, tags, etag string
	cmd := &cobra.Command{
		Use:   "update ID",
		Short: "Merge tags and desired properties into a twin (null removes a key)",
		Long: `Merge tags and desired properties into a device's twin, as a PATCH does: keys
given replace their values, nested objects merge, and null removes a key.

  tether twin update d1 --desired '{"interval":30}' --tags '{"site":"north"}'

With --etag the update is refused (PreconditionFailed) if the twin changed
since you read that ETag.`,
		Args: exactArgs(1, "a device ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ch := cmd.Flags().Changed
			if !ch("desired") && !ch("tags") {
				return usagef("twin update needs --desired JSON or --tags JSON (or both), such as --desired '{\"interval\":30}'")
			}
			var patch wire.TwinPatch
			var err error
			if ch("tags") {
				if patch.Tags, err = parseObjectFlag("--tags", tags); err != nil {
					return err
				}
			}
			if ch("desired") {
				patch.Properties = &struct {
					Desired  map[string]any `json:"desired,omitempty"`
					Reported map[string]any `json:"reported,omitempty"`
				}{}
				if patch.Properties.Desired, err = parseObjectFlag("--desired", desired); err != nil {
					return err
				}
			}
			return withHub(cmd, g, func(h *hubConn) (err error) {
				t, err := h.client.PatchTwin(cmd.Context(), args[0], patch, strings.Trim(etag, `"`))
				if err != nil {
					return err
				}
				return g.printTwin(cmd, t)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&desired, "desired", "", `desired properties to merge, as a JSON object`)
	f.StringVar(&tags, "tags", "", `tags to merge, as a JSON object`)
	f.StringVar(&etag, "etag", "*", "update only if the twin still has this ETag")
	return cmd
}

func (g *globals) printTwin(cmd *cobra.Command, t wire.Twin) error {
	if g.output == "json" {
		return printJSON(cmd.OutOrStdout(), t)
	}
	return printTwin(cmd.OutOrStdout(), t)
}

// printTwin prints a twin's identity, then its tags, desired and reported
// properties as indented JSON, without their $metadata.
func printTwin(w io.Writer, t wire.Twin) error {
	fmt.Fprintf(w, "deviceId: %s\netag:     %s\nversion:  %d\nstatus:   %s (%s)\n", t.DeviceID, t.ETag, t.Version, t.Status, t.ConnectionState)
	section := func(title string, v map[string]any) error {
		if v == nil {
			v = map[string]any{}
		}
		props := make(map[string]any, len(v))
		for k, x := range v {
			if k != "$metadata" && k != "$version" {
				props[k] = x
			}
		}
		if ver, ok := v["$version"]; ok {
			title += fmt.Sprintf(" ($version %v)", ver)
		}
		b, err := json.Marshal(props)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s:\n", title)
		return printIndentedJSON(w, "  ", b)
	}
	if err := section("tags", t.Tags); err != nil {
		return err
	}
	if err := section("desired", t.Properties.Desired); err != nil {
		return err
	}
	return section("reported", t.Properties.Reported)
}

// parseJSONFlag checks that a flag holds one JSON value and returns it.
func parseJSONFlag(flag, s string) (json.RawMessage, error) {
	var v any
	if err := decodeJSONFlag(flag, s, &v); err != nil {
		return nil, err
	}
	return json.RawMessage(s), nil
}

// parseObjectFlag reads a flag that must hold a JSON object. Numbers keep
// their exact digits.
func parseObjectFlag(flag, s string) (map[string]any, error) {
	var v any
	if err := decodeJSONFlag(flag, s, &v); err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, usagef("%s must be a JSON object such as '{\"interval\":30}', not %s", flag, jsonKindOf(v))
	}
	return m, nil
}

func decodeJSONFlag(flag, s string, v *any) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		return usagef("%s has more after the JSON value ends at byte %d: %q", flag, dec.InputOffset(), s[dec.InputOffset():])
	}
	var se *json.SyntaxError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.EOF) && strings.TrimSpace(s) == "":
		return usagef("%s is empty; give a JSON value such as '{\"interval\":30}'", flag)
	case errors.As(err, &se):
		return usagef("%s is not valid JSON: %v at byte %d (%s)", flag, se, se.Offset, pointAt(s, se.Offset))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return usagef("%s is not valid JSON: it ends at byte %d before the value is complete", flag, len(s))
	}
	return usagef("%s is not valid JSON: %v", flag, err)
}

// pointAt shows the input up to byte off, to point at a JSON error.
func pointAt(s string, off int64) string {
	i := min(int(off), len(s))
	start := max(0, i-20)
	var b bytes.Buffer
	if start > 0 {
		b.WriteString("…")
	}
	b.WriteString(s[start:i])
	b.WriteString("⟵ here")
	return b.String()
}

func jsonKindOf(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "that"
}
