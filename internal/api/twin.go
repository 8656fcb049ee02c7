package api

import (
	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
	"net/http"
)

func (a *API) writeTwin(w http.ResponseWriter, r *http.Request, t tether.Twin) error {
	d, err := a.o.Devices.Device(r.Context(), t.DeviceID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t.ETag(), wire.FromTwin(t, d, a.o.Now()))
}

func (a *API) getTwin(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	t, err := a.o.Twins.Twin(r.Context(), id)
	if err != nil {
		return err
	}
	return a.writeTwin(w, r, t)
}

func (a *API) patchTwin(w http.ResponseWriter, r *http.Request) error {
	return a.updateTwin(w, r, false)
}
func (a *API) putTwin(w http.ResponseWriter, r *http.Request) error { return a.updateTwin(w, r, true) }

// updateTwin merges (PATCH) or replaces (PUT) the tags and desired
// properties under If-Match.
func (a *API) updateTwin(w http.ResponseWriter, r *http.Request, replace bool) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in wire.TwinPatch
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	if in.DeviceID != "" && in.DeviceID != id {
		return tether.Errorf(tether.ArgumentInvalid, "deviceId %q in the body does not match %q in the URL", in.DeviceID, id)
	}
	if in.Properties != nil && in.Properties.Reported != nil {
		return tether.Errorf(tether.ArgumentInvalid, "properties.reported is written by the device only; a service may set tags and properties.desired")
	}
	match, now := ifMatch(r), a.o.Now()
	var before map[string]any // desired properties before a replace
	t, err := a.o.Twins.UpdateTwin(r.Context(), id, func(t *tether.Twin) error {
		before = t.Desired.Props
		if err := checkETag(match, t.ETag()); err != nil {
			return err
		}
		if replace {
			t.Tags = map[string]any{}
		}
		if in.Tags != nil {
			if err := t.PatchTags(in.Tags); err != nil {
				return err
			}
		}
		var desired map[string]any
		if in.Properties != nil {
			desired = in.Properties.Desired
		}
		switch {
		case replace:
			return t.Desired.Replace("desired", desired, now)
		case desired != nil:
			return t.Desired.Patch("desired", desired, now)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if a.o.Changes != nil {
		switch {
		case replace:
			a.o.Changes.DesiredChanged(id, replacePatch(before, t.Desired.Props), t.Desired.Version)
		case in.Properties != nil && in.Properties.Desired != nil:
			a.o.Changes.DesiredChanged(id, in.Properties.Desired, t.Desired.Version)
		}
	}
	return a.writeTwin(w, r, t)
}

// replacePatch is the patch a device needs to go from before to after:
// after's members, and null for every member that is gone.
func replacePatch(before, after map[string]any) map[string]any {
	patch := make(map[string]any, len(after)+len(before))
	for k := range before {
		patch[k] = nil
	}
	for k, v := range after {
		patch[k] = v
	}
	return patch
}
