package api

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/web"
	"github.com/switchboard-sim/switchboard/web/access"
	"github.com/switchboard-sim/switchboard/web/httpjson"
	"github.com/switchboard-sim/switchboard/web/live"
	"github.com/switchboard-sim/switchboard/web/peers"
	"github.com/switchboard-sim/switchboard/web/protocol"
)

// Defaults and limits of the server.
const (
	DefaultMaxCalls = live.DefaultMaxCalls // live calls when Options.MaxCalls is 0 (serve sets its own)
	storageTimeout  = 5 * time.Second      // one journal read
	wsReadBuffer    = 1024                 // a connection's websocket read buffer (client messages are small)
	wsWriteBuffer   = 4096                 // websocket write buffers, pooled: held only while writing
	healthTimeout   = 2 * time.Second      // a health check's journal probe
	// wsHandshakeTimeout bounds a websocket upgrade (the live layer's write deadline).
	wsHandshakeTimeout = 10 * time.Second
	maxBodyBytes       = 16 << 10 // the body of POST /api/calls
	maxTraineeRunes    = 64       // a trainee's name
)

// Options configure a Server.
type Options struct {
	// Scenarios offered to trainees; ids must be unique.
	Scenarios []*engine.Scenario
	// Origins allowed to start calls and open websockets (exact "scheme://host[:port]").
	// Empty means same host as the request. Requests without an Origin header are allowed.
	Origins []string
	// Coach is the default for calls that do not say whether to show feedback live.
	Coach bool
	// Journal records calls; nil keeps them in memory (journal.NewMemory: lost on restart).
	Journal journal.Journal
	// MaxCalls bounds the live calls (0 means DefaultMaxCalls).
	MaxCalls int
	// Logger receives the server's logs (nil means slog.Default()).
	Logger *slog.Logger
	// HomePage is the server's public base URL, used in xAPI statements to name activities
	// and trainee accounts ("" means xapi.DefaultHomePage).
	HomePage string
	// BodyTimeout bounds how long a request body may take to arrive (0 means BodyTimeout).
	BodyTimeout time.Duration
	// Clock is the live calls' time source (nil means the wall clock; see live.Clock).
	Clock live.Clock
	// OnFinish, when set, is called (under the call's lock, so it must not block) with
	// the id of each call once its result is in the journal.
	OnFinish func(callID string)
	// Ownership, when set, has the server own its calls through leases in the journal,
	// which must implement journal.Leases: for several instances sharing one journal
	// (PostgreSQL; see live.Ownership). Run KeepLeases and AdoptOrphans beside the server.
	Ownership *live.Ownership
	// Peers, when set (with Ownership), are the other instances sharing the journal: a
	// trainee's or supervisor's websocket to a call another live instance owns is
	// forwarded there, and the floor board lists every instance's calls (see Board).
	Peers *peers.Peers
}

// Server serves the browser client, the JSON API and the call websockets; the live calls
// themselves are held by its live.Floor. Its methods are safe for concurrent use.
type Server struct {
	cat         atomic.Pointer[catalog] // the scenarios offered to trainees; swapped by SetScenarios
	origins     []string
	coach       bool
	journal     journal.Journal
	homePage    string
	home        *url.URL // homePage parsed, nil when unset or not a URL
	bodyTimeout time.Duration
	log         *slog.Logger
	upgrader    websocket.Upgrader
	floor       *live.Floor
	metrics     *metrics
	peers       *peers.Peers // nil: one instance
	// beforeServe, when set (tests only), runs between a trainee websocket's upgrade and
	// its attachment to the call: a test holds it to play a slow handler, or looks at the
	// connection.
	beforeServe func(*http.Request, *websocket.Conn)
}

// catalog is the set of scenarios offered to trainees at one moment. It is never changed:
// SetScenarios swaps in a new one, and calls keep the *engine.Scenario they started with.
type catalog struct {
	byID map[string]*engine.Scenario
	list []scenarioInfo
}

func newCatalog(scs []*engine.Scenario) (*catalog, error) {
	c := &catalog{byID: map[string]*engine.Scenario{}, list: []scenarioInfo{}}
	for _, sc := range scs {
		if _, dup := c.byID[sc.ID]; dup {
			return nil, fmt.Errorf("two scenarios have the id %q (%s and %s)", sc.ID, c.byID[sc.ID].Path, sc.Path)
		}
		c.byID[sc.ID] = sc
		c.list = append(c.list, scenarioInfo{ID: sc.ID, Title: sc.Title, Brief: sc.Brief, Lesson: sc.Lesson,
			Persona:     personaInfo{Name: sc.Persona.Name, WPM: sc.Persona.WPM, Voice: sc.Persona.Voice},
			Suggestions: sc.Suggestions, SuggestionModes: sc.AllowedModes(),
			Tags: sc.Card.Tags, Difficulty: sc.Card.Difficulty, LengthS: sc.Card.LengthMS / 1000})
	}
	sort.Slice(c.list, func(i, j int) bool { return c.list[i].ID < c.list[j].ID })
	return c, nil
}

// SetScenarios replaces the scenarios offered to trainees, e.g. when the studio publishes
// a new version. Calls in progress keep the version they started with. Ids must be unique.
func (s *Server) SetScenarios(scs []*engine.Scenario) error {
	c, err := newCatalog(scs)
	if err != nil {
		return err
	}
	s.cat.Store(c)
	return nil
}

// scenarioInfo is a scenario as listed by GET /api/scenarios.
type scenarioInfo struct {
	ID      string      `json:"id"`
	Title   string      `json:"title"`
	Brief   string      `json:"brief"`
	Lesson  string      `json:"lesson"`
	Persona personaInfo `json:"persona"`
	// Suggestions is the scenario's suggestion mode: the default for its calls and the
	// most generous a trainee may pick; SuggestionModes lists those a trainee may pick.
	Suggestions     engine.SuggestionMode   `json:"suggestions"`
	SuggestionModes []engine.SuggestionMode `json:"suggestion_modes"`
	// The scenario's card in the picker (all optional): skill tags, difficulty, and the
	// typical length of a call in seconds.
	Tags       []string `json:"tags,omitempty"`
	Difficulty string   `json:"difficulty,omitempty"`
	LengthS    int64    `json:"length_s,omitempty"`
}

type personaInfo struct {
	Name  string        `json:"name"`
	WPM   int           `json:"wpm"`
	Voice *engine.Voice `json:"voice,omitempty"` // hints for the browser's speech voice
}

// New makes a server for the given scenarios.
func New(opts Options) (*Server, error) {
	s := &Server{
		coach:       opts.Coach,
		journal:     opts.Journal,
		homePage:    opts.HomePage,
		bodyTimeout: opts.BodyTimeout,
		log:         opts.Logger,
		peers:       opts.Peers,
	}
	if s.journal == nil {
		s.journal = journal.NewMemory()
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	for _, o := range opts.Origins {
		u, err := url.Parse(o)
		if err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return nil, fmt.Errorf("allowed origin %q: want scheme://host[:port]", o)
		}
		s.origins = append(s.origins, u.Scheme+"://"+u.Host)
	}
	if h, err := url.Parse(s.homePage); s.homePage != "" && err == nil && h.Host != "" {
		s.home = h
	}
	var owned *live.Owned
	if opts.Ownership != nil {
		var err error
		if owned, err = live.NewOwned(s.journal, *opts.Ownership); err != nil {
			return nil, err
		}
	}
	s.metrics = newMetrics(s)
	s.floor = live.New(live.Options{Journal: s.journal, MaxCalls: opts.MaxCalls, Logger: s.log, OnFinish: opts.OnFinish,
		Metrics: s.metrics.live, Clock: opts.Clock, Offered: func(id string) *engine.Scenario { return s.cat.Load().byID[id] }, Owned: owned})
	if err := s.SetScenarios(opts.Scenarios); err != nil {
		return nil, err
	}
	s.upgrader = websocket.Upgrader{
		ReadBufferSize: wsReadBuffer, WriteBufferSize: wsWriteBuffer,
		WriteBufferPool:  &sync.Pool{},
		HandshakeTimeout: wsHandshakeTimeout,
		// The origin is checked before the upgrade, with a JSON error (see handleWS).
		CheckOrigin: func(*http.Request) bool { return true },
	}
	return s, nil
}

// Shutdown stops taking calls, closes every websocket with 1001 (the journal already
// holds every accepted input) and waits, at most until ctx is done, for the goroutines.
func (s *Server) Shutdown(ctx context.Context) error { return s.floor.Shutdown(ctx) }

// KeepLeases renews this instance's call leases until ctx ends (with Options.Ownership;
// otherwise it returns at once).
func (s *Server) KeepLeases(ctx context.Context) { s.floor.KeepLeases(ctx) }

// AdoptOrphans takes over, every third of the lease TTL, the open calls of instances that
// died or drained, until ctx ends (with Options.Ownership; otherwise it returns at once).
// See live.Floor.AdoptOrphans.
func (s *Server) AdoptOrphans(ctx context.Context) { s.floor.AdoptOrphans(ctx) }

// ReleaseLeases gives up this instance's call leases after Shutdown (draining), so that
// the other instances take its calls over at once; it returns how many.
func (s *Server) ReleaseLeases(ctx context.Context) (int, error) { return s.floor.ReleaseLeases(ctx) }

// LiveCalls returns how many calls are in memory.
func (s *Server) LiveCalls() int { return s.floor.LiveCalls() }

// Floor returns the live calls: the studio starts debug calls there, and the floor board
// lists them.
func (s *Server) Floor() *live.Floor { return s.floor }

// Recover brings back the open calls the journal holds (see live.Floor.Recover).
func (s *Server) Recover(ctx context.Context) (int, error) { return s.floor.Recover(ctx) }

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/scenarios", s.handleScenarios)
	mux.HandleFunc("/api/calls", s.handleCalls)
	mux.HandleFunc("GET /api/calls/{id}/debrief", s.handleDebrief)
	mux.HandleFunc("GET /api/calls/{id}/xapi", s.handleXAPI)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, http.StatusNotFound, protocol.CodeNotFound, "no such API endpoint: "+r.URL.Path)
	})
	mux.HandleFunc("GET /ws/calls/{id}", s.handleWS)
	mux.HandleFunc("GET /api/peer/board", s.handlePeerBoard)
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.handleReady)
	mux.Handle("GET /metrics", s.metrics.handler())
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.Handle("/", web.StaticHandler())
	return s.logRequests(mux)
}

// statusWriter remembers the status of a response for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack lets the websocket upgrade take over the connection.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("the connection cannot be hijacked")
	}
	w.status = http.StatusSwitchingProtocols
	return h.Hijack()
}

// logRequests logs each request's method, path (never the query: it holds tokens) and status.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		s.log.Debug("http", "method", r.Method, "path", r.URL.Path, "status", sw.status, "ms", time.Since(start).Milliseconds())
	})
}

func (s *Server) handleScenarios(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, s.cat.Load().list)
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	if s.floor.Stopping() {
		WriteError(w, http.StatusServiceUnavailable, protocol.CodeShutdown, "the server is stopping")
		return
	}
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// writesRefuser is a journal that can tell that it refuses writes for now while it still
// answers reads (sqlitejournal.DB, after a full disk).
type writesRefuser interface{ WritesRefused() error }

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	status, code := "ok", http.StatusOK
	if s.journal != nil {
		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		defer cancel()
		if _, err := s.journal.List(ctx, journal.Filter{Limit: 1}); err != nil {
			s.log.Error("health check: journal", "err", err)
			status, code = "journal unavailable", http.StatusServiceUnavailable
		} else if r, ok := s.journal.(writesRefuser); ok {
			if err := r.WritesRefused(); err != nil {
				s.log.Error("health check: the journal refuses writes", "err", err)
				status, code = "journal refusing writes", http.StatusServiceUnavailable
			}
		}
	}
	WriteJSON(w, code, map[string]any{"status": status, "scenarios": len(s.cat.Load().list), "calls": s.LiveCalls()})
}

// originOK reports whether a request's Origin may use the API: none (not a browser),
// one of the configured origins, or by default the request's own origin or that of the
// public base URL (HomePage, for a TLS-terminating proxy): see OwnOrigin.
func (s *Server) originOK(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	if len(s.origins) > 0 {
		return slices.Contains(s.origins, strings.TrimSuffix(o, "/"))
	}
	return httpjson.OwnOrigin(r, o, s.home)
}

// startRequest is the body of POST /api/calls.
type startRequest struct {
	Scenario string `json:"scenario"`
	Trainee  string `json:"trainee"`
	Coach    *bool  `json:"coach"`
	// Suggestions is how the call offers suggested replies: never, on_request or always
	// (at most as generous as the scenario allows); empty for the scenario's default.
	Suggestions string `json:"suggestions"`
}

// parseStartRequest decodes and checks the body of POST /api/calls; its errors are the
// messages of a 400 bad_json.
func parseStartRequest(body []byte) (startRequest, error) {
	var req startRequest
	// encoding/json silently replaces invalid UTF-8 with U+FFFD: refuse it instead.
	if !utf8.Valid(body) {
		return req, errors.New("the request body is not valid UTF-8")
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return req, fmt.Errorf(`the body must be {"scenario": ID, "trainee": NAME, "coach": BOOL}: %s`, protocol.JSONProblem(err))
	}
	req.Trainee = strings.TrimSpace(req.Trainee)
	// A lone surrogate escape ("\ud800") also decodes to U+FFFD: not a name either.
	if strings.ContainsRune(req.Trainee, utf8.RuneError) {
		return req, errors.New("the trainee's name is not valid UTF-8")
	}
	if utf8.RuneCountInString(req.Trainee) > maxTraineeRunes {
		return req, errors.New("the trainee's name must be at most 64 characters")
	}
	// Control characters break transcripts and records; direction overrides (U+202E …)
	// make a name show as another in the lists supervisors read.
	if strings.ContainsFunc(req.Trainee, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) }) {
		return req, errors.New("the trainee's name may not hold control or text-direction characters")
	}
	return req, nil
}

// Retry-After of POST /api/calls's 503s (docs/protocol.md): how long a client should
// wait before starting a call again.
const (
	// RetryAfterBusy is the least Retry-After of a busy answer: the journal catches up
	// within a few commits once new calls stop joining its queue. The answer adds the
	// journal's estimated backlog (live.Floor.JournalWait), up to RetryAfterFull, so that
	// refused clients come back more slowly the further behind it is: thousands of
	// trainees retrying every 2 seconds are themselves load on a saturated server.
	RetryAfterBusy = 2 * time.Second
	// RetryAfterFull answers too_many_calls: a slot frees when a call ends, which takes
	// minutes, so ask for a longer pause.
	RetryAfterFull = 30 * time.Second
)

// retryAfterBusy is a busy answer's Retry-After in seconds when the journal's backlog
// would take wait to commit (see RetryAfterBusy).
func retryAfterBusy(wait time.Duration) int {
	d := min(RetryAfterBusy+wait.Round(time.Second), RetryAfterFull)
	return int(d / time.Second)
}

func (s *Server) handleCalls(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		WriteError(w, http.StatusMethodNotAllowed, protocol.CodeMethodNotAllowed, "use POST to start a call")
		return
	}
	if !s.originOK(r) {
		WriteError(w, http.StatusForbidden, protocol.CodeBadOrigin, "this origin may not start calls")
		return
	}
	body, ok := ReadJSONBody(w, r, maxBodyBytes, s.bodyTimeout)
	if !ok {
		return
	}
	req, err := parseStartRequest(body)
	if err != nil {
		WriteError(w, http.StatusBadRequest, protocol.CodeBadJSON, err.Error())
		return
	}
	sc, ok := s.cat.Load().byID[req.Scenario]
	if !ok {
		WriteError(w, http.StatusNotFound, protocol.CodeUnknownScenario, fmt.Sprintf("no scenario has the id %q%s", req.Scenario, s.didYouMean(req.Scenario)))
		return
	}
	coach := s.coach
	if req.Coach != nil {
		coach = *req.Coach
	}
	mode := sc.Suggestions
	if req.Suggestions != "" {
		m, ok := engine.ParseSuggestionMode(req.Suggestions)
		if !ok || !slices.Contains(sc.AllowedModes(), m) {
			WriteError(w, http.StatusBadRequest, protocol.CodeBadRequest, fmt.Sprintf("suggestions must be one of %s for this scenario", joinModes(sc.AllowedModes())))
			return
		}
		mode = m
	}
	info := journal.Call{
		ID: live.NewCallID(), ScenarioID: sc.ID, Title: sc.Title, Hash: sc.Hash, Sources: sc.Sources,
		Seed: randomSeed(), Trainee: req.Trainee, Coach: coach, Created: s.floor.Clock().Now().UTC(),
		Suggestions: string(mode),
	}
	res, err := s.floor.Start(r.Context(), info, sc)
	switch {
	case errors.Is(err, live.ErrStopping):
		WriteError(w, http.StatusServiceUnavailable, protocol.CodeShutdown, err.Error())
		return
	case errors.Is(err, live.ErrFull):
		w.Header().Set("Retry-After", strconv.Itoa(int(RetryAfterFull/time.Second)))
		WriteError(w, http.StatusServiceUnavailable, protocol.CodeTooManyCalls, err.Error())
		return
	case errors.Is(err, live.ErrBusy):
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterBusy(s.floor.JournalWait())))
		WriteError(w, http.StatusServiceUnavailable, protocol.CodeBusy, err.Error())
		return
	case err != nil && r.Context().Err() != nil:
		return // the client went away: nobody reads an answer, and it is not a server error
	case err != nil:
		WriteError(w, http.StatusServiceUnavailable, protocol.CodeStorage, err.Error())
		return
	}
	WriteJSON(w, http.StatusCreated, res)
}

// joinModes lists modes as "never, on_request".
func joinModes(ms []engine.SuggestionMode) string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = string(m)
	}
	return strings.Join(names, ", ")
}

// didYouMean suggests the offered scenario id closest to id (engine.DidYouMean: the
// same suggestions designers get from the checker).
func (s *Server) didYouMean(id string) string {
	list := s.cat.Load().list
	ids := make([]string, len(list))
	for i, sc := range list {
		ids[i] = sc.ID
	}
	return engine.DidYouMean(id, ids)
}

func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) {
	stopping := s.floor.Stopping()
	var found live.Found
	ok := false
	if !stopping && s.originOK(r) {
		found, ok = s.floor.Find(r.Context(), r.PathValue("id"))
	}
	switch {
	case stopping:
		WriteError(w, http.StatusServiceUnavailable, protocol.CodeShutdown, "the server is stopping; reconnect in a moment")
		return
	case !s.originOK(r):
		WriteError(w, http.StatusForbidden, protocol.CodeBadOrigin, "this origin may not connect")
		return
	case !ok:
		WriteError(w, http.StatusNotFound, protocol.CodeUnknownCall, "no such call")
		return
	case !access.CallTokenOK(callToken(r), found.TokenHash()):
		WriteError(w, http.StatusUnauthorized, protocol.CodeUnauthorized, "missing or wrong call token")
		return
	case found.OwnedElsewhere():
		// To the live owner (unless this request was forwarded already: never twice).
		s.peers.Forward(w, r, r.PathValue("id"), "", func(w http.ResponseWriter, r *http.Request) {
			WriteError(w, http.StatusServiceUnavailable, protocol.CodeOwnedElsewhere, "another instance runs this call; reconnect in a moment")
		})
		return
	case !websocket.IsWebSocketUpgrade(r):
		WriteError(w, http.StatusBadRequest, protocol.CodeBadRequest, "this endpoint needs a websocket upgrade")
		return
	}
	after, ok := afterParam(w, r)
	if !ok {
		return
	}
	ws, err := s.upgrader.Upgrade(coarseWrites{w}, r, nil)
	if err != nil {
		return // the upgrader has answered the client
	}
	if s.beforeServe != nil {
		s.beforeServe(r, ws)
	}
	s.floor.Serve(ws, found, after)
}

// randomSeed picks a new call's seed (a variable so that browser tests can replay a call
// with a known shuffle of suggested replies).
var randomSeed = func() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

// afterParam reads a websocket's after=N (the last seq the client has; 0 when absent),
// answering 400 when it is not a whole number ≥ 0.
func afterParam(w http.ResponseWriter, r *http.Request) (int64, bool) {
	a := r.URL.Query().Get("after")
	if a == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(a, 10, 64)
	if err != nil || n < 0 {
		WriteError(w, http.StatusBadRequest, protocol.CodeBadRequest, "after must be a whole number ≥ 0")
		return 0, false
	}
	return n, true
}
