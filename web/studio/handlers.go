package studio

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/debrief"
	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/web/access"
	"github.com/switchboard-sim/switchboard/web/api"
	"github.com/switchboard-sim/switchboard/web/library"
	"github.com/switchboard-sim/switchboard/web/live"
	"github.com/switchboard-sim/switchboard/web/protocol"
)

type checkRequest struct {
	Path     string  `json:"path"`
	Source   string  `json:"source"`
	Scenario *string `json:"scenario,omitempty"` // for a test file: its scenario as in the editor
}

type checkResponse struct {
	Diagnostics engine.Diagnostics `json:"diagnostics"`
	Sketch      *engine.Sketch     `json:"sketch,omitempty"`
}

// handleCheck checks an editor's text without saving it: a scenario is sketched (graph and
// diagnostics), a test file is checked against its scenario.
func (s *Studio) handleCheck(w http.ResponseWriter, r *http.Request) {
	var req checkRequest
	if !readJSON(w, r, &req) || !s.validPath(w, req.Path) {
		return
	}
	if isTrack, _ := trackPath(req.Path); isTrack {
		api.WriteJSON(w, http.StatusOK, checkResponse{Diagnostics: s.checkTrack(req.Path, []byte(req.Source))})
		return
	}
	if _, isTest := engine.ScenarioPathOf(req.Path); isTest {
		sc, diags := s.scenarioFor(req.Path, req.Scenario)
		if sc == nil {
			api.WriteJSON(w, http.StatusOK, checkResponse{Diagnostics: engine.Diagnostics{{Path: req.Path, Line: 1, Col: 1,
				Message: fmt.Sprintf("the tests cannot be checked: the scenario has %d error(s)", len(diags.Errors()))}}})
			return
		}
		var td engine.Diagnostics
		engine.ParseTests(req.Path, []byte(req.Source), sc, &td)
		td.Sort()
		if td == nil {
			td = engine.Diagnostics{}
		}
		api.WriteJSON(w, http.StatusOK, checkResponse{Diagnostics: td})
		return
	}
	sk := engine.DrawWith(s.lib.FS(), req.Path, []byte(req.Source), library.LoadOptions)
	if !sk.Diags.HasErrors() {
		if untested := s.untestedEndings(req.Path, req.Source); len(untested) > 0 {
			sk.Diags = append(sk.Diags, untested...)
			sk.Diags.Sort()
		}
	}
	api.WriteJSON(w, http.StatusOK, checkResponse{Diagnostics: sk.Diags, Sketch: &sk})
}

// untestedEndings runs the scenario's saved tests as switchboard lint does
// (engine.CheckTests): a warning at each ending none reaches and at each test that fails;
// nothing when the scenario has errors, has no test file, or its test file has errors.
func (s *Studio) untestedEndings(p, src string) engine.Diagnostics {
	tp := engine.TestPath(p)
	data, ok := s.lib.File(tp)
	if !ok {
		return nil
	}
	sc, _ := s.scenarioFor(p, &src)
	if sc == nil {
		return nil
	}
	var td engine.Diagnostics
	cases := engine.ParseTests(tp, data, sc, &td)
	if td.HasErrors() {
		return nil
	}
	deadline := time.Now().Add(library.TestTimeout)
	return engine.CheckTests(sc, cases, tp, func() bool { return time.Now().After(deadline) })
}

// validPath answers 400 for a path the studio may not read or write: one CheckPath
// refuses, or one under a folder named tracks that is not tracks/NAME.yaml.
func (s *Studio) validPath(w http.ResponseWriter, p string) bool {
	err := library.CheckPath(p)
	if err == nil {
		_, err = trackPath(p)
	}
	if err != nil {
		s.libError(w, err)
		return false
	}
	return true
}

// scenarioFor compiles the scenario at p (or the one a test file at p belongs to), from
// src when given (the editor's unsaved text) or else from the folder.
func (s *Studio) scenarioFor(p string, src *string) (*engine.Scenario, engine.Diagnostics) {
	if sp, isTest := engine.ScenarioPathOf(p); isTest {
		p = sp
	}
	var data []byte
	if src != nil {
		data = []byte(*src)
	} else {
		b, ok := s.lib.File(p)
		if !ok {
			return nil, engine.Diagnostics{{Path: p, Line: 1, Col: 1, Message: "no such scenario file"}}
		}
		data = b
	}
	var diags engine.Diagnostics
	sc := engine.LoadBytesWith(s.lib.FS(), p, data, &diags, library.LoadOptions)
	diags.Sort()
	if diags.HasErrors() {
		return nil, diags
	}
	sc.Warnings = diags.Warnings()
	return sc, diags
}

type testsRequest struct {
	Path   string  `json:"path"`             // the scenario
	Source *string `json:"source,omitempty"` // the scenario as in the editor
	Tests  *string `json:"tests,omitempty"`  // the test file as in the editor
}

// testResult is one test case's outcome, with the traced transcript of the call.
type testResult struct {
	Name       string   `json:"name"`
	Line       int      `json:"line"`
	Passed     bool     `json:"passed"`
	Failures   []string `json:"failures"`
	Transcript []string `json:"transcript"`
}

type testsResponse struct {
	Path        string             `json:"path"`
	Diagnostics engine.Diagnostics `json:"diagnostics"`
	Results     []testResult       `json:"results"`
	Passed      int                `json:"passed"`
	Failed      int                `json:"failed"`
	// Coverage is what the cases run exercised together: nodes, edges, global rules and
	// endings (engine.Coverage, as `switchboard test --coverage`); nil when none ran.
	Coverage *engine.Coverage `json:"coverage,omitempty"`
}

func (s *Studio) handleTests(w http.ResponseWriter, r *http.Request) {
	var req testsRequest
	if !readJSON(w, r, &req) || !s.validPath(w, req.Path) {
		return
	}
	if sp, isTest := engine.ScenarioPathOf(req.Path); isTest {
		req.Path = sp
	}
	tp := engine.TestPath(req.Path)
	res := testsResponse{Path: tp, Diagnostics: engine.Diagnostics{}, Results: []testResult{}}
	sc, diags := s.scenarioFor(req.Path, req.Source)
	if sc == nil {
		res.Diagnostics = diags
		api.WriteJSON(w, http.StatusUnprocessableEntity, res)
		return
	}
	var data []byte
	if req.Tests != nil {
		data = []byte(*req.Tests)
	} else if b, ok := s.lib.File(tp); ok {
		data = b
	} else {
		res.Diagnostics = engine.Diagnostics{{Path: tp, Line: 1, Col: 1, Message: "this scenario has no test file yet: record a test from a call, or write " + tp}}
		api.WriteJSON(w, http.StatusUnprocessableEntity, res)
		return
	}
	var td engine.Diagnostics
	cases := engine.ParseTests(tp, data, sc, &td)
	td.Sort()
	if td != nil {
		res.Diagnostics = td
	}
	if td.HasErrors() {
		api.WriteJSON(w, http.StatusUnprocessableEntity, res)
		return
	}
	// No lock is held here; the run stops at library.TestTimeout or when the client goes.
	deadline := time.Now().Add(library.TestTimeout)
	stop := func() bool { return time.Now().After(deadline) || r.Context().Err() != nil }
	res.Coverage = engine.NewCoverage(sc)
	for _, c := range cases {
		tr := engine.RunTestUntil(sc, c, true, stop)
		res.Coverage.Add(tr.Transcript)
		item := testResult{Name: c.Name, Line: c.Line, Passed: tr.Passed(), Failures: tr.Failures, Transcript: []string{}}
		if item.Failures == nil {
			item.Failures = []string{}
		}
		if t := strings.TrimRight(engine.FormatTranscript(tr.Transcript), "\n"); t != "" {
			item.Transcript = strings.Split(t, "\n")
		}
		if item.Passed {
			res.Passed++
		} else {
			res.Failed++
		}
		res.Results = append(res.Results, item)
	}
	api.WriteJSON(w, http.StatusOK, res)
}

type playRequest struct {
	Path   string         `json:"path"`
	Source *string        `json:"source,omitempty"`
	Node   string         `json:"node,omitempty"`
	Vars   map[string]any `json:"vars,omitempty"`
}

func (s *Studio) handlePlay(w http.ResponseWriter, r *http.Request) {
	var req playRequest
	if !readJSON(w, r, &req) || !s.validPath(w, req.Path) {
		return
	}
	sc, diags := s.scenarioFor(req.Path, req.Source)
	if sc == nil {
		api.WriteJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": map[string]string{"code": protocol.CodeScenarioErrors,
			"message": fmt.Sprintf("fix the scenario's %d error(s) before playing it", len(diags.Errors()))}, "diagnostics": diags})
		return
	}
	started, err := s.calls.Floor().StartDebugCall(r.Context(), live.DebugCall{Scenario: sc, Node: req.Node, Vars: req.Vars})
	if err != nil {
		api.WriteError(w, http.StatusBadRequest, protocol.CodeBadStart, err.Error())
		return
	}
	s.log.Info("studio: debug call", "scenario", sc.ID, "node", req.Node, "call", started.ID)
	api.WriteJSON(w, http.StatusCreated, started)
}

type recordRequest struct {
	ID    string `json:"id"`
	Token string `json:"token"`
	Name  string `json:"name"`
}

func (s *Studio) handleRecord(w http.ResponseWriter, r *http.Request) {
	var req recordRequest
	if !readJSON(w, r, &req) {
		return
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" || len(req.Name) > maxTestName || strings.ContainsAny(req.Name, "\n\r") {
		api.WriteError(w, http.StatusBadRequest, protocol.CodeBadName, fmt.Sprintf("give the test a name of one line, at most %d characters", maxTestName))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), storageTimeout)
	defer cancel()
	test, err := s.calls.Floor().RecordTest(ctx, req.ID, req.Token, req.Name)
	if err != nil {
		status := http.StatusNotFound
		if errors.Is(err, live.ErrNotRecordable) {
			status = http.StatusUnprocessableEntity
		}
		api.WriteError(w, status, protocol.CodeNotRecordable, err.Error())
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]string{"test": test})
}

func (s *Studio) handleDebrief(w http.ResponseWriter, r *http.Request) {
	if s.journal == nil {
		api.WriteError(w, http.StatusNotFound, protocol.CodeNotFound, "no calls are recorded")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), storageTimeout)
	defer cancel()
	c, entries, res, err := s.journal.Load(ctx, r.PathValue("id"))
	if errors.Is(err, journal.ErrNotFound) {
		api.WriteError(w, http.StatusNotFound, protocol.CodeNotFound, "no such call")
		return
	}
	if err != nil {
		s.log.Error("studio: loading a call", "err", err)
		api.WriteError(w, http.StatusServiceUnavailable, protocol.CodeStorage, "the call could not be read")
		return
	}
	rec, err := debrief.Build(c, entries, res)
	if err != nil {
		api.WriteError(w, http.StatusInternalServerError, protocol.CodeRecordFailed, "the call record could not be rebuilt: "+err.Error())
		return
	}
	notes, err := journal.NotesOf(ctx, s.journal, c.ID)
	if err != nil {
		s.log.Error("studio: loading a call's notes", "err", err)
		api.WriteError(w, http.StatusServiceUnavailable, protocol.CodeStorage, "the call could not be read")
		return
	}
	rec.Notes = append(rec.Notes, notes...)
	api.WriteJSON(w, http.StatusOK, rec)
}

// handleEvents streams library changes (server-sent events): the studio reloads what
// changed on disk.
func (s *Studio) handleEvents(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		api.WriteError(w, http.StatusInternalServerError, protocol.CodeInternal, "streaming is not supported here")
		return
	}
	ch, stop := s.lib.Subscribe()
	defer stop()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	send := func() {
		fmt.Fprintf(w, "event: change\ndata: {\"generation\": %d}\n\n", s.lib.Generation())
		fl.Flush()
	}
	send()
	ping := time.NewTicker(eventsPing)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.streams:
			return
		case <-ch:
			send()
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
			fl.Flush()
		}
	}
}

var signInTmpl = template.Must(template.New("signin").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Switchboard studio</title><link rel="stylesheet" href="/app.css"><link rel="stylesheet" href="/studio/studio.css"></head>
<body class="signin"><main class="card narrow">
<h1>Switchboard studio</h1>
<p>The studio is for scenario designers and supervisors. Open the designer link the server printed when it
started, or paste a secret (it is in <code>access.json</code> in the server's data folder).</p>
{{if .Message}}<p class="error" role="alert">{{.Message}}</p>{{end}}
<form method="post" action="/studio/sign-in">
<label for="secret">Secret</label>
<input id="secret" name="secret" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button>
</form></main></body></html>`))

func (s *Studio) signInPage(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = signInTmpl.Execute(w, struct{ Message string }{msg})
}

func (s *Studio) handleSignInPage(w http.ResponseWriter, r *http.Request) {
	s.signInPage(w, http.StatusOK, "")
}

func (s *Studio) handleSignIn(w http.ResponseWriter, r *http.Request) {
	if !s.sameOrigin(r, false) {
		s.signInPage(w, http.StatusForbidden, "Sign in from the studio's own page.")
		return
	}
	if !s.throttle.Allow(r) {
		s.log.Warn("studio: sign-in throttled", "remote", r.RemoteAddr)
		s.signInPage(w, http.StatusTooManyRequests, "Too many sign-in attempts from here: wait a minute and try again.")
		return
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(api.BodyTimeout))
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	secret := strings.TrimSpace(r.PostFormValue("secret"))
	role := s.secrets.RoleOf(secret)
	if role == access.RoleNone {
		s.log.Warn("studio: sign-in refused", "remote", r.RemoteAddr)
		s.signInPage(w, http.StatusUnauthorized, "That secret is not right.")
		return
	}
	if !s.signIn(w, r, role) {
		return
	}
	http.Redirect(w, r, "/studio/", http.StatusSeeOther)
}

// handleSignOut revokes the session (its cookie stops working everywhere, even if it was
// copied) and clears the cookie. Only a same-origin POST may sign out.
func (s *Studio) handleSignOut(w http.ResponseWriter, r *http.Request) {
	if !s.sameOrigin(r, true) {
		s.signInPage(w, http.StatusForbidden, "Sign out from the studio's own page.")
		return
	}
	s.signOut(w, r)
	http.Redirect(w, r, "/studio/sign-in", http.StatusSeeOther)
}

// MaxTryBytes is the longest sentence the Try a reply panel explains.
const MaxTryBytes = engine.MaxMessageBytes

type understandRequest struct {
	Path   string  `json:"path"`             // the scenario (or its test file)
	Source *string `json:"source,omitempty"` // the scenario as in the editor
	Text   string  `json:"text"`
}

type understandResponse struct {
	Text    string               `json:"text"`
	Intents []engine.IntentMatch `json:"intents"`
	// Matched names the intents the text means, in declaration order.
	Matched []string `json:"matched"`
	// Reading is the words the pipeline reads (contractions, chat spellings and typos
	// rewritten), Typos its corrections ("typed→read").
	Reading string   `json:"reading"`
	Typos   []string `json:"typos,omitempty"`
	// Near are phrases of intents the text does not mean whose words are all there, with
	// others in the way (as lint explains a failing example).
	Near []nearMiss `json:"near,omitempty"`
}

// nearMiss is one phrase nearly matched: Between stand between its words.
type nearMiss struct {
	Intent  string   `json:"intent"`
	Phrase  string   `json:"phrase"`
	Between []string `json:"between"`
}

// handleUnderstand explains what the scenario in the editor makes of one reply: each intent,
// whether it matched, the words that matched and any negation or exception that stopped a
// phrase from counting (the studio's Try a reply panel).
func (s *Studio) handleUnderstand(w http.ResponseWriter, r *http.Request) {
	var req understandRequest
	if !readJSON(w, r, &req) || !s.validPath(w, req.Path) {
		return
	}
	if strings.TrimSpace(req.Text) == "" {
		api.WriteError(w, http.StatusBadRequest, protocol.CodeEmptyText, "type a reply to try")
		return
	}
	if len(req.Text) > MaxTryBytes {
		api.WriteError(w, http.StatusBadRequest, protocol.CodeTooLong, fmt.Sprintf("a reply is at most %d bytes", MaxTryBytes))
		return
	}
	sc, diags := s.scenarioFor(req.Path, req.Source)
	if sc == nil {
		api.WriteError(w, http.StatusUnprocessableEntity, protocol.CodeScenarioErrors,
			fmt.Sprintf("the scenario has %d error(s); fix them to try a reply", len(diags.Errors())))
		return
	}
	words, typos := sc.Reading(req.Text)
	res := understandResponse{Text: req.Text, Intents: sc.Understand(req.Text), Matched: []string{},
		Reading: strings.Join(words, " "), Typos: typos}
	for _, im := range res.Intents {
		if im.Matched {
			res.Matched = append(res.Matched, im.Intent)
		} else if len(im.Blocked) == 0 {
			if p, between, ok := sc.NearMiss(req.Text, im.Intent); ok {
				res.Near = append(res.Near, nearMiss{Intent: im.Intent, Phrase: p, Between: between})
			}
		}
	}
	api.WriteJSON(w, http.StatusOK, res)
}
