package accounts

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/engine/track"
	"github.com/switchboard-sim/switchboard/web/httpjson"
	"github.com/switchboard-sim/switchboard/web/protocol"
)

// HTTP limits.
const (
	// CookieName holds a session token (the store keeps only its hash).
	CookieName   = "switchboard_account"
	maxBody      = 8 << 10 // bytes in a JSON request body
	storeTimeout = 5 * time.Second
	// SecretActor names who acted when a request carried a studio secret instead of an
	// account (invites record it as their creator).
	SecretActor = "secret"
)

// HandlerOptions configure a Handler.
type HandlerOptions struct {
	Service *Service
	// Journal holds the calls; a trainee's history and progress are read from it.
	Journal journal.Journal
	// Tracks returns the tracks offered now (nil: none).
	Tracks func() []*track.Track
	// Scenarios returns the published scenarios (nil: none); a weak skill's practice
	// scenario is the one whose scores weight that axis most.
	Scenarios func() []*engine.Scenario
	// Secrets are the studio's secrets: a request with "Authorization: Bearer SECRET"
	// acts as a supervisor, so supervisors and designers keep working before they have
	// accounts (and create the first invites).
	Secrets []string
	// Anonymous allows calls without an account (a free-text trainee name, as before
	// accounts). When false, starting a call needs a signed-in account.
	Anonymous bool
	// Secure marks the cookie Secure (the server is reached over https).
	Secure bool
	// BaseURL is the public URL invite links start with ("" means the request's host); it
	// also names accounts and activities in xAPI statements ("" means xapi.DefaultHomePage).
	BaseURL string
	Logger  *slog.Logger
}

// Handler serves the accounts API and wraps the call API: a signed-in trainee's calls
// are linked to their account. Safe for concurrent use.
type Handler struct {
	o   HandlerOptions
	svc *Service
	log *slog.Logger
}

// NewHandler returns the accounts handler.
func NewHandler(o HandlerOptions) *Handler {
	h := &Handler{o: o, svc: o.Service, log: o.Logger}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.o.Tracks == nil {
		h.o.Tracks = func() []*track.Track { return nil }
	}
	if h.o.Scenarios == nil {
		h.o.Scenarios = func() []*engine.Scenario { return nil }
	}
	return h
}

// Mount returns a handler that serves the accounts' routes and passes everything else
// to next, starting calls through h (POST /api/calls).
func (h *Handler) Mount(next http.Handler) http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("POST /api/account/sign-in", h.handleSignIn)
	m.HandleFunc("POST /api/account/sign-out", h.handleSignOut)
	m.HandleFunc("GET /api/account/me", h.signedIn(h.handleMe))
	m.HandleFunc("POST /api/account/revoke", h.signedIn(h.handleRevokeMine))
	m.HandleFunc("GET /api/invites/{token}", h.handleInvite)
	m.HandleFunc("POST /api/invites/{token}/accept", h.handleAccept)
	m.HandleFunc("POST /api/invites", h.supervisor(h.handleCreateInvite))
	m.HandleFunc("GET /api/teams", h.supervisor(h.handleTeams))
	m.HandleFunc("POST /api/teams", h.supervisor(h.handleCreateTeam))
	m.HandleFunc("PUT /api/teams/{id}/track", h.supervisor(h.handleSetTrack))
	m.HandleFunc("GET /api/teams/{id}/matrix", h.supervisor(h.handleMatrix))
	m.HandleFunc("POST /api/accounts/{id}/revoke", h.supervisor(h.handleRevoke))
	m.HandleFunc("PUT /api/accounts/{id}/track", h.supervisor(h.handleSetAccountTrack))
	m.HandleFunc("GET /api/me/calls", h.signedIn(h.handleMyCalls))
	m.HandleFunc("GET /api/me/calls/{id}/debrief", h.signedIn(h.handleMyDebrief))
	m.HandleFunc("GET /api/me/tracks", h.signedIn(h.handleMyTracks))
	m.HandleFunc("GET /api/me/progress", h.signedIn(h.handleMyProgress))
	m.HandleFunc("GET /api/teams/{id}/progress", h.supervisor(h.handleTeamProgress))
	m.HandleFunc("GET /api/me/tracks/{id}/xapi", h.signedIn(h.handleMyTrackXAPI))
	m.HandleFunc("GET /api/tracks", h.handleTracks)
	m.Handle("POST /api/calls", h.startCall(next))
	m.Handle("GET /account/", pages())
	m.Handle("/", next)
	return m
}

// who is the actor of a request: an account, or a studio secret.
type who struct {
	acc    Account
	secret bool
}

func (w who) supervisor() bool { return w.secret || w.acc.Role == RoleSupervisor }

func (w who) id() string {
	if w.secret {
		return SecretActor
	}
	return w.acc.ID
}

// actor returns who made the request: a studio secret in the Authorization header, or
// the account of the session cookie.
func (h *Handler) actor(r *http.Request) (who, bool) {
	if a, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		a = strings.TrimSpace(a)
		match := 0
		for _, s := range h.o.Secrets {
			if s != "" {
				match |= subtle.ConstantTimeCompare([]byte(a), []byte(s))
			}
		}
		return who{secret: true}, match == 1
	}
	c, err := r.Cookie(CookieName)
	if err != nil {
		return who{}, false
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	acc, err := h.svc.Authenticate(ctx, c.Value)
	if err != nil {
		if !errors.Is(err, ErrSession) {
			h.log.Error("accounts: checking a session", "err", err)
		}
		return who{}, false
	}
	return who{acc: acc}, true
}

type actorHandler func(w http.ResponseWriter, r *http.Request, a who)

// signedIn lets through requests from a signed-in account (not a secret: it has no
// calls or tracks of its own).
func (h *Handler) signedIn(f actorHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, ok := h.actor(r)
		if !ok || a.secret {
			httpjson.WriteError(w, http.StatusUnauthorized, protocol.CodeUnauthorized, "sign in first")
			return
		}
		f(w, r, a)
	}
}

// supervisor lets through supervisors' accounts and the studio secrets; state changes
// must come from the server's own origin.
func (h *Handler) supervisor(f actorHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, ok := h.actor(r)
		switch {
		case !ok:
			httpjson.WriteError(w, http.StatusUnauthorized, protocol.CodeUnauthorized, "sign in as a supervisor first")
			return
		case !a.supervisor():
			httpjson.WriteError(w, http.StatusForbidden, protocol.CodeForbidden, "only supervisors may do this")
			return
		case r.Method != http.MethodGet && !h.sameOrigin(r):
			httpjson.WriteError(w, http.StatusForbidden, protocol.CodeBadOrigin, "this origin may not change accounts")
			return
		}
		f(w, r, a)
	}
}

// sameOrigin: a request without Origin (a script) or from the server's own origin
// (httpjson.OwnOrigin: the request's scheme, host and port, or those of BaseURL).
func (h *Handler) sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	base, err := url.Parse(h.o.BaseURL)
	if err != nil || h.o.BaseURL == "" {
		base = nil
	}
	return httpjson.OwnOrigin(r, o, base)
}

// readJSON decodes a small JSON body into v (httpjson.ReadJSONBody: application/json, at most
// maxBody bytes, within httpjson.BodyTimeout), answering the client itself on failure.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, ok := httpjson.ReadJSONBody(w, r, maxBody, 0)
	if !ok {
		return false
	}
	if err := json.Unmarshal(body, v); err != nil {
		httpjson.WriteError(w, http.StatusBadRequest, protocol.CodeBadJSON, "the body must be JSON: "+protocol.JSONProblem(err))
		return false
	}
	return true
}

func (h *Handler) storeFailed(w http.ResponseWriter, what string, err error) {
	h.log.Error("accounts: "+what, "err", err)
	httpjson.WriteError(w, http.StatusServiceUnavailable, protocol.CodeStorage, what+" failed; try again in a moment")
}

func clientIP(r *http.Request) string {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return ip
}

func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, token string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: token, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: h.o.Secure || r.TLS != nil, SameSite: http.SameSiteLaxMode})
}

// accountView is an account as the API shows it (never the password hash).
type accountView struct {
	Account
	TeamName  string `json:"team_name,omitempty"`
	Track     string `json:"track,omitempty"`
	Anonymous bool   `json:"anonymous_allowed"`
}

func (h *Handler) view(ctx context.Context, a Account) accountView {
	v := accountView{Account: a, Anonymous: h.o.Anonymous}
	if a.Team != "" {
		if t, err := h.svc.store.Team(ctx, a.Team); err == nil {
			v.TeamName, v.Track = t.Name, t.Track
		}
	}
	if a.Track != "" {
		v.Track = a.Track // the trainee's own track overrides the team's
	}
	return v
}

func (h *Handler) handleSignIn(w http.ResponseWriter, r *http.Request) {
	if !h.sameOrigin(r) {
		httpjson.WriteError(w, http.StatusForbidden, protocol.CodeBadOrigin, "this origin may not sign in")
		return
	}
	var req struct{ Login, Password string }
	if !readJSON(w, r, &req) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	token, acc, err := h.svc.SignIn(ctx, req.Login, req.Password, clientIP(r))
	switch {
	case errors.Is(err, ErrThrottled):
		w.Header().Set("Retry-After", "30")
		httpjson.WriteError(w, http.StatusTooManyRequests, protocol.CodeRateLimited, err.Error())
		return
	case errors.Is(err, ErrBadCredential):
		httpjson.WriteError(w, http.StatusUnauthorized, protocol.CodeBadCredentials, err.Error())
		return
	case err != nil:
		h.storeFailed(w, "signing in", err)
		return
	}
	h.setCookie(w, r, token, int(SessionTTL/time.Second))
	httpjson.WriteJSON(w, http.StatusOK, h.view(ctx, acc))
}

func (h *Handler) handleSignOut(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(CookieName); err == nil {
		if err := h.svc.SignOut(r.Context(), c.Value); err != nil {
			h.storeFailed(w, "signing out", err)
			return
		}
	}
	h.setCookie(w, r, "", -1)
	httpjson.WriteJSON(w, http.StatusOK, map[string]bool{"signed_out": true})
}

func (h *Handler) handleMe(w http.ResponseWriter, r *http.Request, a who) {
	httpjson.WriteJSON(w, http.StatusOK, h.view(r.Context(), a.acc))
}

// handleRevokeMine signs the account out everywhere, this browser included.
func (h *Handler) handleRevokeMine(w http.ResponseWriter, r *http.Request, a who) {
	if !h.sameOrigin(r) {
		httpjson.WriteError(w, http.StatusForbidden, protocol.CodeBadOrigin, "this origin may not change accounts")
		return
	}
	n, err := h.svc.RevokeSessions(r.Context(), a.acc.ID)
	if err != nil {
		h.storeFailed(w, "signing out everywhere", err)
		return
	}
	h.setCookie(w, r, "", -1)
	httpjson.WriteJSON(w, http.StatusOK, map[string]int{"revoked": n})
}

func (h *Handler) handleRevoke(w http.ResponseWriter, r *http.Request, a who) {
	n, err := h.svc.RevokeSessions(r.Context(), r.PathValue("id"))
	if err != nil {
		h.storeFailed(w, "revoking sessions", err)
		return
	}
	httpjson.WriteJSON(w, http.StatusOK, map[string]int{"revoked": n})
}

func (h *Handler) inviteError(w http.ResponseWriter, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, ErrNotFound):
		httpjson.WriteError(w, http.StatusNotFound, protocol.CodeNotFound, "no such invite; check the link")
	case errors.Is(err, ErrInviteUsed), errors.Is(err, ErrInviteExpired):
		httpjson.WriteError(w, http.StatusGone, protocol.CodeInviteGone, err.Error())
	default:
		h.storeFailed(w, "reading the invite", err)
	}
	return true
}

func (h *Handler) handleInvite(w http.ResponseWriter, r *http.Request) {
	inv, err := h.svc.CheckInvite(r.Context(), r.PathValue("token"))
	if h.inviteError(w, err) {
		return
	}
	out := map[string]any{"role": inv.Role, "expires": inv.Expires}
	if inv.Team != "" {
		if t, err := h.svc.store.Team(r.Context(), inv.Team); err == nil {
			out["team_name"] = t.Name
		}
	}
	httpjson.WriteJSON(w, http.StatusOK, out)
}

// handleAccept creates the account of an invite and signs it in.
func (h *Handler) handleAccept(w http.ResponseWriter, r *http.Request) {
	if !h.sameOrigin(r) {
		httpjson.WriteError(w, http.StatusForbidden, protocol.CodeBadOrigin, "this origin may not sign up")
		return
	}
	var req struct{ Login, Name, Password string }
	if !readJSON(w, r, &req) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	acc, err := h.svc.AcceptInvite(ctx, r.PathValue("token"), req.Login, req.Name, req.Password)
	var ie *InputError
	switch {
	case errors.As(err, &ie):
		httpjson.WriteError(w, http.StatusBadRequest, protocol.CodeBadRequest, ie.Msg)
		return
	case errors.Is(err, ErrExists):
		httpjson.WriteError(w, http.StatusConflict, protocol.CodeExists, "that login is taken; choose another")
		return
	case h.inviteError(w, err):
		return
	}
	token, err := h.svc.NewSession(ctx, acc.ID)
	if err != nil {
		h.storeFailed(w, "signing in", err)
		return
	}
	h.setCookie(w, r, token, int(SessionTTL/time.Second))
	httpjson.WriteJSON(w, http.StatusCreated, h.view(ctx, acc))
}

func (h *Handler) handleCreateInvite(w http.ResponseWriter, r *http.Request, a who) {
	var req struct{ Role, Team string }
	if !readJSON(w, r, &req) {
		return
	}
	if req.Role == "" {
		req.Role = RoleTrainee
	}
	if req.Role != RoleTrainee && req.Role != RoleSupervisor {
		httpjson.WriteError(w, http.StatusBadRequest, protocol.CodeBadRequest, "role must be trainee or supervisor")
		return
	}
	if req.Team != "" {
		if _, err := h.svc.store.Team(r.Context(), req.Team); errors.Is(err, ErrNotFound) {
			httpjson.WriteError(w, http.StatusNotFound, protocol.CodeNotFound, fmt.Sprintf("no team has the id %q", req.Team))
			return
		}
	}
	token, inv, err := h.svc.CreateInvite(r.Context(), a.id(), req.Role, req.Team)
	if err != nil {
		h.storeFailed(w, "creating the invite", err)
		return
	}
	base := strings.TrimSuffix(h.o.BaseURL, "/")
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	httpjson.WriteJSON(w, http.StatusCreated, map[string]any{"token": token, "link": base + "/account/invite.html#" + token,
		"role": inv.Role, "team": inv.Team, "expires": inv.Expires})
}

func (h *Handler) handleTeams(w http.ResponseWriter, r *http.Request, _ who) {
	ts, err := h.svc.store.Teams(r.Context())
	if err != nil {
		h.storeFailed(w, "listing teams", err)
		return
	}
	if ts == nil {
		ts = []Team{}
	}
	httpjson.WriteJSON(w, http.StatusOK, ts)
}

func (h *Handler) trackByID(id string) *track.Track {
	for _, t := range h.o.Tracks() {
		if t.ID == id {
			return t
		}
	}
	return nil
}

func (h *Handler) checkTrack(w http.ResponseWriter, id string) bool {
	if id == "" || h.trackByID(id) != nil {
		return true
	}
	var ids []string
	for _, t := range h.o.Tracks() {
		ids = append(ids, t.ID)
	}
	httpjson.WriteError(w, http.StatusNotFound, protocol.CodeNotFound, fmt.Sprintf("no track has the id %q (tracks: %s)", id, strings.Join(ids, ", ")))
	return false
}

func (h *Handler) handleCreateTeam(w http.ResponseWriter, r *http.Request, _ who) {
	var req struct{ Name, Track string }
	if !readJSON(w, r, &req) || !h.checkTrack(w, req.Track) {
		return
	}
	t, err := h.svc.CreateTeam(r.Context(), req.Name, req.Track)
	if err != nil {
		if _, nameErr := CheckName(req.Name, MaxTeamNameLen); nameErr != nil {
			httpjson.WriteError(w, http.StatusBadRequest, protocol.CodeBadRequest, nameErr.Error())
			return
		}
		h.storeFailed(w, "creating the team", err)
		return
	}
	httpjson.WriteJSON(w, http.StatusCreated, t)
}

func (h *Handler) handleSetTrack(w http.ResponseWriter, r *http.Request, _ who) {
	var req struct{ Track string }
	if !readJSON(w, r, &req) || !h.checkTrack(w, req.Track) {
		return
	}
	err := h.svc.store.SetTeamTrack(r.Context(), r.PathValue("id"), req.Track)
	switch {
	case errors.Is(err, ErrNotFound):
		httpjson.WriteError(w, http.StatusNotFound, protocol.CodeNotFound, "no such team")
	case err != nil:
		h.storeFailed(w, "assigning the track", err)
	default:
		httpjson.WriteJSON(w, http.StatusOK, map[string]string{"team": r.PathValue("id"), "track": req.Track})
	}
}

// handleSetAccountTrack assigns a track to one trainee, overriding their team's ("" goes
// back to the team's): PUT /api/accounts/{id}/track {"track"}.
func (h *Handler) handleSetAccountTrack(w http.ResponseWriter, r *http.Request, _ who) {
	var req struct{ Track string }
	if !readJSON(w, r, &req) || !h.checkTrack(w, req.Track) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	id := r.PathValue("id")
	acc, err := h.svc.store.Account(ctx, id)
	if err == nil && acc.Role != RoleTrainee {
		httpjson.WriteError(w, http.StatusBadRequest, protocol.CodeBadRequest, "only a trainee's track can be assigned; a supervisor has none")
		return
	}
	if err == nil {
		err = h.svc.store.SetAccountTrack(ctx, id, req.Track)
	}
	switch {
	case errors.Is(err, ErrNotFound):
		httpjson.WriteError(w, http.StatusNotFound, protocol.CodeNotFound, "no such account")
	case err != nil:
		h.storeFailed(w, "assigning the track", err)
	default:
		httpjson.WriteJSON(w, http.StatusOK, map[string]string{"account": id, "track": req.Track})
	}
}

// capture buffers a response so it can be looked at before it is sent.
type capture struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *capture) Header() http.Header         { return c.header }
func (c *capture) Write(b []byte) (int, error) { return c.body.Write(b) }
func (c *capture) WriteHeader(s int) {
	if c.status == 0 {
		c.status = s
	}
}

// startCall wraps POST /api/calls. A signed-in account's call carries the account's
// name and is linked to it, with the track step it is taken as ({"track", "step"} in the
// body: the step must be open for the trainee). Without an account, the call goes
// through as before when anonymous practice is allowed, and is refused otherwise.
func (h *Handler) startCall(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := h.actor(r)
		if !ok || a.secret {
			if !h.o.Anonymous {
				httpjson.WriteError(w, http.StatusUnauthorized, protocol.CodeUnauthorized, "sign in to take a call (this server does not allow anonymous practice)")
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		body, ok := httpjson.ReadJSONBody(w, r, 16<<10, 0) // POST /api/calls's limits
		if !ok {
			return
		}
		var req map[string]any
		if err := json.Unmarshal(body, &req); err != nil || req == nil {
			next.ServeHTTP(w, cloneWithBody(r, body)) // the call API explains the problem
			return
		}
		trackID, _ := req["track"].(string)
		stepID, _ := req["step"].(string)
		scenario, _ := req["scenario"].(string)
		if trackID != "" || stepID != "" {
			if !h.checkStep(w, r, a.acc, trackID, stepID, scenario) {
				return
			}
		}
		req["trainee"] = a.acc.Name
		delete(req, "track")
		delete(req, "step")
		body, _ = json.Marshal(req)
		c := &capture{header: http.Header{}}
		next.ServeHTTP(c, cloneWithBody(r, body))
		if c.status == http.StatusCreated {
			var res struct{ ID string }
			if err := json.Unmarshal(c.body.Bytes(), &res); err == nil && res.ID != "" {
				l := CallLink{CallID: res.ID, AccountID: a.acc.ID, Track: trackID, Step: stepID, Created: h.svc.Now()}
				ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
				if err := h.svc.store.LinkCall(ctx, l); err != nil {
					h.log.Error("accounts: linking a call to its trainee", "call", res.ID, "account", a.acc.ID, "err", err)
				}
				cancel()
			}
		}
		for k, v := range c.header {
			w.Header()[k] = v
		}
		if c.status == 0 {
			c.status = http.StatusOK
		}
		w.WriteHeader(c.status)
		_, _ = w.Write(c.body.Bytes())
	})
}

func cloneWithBody(r *http.Request, body []byte) *http.Request {
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	return r2
}

// checkStep answers an error and returns false unless the step exists, is of the
// scenario asked for, and is open for the account.
func (h *Handler) checkStep(w http.ResponseWriter, r *http.Request, acc Account, trackID, stepID, scenario string) bool {
	t := h.trackByID(trackID)
	if t == nil {
		httpjson.WriteError(w, http.StatusNotFound, protocol.CodeNotFound, fmt.Sprintf("no track has the id %q", trackID))
		return false
	}
	i, ok := t.Step(stepID)
	if !ok {
		httpjson.WriteError(w, http.StatusNotFound, protocol.CodeNotFound, fmt.Sprintf("track %q has no step %q", trackID, stepID))
		return false
	}
	if t.Steps[i].Scenario != scenario {
		httpjson.WriteError(w, http.StatusBadRequest, protocol.CodeBadRequest, fmt.Sprintf("step %q is the scenario %q, not %q", stepID, t.Steps[i].Scenario, scenario))
		return false
	}
	results, err := h.results(r.Context(), acc.ID, t.ID)
	if err != nil {
		h.storeFailed(w, "reading your progress", err)
		return false
	}
	p := track.Evaluate(t, results[acc.ID])
	if sp := p.Steps[i]; sp.State == track.StateLocked {
		httpjson.WriteError(w, http.StatusForbidden, protocol.CodeStepLocked, fmt.Sprintf("this step is still locked: it waits for %s", strings.Join(sp.WaitingFor, " and ")))
		return false
	}
	return true
}
