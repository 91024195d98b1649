package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var staticFiles embed.FS

// ContentSecurityPolicy allows only the server's own scripts and styles: no inline
// script, no eval, no third-party origin, no plugins, no <base>, forms and websockets to
// this origin only ('self' in connect-src covers ws:/wss: to the same host and port), and
// no framing. The studio's pages use the same policy.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; media-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// StaticHandler serves the embedded browser client with strict security headers.
func StaticHandler() http.Handler {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil { // the embedded folder is part of the binary; this cannot fail
		panic("web: embedded static files: " + err.Error())
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if r.URL.Path == "/favicon.ico" { // browsers ask for it by name; the icon is an SVG
			http.Redirect(w, r, "/favicon.svg", http.StatusMovedPermanently)
			return
		}
		SetSecurityHeaders(w.Header())
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}

// SupervisePage serves the floor board's page (static/supervise.html); its scripts are
// public files like the trainee's. The caller checks who may see it.
func SupervisePage() http.Handler {
	files := StaticHandler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/supervise.html"
		files.ServeHTTP(w, r2)
	})
}

// SetSecurityHeaders sets the headers every page of Switchboard carries: the strict
// ContentSecurityPolicy, nosniff, no referrer, and no framing.
func SetSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
}
