package engine_test

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
)

func TestYesNo(t *testing.T) {
	for _, tc := range []struct {
		text  string
		want  int
		words string
	}{
		{"no!", engine.AnswerNo, "no"},
		{"No, choose update later", engine.AnswerNo, "no"},
		{"nope", engine.AnswerNo, "nope"},
		{"oh no, don't let it", engine.AnswerNo, "no"},
		{"sorry, no, we're out of it", engine.AnswerNo, "no"},
		{"I'm afraid not", engine.AnswerNo, "afraid not"},
		{"not yet, i need to check first", engine.AnswerNo, "not yet"},
		{"definitely not!", engine.AnswerNo, "definitely not"},
		{"of course not", engine.AnswerNo, "of course not"},
		{"i don't think so", engine.AnswerNo, "i dont think so"},
		{"please don't", engine.AnswerNo, "please dont"},
		{"Don't!", engine.AnswerNo, "dont"},
		{"no need", engine.AnswerNo, "no need"},
		{"yes", engine.AnswerYes, "yes"},
		{"yes of course she can", engine.AnswerYes, "yes"},
		{"yep, any time in 30 days", engine.AnswerYes, "yep"},
		{"Of course!", engine.AnswerYes, "of course"},
		{"well sure, go for it", engine.AnswerYes, "sure"},
		{"absolutely", engine.AnswerYes, "absolutely"},
		{"go ahead", engine.AnswerYes, "go ahead"},
		{"that's right, the 28th", engine.AnswerYes, "thats right"},
		{"no problem at all", engine.AnswerNone, ""},
		{"no worries, i'll sort it", engine.AnswerNone, ""},
		{"yes?", engine.AnswerNone, ""}, // asked back
		{"sure?", engine.AnswerNone, ""},
		{"sure not", engine.AnswerNone, ""},
		{"don't worry, i'll sort it", engine.AnswerNone, ""}, // reassurance, not a refusal
		{"ok", engine.AnswerNone, ""},
		{"i can check that for you", engine.AnswerNone, ""},
		{"we have no manchego", engine.AnswerNone, ""}, // "no" not first: the phrases' to read
		{"", engine.AnswerNone, ""},
	} {
		got, words := engine.YesNo(tc.text)
		assert.Equal(t, tc.want, got, "%q", tc.text)
		assert.Equal(t, tc.words, words, "%q", tc.text)
	}
}

// FuzzYesNo: no panic, and an answer always names its words.
func FuzzYesNo(f *testing.F) {
	for _, s := range []string{"no!", "yes?", "oh no, don't", "im afraid not", "no problem", "…", "sorry sorry sorry"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		a, words := engine.YesNo(text)
		if (a == engine.AnswerNone) != (words == "") {
			t.Fatalf("%q: answer %d with words %q", text, a, words)
		}
	})
}

const yesNoScenario = `id: yesno
title: Yes or no
brief: b
persona: {name: Jo, wpm: 60}
intents:
  postpone: ["update later", "not now"]
  allow: ["let it update", "install them"]
scores:
  help: {max: 1}
start: ring
nodes:
  ring:
    ring: true
    transitions:
      - {when: 'event == "answer"', to: ask}
  ask:
    say: should i let it install the updates
    yes_means: allow
    no_means: postpone
    transitions:
      - {when: 'said("postpone")', to: later, score: {help: 1}}
      - {when: 'said("allow")', to: updating, score: {help: -1}}
      - {when: 'true', to: updating, score: {help: -1}}
  later:
    end: {title: Later, outcome: resolved}
  updating:
    end: {title: Updating, outcome: lost}
`

func TestYesOrNoMeansTheNodesIntent(t *testing.T) {
	sc := loadInline(t, yesNoScenario)
	for _, tc := range []struct {
		reply, node string
		intents     []string
	}{
		{"no!", "later", []string{"postpone"}},
		{"nope, not now", "later", []string{"postpone"}}, // read once
		{"oh, please don't", "later", []string{"postpone"}},
		{"yes go ahead", "updating", []string{"allow"}},
		{"how long does it say?", "updating", nil}, // no answer: the catch-all
	} {
		c := newCall(t, sc)
		c.do(answer(1000))
		outs := c.do(say(9000, tc.reply))
		tr := ofType(outs, engine.OutTrainee)
		require.Len(t, tr, 1, tc.reply)
		assert.Equal(t, tc.intents, tr[0].Intents, tc.reply)
		assert.Equal(t, tc.node, c.s.Node(), tc.reply)
		if tc.intents != nil {
			require.Len(t, tr[0].Understood, 1, tc.reply)
			assert.Equal(t, tc.intents[0], tr[0].Understood[0].Intent)
		}
	}
}

func TestYesNoMeansIsChecked(t *testing.T) {
	var diags engine.Diagnostics
	engine.LoadBytes(fstest.MapFS{}, "s.yaml", []byte(`id: s
title: S
brief: b
intents:
  postpone: ["later"]
start: ask
nodes:
  ask:
    say: should i
    no_means: postpon
    transitions:
      - {when: 'said("postpone")', to: done}
  done:
    end: {title: Done, outcome: resolved}
    yes_means: postpone
`), &diags)
	require.True(t, diags.HasErrors())
	assert.Contains(t, diags.Error(), `s.yaml:10:15: no_means: unknown intent "postpon" (did you mean "postpone"?)`)
	assert.Contains(t, diags.Error(), "node done has no question for the trainee to answer")
}

// YesNo runs on every reply at a node with yes_means or no_means: a reply that is no
// answer costs it no allocation.
func TestYesNoDoesNotAllocateForOtherReplies(t *testing.T) {
	for _, text := range []string{"we're out of manchego, I'm sorry about that", "I’ll check the back for you", "hmm"} {
		assert.Zero(t, testing.AllocsPerRun(100, func() { engine.YesNo(text) }), "%q", text)
	}
}
