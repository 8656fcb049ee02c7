package api

import (
	"net/http"
	"strconv"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

// maxList is the most devices one list call returns, as in Azure.
const maxList = 1000

func (a *API) getDevice(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	d, err := a.o.Devices.Device(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d.ETag(), wire.FromDevice(d))
}

func (a *API) listDevices(w http.ResponseWriter, r *http.Request) error {
	top := maxList
	if v := r.URL.Query().Get("top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxList {
			return tether.Errorf(tether.ArgumentInvalid, "top=%q must be a whole number from 1 to %d", v, maxList)
		}
		top = n
	}
	ds, err := a.o.Devices.Devices(r.Context(), top)
	if err != nil {
		return err
	}
	out := make([]wire.Device, len(ds))
	for i, d := range ds {
		out[i] = wire.FromDevice(d)
	}
	return writeJSON(w, http.StatusOK, "", out)
}

// putDevice creates a device (no If-Match) or updates one (If-Match "*" or
// its ETag), as the SDKs' create and update calls do.
func (a *API) putDevice(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in wire.Device
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	now := a.o.Now()
	match := ifMatch(r)
	var d tether.Device
	if match == "" {
		d = tether.Device{ID: id, GenerationID: newGenerationID(now), Status: tether.StatusEnabled,
			StatusUpdatedTime: now, ConnectionState: tether.Disconnected}
		if err := a.applyDeviceJSON(&d, in, now); err != nil {
			return err
		}
		d, err = a.o.Devices.CreateDevice(r.Context(), d)
	} else {
		d, err = a.o.Devices.UpdateDevice(r.Context(), id, func(d *tether.Device) error {
			if err := checkETag(match, d.ETag()); err != nil {
				return err
			}
			return a.applyDeviceJSON(d, in, now)
		})
	}
	if err != nil {
		return err
	}
	a.log.Info("device written", "device", id, "status", d.Status, "created", match == "")
	if a.o.Changes != nil && match != "" {
		a.o.Changes.DeviceChanged(d, false)
	}
	return writeJSON(w, http.StatusOK, d.ETag(), wire.FromDevice(d))
}

func (a *API) deleteDevice(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	match := ifMatch(r)
	err = a.o.Devices.DeleteDevice(r.Context(), id, func(d tether.Device) error {
		return checkETag(match, d.ETag())
	})
	if err != nil {
		return err
	}
	a.log.Info("device deleted", "device", id)
	if a.o.Changes != nil {
		a.o.Changes.DeviceChanged(tether.Device{ID: id}, true)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) deviceStats(w http.ResponseWriter, r *http.Request) error {
	total, enabled, disabled, err := a.o.Stats.DeviceCounts(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, "", map[string]int{
		"totalDeviceCount": total, "enabledDeviceCount": enabled, "disabledDeviceCount": disabled})
}

func (a *API) serviceStats(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, "", map[string]int{"connectedDeviceCount": a.o.Connected()})
}
