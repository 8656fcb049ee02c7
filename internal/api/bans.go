package api

import (
	"net/http"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

// BanList lists the gateway's auth-failure bans in force at now.
type BanList func(now time.Time) []wire.Ban

// listBans answers GET /v1/bans.
func (a *API) listBans(w http.ResponseWriter, r *http.Request) error {
	if err := a.authorize(r, tether.ServiceConnect); err != nil {
		return err
	}
	if a.o.Bans == nil {
		return tether.Errorf(tether.ServiceUnavailable, "bans are not kept by this hub (no gateway runs in this process)")
	}
	bans := a.o.Bans(a.o.Now())
	if bans == nil {
		bans = []wire.Ban{}
	}
	return writeJSON(w, http.StatusOK, "", wire.BanList{Bans: bans})
}

// handleTether serves one of Tether's own routes: no api-version, the
// handler authorizes.
func (a *API) handleTether(pattern string, h handlerFunc) {
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if err := h(w, r); err != nil {
			a.writeError(w, r, err)
		}
	})
}
