package api

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

// statusOf is the one table from an error to an HTTP status: the result
// code's own status where the catalog has one, else its status class.
func statusOf(code tether.ResultCode) int {
	if s := code.Info().HTTP; s != 0 {
		return s
	}
	return code.HTTPStatus()
}

// writeError writes err as Azure's classic error body. Only coded errors
// show their message; anything else is logged and shown as an internal
// error.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := tether.ErrorCode(err)
	msg := tether.ErrorMessage(err)
	var te *tether.Error
	if !errors.As(err, &te) || code.HTTPStatus() >= 500 {
		a.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	} else {
		a.log.Debug("request refused", "method", r.Method, "path", r.URL.Path, "code", int(code), "err", err)
	}
	writeErrorBody(w, statusOf(code), code.Name(), msg, a.o.Now())
}

func writeErrorBody(w http.ResponseWriter, status int, name, msg string, now time.Time) {
	var id [16]byte
	rand.Read(id[:])
	w.Header().Set("iothub-errorcode", name)
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(wire.NewErrorBody(name, msg, hex.EncodeToString(id[:]), now))
}

// writeJSON writes v with status and, when etag is set, a quoted ETag.
func writeJSON(w http.ResponseWriter, status int, etag string, v any) error {
	if etag != "" {
		w.Header().Set("ETag", `"`+etag+`"`)
	}
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
