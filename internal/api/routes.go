package api

import "net/http"

// routeMux is the API's ServeMux. It remembers every pattern registered
// on it, so that [API.Routes] lists every route whichever helper added
// it, and the permission tests cover routes as soon as they exist.
type routeMux struct {
	*http.ServeMux
	patterns []string
}

func newRouteMux() *routeMux { return &routeMux{ServeMux: http.NewServeMux()} }

func (m *routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.HandleFunc(pattern, h)
}

func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

// Routes lists the pattern of every route ("GET /devices/{id}"), in the
// order they were registered, without the catch-all "/".
func (a *API) Routes() []string {
	out := make([]string, 0, len(a.mux.patterns))
	for _, p := range a.mux.patterns {
		if p != "/" {
			out = append(out, p)
		}
	}
	return out
}
