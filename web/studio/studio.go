// Package studio serves the designers' studio: the library of scenarios with their lint
// and test status, an editor with diagnostics as you type, the graph, the tests, calls
// played "with the lid open", saves with revisions, live reload, and the paths recorded
// calls took. Pages are under /studio/ and the API under /api/studio/; both need a role
// (see Secrets).
//
// A *Studio is safe for concurrent use; it keeps no state of its own beyond the library,
// the call server and the journal it was given.
package studio

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/web"
	"github.com/switchboard-sim/switchboard/web/access"
	"github.com/switchboard-sim/switchboard/web/api"
	"github.com/switchboard-sim/switchboard/web/library"
	"github.com/switchboard-sim/switchboard/web/protocol"
)

// Limits and timings of the studio API.
const (
	maxBodyBytes   = 2*engine.MaxFileBytes + 64<<10 // a scenario and its tests, as JSON
	maxTestName    = 200
	storageTimeout = 10 * time.Second
	eventsPing     = 25 * time.Second // keeps the live-reload stream open through proxies
)

//go:embed static
var staticFiles embed.FS

// Options configure a Studio.
type Options struct {
	Library *library.Library
	Calls   *api.Server     // plays debug calls
	Journal journal.Journal // recorded calls, for paths taken and debriefs (may be nil)
	Secrets access.Secrets
	Logger  *slog.Logger
	// BaseURL is the server's public URL ("" when not set). When it is https, session
	// cookies are Secure (behind a TLS-terminating proxy the server itself sees http), and
	// its origin is accepted as the studio's own.
	BaseURL string
	// Sessions, when set, keeps sign-in sessions where every instance sees them
	// (PostgreSQL); otherwise they live in this process's memory.
	Sessions access.SessionStore
}

// Studio is the studio's HTTP handler. See the package doc.
type Studio struct {
	lib      *library.Library
	calls    *api.Server
	journal  journal.Journal
	secrets  access.Secrets
	log      *slog.Logger
	mux      *http.ServeMux
	sessions *access.Sessions
	throttle *access.Throttle
	secure   bool     // Secure cookies
	origin   *url.URL // the public origin, from BaseURL (nil: none)
	// streams closes when the server stops (StopStreams): the event streams end then,
	// rather than hold the HTTP server's shutdown until its timeout.
	streams  chan struct{}
	stopOnce sync.Once
}

// StopStreams ends the studio's event streams (the library's changes, the floor board):
// call it when the HTTP server starts shutting down (http.Server.RegisterOnShutdown).
// Safe to call more than once and from any goroutine.
func (s *Studio) StopStreams() { s.stopOnce.Do(func() { close(s.streams) }) }

// New makes the studio.
func New(o Options) (*Studio, error) {
	if o.Library == nil || o.Calls == nil {
		return nil, errors.New("studio: a library and a call server are needed")
	}
	if len(o.Secrets.Designer) < access.MinSecretLen || len(o.Secrets.Supervisor) < access.MinSecretLen {
		return nil, errors.New("studio: both secrets are needed")
	}
	s := &Studio{lib: o.Library, calls: o.Calls, journal: o.Journal, secrets: o.Secrets, log: o.Logger,
		sessions: access.NewSessions(), throttle: access.NewThrottle(), streams: make(chan struct{})}
	if o.Sessions != nil {
		s.sessions = access.NewSharedSessions(o.Sessions)
	}
	if o.BaseURL != "" {
		u, err := url.Parse(o.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("studio: base URL %q: want http(s)://host[:port]", o.BaseURL)
		}
		s.origin = &url.URL{Scheme: u.Scheme, Host: u.Host}
		s.secure = u.Scheme == "https"
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	// Trainees get each scenario's last version that passed lint, as soon as it changes.
	publish := func() {
		if err := s.calls.SetScenarios(s.lib.Published()); err != nil {
			s.log.Error("studio: the library could not be published", "err", err)
		}
	}
	s.lib.OnChange(publish)
	publish()
	m := http.NewServeMux()
	look, design := access.RoleSupervisor, access.RoleDesigner
	m.Handle("GET /api/studio/me", s.api(look, s.handleMe))
	m.Handle("GET /api/studio/scenarios", s.api(look, s.handleList))
	m.Handle("POST /api/studio/scenarios", s.api(design, s.handleNew))
	m.Handle("GET /api/studio/tracks", s.api(look, s.handleTracks))
	m.Handle("GET /api/studio/files/{path...}", s.api(look, s.handleGetFile))
	m.Handle("PUT /api/studio/files/{path...}", s.api(design, s.handleSave))
	m.Handle("GET /api/studio/revisions/{path...}", s.api(look, s.handleRevisions))
	m.Handle("POST /api/studio/restore", s.api(design, s.handleRestore))
	m.Handle("POST /api/studio/diff", s.api(look, s.handleDiff))
	m.Handle("POST /api/studio/check", s.api(look, s.handleCheck))
	m.Handle("POST /api/studio/tests", s.api(design, s.handleTests))
	m.Handle("POST /api/studio/understand", s.api(look, s.handleUnderstand))
	m.Handle("POST /api/studio/play", s.api(design, s.handlePlay))
	m.Handle("POST /api/studio/record", s.api(design, s.handleRecord))
	m.Handle("GET /api/studio/paths/{id}", s.api(look, s.handlePaths))
	m.Handle("POST /api/studio/impact", s.api(look, s.handleImpact))
	m.Handle("GET /api/studio/calls/{id}/debrief", s.api(look, s.handleDebrief))
	m.Handle("GET /api/studio/events", s.api(look, s.handleEvents))
	m.Handle("/api/studio/", s.api(look, func(w http.ResponseWriter, r *http.Request) {
		api.WriteError(w, http.StatusNotFound, protocol.CodeNotFound, "no such studio endpoint: "+r.Method+" "+r.URL.Path)
	}))
	s.registerSupervise(m)
	m.HandleFunc("GET /studio/sign-in", s.handleSignInPage)
	m.HandleFunc("POST /studio/sign-in", s.handleSignIn)
	m.HandleFunc("POST /studio/sign-out", s.handleSignOut)
	m.Handle("GET /studio/", s.page(http.StripPrefix("/studio", http.FileServerFS(mustSub(staticFiles, "static")))))
	m.HandleFunc("GET /studio", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/studio/?"+r.URL.RawQuery, http.StatusMovedPermanently)
	})
	s.mux = m
	return s, nil
}

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // the embedded folder exists: a build error, not input
	}
	return sub
}

// ServeHTTP implements http.Handler for /studio/ and /api/studio/.
func (s *Studio) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Pages and API answers alike: the trainee pages' strict policy (same-origin
	// websockets only), nosniff, no referrer, no framing.
	web.SetSecurityHeaders(w.Header())
	s.mux.ServeHTTP(w, r)
}

// Mount returns a handler serving the studio's paths with s and everything else with next.
func (s *Studio) Mount(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p == "/studio" || strings.HasPrefix(p, "/studio/") || strings.HasPrefix(p, "/api/studio/") || supervisePath(p) {
			s.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

type ctxKey struct{}

// api wraps an API handler: the role is checked (401 without a valid secret, 403 when it
// is not enough) and so is the origin of requests that change things.
func (s *Studio) api(need access.Role, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		role := s.requestRole(r)
		switch {
		case role == access.RoleNone:
			w.Header().Set("WWW-Authenticate", `Bearer realm="switchboard studio"`)
			api.WriteError(w, http.StatusUnauthorized, protocol.CodeUnauthorized, "the studio needs the designer link or a secret (sign in at /studio/sign-in)")
			return
		case role < need:
			api.WriteError(w, http.StatusForbidden, protocol.CodeForbidden, "this needs the designer role; the supervisor secret can only look")
			return
		case r.Method != http.MethodGet && !s.sameOrigin(r, false):
			api.WriteError(w, http.StatusForbidden, protocol.CodeBadOrigin, "this origin may not change the studio")
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, role)))
	})
}

// page wraps the studio's pages: ?key=SECRET (the designer link) signs in and reloads
// without the key in the address; without a valid secret the sign-in page is shown.
func (s *Studio) page(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if key := r.URL.Query().Get("key"); key != "" {
			if !s.throttle.Allow(r) {
				s.signInPage(w, http.StatusTooManyRequests, "Too many sign-in attempts from here: wait a minute and try again.")
				return
			}
			role := s.secrets.RoleOf(key)
			if role == access.RoleNone {
				s.signInPage(w, http.StatusUnauthorized, "That link is not valid (any more). Paste the current secret, or ask for a new link.")
				return
			}
			if !s.signIn(w, r, role) {
				return
			}
			q := r.URL.Query()
			q.Del("key")
			u := *r.URL
			u.RawQuery = q.Encode()
			http.Redirect(w, r, u.String(), http.StatusSeeOther)
			return
		}
		if s.requestRole(r) == access.RoleNone {
			s.signInPage(w, http.StatusUnauthorized, "")
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}

func role(r *http.Request) access.Role {
	v, _ := r.Context().Value(ctxKey{}).(access.Role)
	return v
}

// readJSON decodes a JSON request body into v, answering the client itself on failure.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, ok := api.ReadJSONBody(w, r, maxBodyBytes, 0)
	if !ok {
		return false
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		api.WriteError(w, http.StatusBadRequest, protocol.CodeBadJSON, "the request is not the expected JSON: "+protocol.JSONProblem(err))
		return false
	}
	return true
}

// handleMe tells the page who is signed in. Designers also learn where the scenario
// folder is on the server (to edit it with other tools); supervisors never see server paths.
func (s *Studio) handleMe(w http.ResponseWriter, r *http.Request) {
	me := map[string]string{"role": role(r).String()}
	if role(r) == access.RoleDesigner {
		me["folder"] = s.lib.Dir()
	}
	api.WriteJSON(w, http.StatusOK, me)
}

// listItem is an entry as the library page shows it.
type listItem struct {
	*library.Entry
	Live bool `json:"live"` // trainees can play it (a version passed lint)
}

func (s *Studio) handleList(w http.ResponseWriter, r *http.Request) {
	items := []listItem{}
	for _, e := range s.lib.Entries() {
		items = append(items, listItem{Entry: e, Live: e.Published != nil})
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"generation": s.lib.Generation(), "scenarios": items})
}

type newRequest struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

func (s *Studio) handleNew(w http.ResponseWriter, r *http.Request) {
	var req newRequest
	if !readJSON(w, r, &req) {
		return
	}
	p, err := s.lib.NewScenario(req.ID, req.Title)
	if err != nil {
		s.libError(w, err)
		return
	}
	s.log.Info("studio: new scenario", "path", p)
	api.WriteJSON(w, http.StatusCreated, map[string]string{"path": p})
}

// libError answers with the right status for a library error.
func (s *Studio) libError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, library.ErrConflict):
		api.WriteError(w, http.StatusConflict, protocol.CodeConflict, err.Error()+": reload it (your text stays in the editor) and save again")
	case errors.Is(err, library.ErrExists):
		api.WriteError(w, http.StatusConflict, protocol.CodeExists, err.Error())
	case errors.Is(err, library.ErrBadPath):
		api.WriteError(w, http.StatusBadRequest, protocol.CodeBadPath, err.Error())
	case errors.Is(err, library.ErrOutside):
		api.WriteError(w, http.StatusBadRequest, protocol.CodeOutside, err.Error())
	case errors.Is(err, library.ErrTooLarge):
		api.WriteError(w, http.StatusRequestEntityTooLarge, protocol.CodeTooLarge, err.Error())
	case errors.Is(err, library.ErrNotFound):
		api.WriteError(w, http.StatusNotFound, protocol.CodeNotFound, err.Error())
	default:
		// The details (which may name server paths) go to the log only.
		s.log.Error("studio: library", "err", err)
		api.WriteError(w, http.StatusInternalServerError, protocol.CodeStorage, "the file could not be written; the server's log has the details")
	}
}

// fileInfo is a file as the editor opens it.
type fileInfo struct {
	Path   string `json:"path"`
	Exists bool   `json:"exists"`
	Source string `json:"source"`
	Hash   string `json:"hash"` // "" when the file does not exist
}

func (s *Studio) handleGetFile(w http.ResponseWriter, r *http.Request) {
	p := r.PathValue("path")
	if !s.validPath(w, p) {
		return
	}
	b, ok := s.lib.File(p)
	if !ok {
		api.WriteJSON(w, http.StatusOK, fileInfo{Path: p})
		return
	}
	api.WriteJSON(w, http.StatusOK, fileInfo{Path: p, Exists: true, Source: string(b), Hash: library.HashOf(b)})
}

type saveRequest struct {
	Source string `json:"source"`
	Base   string `json:"base"` // the hash the editor started from ("" for a new file)
}

// saveResponse tells the editor what it saved and what trainees now get.
type saveResponse struct {
	Path  string         `json:"path"`
	Hash  string         `json:"hash"`
	Entry *library.Entry `json:"entry,omitempty"`
	// Track is the saved track with its lint (a file under tracks/ only).
	Track *trackItem `json:"track,omitempty"`
}

func (s *Studio) handleSave(w http.ResponseWriter, r *http.Request) {
	p := r.PathValue("path")
	var req saveRequest
	if !s.validPath(w, p) || !readJSON(w, r, &req) {
		return
	}
	if err := s.lib.Save(p, []byte(req.Source), req.Base); err != nil {
		s.libError(w, err)
		return
	}
	res := saveResponse{Path: p, Hash: library.HashOf([]byte(req.Source))}
	sp := p
	if t, isTest := engine.ScenarioPathOf(p); isTest {
		sp = t
	}
	if e, ok := s.lib.Entry(sp); ok {
		res.Entry = e
	}
	if isTrack, _ := trackPath(p); isTrack {
		it := s.trackItemOf(p, []byte(req.Source))
		res.Track = &it
	}
	s.log.Info("studio: saved", "path", p)
	api.WriteJSON(w, http.StatusOK, res)
}

func (s *Studio) handleRevisions(w http.ResponseWriter, r *http.Request) {
	p := r.PathValue("path")
	if id := r.URL.Query().Get("id"); id != "" {
		b, err := s.lib.Revision(p, id)
		if err != nil {
			s.libError(w, err)
			return
		}
		api.WriteJSON(w, http.StatusOK, fileInfo{Path: p, Exists: true, Source: string(b), Hash: library.HashOf(b)})
		return
	}
	res, err := s.revisionList(p)
	if err != nil {
		s.libError(w, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, res)
}

type restoreRequest struct {
	Path string `json:"path"`
	ID   string `json:"id"`
	Base string `json:"base"`
}

func (s *Studio) handleRestore(w http.ResponseWriter, r *http.Request) {
	var req restoreRequest
	if !readJSON(w, r, &req) {
		return
	}
	if err := s.lib.Restore(req.Path, req.ID, req.Base); err != nil {
		s.libError(w, err)
		return
	}
	b, _ := s.lib.File(req.Path)
	s.log.Info("studio: restored a revision", "path", req.Path, "revision", req.ID)
	api.WriteJSON(w, http.StatusOK, fileInfo{Path: req.Path, Exists: true, Source: string(b), Hash: library.HashOf(b)})
}
