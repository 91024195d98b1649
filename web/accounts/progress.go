package accounts

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/debrief"
	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/engine/track"
	"github.com/switchboard-sim/switchboard/engine/xapi"
	"github.com/switchboard-sim/switchboard/web/httpjson"
	"github.com/switchboard-sim/switchboard/web/protocol"
)

// callResult is one linked call as the trainee's history shows it.
type callResult struct {
	ID       string    `json:"id"`
	Scenario string    `json:"scenario"`
	Title    string    `json:"title"`
	Track    string    `json:"track,omitempty"`
	Step     string    `json:"step,omitempty"`
	Created  time.Time `json:"created"`
	Open     bool      `json:"open"`
	Overall  float64   `json:"overall"`
	Passed   bool      `json:"passed"`
	// StepPassed is, for a finished call taken as a track step, whether it passed the
	// step: the step's own pass mark, which may differ from the scenario's (Passed).
	StepPassed *bool  `json:"step_passed,omitempty"`
	Note       string `json:"note,omitempty"`
	// Lost is set when the call ended in a lost outcome (the customer hung up or walked
	// away, or the trainee hung up): it passes no track step, whatever its scores.
	Lost bool `json:"-"`
	// Ended is when the call ended (zero while open).
	Ended time.Time `json:"-"`
	// Scores and Fired are the finished call's axis scores and the global rules that
	// fired, for the progress views; not part of the history listing.
	Scores []engine.AxisScore `json:"-"`
	Fired  []string           `json:"-"`
}

// history loads the linked calls of the given accounts from the journal, by account,
// oldest first, reading the calls in one query when the journal can
// (journal.SummariesOf). A linked call missing from the journal is logged and skipped.
func (h *Handler) history(ctx context.Context, ids ...string) (map[string][]callResult, error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	links, err := h.svc.store.CallLinks(ctx, ids)
	if err != nil {
		return nil, err
	}
	callIDs := make([]string, len(links))
	for i, l := range links {
		callIDs[i] = l.CallID
	}
	sums, err := journal.SummariesOf(ctx, h.o.Journal, callIDs) // one query, not one Load per call
	if err != nil {
		return nil, err
	}
	byID := make(map[string]journal.Summary, len(sums))
	for _, s := range sums {
		byID[s.ID] = s
	}
	out := map[string][]callResult{}
	for _, l := range links {
		s, ok := byID[l.CallID]
		if !ok {
			h.log.Warn("accounts: a linked call is not in the journal", "call", l.CallID)
			continue
		}
		c, res := s.Call, s.Result
		cr := callResult{ID: c.ID, Scenario: c.ScenarioID, Title: c.Title, Track: l.Track, Step: l.Step, Created: c.Created, Open: res == nil}
		if res != nil {
			cr.Overall, cr.Passed, cr.Note = res.End.Overall, res.End.Passed, res.End.Note
			cr.Lost = res.End.Outcome == engine.OutcomeLost
			cr.Ended = res.Ended
			cr.Scores, cr.Fired = res.End.Scores, res.Fired
		}
		out[l.AccountID] = append(out[l.AccountID], cr)
	}
	return out, nil
}

// results turns accounts' finished calls into track results for trackID: a call taken
// as a step of this track counts for that step, any other for every step of its
// scenario (docs/tracks.md).
func (h *Handler) results(ctx context.Context, accountID, trackID string) (map[string][]track.Result, error) {
	hist, err := h.history(ctx, accountID)
	if err != nil {
		return nil, err
	}
	return toResults(hist, trackID), nil
}

func toResults(hist map[string][]callResult, trackID string) map[string][]track.Result {
	out := map[string][]track.Result{}
	for id, calls := range hist {
		for _, c := range calls {
			if c.Open {
				continue
			}
			// A lost call cannot pass, as the engine's own verdict says (engine.EndInfo.Passed).
			r := track.Result{Scenario: c.Scenario, Overall: c.Overall, Void: c.Note != "" || c.Lost,
				Started: c.Created.UnixMilli()}
			if !c.Ended.IsZero() {
				r.Ended = c.Ended.UnixMilli()
			}
			if c.Track == trackID {
				r.Step = c.Step
			}
			out[id] = append(out[id], r)
		}
	}
	return out
}

func (h *Handler) handleMyCalls(w http.ResponseWriter, r *http.Request, a who) {
	hist, err := h.history(r.Context(), a.acc.ID)
	if err != nil {
		h.storeFailed(w, "reading your calls", err)
		return
	}
	calls := hist[a.acc.ID]
	if calls == nil {
		calls = []callResult{}
	}
	tracks := map[string]*track.Track{}
	for _, t := range h.o.Tracks() {
		tracks[t.ID] = t
	}
	for i := range calls {
		c := &calls[i]
		t := tracks[c.Track]
		if c.Open || c.Step == "" || t == nil {
			continue
		}
		if j, ok := t.Step(c.Step); ok {
			// As track.Evaluate judges it: the step's pass mark, and a call that could pass.
			passed := c.Note == "" && !c.Lost && c.Overall >= t.Steps[j].Pass
			c.StepPassed = &passed
		}
	}
	httpjson.WriteJSON(w, http.StatusOK, calls)
}

// handleMyDebrief serves the debrief of one of the trainee's own calls, on any device
// (no call token needed); another account's call is "not found", as if it did not exist.
func (h *Handler) handleMyDebrief(w http.ResponseWriter, r *http.Request, a who) {
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	id := r.PathValue("id")
	l, err := h.svc.store.CallLink(ctx, id)
	if errors.Is(err, ErrNotFound) || (err == nil && l.AccountID != a.acc.ID) {
		httpjson.WriteError(w, http.StatusNotFound, protocol.CodeNotFound, "no such call among yours")
		return
	}
	if err != nil {
		h.storeFailed(w, "reading the call", err)
		return
	}
	c, entries, res, err := h.o.Journal.Load(ctx, id)
	if err != nil {
		h.storeFailed(w, "reading the call", err)
		return
	}
	rec, err := debrief.Build(c, entries, res)
	if err != nil {
		h.log.Error("accounts: rebuilding a call record", "call", id, "err", err)
		httpjson.WriteError(w, http.StatusInternalServerError, protocol.CodeRecordFailed, "the call record could not be rebuilt")
		return
	}
	notes, err := journal.NotesOf(ctx, h.o.Journal, id)
	if err != nil {
		h.storeFailed(w, "reading the call's notes", err)
		return
	}
	rec.Notes = append(rec.Notes, notes...)
	httpjson.WriteJSON(w, http.StatusOK, rec)
}

// trackView is a track with a trainee's progress on it.
type trackView struct {
	*track.Track
	Assigned bool           `json:"assigned"`
	Progress track.Progress `json:"progress"`
}

// handleTracks lists the tracks (no progress): public, like the scenario list.
func (h *Handler) handleTracks(w http.ResponseWriter, r *http.Request) {
	ts := []*track.Track{}
	for _, t := range h.o.Tracks() {
		ts = append(ts, public(t))
	}
	httpjson.WriteJSON(w, http.StatusOK, ts)
}

// public is t as trainees see it: without the path of its file on the server.
func public(t *track.Track) *track.Track {
	c := *t
	c.Path = ""
	return &c
}

// handleMyTracks lists every track with the trainee's progress, the team's assigned
// track first.
func (h *Handler) handleMyTracks(w http.ResponseWriter, r *http.Request, a who) {
	hist, err := h.history(r.Context(), a.acc.ID)
	if err != nil {
		h.storeFailed(w, "reading your progress", err)
		return
	}
	assigned := h.view(r.Context(), a.acc).Track
	out := []trackView{}
	for _, t := range h.o.Tracks() {
		v := trackView{Track: public(t), Assigned: t.ID == assigned, Progress: track.Evaluate(t, toResults(hist, t.ID)[a.acc.ID])}
		if v.Assigned {
			out = append([]trackView{v}, out...)
		} else {
			out = append(out, v)
		}
	}
	httpjson.WriteJSON(w, http.StatusOK, out)
}

// matrixRow is one trainee's line of the team matrix.
type matrixRow struct {
	Account string `json:"account"`
	Name    string `json:"name"`
	Login   string `json:"login"`
	// Track is the trainee's own assigned track when they have one (it overrides the
	// team's; the matrix still shows the team's track, or ?track=).
	Track    string         `json:"track,omitempty"`
	Progress track.Progress `json:"progress"`
}

// handleMatrix serves the team matrix for the team's track (or ?track=ID): one row per
// trainee, one cell per step with the best score, attempts and state. ?format=csv
// downloads it as CSV.
func (h *Handler) handleMatrix(w http.ResponseWriter, r *http.Request, _ who) {
	ctx := r.Context()
	team, err := h.svc.store.Team(ctx, r.PathValue("id"))
	if errors.Is(err, ErrNotFound) {
		httpjson.WriteError(w, http.StatusNotFound, protocol.CodeNotFound, "no such team")
		return
	}
	if err != nil {
		h.storeFailed(w, "reading the team", err)
		return
	}
	trackID := r.URL.Query().Get("track")
	if trackID == "" {
		trackID = team.Track
	}
	t := h.trackByID(trackID)
	if t == nil {
		httpjson.WriteError(w, http.StatusNotFound, protocol.CodeNotFound, fmt.Sprintf("the team has no track assigned, and no track has the id %q", trackID))
		return
	}
	members, err := h.svc.store.Accounts(ctx, team.ID)
	if err != nil {
		h.storeFailed(w, "reading the team", err)
		return
	}
	var ids []string
	for _, m := range members {
		if m.Role == RoleTrainee {
			ids = append(ids, m.ID)
		}
	}
	hist, err := h.history(ctx, ids...)
	if err != nil {
		h.storeFailed(w, "reading the team's calls", err)
		return
	}
	res := toResults(hist, t.ID)
	rows := []matrixRow{}
	for _, m := range members {
		if m.Role != RoleTrainee {
			continue
		}
		rows = append(rows, matrixRow{Account: m.ID, Name: m.Name, Login: m.Login, Track: m.Track, Progress: track.Evaluate(t, res[m.ID])})
	}
	if r.URL.Query().Get("format") == "csv" {
		writeMatrixCSV(w, team, t, rows)
		return
	}
	httpjson.WriteJSON(w, http.StatusOK, map[string]any{"team": team, "track": t, "rows": rows})
}

// writeMatrixCSV writes one line per trainee and step: the CSV a spreadsheet opens.
// Cells that begin with = + - @ are prefixed with ' so a spreadsheet never runs them.
func writeMatrixCSV(w http.ResponseWriter, team Team, t *track.Track, rows []matrixRow) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s.csv"`, safeName(team.Name), t.ID))
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"trainee", "login", "track", "step", "scenario", "state", "best", "attempts", "passed"})
	for _, row := range rows {
		for i, sp := range row.Progress.Steps {
			_ = cw.Write([]string{cell(row.Name), cell(row.Login), t.ID, sp.ID, t.Steps[i].Scenario, string(sp.State),
				strconv.FormatFloat(sp.Best, 'f', 2, 64), strconv.Itoa(sp.Attempts), strconv.FormatBool(sp.State == track.StatePassed)})
		}
	}
	cw.Flush()
}

func cell(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}

func safeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			b[i] = '-'
		}
	}
	return string(b)
}

// handleMyTrackXAPI serves the xAPI statements of the trainee's standing on a track
// (engine/xapi.TrackStatements: passed or failed per step taken, satisfied when the track
// is complete), for a learning record store.
func (h *Handler) handleMyTrackXAPI(w http.ResponseWriter, r *http.Request, a who) {
	t := h.trackByID(r.PathValue("id"))
	if t == nil {
		httpjson.WriteError(w, http.StatusNotFound, protocol.CodeNotFound, "no such track")
		return
	}
	res, err := h.results(r.Context(), a.acc.ID, t.ID)
	if err != nil {
		h.storeFailed(w, "reading your progress", err)
		return
	}
	sts := xapi.TrackStatements(t, track.Evaluate(t, res[a.acc.ID]), xapi.Learner{ID: a.acc.ID, Name: a.acc.Name}, h.svc.Now(), h.o.BaseURL)
	if sts == nil {
		sts = []xapi.Statement{}
	}
	w.Header().Set("X-Experience-API-Version", xapi.Version)
	httpjson.WriteJSON(w, http.StatusOK, sts)
}
