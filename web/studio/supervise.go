package studio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/web"
	"github.com/switchboard-sim/switchboard/web/access"
	"github.com/switchboard-sim/switchboard/web/api"
	"github.com/switchboard-sim/switchboard/web/live"
	"github.com/switchboard-sim/switchboard/web/peers"
	"github.com/switchboard-sim/switchboard/web/protocol"
)

// The supervisors' floor (issue 16), behind the studio's roles: the supervisor secret (or
// the designer's) opens the board at /supervise, its live list of calls, a live call to
// listen and whisper to, and the review of recorded calls.
const (
	// floorPeriod is how often the floor board's stream sends the list of live calls.
	floorPeriod = time.Second
	// ReviewScan is how many of the newest calls matching a review's trainee and scenario
	// are searched for its other filters (outcome, result, dates).
	ReviewScan = 2000
	// ReviewLimit is the most calls a review search returns.
	ReviewLimit = 200
)

// supervisePaths are the paths Mount hands to the studio for the floor.
func supervisePath(p string) bool {
	return p == "/supervise" || strings.HasPrefix(p, "/api/supervise/") || strings.HasPrefix(p, "/ws/supervise/")
}

// registerSupervise adds the floor's routes.
func (s *Studio) registerSupervise(m *http.ServeMux) {
	look := access.RoleSupervisor
	m.Handle("GET /supervise", s.page(web.SupervisePage()))
	m.Handle("GET /api/supervise/floor", s.api(look, s.handleFloor))
	m.Handle("GET /ws/supervise/{id}", s.peerOr(look, func(w http.ResponseWriter, r *http.Request) {
		s.calls.ServeSupervisor(w, r, r.PathValue("id"), role(r).String())
	}))
	m.Handle("GET /api/supervise/calls", s.api(look, s.handleReview))
	m.Handle("POST /api/supervise/calls/{id}/notes", s.api(look, s.handleAddNote))
	m.Handle("/api/supervise/", s.api(look, func(w http.ResponseWriter, r *http.Request) {
		api.WriteError(w, http.StatusNotFound, protocol.CodeNotFound, "no such supervisor endpoint: "+r.Method+" "+r.URL.Path)
	}))
}

// peerOr is s.api for a request from a person, and for a request a peer instance
// forwarded (peers.Guard checked its token) the role the peer vouches for: a supervisor
// signed in on another instance listening to a call this instance runs.
func (s *Studio) peerOr(need access.Role, h http.HandlerFunc) http.Handler {
	person := s.api(need, h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !peers.Forwarded(r) {
			person.ServeHTTP(w, r)
			return
		}
		var rl access.Role
		switch peers.Role(r) {
		case access.RoleSupervisor.String():
			rl = access.RoleSupervisor
		case access.RoleDesigner.String():
			rl = access.RoleDesigner
		}
		if rl < need {
			api.WriteError(w, http.StatusForbidden, protocol.CodeForbidden, "the forwarding instance vouches for no role that may do this")
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, rl)))
	})
}

// floorEvent is one message of the floor stream.
type floorEvent struct {
	Now   time.Time        `json:"now"`
	Calls []live.FloorCall `json:"calls"`
	// Instance names the instance that answered, and Instances every instance asked
	// (with several instances on PostgreSQL; absent with one): its calls, or why they are
	// missing (it did not answer in time).
	Instance  string               `json:"instance,omitempty"`
	Instances []api.InstanceStatus `json:"instances,omitempty"`
	// Thresholds of the alerts, for the page to explain them.
	SilenceMS int64   `json:"silence_ms"`
	TimerMS   int64   `json:"timer_ms"`
	BadMood   float64 `json:"bad_mood"`
}

// handleFloor streams the live calls (server-sent events, event "floor", every
// floorPeriod); ?watch=rule1,rule2 names the rules whose firing raises an alert.
func (s *Studio) handleFloor(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		api.WriteError(w, http.StatusInternalServerError, protocol.CodeInternal, "streaming is not supported here")
		return
	}
	watch := live.ParseWatch(r.URL.Query().Get("watch"))
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	send := func(ctx context.Context) bool {
		now := time.Now()
		board := s.calls.Board(ctx, now, watch)
		b, err := json.Marshal(floorEvent{Now: now, Calls: board.Calls, Instance: board.Instance, Instances: board.Instances,
			SilenceMS: live.FloorSilence.Milliseconds(), TimerMS: live.FloorTimerWarn.Milliseconds(), BadMood: live.FloorBadMood})
		if err != nil {
			return false
		}
		if _, err := fmt.Fprintf(w, "event: floor\ndata: %s\n\n", b); err != nil {
			return false
		}
		fl.Flush()
		return ctx.Err() == nil
	}
	tick := time.NewTicker(floorPeriod)
	defer tick.Stop()
	for send(r.Context()) {
		select {
		case <-r.Context().Done():
			return
		case <-s.streams:
			return
		case <-tick.C:
		}
	}
}

// reviewRow is one recorded call in a review search.
type reviewRow struct {
	ID         string    `json:"id"`
	Trainee    string    `json:"trainee"`
	ScenarioID string    `json:"scenario_id"`
	Title      string    `json:"title"`
	Created    time.Time `json:"created"`
	Open       bool      `json:"open"`
	Ending     string    `json:"ending,omitempty"`
	EndTitle   string    `json:"end_title,omitempty"`
	Outcome    string    `json:"outcome,omitempty"`
	Passed     bool      `json:"passed"`
	Overall    float64   `json:"overall"`
	Elapsed    int64     `json:"elapsed_ms"`
}

// handleReview lists recorded calls, newest first: ?trainee= and ?scenario= (exact),
// ?outcome= (exact), ?passed=true|false, ?from= and ?to= (dates, YYYY-MM-DD, UTC, both
// included). Open calls are listed unless an outcome or a result is asked for.
func (s *Studio) handleReview(w http.ResponseWriter, r *http.Request) {
	if s.journal == nil {
		api.WriteJSON(w, http.StatusOK, []reviewRow{})
		return
	}
	q := r.URL.Query()
	var from, to time.Time
	for _, d := range []struct {
		name string
		t    *time.Time
	}{{"from", &from}, {"to", &to}} {
		if v := q.Get(d.name); v != "" {
			t, err := time.Parse(time.DateOnly, v)
			if err != nil {
				api.WriteError(w, http.StatusBadRequest, protocol.CodeBadRequest, d.name+" must be a date, YYYY-MM-DD")
				return
			}
			*d.t = t
		}
	}
	var passed *bool
	if v := q.Get("passed"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			api.WriteError(w, http.StatusBadRequest, protocol.CodeBadRequest, "passed must be true or false")
			return
		}
		passed = &b
	}
	outcome := q.Get("outcome")
	ctx, cancel := context.WithTimeout(r.Context(), storageTimeout)
	defer cancel()
	sums, err := s.journal.List(ctx, journal.Filter{Trainee: q.Get("trainee"), ScenarioID: q.Get("scenario"), Limit: ReviewScan})
	if err != nil {
		s.log.Error("studio: listing calls", "err", err)
		api.WriteError(w, http.StatusServiceUnavailable, protocol.CodeStorage, "the calls could not be read")
		return
	}
	rows := []reviewRow{}
	for _, c := range sums {
		switch {
		case !from.IsZero() && c.Created.Before(from),
			!to.IsZero() && !c.Created.Before(to.AddDate(0, 0, 1)),
			(outcome != "" || passed != nil) && c.Result == nil,
			outcome != "" && c.Result.End.Outcome != outcome,
			passed != nil && c.Result.End.Passed != *passed:
			continue
		}
		row := reviewRow{ID: c.ID, Trainee: c.Trainee, ScenarioID: c.ScenarioID, Title: c.Title, Created: c.Created, Open: c.Result == nil}
		if res := c.Result; res != nil {
			row.Ending, row.EndTitle, row.Outcome, row.Passed, row.Overall, row.Elapsed =
				res.End.Ending, res.End.Title, res.End.Outcome, res.End.Passed, res.End.Overall, res.Elapsed
		}
		rows = append(rows, row)
		if len(rows) == ReviewLimit {
			break
		}
	}
	api.WriteJSON(w, http.StatusOK, rows)
}

// noteRequest is the body of POST /api/supervise/calls/{id}/notes.
type noteRequest struct {
	At   int64  `json:"at_ms"` // ms on the call clock the note is about
	Text string `json:"text"`
}

// handleAddNote adds a supervisor's time-stamped note to a recorded call; the trainee sees
// it in the call's debrief.
func (s *Studio) handleAddNote(w http.ResponseWriter, r *http.Request) {
	notes, ok := s.journal.(journal.Notes)
	if s.journal == nil || !ok {
		api.WriteError(w, http.StatusNotImplemented, protocol.CodeNotSupported, "this server's journal keeps no notes")
		return
	}
	var req noteRequest
	if !readJSON(w, r, &req) {
		return
	}
	n := journal.Note{At: req.At, Text: strings.TrimSpace(req.Text), Author: role(r).String(), Created: time.Now().UTC()}
	ctx, cancel := context.WithTimeout(r.Context(), storageTimeout)
	defer cancel()
	err := notes.AddNote(ctx, r.PathValue("id"), n)
	switch {
	case errors.Is(err, journal.ErrNotFound):
		api.WriteError(w, http.StatusNotFound, protocol.CodeNotFound, "no such call")
	case errors.Is(err, journal.ErrBadNote):
		api.WriteError(w, http.StatusBadRequest, protocol.CodeBadRequest, journal.ErrBadNote.Error())
	case errors.Is(err, journal.ErrTooManyNotes):
		api.WriteError(w, http.StatusConflict, protocol.CodeTooManyNotes, journal.ErrTooManyNotes.Error())
	case err != nil:
		s.log.Error("studio: adding a note", "err", err)
		api.WriteError(w, http.StatusServiceUnavailable, protocol.CodeStorage, "the note could not be saved; try again in a moment")
	default:
		api.WriteJSON(w, http.StatusCreated, n)
	}
}
