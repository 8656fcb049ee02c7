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
	fmt.Fprintln(tw, "DEVICE\tSTATUS\tSTATE\tSINCE\tLAST ACTIVITY\tLAST DISCONNECT\tAUTH")
	for _, d := range ds {
		auth := ""
		if d.Authentication != nil {
			auth = d.Authentication.Type
		}
		status := d.Status
		if r := wire.Deref(d.StatusReason); r != "" {
			status += " (" + r + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.DeviceID, status, d.ConnectionState, fmtTime(d.ConnectionStateUpdatedTime),
			fmtTime(d.LastActivityTime), fmtDisconnect(d.LastDisconnect), orDash(auth))
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
	row("lastDisconnect", fmtDisconnect(d.LastDisconnect))
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

// fmtDisconnect shows a last disconnect as "keepalive_timeout 404104 at T".
func fmtDisconnect(ld *wire.LastDisconnect) string {
	if ld == nil {
		return "-"
	}
	s := ld.Reason
	if ld.ResultType != "" {
		s += " " + ld.ResultType
	}
	return s + " at " + fmtTime(ld.Time)
}
