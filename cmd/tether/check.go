package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tether-iot/tether/device"
	"github.com/tether-iot/tether/internal/check"
	"github.com/tether-iot/tether/internal/hubclient"
	"github.com/tether-iot/tether/sas"
)

func newCheckCmd(g *globals) *cobra.Command {
	var (
		o         check.Options
		transport string
		service   string
	)
	cmd := &cobra.Command{
		Use:   "check --connection-string 'HostName=…;DeviceId=…;SharedAccessKey=…'",
		Short: "Test a device's connectivity step by step, from the device's side",
		Long: `Test, from where the device runs, everything it needs to reach the hub: DNS,
TCP (8883, or 443 with --transport mqttws), TLS (chain, trust, host name,
expiry, version), MQTT CONNECT with the CONNACK explained through the error
catalog, the clock against the hub's, a QoS 1 telemetry round trip, a twin
read and a keep-alive ping. With --service-connection-string it also watches
the message arrive in the hub's telemetry stream and calls a direct method
back to the device.

Each step prints pass, warn, fail or skip, its time and, when it fails, the
fix. The exit status is 1 when any step failed.

--ca is the CA the device trusts; without it the check trusts only the
system's CAs, as a device without Tether's CA would (so the TLS step tells
you to pass DATA/tls/ca.pem).

The check connects as the device: a device that is connected elsewhere is
taken over for a moment (the hub logs it), and a message with the property
tether-check=1 is sent as its telemetry.`,
		Example: `  tether check --connection-string "$(tether device connection-string dev-1)" --ca tether-data/tls/ca.pem
  tether check --connection-string '…' --transport mqttws --service-connection-string "$(tether hub connection-string)" -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if g.connectionString == "" {
				return usagef("give the device's --connection-string (or TETHER_CONNECTION_STRING)")
			}
			cs, err := sas.ParseConnectionString(g.connectionString)
			if err != nil {
				return usagef("--connection-string: %v", err)
			}
			if cs.Kind() == sas.KindPolicy {
				return usagef("--connection-string must be a device connection string (HostName=…;DeviceId=…;SharedAccessKey=…); a policy string goes in --service-connection-string")
			}
			o.Credentials, o.CAFile, o.HTTPSURL = cs, g.caFile, strings.TrimSuffix(g.apiURL, "/")
			switch o.Transport = device.Transport(transport); o.Transport {
			case device.MQTT, device.MQTTWS:
			default:
				return usagef("--transport %q: use mqtt or mqttws", transport)
			}
			if service != "" {
				scs, err := sas.ParseConnectionString(service)
				if err != nil || scs.Kind() != sas.KindPolicy {
					return usagef("--service-connection-string must be a policy connection string (HostName=…;SharedAccessKeyName=…;SharedAccessKey=…)")
				}
				httpc, err := httpClient(g)
				if err != nil {
					return err
				}
				sc, err := hubclient.New(hubclient.Options{ConnectionString: scs, HTTPClient: httpc, BaseURL: g.apiURL})
				if err != nil {
					return err
				}
				o.Service = sc
			}
			r, err := check.Run(cmd.Context(), o)
			if err != nil {
				return usageError{err}
			}
			if g.output == "json" {
				err = printJSON(cmd.OutOrStdout(), r)
			} else {
				err = printCheck(cmd.OutOrStdout(), r)
			}
			if err == nil && !r.OK() {
				return exitStatus(1)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&transport, "transport", "mqtt", "mqtt (MQTT over TLS, port 8883) or mqttws (MQTT over WebSockets, port 443)")
	f.StringVar(&o.Addr, "addr", "", "host:port to dial instead of HostName:8883 (or :443), e.g. 127.0.0.1:18883")
	f.StringVar(&service, "service-connection-string", "", "a policy connection string: also watch the telemetry arrive and call a direct method")
	f.DurationVar(&o.Timeout, "timeout", 10*time.Second, "how long each step may take")
	return cmd
}

// printCheck prints a check report as aligned lines.
func printCheck(w io.Writer, r *check.Report) error {
	fmt.Fprintf(w, "tether check: device %s on %s (%s, %s)\n", r.Device, r.HostName, r.Addr, r.Transport)
	for _, s := range r.Steps {
		took := ""
		if s.Status != check.Skip {
			took = fmtStepTime(s.Duration)
		}
		fmt.Fprintf(w, "  %-4s  %-12s %9s  %s\n", strings.ToUpper(string(s.Status)), s.Name, took, s.Detail)
		if s.Fix != "" && s.Status != check.Pass {
			fmt.Fprintf(w, "  %-4s  %-12s %9s  fix: %s\n", "", "", "", s.Fix)
		}
		if s.Docs != "" && s.Status == check.Fail {
			fmt.Fprintf(w, "  %-4s  %-12s %9s  see: %s\n", "", "", "", s.Docs)
		}
	}
	if r.OK() {
		_, err := fmt.Fprintln(w, "all steps passed")
		return err
	}
	_, err := fmt.Fprintf(w, "%d of %d steps failed\n", r.Failed, len(r.Steps))
	return err
}

func fmtStepTime(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
	return d.Round(10 * time.Millisecond).String()
}
