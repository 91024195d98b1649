package track_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/track"
)

// progressTrack is:
//
//	1 cheese-shop   until-passed, start
//	2 gift-wrap     once, previous
//	3 boutique      once, after [cheese-shop, gift-wrap] (both passed)
//	4 hard-sell     until-passed, start, pass 0.6
func progressTrack(t *testing.T) *track.Track {
	var diags engine.Diagnostics
	tr := track.LoadBytes("p.yaml", []byte(`id: p
title: P
steps:
  - {scenario: cheese-shop, repeat: until-passed}
  - {scenario: gift-wrap}
  - {scenario: boutique, unlock: {after: [cheese-shop, gift-wrap]}}
  - {scenario: hard-sell, repeat: until-passed, unlock: start, pass: 0.6}
`), testCatalog, &diags)
	require.Empty(t, diags, diags.Error())
	return tr
}

func TestEvaluate(t *testing.T) {
	tr := progressTrack(t)
	res := func(sc string, overall float64) track.Result { return track.Result{Scenario: sc, Overall: overall} }
	at := func(sc string, overall float64, started, ended int64) track.Result {
		return track.Result{Scenario: sc, Overall: overall, Started: started, Ended: ended}
	}
	L, O, F, D, P := track.StateLocked, track.StateOpen, track.StateFailed, track.StateDone, track.StatePassed
	for _, tc := range []struct {
		name     string
		results  []track.Result
		states   []track.State
		next     int
		complete bool
		waiting  map[int][]string
	}{
		{name: "nothing yet: the start steps are open, the rest locked",
			states: []track.State{O, L, L, O}, next: 0,
			waiting: map[int][]string{1: {"cheese-shop"}, 2: {"cheese-shop", "gift-wrap"}}},
		{name: "a failed until-passed step stays next and keeps the next one locked",
			results: []track.Result{res("cheese-shop", 0.5), res("cheese-shop", 0.84)},
			states:  []track.State{F, L, L, O}, next: 0},
		{name: "a pass at exactly the mark passes and opens the previous-unlocked step",
			results: []track.Result{res("cheese-shop", 0.5), res("cheese-shop", 0.85)},
			states:  []track.State{P, O, L, O}, next: 1},
		{name: "a failed once step is done: next moves on, but an after rule waits for a pass",
			results: []track.Result{res("cheese-shop", 0.9), res("gift-wrap", 0.2)},
			states:  []track.State{P, D, L, O}, next: 3,
			waiting: map[int][]string{2: {"gift-wrap"}}},
		{name: "when only a retake can open a locked step, that retake is next",
			results: []track.Result{res("cheese-shop", 0.9), res("gift-wrap", 0.2), res("hard-sell", 0.7)},
			states:  []track.State{P, D, L, P}, next: 1},
		{name: "results in any order give the same progress",
			results: []track.Result{res("hard-sell", 0.7), res("boutique", 1), res("gift-wrap", 0.86), res("cheese-shop", 0.9)},
			states:  []track.State{P, P, P, P}, next: -1, complete: true},
		{name: "a call of a locked step completes nothing",
			results: []track.Result{res("boutique", 1)},
			states:  []track.State{O, L, L, O}, next: 0},
		{name: "a void call never passes, whatever its score",
			results: []track.Result{{Scenario: "cheese-shop", Overall: 1, Void: true}},
			states:  []track.State{F, L, L, O}, next: 0},
		{name: "the step's own pass mark counts, not the scenario's",
			results: []track.Result{res("hard-sell", 0.6)},
			states:  []track.State{O, L, L, P}, next: 0},
		{name: "a call taken as another step does not count",
			results: []track.Result{{Scenario: "cheese-shop", Step: "other", Overall: 1}},
			states:  []track.State{O, L, L, O}, next: 0},
		{name: "a call taken as the step counts",
			results: []track.Result{{Scenario: "cheese-shop", Step: "cheese-shop", Overall: 1}},
			states:  []track.State{P, O, L, O}, next: 1},
		{name: "complete with a once step done but not passed: the after step waits, the retake is next",
			results: []track.Result{res("cheese-shop", 0.9), res("gift-wrap", 0.1), res("hard-sell", 0.9)},
			states:  []track.State{P, D, L, P}, next: 1},
		// With times (ms): a call made while its step was locked completes nothing, even
		// once the step opens (an outside supervisor saw one count afterwards).
		{name: "a call started before its step opened completes nothing once it opens",
			results: []track.Result{at("gift-wrap", 1, 100, 200), at("cheese-shop", 0.9, 300, 400)},
			states:  []track.State{P, O, L, O}, next: 1},
		{name: "a call started after the opening call ended completes the step",
			results: []track.Result{at("cheese-shop", 0.9, 300, 400), at("gift-wrap", 1, 500, 600)},
			states:  []track.State{P, P, O, O}, next: 2},
		{name: "an after rule opens at the later of its steps' passes",
			results: []track.Result{at("cheese-shop", 0.9, 100, 200), at("boutique", 1, 250, 300),
				at("gift-wrap", 0.9, 350, 400), at("hard-sell", 0.9, 10, 20)},
			states: []track.State{P, P, O, P}, next: 2},
		{name: "an after rule opens at the pass of a once step, not at its first call",
			results: []track.Result{at("cheese-shop", 0.9, 100, 200), at("gift-wrap", 0.1, 300, 400),
				at("boutique", 1, 500, 600), at("gift-wrap", 0.9, 900, 1000), at("boutique", 0.9, 1100, 1200)},
			states: []track.State{P, P, P, O}, next: 3},
		{name: "a call made before an after rule's last pass does not count",
			results: []track.Result{at("cheese-shop", 0.9, 100, 200), at("gift-wrap", 0.1, 300, 400),
				at("boutique", 1, 500, 600), at("gift-wrap", 0.9, 900, 1000)},
			states: []track.State{P, P, O, O}, next: 2},
		{name: "a step opens at the end of the earliest call that passed the step before",
			results: []track.Result{at("cheese-shop", 0.9, 100, 200), at("cheese-shop", 0.9, 150, 900)},
			states:  []track.State{P, O, L, O}, next: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := track.Evaluate(tr, tc.results)
			got := make([]track.State, len(p.Steps))
			for i, s := range p.Steps {
				got[i] = s.State
				assert.Equal(t, tr.Steps[i].ID, s.ID)
			}
			assert.Equal(t, tc.states, got)
			assert.Equal(t, tc.next, p.Next, "next")
			assert.Equal(t, tc.complete, p.Complete, "complete")
			for i, w := range tc.waiting {
				assert.Equal(t, w, p.Steps[i].WaitingFor, "waiting for, step %d", i+1)
			}
		})
	}
}

func TestEvaluateCountsAttemptsAndBest(t *testing.T) {
	tr := progressTrack(t)
	p := track.Evaluate(tr, []track.Result{
		{Scenario: "cheese-shop", Overall: 0.4}, {Scenario: "cheese-shop", Overall: 0.9}, {Scenario: "cheese-shop", Overall: 0.7},
		{Scenario: "boutique", Overall: 0.3},
	})
	assert.Equal(t, 3, p.Steps[0].Attempts)
	assert.Equal(t, 0.9, p.Steps[0].Best)
	assert.True(t, p.Steps[0].Complete)
	assert.Equal(t, 1, p.Passed)
	assert.Equal(t, 1, p.Steps[2].Attempts, "calls of a locked step are counted")
	assert.False(t, p.Steps[2].Complete)
}
