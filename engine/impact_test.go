package engine_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
)

// A recorded call replayed on an edited scenario says what would change.
func TestReplayShowsTheImpactOfAnEdit(t *testing.T) {
	src, err := os.ReadFile("testdata/ok/judge.yaml")
	require.NoError(t, err)
	load := func(text string) *engine.Scenario {
		var diags engine.Diagnostics
		sc := engine.LoadBytes(os.DirFS("testdata/ok"), "judge.yaml", []byte(text), &diags)
		require.False(t, diags.HasErrors(), diags.Error())
		return sc
	}
	before := load(string(src))
	events := []engine.Event{{Type: engine.EventAnswer, At: 1000}, {Type: engine.EventSay, At: 7000, Text: "so sorry"}, {Type: engine.EventSay, At: 9000, Text: "here is a refund"}}
	was := engine.Replay(before, 1, "Ann", engine.SuggestOnRequest, events)
	require.NotNil(t, was.End)
	require.Equal(t, "thanks", was.End.Ending)
	assert.Empty(t, was.Changes(engine.Replay(before, 1, "Ann", engine.SuggestOnRequest, events)), "the same scenario: nothing changes")

	// The apology no longer earns care, and ask_again no longer accepts a refund.
	edited := strings.Replace(string(src), "- {when: 'said(\"apology\")', to: ask_again, score: {care: 1}}", "- {when: 'said(\"apology\")', to: ask_again}", 1)
	edited = strings.Replace(edited, "- {when: 'said(\"refund\")', to: thanks, score: {care: 1}}\n      - {when: 'true', to: cross}", "- {when: 'true', to: cross}", 1)
	require.NotEqual(t, string(src), edited)
	now := engine.Replay(load(edited), 1, "Ann", engine.SuggestOnRequest, events)
	changes := was.Changes(now)
	assert.Contains(t, changes, "ending thanks → cross")
	assert.Contains(t, changes, "outcome resolved → lost")
	assert.Contains(t, changes, "passed true → false")
	assert.Contains(t, changes, "care 2/2 → 0/2")

	// An input the new version refuses is named.
	noChoices := strings.Replace(string(src), "    choices:\n      - I'm sorry, here is a refund.\n      - Not my problem.\n      - Let me think.\n", "", 1)
	hinted := []engine.Event{{Type: engine.EventAnswer, At: 1000}, {Type: engine.EventHint, At: 7000}, {Type: engine.EventChoose, At: 8000, Index: 0}}
	was = engine.Replay(before, 1, "Ann", engine.SuggestOnRequest, hinted)
	now = engine.Replay(load(noChoices), 1, "Ann", engine.SuggestOnRequest, hinted)
	assert.Equal(t, 1, now.Refused)
	require.NotEmpty(t, was.Changes(now))
	assert.Contains(t, was.Changes(now)[0], "input 2 is refused now (hint at 7.000s: there are no suggested replies")
}
