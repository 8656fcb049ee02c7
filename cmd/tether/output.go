package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/tether-iot/tether/internal/wire"
)

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func fmtTime(t wire.Time) string {
	if t.Std().IsZero() {
		return "-"
	}
	return t.Std().UTC().Format(time.RFC3339)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// printDevices prints devices as a table.
func printDevices(w io.Writer, ds []wire.Device) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DEVICE\tSTATUS\tCONNECTION\tLAST ACTIVITY\tAUTH\tSTATUS REASON")
	for _, d := range ds {
		auth := ""
		if d.Authentication != nil {
			auth = d.Authentication.Type
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.DeviceID, d.Status, d.ConnectionState, fmtTime(d.LastActivityTime), orDash(auth), orDash(wire.Deref(d.StatusReason)))
	}
	return tw.Flush()
}

// printDevice prints one device as "field: value" lines, keys hidden.
func printDevice(w io.Writer, d wire.Device) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	row("deviceId", d.DeviceID)
	row("status", d.Status)
	row("statusReason", orDash(wire.Deref(d.StatusReason)))
	row("statusUpdatedTime", fmtTime(d.StatusUpdatedTime))
	row("connectionState", d.ConnectionState)
	row("connectionStateUpdatedTime", fmtTime(d.ConnectionStateUpdatedTime))
	row("lastActivityTime", fmtTime(d.LastActivityTime))
	row("cloudToDeviceMessageCount", fmt.Sprint(d.CloudToDeviceMessageCount))
	row("generationId", d.GenerationID)
	row("etag", d.ETag)
	if a := d.Authentication; a != nil {
		row("authentication", a.Type)
		if a.X509Thumbprint != nil && a.X509Thumbprint.PrimaryThumbprint != nil {
			row("primaryThumbprint", wire.Deref(a.X509Thumbprint.PrimaryThumbprint))
			row("secondaryThumbprint", wire.Deref(a.X509Thumbprint.SecondaryThumbprint))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, "(keys hidden: use 'tether device connection-string' or --output json)")
	return err
}
