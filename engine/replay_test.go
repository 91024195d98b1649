package engine_test

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/scenarios"
)

// randomCall plays a session with random but plausible trainee behaviour and returns the
// accepted events and every output.
func randomCall(sc *engine.Scenario, seed uint64, rng *rand.Rand) ([]engine.Event, []engine.Output) {
	s := sc.NewSession(seed, "Robin") // the scenario's own mode: hints on request
	outs := s.Start(nil)
	var events []engine.Event
	var now int64
	var phrases []string
	for _, in := range sc.Intents {
		phrases = append(phrases, in.Phrases...)
	}
	phrases = append(phrases, "Hello there, how can I help?", "um", "Thank you for calling, how can I help you today?")
	var choices []engine.ChoiceShown
	for step := 0; step < 60 && !s.Ended(); step++ {
		for _, o := range outs {
			if o.Type == engine.OutChoices {
				choices = o.Choices
			}
		}
		now += rng.Int64N(8000)
		if d, ok := s.NextDeadline(); ok && d <= now {
			now = d
			ev := engine.Event{Type: engine.EventTimeout, At: now}
			var err error
			if outs, err = s.Apply(ev, outs); err == nil {
				events = append(events, ev)
			}
			continue
		}
		var ev engine.Event
		switch k := rng.IntN(20); {
		case k == 0:
			ev = engine.Event{Type: engine.EventHangup, At: now}
		case k < 4:
			ev = engine.Event{Type: engine.EventAnswer, At: now}
		case k < 10 && len(choices) > 0:
			ev = engine.Event{Type: engine.EventChoose, At: now, Index: choices[rng.IntN(len(choices))].Index}
		case k == 10:
			ev = engine.Event{Type: engine.EventWhisper, At: now, Text: "slow down"}
		case k == 11:
			ev = engine.Event{Type: engine.EventHint, At: now}
		case k < 14:
			ev = engine.Event{Type: engine.EventTyping, At: now}
		default:
			ev = engine.Event{Type: engine.EventSay, At: now, Text: phrases[rng.IntN(len(phrases))] + " " + phrases[rng.IntN(len(phrases))]}
		}
		var err error
		if outs, err = s.Apply(ev, outs); err == nil {
			events = append(events, ev)
		}
	}
	return events, outs
}

// TestReplayIsExact replays many random calls of every shipped scenario from their events
// and requires the same outputs, byte for byte.
func TestReplayIsExact(t *testing.T) {
	paths, err := engine.FindScenarios(scenarios.FS, scenarios.Root)
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	ended := 0
	for _, p := range paths {
		sc, diags := engine.Load(scenarios.FS, p)
		require.NotNil(t, sc, diags.Error())
		for i := range 200 {
			seed := uint64(i*7919 + 1)
			events, outs := randomCall(sc, seed, rand.New(rand.NewPCG(seed, 99)))
			want, err := json.Marshal(outs)
			require.NoError(t, err)

			s := sc.NewSession(seed, "Robin")
			replayed := s.Start(nil)
			for _, ev := range events {
				replayed, err = s.Apply(ev, replayed)
				require.NoError(t, err)
			}
			got, err := json.Marshal(replayed)
			require.NoError(t, err)
			require.Equal(t, string(want), string(got), "%s seed %d", sc.ID, seed)
			if s.Ended() {
				ended++
			}
		}
	}
	require.Greater(t, ended, len(paths)*100, "most random calls reach an ending")
}
