package engine_test

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
)

// cardScenario is a minimal valid scenario with the given extra top-level lines.
func cardScenario(extra string) []byte {
	return []byte(`id: card
title: Card
brief: A scenario with a card.
` + extra + `
start: hello
nodes:
  hello:
    say: Hello.
    end: {title: Done, outcome: resolved, text: Done.}
`)
}

func loadCard(t *testing.T, extra string) (*engine.Scenario, engine.Diagnostics) {
	t.Helper()
	return engine.Load(fstest.MapFS{"card.yaml": {Data: cardScenario(extra)}}, "card.yaml")
}

func TestCardKeys(t *testing.T) {
	sc, diags := loadCard(t, "tags: [Listening, honesty, '  upselling  ']\ndifficulty: intermediate\nlength: 2m30s")
	require.NotNil(t, sc, diags.Error())
	assert.Equal(t, engine.Card{Tags: []string{"listening", "honesty", "upselling"}, Difficulty: "intermediate", LengthMS: 150_000}, sc.Card)

	sc, diags = loadCard(t, "")
	require.NotNil(t, sc, diags.Error())
	assert.Equal(t, engine.Card{}, sc.Card, "every card key is optional")
	assert.Nil(t, sc.Persona.Voice)

	sc, diags = loadCard(t, "persona: {name: Ann, voice: {gender: female, lang: en-GB, pitch: 1.2}}")
	require.NotNil(t, sc, diags.Error())
	assert.Equal(t, &engine.Voice{Gender: "female", Lang: "en-GB", Pitch: 1.2}, sc.Persona.Voice)
}

func TestCardErrors(t *testing.T) {
	for _, tc := range []struct{ extra, want string }{
		{"difficulty: begginer", `card.yaml:4:13: difficulty "begginer" must be one of beginner, intermediate, advanced (did you mean "beginner"?)`},
		{"difficulty: [easy]", `card.yaml:4:13: difficulty must be text, not a list`},
		{"tags: listening", `card.yaml:4:7: tags must be a list, not the value "listening"`},
		{"tags: [a, b, c, d, e, f, g]", `card.yaml:4:7: tags has 7 entries; the limit is 6`},
		{"tags: [Listening, listening]", `card.yaml:4:19: the tag "listening" is listed twice`},
		{"tags: ['   ']", `card.yaml:4:8: a tag must not be empty`},
		{"tags: [a-very-long-tag-that-goes-on-and-on]", `card.yaml:4:8: the tag "a-very-long-tag-that-goes-on-and-on" is 35 characters; the limit is 24`},
		{"length: 5s", `card.yaml:4:9: length must be between 10s and 1h0m0s (such as 90s or 3m), the typical length of a call`},
		{"length: 2h", `card.yaml:4:9: length must be between 10s and 1h0m0s`},
		{"length: soon", `card.yaml:4:9: length must be a duration such as 500ms, 20s or 1m30s (at most 24h)`},
		{"lenght: 2m", `unknown key "lenght"`},
		{"persona: {voice: {gender: femal}}", `persona.voice.gender "femal" must be one of female, male (did you mean "female"?)`},
		{"persona: {voice: {lang: British}}", `persona.voice.lang "British" must be a language tag such as en-GB or en-US`},
		{"persona: {voice: {pitch: 3}}", `persona.voice.pitch must be between 0.5 and 2`},
		{"persona: {voice: {accent: scottish}}", `unknown key "accent"`},
	} {
		t.Run(tc.extra, func(t *testing.T) {
			sc, diags := loadCard(t, tc.extra)
			assert.Nil(t, sc)
			assert.Contains(t, diags.Error(), tc.want)
		})
	}
}
