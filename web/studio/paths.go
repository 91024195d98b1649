package studio

import (
	"context"
	"net/http"
	"sort"
	"time"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/web/api"
	"github.com/switchboard-sim/switchboard/web/protocol"
)

// maxPathCalls is how many recorded calls (the newest) the paths-taken overlay replays.
const maxPathCalls = 500

// pathCall is one recorded call in the paths-taken listing.
type pathCall struct {
	ID      string    `json:"id"`
	Trainee string    `json:"trainee"`
	Created time.Time `json:"created"`
	Ending  string    `json:"ending"`
	Outcome string    `json:"outcome"`
	Overall float64   `json:"overall"`
	Passed  bool      `json:"passed"`
}

type edgeCount struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Calls int    `json:"calls"`
}

// pathsResponse is how many recorded calls went through each node and edge, and where
// they ended. Nodes are matched by id across the scenario's versions.
type pathsResponse struct {
	Scenario string           `json:"scenario"`
	Calls    []pathCall       `json:"calls"`
	Nodes    map[string]int   `json:"nodes"`   // node → calls that entered it
	Edges    []edgeCount      `json:"edges"`   // from → to: calls that took it
	Endings  map[string]int   `json:"endings"` // ending (or "hangup") → calls
	ByNode   map[string][]int `json:"by_node"` // node → indexes into Calls
	Skipped  int              `json:"skipped"` // calls that could not be replayed
}

func (s *Studio) handlePaths(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	res := pathsResponse{Scenario: id, Calls: []pathCall{}, Nodes: map[string]int{}, Edges: []edgeCount{},
		Endings: map[string]int{}, ByNode: map[string][]int{}}
	if s.journal == nil {
		api.WriteJSON(w, http.StatusOK, res)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), storageTimeout)
	defer cancel()
	finished := false
	sums, err := s.journal.List(ctx, journal.Filter{ScenarioID: id, Open: &finished, Limit: maxPathCalls})
	if err != nil {
		s.log.Error("studio: listing calls", "err", err)
		api.WriteError(w, http.StatusServiceUnavailable, protocol.CodeStorage, "the recorded calls could not be read")
		return
	}
	compiled := map[string]*engine.Scenario{} // by hash: versions are few
	edges := map[[2]string]int{}
	for _, sum := range sums {
		info, entries, result, err := s.journal.Load(ctx, sum.ID)
		if err != nil || result == nil {
			res.Skipped++
			continue
		}
		sc, ok := compiled[info.Hash]
		if !ok {
			var diags engine.Diagnostics
			sc, diags = engine.LoadSources(info.Sources)
			if diags.HasErrors() {
				sc = nil
			}
			compiled[info.Hash] = sc
		}
		if sc == nil {
			res.Skipped++
			continue
		}
		events := make([]engine.Event, len(entries))
		for i, e := range entries {
			events[i] = e.Event
		}
		walk, err := engine.Walk(sc, info.Seed, info.Trainee, info.Mode(), events)
		if err != nil {
			res.Skipped++
			continue
		}
		idx := len(res.Calls)
		res.Calls = append(res.Calls, pathCall{ID: info.ID, Trainee: info.Trainee, Created: info.Created,
			Ending: result.End.Ending, Outcome: result.End.Outcome, Overall: result.End.Overall, Passed: result.End.Passed})
		res.Endings[result.End.Ending]++
		seen := map[string]bool{}
		seenEdge := map[[2]string]bool{}
		for i, n := range walk {
			if !seen[n] {
				seen[n] = true
				res.Nodes[n]++
				res.ByNode[n] = append(res.ByNode[n], idx)
			}
			if i > 0 {
				e := [2]string{walk[i-1], n}
				if !seenEdge[e] {
					seenEdge[e] = true
					edges[e]++
				}
			}
		}
	}
	for e, n := range edges {
		res.Edges = append(res.Edges, edgeCount{From: e[0], To: e[1], Calls: n})
	}
	sort.Slice(res.Edges, func(i, j int) bool {
		if res.Edges[i].From != res.Edges[j].From {
			return res.Edges[i].From < res.Edges[j].From
		}
		return res.Edges[i].To < res.Edges[j].To
	})
	api.WriteJSON(w, http.StatusOK, res)
}
