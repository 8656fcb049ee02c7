package api

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/sas"
)

// authorize checks the request's shared access signature against the
// hub's policies and the rights the route needs.
func (a *API) authorize(r *http.Request, need tether.Rights) error {
	h := r.Header.Get("Authorization")
	if h == "" {
		return unauthorized("Authorization header missing; send 'Authorization: SharedAccessSignature sr=%s&sig=…&se=…&skn=<policy>' (see 'tether token generate --policy')", a.o.Hostname)
	}
	if strings.HasPrefix(h, "Bearer ") {
		return unauthorized("Bearer (Microsoft Entra) tokens are not supported; use a shared access policy token")
	}
	var lookupErr error
	_, err := sas.Verify(sas.Request{
		Token:  h,
		Now:    a.o.Now(),
		Target: a.o.Hostname,
		Need:   need,
		Policy: func(name string) (sas.Credential, error) {
			p, err := a.o.Policy(r.Context(), name)
			if err != nil {
				if tether.ErrorKind(err) == tether.KindNotFound {
					return sas.Credential{}, fmt.Errorf("%w %q", sas.ErrUnknownPolicy, name)
				}
				lookupErr = err
				return sas.Credential{}, err
			}
			return sas.Credential{Name: p.Name, PrimaryKey: p.PrimaryKey, SecondaryKey: p.SecondaryKey, Rights: p.Rights}, nil
		},
	})
	switch {
	case err == nil:
		return nil
	case lookupErr != nil:
		return lookupErr // the store failed, not the caller
	}
	return unauthorized("%v", err)
}

func unauthorized(format string, args ...any) error {
	return tether.Errorf(tether.IoTHubUnauthorizedAccess, format, args...)
}
