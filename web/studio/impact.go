package studio

import (
	"context"
	"net/http"
	"time"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/web/api"
	"github.com/switchboard-sim/switchboard/web/protocol"
)

// MaxImpactCalls is how many recorded calls of a scenario (the newest) the Impact panel
// replays against the editor's text; older calls are not checked. It matches the default
// --limit of `switchboard replay`.
const MaxImpactCalls = 500

type impactRequest struct {
	Path   string  `json:"path"`             // the scenario
	Source *string `json:"source,omitempty"` // the scenario as in the editor
}

// impactCall is one recorded call replayed against the edited scenario, with what would
// change (empty when it would go exactly the same way).
type impactCall struct {
	ID      string    `json:"id"`
	Trainee string    `json:"trainee"`
	Created time.Time `json:"created"`
	Changes []string  `json:"changes"`
}

type impactResponse struct {
	Scenario    string             `json:"scenario"`
	Diagnostics engine.Diagnostics `json:"diagnostics"`
	Calls       []impactCall       `json:"calls"`    // every replayed call, newest first
	Replayed    int                `json:"replayed"` // calls replayed
	Changed     int                `json:"changed"`  // of which would change
	Skipped     int                `json:"skipped"`  // calls that could not be read or whose recorded scenario no longer loads
	Limit       int                `json:"limit"`    // MaxImpactCalls
}

// handleImpact replays the recorded calls of the scenario (as in the editor) and lists, per
// call, how it would now end or score differently. It reuses engine.Replay and
// Replayed.Changes, like `switchboard replay`, and changes nothing.
func (s *Studio) handleImpact(w http.ResponseWriter, r *http.Request) {
	var req impactRequest
	if !readJSON(w, r, &req) || !s.validPath(w, req.Path) {
		return
	}
	res := impactResponse{Diagnostics: engine.Diagnostics{}, Calls: []impactCall{}, Limit: MaxImpactCalls}
	sc, diags := s.scenarioFor(req.Path, req.Source)
	if sc == nil {
		res.Diagnostics = diags
		api.WriteJSON(w, http.StatusUnprocessableEntity, res)
		return
	}
	res.Scenario = sc.ID
	if s.journal == nil {
		api.WriteJSON(w, http.StatusOK, res)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), storageTimeout)
	defer cancel()
	sums, err := s.journal.List(ctx, journal.Filter{ScenarioID: sc.ID, Limit: MaxImpactCalls})
	if err != nil {
		s.log.Error("studio: listing calls", "err", err)
		api.WriteError(w, http.StatusServiceUnavailable, protocol.CodeStorage, "the recorded calls could not be read")
		return
	}
	compiled := map[string]*engine.Scenario{} // by hash: versions are few
	for _, sum := range sums {
		info, entries, _, err := s.journal.Load(ctx, sum.ID)
		if err != nil {
			res.Skipped++
			continue
		}
		recorded, ok := compiled[info.Hash]
		if !ok {
			var d engine.Diagnostics
			recorded, d = engine.LoadSources(info.Sources)
			if d.HasErrors() {
				recorded = nil
			}
			compiled[info.Hash] = recorded
		}
		if recorded == nil {
			res.Skipped++
			continue
		}
		events := make([]engine.Event, len(entries))
		for i, e := range entries {
			events[i] = e.Event
		}
		before := engine.Replay(recorded, info.Seed, info.Trainee, info.Mode(), events)
		changes := before.Changes(engine.Replay(sc, info.Seed, info.Trainee, info.Mode(), events))
		if changes == nil {
			changes = []string{}
		} else {
			res.Changed++
		}
		res.Replayed++
		res.Calls = append(res.Calls, impactCall{ID: info.ID, Trainee: info.Trainee, Created: info.Created, Changes: changes})
	}
	api.WriteJSON(w, http.StatusOK, res)
}
