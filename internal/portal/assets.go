package portal

import (
	"embed"
	"mime"
	"net/http"
	"path"
)

// assets holds the page and the bundle web/build.sh makes (app.js,
// app.css). The bundle is committed, so building Tether needs no npm.
//
//go:embed assets
var assets embed.FS

// index serves the single page; the script routes within it.
func (p *Portal) index(w http.ResponseWriter, r *http.Request) {
	b, err := assets.ReadFile("assets/index.html")
	if err != nil {
		http.Error(w, "portal page missing from this build", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b)
}

// asset serves one file of the bundle.
func (p *Portal) asset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	if name == "index.html" || path.Base(name) != name {
		http.NotFound(w, r)
		return
	}
	b, err := assets.ReadFile("assets/" + name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}
