package portal

import (
	"crypto/subtle"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/sas"
)

// Cookie names. The __Host- prefix makes the browser insist on Secure,
// Path=/ and no Domain, so no other host can plant or read them.
const (
	sessionCookie = "__Host-tether-session"
	loginCookie   = "__Host-tether-login" // the double-submit token of the login form
	csrfHeader    = "X-CSRF-Token"
	adminPolicy   = "iothubowner" // the policy the admin password acts as
)

// sessionInfo is GET /portal/api/session's answer: who is logged in, what
// they may do, and the token mutating calls must carry.
type sessionInfo struct {
	LoggedIn bool     `json:"loggedIn"`
	Policy   string   `json:"policy,omitempty"`
	Admin    bool     `json:"admin,omitempty"`
	Rights   []string `json:"rights,omitempty"`
	CSRF     string   `json:"csrf"`
	Hostname string   `json:"hostname"`
	Password bool     `json:"passwordLogin"` // the admin password can log in
}

func rightsList(r tether.Rights) []string {
	var out []string
	for _, n := range []struct {
		r    tether.Rights
		name string
	}{{tether.RegistryRead, "RegistryRead"}, {tether.RegistryWrite, "RegistryWrite"}, {tether.ServiceConnect, "ServiceConnect"}, {tether.DeviceConnect, "DeviceConnect"}} {
		if r.Has(n.r) {
			out = append(out, n.name)
		}
	}
	return out
}

func setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// current returns the request's live session, or nil.
func (p *Portal) current(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	return p.sessions.get(c.Value, p.o.Now())
}

// session answers who is logged in. Logged out, it issues the login
// form's double-submit token.
func (p *Portal) session(w http.ResponseWriter, r *http.Request) {
	info := sessionInfo{Hostname: p.o.Hostname, Password: p.o.Passwords != nil}
	if s := p.current(r); s != nil {
		info.LoggedIn, info.Policy, info.Admin, info.Rights, info.CSRF = true, s.policy, s.admin, rightsList(s.rights), s.csrf
	} else {
		info.CSRF = randomToken()
		setCookie(w, loginCookie, info.CSRF, 3600)
	}
	writeJSON(w, http.StatusOK, info)
}

// loginRequest is POST /portal/api/login's body: a policy connection
// string, or the admin password.
type loginRequest struct {
	ConnectionString string `json:"connectionString"`
	Password         string `json:"password"`
}

// login checks the credentials and starts a session. It needs the login
// double-submit token and is rate limited per client address.
func (p *Portal) login(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(loginCookie)
	if err != nil || !sameToken(c.Value, r.Header.Get(csrfHeader)) || !sameOrigin(r) {
		writeJSONError(w, http.StatusForbidden, "CSRFTokenInvalid", "the login form's CSRF token is missing or wrong; reload the page and try again")
		return
	}
	client := clientIP(r)
	now := p.o.Now()
	if wait := p.limiter.blocked(client, now); wait > 0 {
		w.Header().Set("Retry-After", itoa(int(wait.Seconds())+1))
		writeJSONError(w, http.StatusTooManyRequests, "TooManyLoginAttempts", "too many failed logins from this address; try again in "+wait.Round(1e9).String())
		return
	}
	var req loginRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 16<<10)).Decode(&req); err != nil {
		writeJSONError(w, http.StatusBadRequest, "ArgumentInvalid", "the login body is not JSON: "+err.Error())
		return
	}
	s, code, msg := p.authenticate(r, req)
	if s == nil {
		if code == http.StatusUnauthorized {
			p.limiter.failed(client, now)
		}
		p.log.Info("portal login refused", "client", client, "reason", msg)
		writeJSONError(w, code, "LoginFailed", msg)
		return
	}
	p.limiter.succeeded(client)
	s = p.sessions.add(*s, now)
	setCookie(w, sessionCookie, s.id, int(p.o.SessionTTL.Seconds()))
	setCookie(w, loginCookie, "", -1)
	p.log.Info("portal login", "client", client, "policy", s.policy, "admin", s.admin)
	writeJSON(w, http.StatusOK, sessionInfo{LoggedIn: true, Policy: s.policy, Admin: s.admin, Rights: rightsList(s.rights),
		CSRF: s.csrf, Hostname: p.o.Hostname, Password: p.o.Passwords != nil})
}

// authenticate checks a login request; it returns the session to start,
// or an HTTP status and a message that says what was wrong.
func (p *Portal) authenticate(r *http.Request, req loginRequest) (*session, int, string) {
	switch {
	case req.Password != "" && req.ConnectionString != "":
		return nil, http.StatusBadRequest, "give a connection string or the admin password, not both"
	case req.Password != "":
		if p.o.Passwords == nil {
			return nil, http.StatusBadRequest, "password login is off on this hub; use a policy connection string"
		}
		ok, err := p.o.Passwords.Check(req.Password)
		if err != nil {
			p.log.Error("check admin password", "err", err)
			return nil, http.StatusInternalServerError, "internal error checking the password"
		}
		if !ok {
			return nil, http.StatusUnauthorized, "wrong admin password (reset it with: tether portal reset-password)"
		}
		pol, err := p.o.Policy(r.Context(), adminPolicy)
		if err != nil {
			return nil, http.StatusServiceUnavailable, "the admin password acts as the iothubowner policy, which cannot be read: " + tether.ErrorMessage(err)
		}
		return &session{policy: pol.Name, rights: pol.Rights, admin: true}, 0, ""
	case req.ConnectionString != "":
		cs, err := sas.ParseConnectionString(strings.TrimSpace(req.ConnectionString))
		if err != nil {
			return nil, http.StatusBadRequest, "the connection string does not parse: " + tether.ErrorMessage(err)
		}
		if cs.Kind() != sas.KindPolicy {
			return nil, http.StatusBadRequest, "this is a " + cs.Kind().String() + " connection string; log in with a shared access policy's (HostName=…;SharedAccessKeyName=…;SharedAccessKey=…)"
		}
		if cs.Key == "" {
			return nil, http.StatusBadRequest, "the connection string has no SharedAccessKey"
		}
		pol, err := p.o.Policy(r.Context(), cs.KeyName)
		if err != nil {
			if tether.ErrorKind(err) == tether.KindNotFound {
				return nil, http.StatusUnauthorized, "no shared access policy named " + quote(cs.KeyName) + " on this hub"
			}
			p.log.Error("read policy", "policy", cs.KeyName, "err", err)
			return nil, http.StatusInternalServerError, "internal error reading the policy"
		}
		if !keyMatches(pol, hashKey(cs.Key)) {
			return nil, http.StatusUnauthorized, "the key is not policy " + quote(cs.KeyName) + "'s primary or secondary key"
		}
		if pol.Rights&(tether.RegistryRead|tether.RegistryWrite|tether.ServiceConnect) == 0 {
			return nil, http.StatusForbidden, "policy " + quote(cs.KeyName) + " has only " + pol.Rights.String() + "; the portal needs RegistryRead, RegistryWrite or ServiceConnect"
		}
		return &session{policy: pol.Name, rights: pol.Rights, keyHash: hashKey(cs.Key)}, 0, ""
	}
	return nil, http.StatusBadRequest, "give a policy connection string or the admin password"
}

// keyMatches reports whether h is the hash of one of pol's keys.
func keyMatches(pol tether.Policy, h [32]byte) bool {
	a, b := hashKey(pol.PrimaryKey), hashKey(pol.SecondaryKey)
	return subtle.ConstantTimeCompare(a[:], h[:])|subtle.ConstantTimeCompare(b[:], h[:]) == 1
}

// logout ends the session. It needs the CSRF token like any mutation.
func (p *Portal) logout(w http.ResponseWriter, r *http.Request) {
	s := p.current(r)
	if s == nil {
		setCookie(w, sessionCookie, "", -1)
		writeJSON(w, http.StatusOK, map[string]bool{"loggedIn": false})
		return
	}
	if !p.csrfOK(r, s) {
		writeCSRFError(w)
		return
	}
	p.sessions.remove(s.id)
	setCookie(w, sessionCookie, "", -1)
	writeJSON(w, http.StatusOK, map[string]bool{"loggedIn": false})
}

// authed wraps h: it needs a live session with rights need (0: any),
// and the CSRF token on every method but GET and HEAD.
func (p *Portal) authed(need tether.Rights, h func(http.ResponseWriter, *http.Request, *session)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := p.current(r)
		if s == nil {
			writeJSONError(w, http.StatusUnauthorized, "NotLoggedIn", "not logged in, or the session has expired; log in again")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !p.csrfOK(r, s) {
			writeCSRFError(w)
			return
		}
		if !s.rights.Has(need) {
			writeJSONError(w, http.StatusForbidden, "MissingRights", "policy "+quote(s.policy)+" has "+s.rights.String()+"; this needs "+need.String())
			return
		}
		h(w, r, s)
	})
}

func (p *Portal) csrfOK(r *http.Request, s *session) bool {
	return sameToken(s.csrf, r.Header.Get(csrfHeader)) && sameOrigin(r)
}

func writeCSRFError(w http.ResponseWriter) {
	writeJSONError(w, http.StatusForbidden, "CSRFTokenInvalid", "the request's CSRF token is missing or wrong; reload the page")
}

func sameToken(want, got string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// sameOrigin refuses requests a browser marks as coming from another
// site: an Origin header naming another host, or Sec-Fetch-Site
// cross-site. Requests without either header (non-browser clients) pass;
// they still need the token.
func sameOrigin(r *http.Request) bool {
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" && s != "none" {
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && o != "https://"+r.Host {
		return false
	}
	return true
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
