package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A designer asks how replies are read, at a node: the words, the intents with the phrase
// and the words that matched, a negation that stopped one, a near miss, the node's watched
// intents and what a bare no means there.
func TestUnderstand(t *testing.T) {
	r := runCLI(t, nil, "understand", "--node", "reboot", "ignored-phone", "no!", "i wont let it install, choose update later", "hold teh power button")
	require.Equal(t, 0, r.code, r.stderr)
	out := r.stdout
	assert.Contains(t, out, "> no!\n  read as: no\n")
	assert.Contains(t, out, `* yes  postpone           "no" answers the customer's question (reboot's yes_means/no_means)`)
	assert.Contains(t, out, `"update later" matched phrase "update later"`)
	assert.Contains(t, out, `* yes  postpone           "let it install" matched phrase "~let it install"`)
	assert.Contains(t, out, `not counted: "let it install" matched phrase "let it install" but negated by "wont"`)
	assert.Contains(t, out, "typos:   teh→the")
	assert.Contains(t, out, "* watched at reboot: dismissive, blames_customer, passes_blame, laughs, formula, condescending, wait_announced, ask_secret, hard_reset, loaner, loaner_not_now, unsafe_step, reset_skips, postpone, allow") // the global rules judge every reply

	// Standard input, one reply a line; JSON.
	r = runCLI(t, strings.NewReader("we're out of manchego\n\nhmm, possibly\n"), "understand", "--json", "cheese-shop")
	require.Equal(t, 0, r.code, r.stderr)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, lines, 2)
	var u struct {
		Reading string   `json:"reading"`
		Means   []string `json:"means"`
	}
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &u))
	assert.Equal(t, "we are out of manchego", u.Reading)
	assert.Contains(t, u.Means, "out_of_stock")
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &u))
	assert.Contains(t, u.Means, "dodge")

	// Every intent, where it is declared: the packs' too.
	r = runCLI(t, nil, "understand", "--intents", "cheese-shop")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, `(?m)^  dodge  \((scenarios/)?cheese-shop\.yaml:\d+\)$`, r.stdout)
	assert.Regexp(t, `(?m)^  dismissive  \((scenarios/)?rules/listening\.yaml:\d+\)$`, r.stdout)
	assert.Contains(t, r.stdout, `"take it or leave it"`)

	// Mistakes say what to do.
	r = runCLI(t, nil, "understand", "--node", "nowhere", "cheese-shop", "hi")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, `has no node "nowhere"`)
	r = runCLI(t, nil, "understand", "--node", "ask_manchgo", "cheese-shop", "hi")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, `has no node "ask_manchgo" (did you mean "ask_manchego"?)`)
	r = runCLI(t, strings.NewReader(""), "understand", "cheese-shop")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "no replies")
	r = runCLI(t, nil, "understand")
	assert.Equal(t, 2, r.code)
}
