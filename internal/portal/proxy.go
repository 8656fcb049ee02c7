package portal

import (
	"net/http"
	"strings"
	"time"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/sas"
)

// tokenLife is how long the tokens the proxy signs are valid: long
// enough for one request, short enough to be useless if leaked.
const tokenLife = 5 * time.Minute

// proxy hands /portal/api/svc/PATH to the service API as PATH, signed
// with a fresh SAS token of the session's policy. The API checks the
// policy's rights, so the session can do exactly what the policy can.
func (p *Portal) proxy(w http.ResponseWriter, r *http.Request, s *session) {
	pol, err := p.o.Policy(r.Context(), s.policy)
	if err != nil {
		if tether.ErrorKind(err) == tether.KindNotFound {
			p.sessions.remove(s.id)
			writeJSONError(w, http.StatusUnauthorized, "NotLoggedIn", "policy "+quote(s.policy)+" no longer exists; log in again")
			return
		}
		p.log.Error("read policy", "policy", s.policy, "err", err)
		writeJSONError(w, http.StatusInternalServerError, "InternalError", "internal error reading the policy")
		return
	}
	key := pol.PrimaryKey
	if !s.admin {
		if !keyMatches(pol, s.keyHash) {
			p.sessions.remove(s.id)
			writeJSONError(w, http.StatusUnauthorized, "NotLoggedIn", "policy "+quote(s.policy)+"'s keys changed since this login; log in again")
			return
		}
		if h := hashKey(pol.SecondaryKey); h == s.keyHash {
			key = pol.SecondaryKey
		}
	}
	tok, err := sas.Sign(sas.ResourceURI(p.o.Hostname, "", ""), key, pol.Name, p.o.Now().Add(tokenLife))
	if err != nil {
		p.log.Error("sign portal token", "policy", s.policy, "err", err)
		writeJSONError(w, http.StatusInternalServerError, "InternalError", "internal error signing the request")
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = strings.TrimPrefix(r.URL.Path, "/portal/api/svc")
	r2.URL.RawPath = ""
	r2.RequestURI = r2.URL.RequestURI()
	r2.Header.Del("Cookie")
	r2.Header.Del(csrfHeader)
	r2.Header.Set("Authorization", tok.String())
	p.o.API.ServeHTTP(w, r2)
}
