package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
	"github.com/tether-iot/tether/sas"
)

func newTokenCmd(g *globals) *cobra.Command {
	var device, policy string
	var duration time.Duration
	gen := &cobra.Command{
		Use:   "generate",
		Short: "Make a SAS token for a device (--device) or a policy (--policy)",
		Long: `Make a SAS token, as 'az iot hub generate-sas-token' does.

--device ID signs with the device's primary key for the audience HOST/devices/ID:
the MQTT password of that device. --policy NAME signs with the policy's key for
the audience HOST: the Authorization header of the service API.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (device == "") == (policy == "") {
				return usagef("token generate needs exactly one of --device ID or --policy NAME")
			}
			if duration <= 0 {
				return usagef("--duration %v must be positive", duration)
			}
			return withHub(cmd, g, func(h *hubConn) (err error) {
				expiry := time.Now().Add(duration)
				var tok sas.Token
				if device != "" {
					tok, err = deviceToken(cmd, h, device, expiry)
				} else {
					tok, err = policyToken(cmd, h, policy, expiry)
				}
				if err != nil {
					return err
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), map[string]string{"sas": tok.String(), "expiry": expiry.UTC().Format(time.RFC3339)})
				}
				_, err = fmt.Fprintln(cmd.OutOrStdout(), tok.String())
				return err
			})
		},
	}
	gen.Flags().StringVar(&device, "device", "", "sign for this device with its primary key")
	gen.Flags().StringVar(&policy, "policy", "", "sign for this shared access policy")
	gen.Flags().DurationVar(&duration, "duration", time.Hour, "how long the token is valid")
	return groupCmd("token", "Shared access signature tokens", gen)
}

func deviceToken(cmd *cobra.Command, h *hubConn, id string, expiry time.Time) (sas.Token, error) {
	d, err := h.client.Device(cmd.Context(), id)
	if err != nil {
		return "", err
	}
	if d.Authentication == nil || d.Authentication.SymmetricKey == nil || d.Authentication.SymmetricKey.PrimaryKey == nil {
		return "", fmt.Errorf("device %s has no symmetric key (authentication %q); it cannot use SAS tokens", id, d.Authentication.Type)
	}
	key := tether.Secret(wire.Deref(d.Authentication.SymmetricKey.PrimaryKey))
	return sas.Sign(sas.ResourceURI(h.hostname(), id, ""), key, "", expiry)
}

func policyToken(cmd *cobra.Command, h *hubConn, name string, expiry time.Time) (sas.Token, error) {
	cs := h.cs
	if h.admin != nil {
		c, err := h.admin.PolicyConnectionString(cmd.Context(), name)
		if err != nil {
			return "", err
		}
		cs = c
	} else if cs.KeyName != name {
		return "", fmt.Errorf("a remote hub does not reveal policy keys: only --policy %s (the policy of --connection-string) can be signed", cs.KeyName)
	}
	return sas.Sign(cs.HostName, cs.Key, cs.KeyName, expiry)
}
