package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
	"github.com/tether-iot/tether/sas"
)

func newDeviceCmd(g *globals) *cobra.Command {
	return groupCmd("device", "Manage devices in the registry", newDeviceCreateCmd(g), newDeviceListCmd(g), newDeviceShowCmd(g), newDeviceUpdateCmd(g),
		newDeviceDeleteCmd(g), newDeviceStatusCmd(g, tether.StatusEnabled), newDeviceStatusCmd(g, tether.StatusDisabled),
		newDeviceConnStringCmd(g))
}

// deviceFlags are the settable fields of a device.
type deviceFlags struct {
	status, statusReason, auth             string
	primaryKey, secondaryKey               string
	primaryThumbprint, secondaryThumbprint string
	edge                                   bool
}

func (f *deviceFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.status, "status", "", "enabled or disabled")
	fl.StringVar(&f.statusReason, "status-reason", "", "why the device has its status (up to 128 characters)")
	fl.StringVar(&f.auth, "auth", "", "authentication: sas (default), selfSigned, certificateAuthority or none")
	fl.StringVar(&f.primaryKey, "primary-key", "", "base64 primary key (default: generated)")
	fl.StringVar(&f.secondaryKey, "secondary-key", "", "base64 secondary key (default: generated)")
	fl.StringVar(&f.primaryThumbprint, "primary-thumbprint", "", "X.509 primary thumbprint (selfSigned)")
	fl.StringVar(&f.secondaryThumbprint, "secondary-thumbprint", "", "X.509 secondary thumbprint (selfSigned)")
	fl.BoolVar(&f.edge, "edge", false, "mark the device as an IoT Edge device")
}

// apply copies the flags the user gave onto d.
func (f *deviceFlags) apply(cmd *cobra.Command, d *wire.Device) {
	ch := cmd.Flags().Changed
	if ch("status") {
		d.Status = f.status
	}
	if ch("status-reason") {
		d.StatusReason = wire.Str(f.statusReason)
	}
	if d.Authentication == nil {
		d.Authentication = &wire.Authentication{}
	}
	a := d.Authentication
	if ch("auth") {
		a.Type = f.auth
	}
	if ch("primary-key") || ch("secondary-key") {
		if a.SymmetricKey == nil {
			a.SymmetricKey = &wire.SymmetricKey{}
		}
		if ch("primary-key") {
			a.SymmetricKey.PrimaryKey = wire.Str(f.primaryKey)
		}
		if ch("secondary-key") {
			a.SymmetricKey.SecondaryKey = wire.Str(f.secondaryKey)
		}
	}
	if ch("primary-thumbprint") || ch("secondary-thumbprint") {
		if a.X509Thumbprint == nil {
			a.X509Thumbprint = &wire.Thumbprints{}
		}
		if ch("primary-thumbprint") {
			a.X509Thumbprint.PrimaryThumbprint = wire.Str(f.primaryThumbprint)
		}
		if ch("secondary-thumbprint") {
			a.X509Thumbprint.SecondaryThumbprint = wire.Str(f.secondaryThumbprint)
		}
	}
	if ch("edge") {
		d.Capabilities = &wire.Capabilities{IoTEdge: f.edge}
	}
}

func (g *globals) printDevice(cmd *cobra.Command, d wire.Device) error {
	if g.output == "json" {
		return printJSON(cmd.OutOrStdout(), d)
	}
	return printDevice(cmd.OutOrStdout(), d)
}

func newDeviceCreateCmd(g *globals) *cobra.Command {
	var f deviceFlags
	cmd := &cobra.Command{
		Use:   "create ID",
		Short: "Register a device; keys are generated unless given",
		Args:  exactArgs(1, "a device ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withHub(cmd, g, func(h *hubConn) (err error) {
				d := wire.Device{DeviceID: args[0], Status: string(tether.StatusEnabled)}
				f.apply(cmd, &d)
				d, err = h.client.CreateDevice(cmd.Context(), d)
				if err != nil {
					return err
				}
				return g.printDevice(cmd, d)
			})
		},
	}
	f.register(cmd)
	return cmd
}

func newDeviceListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List devices",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withHub(cmd, g, func(h *hubConn) (err error) {
				ds, err := h.client.Devices(cmd.Context())
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), ds)
				}
				return printDevices(cmd.OutOrStdout(), ds)
			})
		},
	}
}

func newDeviceShowCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show a device (keys only with --output json)",
		Args:  exactArgs(1, "a device ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withHub(cmd, g, func(h *hubConn) (err error) {
				d, err := h.client.Device(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return g.printDevice(cmd, d)
			})
		},
	}
}

// updateDevice reads a device, lets change modify it and writes it back
// under its ETag, so a concurrent change is refused rather than lost.
func updateDevice(cmd *cobra.Command, g *globals, id string, change func(*wire.Device)) error {
	h, err := openHub(cmd.Context(), g)
	if err != nil {
		return err
	}
	defer h.Close()
	d, err := h.client.Device(cmd.Context(), id)
	if err != nil {
		return err
	}
	change(&d)
	d, err = h.client.UpdateDevice(cmd.Context(), d, d.ETag)
	if err != nil {
		return err
	}
	return g.printDevice(cmd, d)
}

func newDeviceUpdateCmd(g *globals) *cobra.Command {
	var f deviceFlags
	cmd := &cobra.Command{
		Use:   "update ID",
		Short: "Change a device's status, keys or authentication",
		Args:  exactArgs(1, "a device ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			changed := false
			cmd.LocalFlags().VisitAll(func(f *pflag.Flag) { changed = changed || f.Changed })
			if !changed {
				return usagef("device update needs at least one change, such as --status disabled or --primary-key KEY")
			}
			return updateDevice(cmd, g, args[0], func(d *wire.Device) { f.apply(cmd, d) })
		},
	}
	f.register(cmd)
	return cmd
}

func newDeviceStatusCmd(g *globals, status tether.Status) *cobra.Command {
	verb := "enable"
	if status == tether.StatusDisabled {
		verb = "disable"
	}
	var reason string
	cmd := &cobra.Command{
		Use:   verb + " ID",
		Short: fmt.Sprintf("Set a device's status to %s", status),
		Args:  exactArgs(1, "a device ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return updateDevice(cmd, g, args[0], func(d *wire.Device) {
				d.Status = string(status)
				if cmd.Flags().Changed("status-reason") {
					d.StatusReason = wire.Str(reason)
				}
			})
		},
	}
	cmd.Flags().StringVar(&reason, "status-reason", "", "why (up to 128 characters)")
	return cmd
}

func newDeviceDeleteCmd(g *globals) *cobra.Command {
	var etag string
	cmd := &cobra.Command{
		Use:   "delete ID",
		Short: "Remove a device and its twin",
		Args:  exactArgs(1, "a device ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withHub(cmd, g, func(h *hubConn) (err error) {
				if err := h.client.DeleteDevice(cmd.Context(), args[0], etag); err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), map[string]string{"deleted": args[0]})
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "deleted device %s\n", args[0])
				return err
			})
		},
	}
	cmd.Flags().StringVar(&etag, "etag", "*", "delete only if the device still has this ETag")
	return cmd
}

func newDeviceConnStringCmd(g *globals) *cobra.Command {
	var key string
	cmd := &cobra.Command{
		Use:   "connection-string ID",
		Short: "Print a device's connection string",
		Args:  exactArgs(1, "a device ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withHub(cmd, g, func(h *hubConn) (err error) {
				d, err := h.client.Device(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				cs, err := deviceConnectionString(h.hostname(), d, key)
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), map[string]string{"connectionString": cs.String()})
				}
				_, err = fmt.Fprintln(cmd.OutOrStdout(), cs.String())
				return err
			})
		},
	}
	cmd.Flags().StringVar(&key, "key", "primary", "which key: primary or secondary")
	return cmd
}

func deviceConnectionString(host string, d wire.Device, which string) (sas.ConnectionString, error) {
	if strings.Contains(d.DeviceID, ";") {
		return sas.ConnectionString{}, fmt.Errorf("device ID %q contains ';', which cannot be written in a connection string (the SDKs split on ';'); give the device's SDK the host, ID and key separately, or use a token from 'tether token generate --device'", d.DeviceID)
	}
	a := d.Authentication
	if a == nil || a.Type != string(tether.AuthSAS) || a.SymmetricKey == nil {
		return sas.ConnectionString{HostName: host, DeviceID: d.DeviceID, X509: true}, nil
	}
	k := a.SymmetricKey.PrimaryKey
	switch which {
	case "primary":
	case "secondary":
		k = a.SymmetricKey.SecondaryKey
	default:
		return sas.ConnectionString{}, usagef("--key %q: use primary or secondary", which)
	}
	return sas.ConnectionString{HostName: host, DeviceID: d.DeviceID, Key: tether.Secret(wire.Deref(k))}, nil
}
