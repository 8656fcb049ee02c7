package api

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

// applyDeviceJSON copies the caller-settable fields of in onto d. Keys
// that are absent or empty are generated on create and kept on update.
func (a *API) applyDeviceJSON(d *tether.Device, in wire.Device, now time.Time) error {
	if in.DeviceID != "" && in.DeviceID != d.ID {
		return tether.Errorf(tether.ArgumentInvalid, "deviceId %q in the body does not match %q in the URL", in.DeviceID, d.ID)
	}
	status := d.Status // kept when the body leaves it out
	if in.Status != "" {
		status = tether.Status(in.Status)
	}
	if status != d.Status {
		d.Status, d.StatusUpdatedTime = status, now
	}
	d.StatusReason = wire.Deref(in.StatusReason)
	if in.Capabilities != nil {
		d.IoTEdge = in.Capabilities.IoTEdge
	}
	auth := in.Authentication
	if auth == nil {
		auth = &wire.Authentication{}
	}
	typ := tether.AuthType(auth.Type)
	if typ == "" && in.Authentication == nil {
		typ = d.Auth.Type // an update without an authentication block keeps it
	}
	if typ == "" {
		typ = tether.AuthSAS
		if auth.X509Thumbprint != nil && wire.Deref(auth.X509Thumbprint.PrimaryThumbprint) != "" {
			typ = tether.AuthSelfSigned
		}
	}
	d.Auth.Type = typ
	if auth.SymmetricKey != nil {
		if k := wire.Deref(auth.SymmetricKey.PrimaryKey); k != "" {
			d.Auth.PrimaryKey = tether.Secret(k)
		}
		if k := wire.Deref(auth.SymmetricKey.SecondaryKey); k != "" {
			d.Auth.SecondaryKey = tether.Secret(k)
		}
	}
	if auth.X509Thumbprint != nil {
		d.Auth.PrimaryThumbprint = wire.Deref(auth.X509Thumbprint.PrimaryThumbprint)
		d.Auth.SecondaryThumbprint = wire.Deref(auth.X509Thumbprint.SecondaryThumbprint)
	}
	if typ == tether.AuthSAS {
		for _, k := range []*tether.Secret{&d.Auth.PrimaryKey, &d.Auth.SecondaryKey} {
			if *k == "" {
				key, err := a.newKey()
				if err != nil {
					return err
				}
				*k = key
			}
		}
	}
	return d.Validate()
}

func (a *API) newKey() (tether.Secret, error) {
	b := make([]byte, 32)
	if _, err := a.o.Rand.Read(b); err != nil {
		return "", fmt.Errorf("generate key: %w", err)
	}
	return tether.Secret(base64.StdEncoding.EncodeToString(b)), nil
}

// newGenerationID returns an ID in Azure's style: .NET ticks at creation.
func newGenerationID(now time.Time) string {
	const unixEpochTicks = 621355968000000000
	return strconv.FormatInt(unixEpochTicks+now.UnixNano()/100, 10)
}

func pathID(r *http.Request) (string, error) {
	id := r.PathValue("id")
	return id, tether.ValidateDeviceID(id)
}
