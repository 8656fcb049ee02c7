package portal

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"time"

	"github.com/tether-iot/tether"
)

// maxSessions bounds the session table; a login beyond it evicts the
// session that expires first.
const maxSessions = 10000

// session is one logged-in browser.
type session struct {
	id      string
	csrf    string
	policy  string        // the policy whose rights and key the session uses
	rights  tether.Rights // as at login; the API checks the policy's current rights
	keyHash [32]byte      // sha256 of the key that logged in; zero for the admin password
	admin   bool          // logged in with the admin password
	expires time.Time
}

// sessions is the in-memory session table; a restart logs everyone out.
type sessions struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]*session
}

func newSessions(ttl time.Duration) *sessions {
	return &sessions{ttl: ttl, m: map[string]*session{}}
}

// add stores a new session for the login described by s and returns it
// with fresh ID and CSRF token.
func (ss *sessions) add(s session, now time.Time) *session {
	s.id, s.csrf, s.expires = randomToken(), randomToken(), now.Add(ss.ttl)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.m) >= maxSessions {
		ss.evict(now)
	}
	ss.m[s.id] = &s
	return &s
}

// evict removes expired sessions, or the one closest to expiry when
// none has expired. ss.mu is held.
func (ss *sessions) evict(now time.Time) {
	var first *session
	for id, s := range ss.m {
		if !now.Before(s.expires) {
			delete(ss.m, id)
			continue
		}
		if first == nil || s.expires.Before(first.expires) {
			first = s
		}
	}
	if len(ss.m) >= maxSessions && first != nil {
		delete(ss.m, first.id)
	}
}

// get returns the live session with id, or nil.
func (ss *sessions) get(id string, now time.Time) *session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.m[id]
	if s == nil {
		return nil
	}
	if !now.Before(s.expires) {
		delete(ss.m, id)
		return nil
	}
	return s
}

func (ss *sessions) remove(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.m, id)
}

// randomToken is 256 random bits, URL-safe base64.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand panics rather)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashKey(k tether.Secret) [32]byte { return sha256.Sum256([]byte(k.Reveal())) }
