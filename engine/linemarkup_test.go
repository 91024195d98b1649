package engine_test

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
)

// markupYAML has a persona at 60 wpm (one word a second): node a's line is
// "Well... I suppose so." (4 words) with a 1.5 s pause after "Well...", so it lasts 5.5 s.
const markupYAML = `id: markup
title: Markup
brief: Pauses and conditional text inside a line.
persona: {name: Sam, wpm: 60}
vars: {honest: false, tries: 0}
rules:
  - {id: honest, when: 'text contains "truth"', set: {honest: true}}
start: a
nodes:
  a:
    say: "Well... {pause 1.5s} I suppose so."
    transitions:
      - {when: 'event == "say"', to: b}
  b:
    say: "{if honest: Thanks for being straight with me, {trainee}.|I see.} {pause 500ms} {if tries > 2: Again?}Right."
    transitions:
      - {when: 'event == "say"', to: c}
  c:
    end: {outcome: lost, title: Done}
`

func loadMarkup(t *testing.T) *engine.Scenario {
	t.Helper()
	var diags engine.Diagnostics
	sc := engine.LoadBytes(os.DirFS("testdata"), "markup.yaml", []byte(markupYAML), &diags)
	require.Empty(t, diags, diags.Error())
	return sc
}

func TestLinePauses(t *testing.T) {
	sc := loadMarkup(t)
	for _, tc := range []struct {
		name   string
		after  int64 // ms after the line started when the trainee speaks
		cut    bool
		spoken int
	}{
		{"before the pause", 500, true, 0},
		{"as the pause starts", 1000, true, 1},
		{"during the pause is an interruption cut at the word reached", 1800, true, 1},
		{"at the pause's last instant", 2499, true, 1},
		{"as the pause ends", 2500, true, 1},
		{"after the pause, one more word", 3500, true, 2},
		{"in the last but one word", 4499, true, 2},
		// The last word (sent at 4.5 s) is being said: a reply finishes the line.
		{"during the last word the line is finished", 5499, false, 0},
		{"at the end the line is finished", 5500, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCall(t, sc)
			line := ofType(c.outs, engine.OutLine)
			require.Len(t, line, 1)
			assert.Equal(t, "Well... I suppose so.", line[0].Text, "the pause is not in the text")
			assert.Equal(t, 4, line[0].Words)
			assert.Equal(t, []engine.Pause{{After: 1, MS: 1500}}, line[0].Pauses)
			assert.Equal(t, "customer: Well... {pause 1.5s} I suppose so.", line[0].Describe(), "transcripts show the pause")
			assert.Equal(t, int64(5500), line[0].Duration, "4 words at 60 wpm and a 1.5 s pause")
			outs := c.do(say(tc.after, "let me check that"))
			cuts := ofType(outs, engine.OutCut)
			if tc.cut {
				require.Len(t, cuts, 1)
				assert.Equal(t, tc.spoken, cuts[0].Spoken)
				assert.Equal(t, []string{"interrupted"}, ofType(outs, engine.OutTrainee)[0].Flags)
			} else {
				assert.Empty(t, cuts)
				assert.Empty(t, ofType(outs, engine.OutTrainee)[0].Flags, "the whole line was sent")
			}
		})
	}
}

func TestLineConditionalText(t *testing.T) {
	sc := loadMarkup(t)
	for _, tc := range []struct {
		name   string
		reply  string
		text   string
		pauses []engine.Pause
	}{
		{"else branch", "hello", "I see. Right.", []engine.Pause{{After: 2, MS: 500}}},
		{"then branch with a placeholder", "to tell the truth we have none",
			"Thanks for being straight with me, Ann. Right.", []engine.Pause{{After: 7, MS: 500}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCall(t, sc)
			outs := c.do(say(6000, tc.reply))
			line := ofType(outs, engine.OutLine)
			require.Len(t, line, 1)
			assert.Equal(t, tc.text, line[0].Text)
			assert.Equal(t, len(strings.Fields(tc.text)), line[0].Words)
			assert.Equal(t, tc.pauses, line[0].Pauses, "the pause is placed after the words the branch gave")
			assert.Equal(t, int64(line[0].Words)*1000+500, line[0].Duration)
			// Replaying the same events gives the same line.
			again := newCall(t, sc)
			assert.Equal(t, outs, again.do(say(6000, tc.reply)))
		})
	}
}

func TestLineMarkupSource(t *testing.T) {
	sc := loadMarkup(t)
	var b *engine.Node
	for _, n := range sc.Nodes {
		if n.ID == "b" {
			b = n
		}
	}
	require.NotNil(t, b)
	assert.Equal(t, "{if honest: Thanks for being straight with me, {trainee}.|I see.} {pause 500ms} {if tries > 2: Again?}Right.",
		b.Lines[0].Text.Source(sc), "the source is given back as written")
}

// TestLineMarkupErrors pins the designer's messages for mistakes in pauses and
// conditionals, each at its file:line:col.
func TestLineMarkupErrors(t *testing.T) {
	for _, tc := range []struct {
		name, say, want string
	}{
		{"pause without a duration", `"Well {pause soon} ok."`, `x.yaml:9:15: {pause soon}: a pause is a duration from 1ms to 10s, such as {pause 500ms} or {pause 1.5s}`},
		{"pause too long", `"Well {pause 11s} ok."`, `x.yaml:9:15: {pause 11s}: a pause is a duration from 1ms to 10s`},
		{"unclosed pause", `"Well {pause 1s ok."`, `x.yaml:9:15: unclosed {pause …}`},
		{"condition misspelt", `"{if honst: Yes.|No.}"`, `x.yaml:9:14: unknown name "honst" (did you mean "honest"?)`},
		{"condition not a bool", `"{if tries + 1: Yes.}"`, `x.yaml:9:14: a condition must be true or false`},
		{"no colon", `"{if honest Yes.}"`, `x.yaml:9:10: a conditional needs a ':' after its condition`},
		{"unclosed conditional", `"{if honest: Yes.|No."`, `x.yaml:9:10: unclosed {if …}: end it with }`},
		{"three branches", `"{if honest: a|b|c}"`, `a conditional has two branches, {if COND: THEN|ELSE}; write || for a literal |`},
		{"placeholder misspelt in a branch", `"{if honest: Thanks, {traine}.}"`, `x.yaml:9:30: unknown placeholder {traine} (did you mean "trainee"?)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "id: x\ntitle: X\nbrief: B.\nvars: {honest: false, tries: 0}\nstart: a\nnodes:\n  a:\n    say:\n      - " + tc.say + "\n    transitions: [{when: 'true', to: z}]\n  z:\n    end: {outcome: lost, title: Z}\n"
			var diags engine.Diagnostics
			engine.LoadBytes(os.DirFS("testdata"), "x.yaml", []byte(src), &diags)
			assert.Contains(t, diags.Error(), tc.want)
		})
	}
}

func TestLineMarkupOnlyInLines(t *testing.T) {
	src := `id: x
title: X
brief: B.
vars: {honest: false}
start: a
nodes:
  a:
    say: Hi.
    choices: ["Wait {pause 1s} what?", "{if honest: yes}"]
    transitions: [{when: 'true', to: z, feedback: "{pause 1s}"}]
  z:
    end: {outcome: lost, title: Z}
`
	var diags engine.Diagnostics
	engine.LoadBytes(os.DirFS("testdata"), "x.yaml", []byte(src), &diags)
	msg := diags.Error()
	assert.Contains(t, msg, "x.yaml:9:21: {pause …} is only allowed in a customer's line (say)")
	assert.Contains(t, msg, "x.yaml:9:41: {if …} is only allowed in a customer's line (say)")
	assert.Contains(t, msg, "x.yaml:10:52: {pause …} is only allowed in a customer's line (say)")
}

// FuzzLineMarkup: any text in a line either loads with a positioned error or plays: the
// line's pauses lie within its words and its duration covers them, and a cut at any
// instant counts no more words than the line has.
func FuzzLineMarkup(f *testing.F) {
	for _, s := range []string{"Well... {pause 1.5s} I suppose so.", "{if honest: Yes {pause 1s} sir.|No.}",
		"{if a ? b : c: x}", "{if honest: {if tries > 1: again|once}|{pause 2}}", "{if '}:': x}", "{pause}", "{{if x}}", "{if x: a||b}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		src := "id: x\ntitle: X\nbrief: B.\npersona: {wpm: 60}\nvars: {honest: true, tries: 2, a: false, b: true, c: false}\nstart: a\nnodes:\n  a:\n    say:\n      - {text: " +
			strconvQuote(text) + "}\n    transitions: [{when: 'true', to: z}]\n  z:\n    end: {outcome: lost, title: Z}\n"
		var diags engine.Diagnostics
		sc := engine.LoadBytes(os.DirFS("testdata"), "x.yaml", []byte(src), &diags)
		for _, d := range diags {
			if d.Line < 1 || d.Col < 1 || d.Message == "" {
				t.Fatalf("diagnostic without a position or message: %+v", d)
			}
		}
		if sc == nil || diags.HasErrors() {
			return
		}
		s := sc.NewSession(1, "Ann")
		outs := s.Start(nil)
		for _, o := range ofType(outs, engine.OutLine) {
			var paused int64
			for _, p := range o.Pauses {
				if p.After < 0 || p.After > o.Words || p.MS < 1 || p.MS > engine.MaxPauseMS {
					t.Fatalf("pause %+v outside a line of %d words", p, o.Words)
				}
				paused += p.MS
			}
			if o.Duration < paused {
				t.Fatalf("duration %d shorter than its pauses %d", o.Duration, paused)
			}
			outs, err := s.Apply(say(o.Duration/2, "hi"), nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range ofType(outs, engine.OutCut) {
				if c.Spoken < 0 || c.Spoken > o.Words {
					t.Fatalf("cut at %d of %d words", c.Spoken, o.Words)
				}
			}
		}
	})
}

// strconvQuote quotes s for a YAML double-quoted scalar (JSON's quoting is valid YAML).
func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestCheckTests: lint's warning at each ending no test of the scenario reaches, at the
// ending's position, and at each failing test; none when every ending is reached; one
// saying so when a test was stopped.
func TestCheckTests(t *testing.T) {
	sc, diags := engine.Load(os.DirFS("testdata"), "ok/basic.yaml")
	require.False(t, diags.HasErrors(), diags.Error())
	all, tdiags := engine.LoadTests(os.DirFS("testdata"), "ok/basic.test.yaml", sc)
	require.False(t, tdiags.HasErrors(), tdiags.Error())
	byName := map[string]engine.TestCase{}
	for _, c := range all {
		byName[c.Name] = c
	}
	never := func() bool { return false }
	for _, tc := range []struct {
		name  string
		cases []string
		want  string
	}{
		{"every ending reached", []string{"honest", "interrupt", "missed"}, ""},
		{"one test", []string{"honest"}, "ok/basic.yaml:26:3: warning: ending bad is reached by no test (none in ok/basic.test.yaml ends there)\n" +
			"ok/basic.yaml:29:3: warning: ending missed is reached by no test (none in ok/basic.test.yaml ends there)"},
		{"no tests", nil, "ok/basic.yaml:23:3: warning: ending good is reached by no test (none in ok/basic.test.yaml ends there)\n" +
			"ok/basic.yaml:26:3: warning: ending bad is reached by no test (none in ok/basic.test.yaml ends there)\n" +
			"ok/basic.yaml:29:3: warning: ending missed is reached by no test (none in ok/basic.test.yaml ends there)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cases []engine.TestCase
			for _, n := range tc.cases {
				cases = append(cases, byName[n])
			}
			got := engine.CheckTests(sc, cases, "ok/basic.test.yaml", never)
			assert.Equal(t, tc.want, got.Error())
			for _, d := range got {
				assert.Equal(t, engine.SeverityWarning, d.Severity, "a warning, never an error")
			}
		})
	}
	// A failing test is a warning at the test, with its first failure.
	wrong := byName["honest"]
	bad := "bad"
	wrong.Name, wrong.Expect.Ending = "honest, expecting the wrong ending", &bad
	got := engine.CheckTests(sc, []engine.TestCase{wrong, byName["interrupt"], byName["missed"]}, "ok/basic.test.yaml", never)
	require.Len(t, got, 1, got.Error())
	assert.Equal(t, engine.SeverityWarning, got[0].Severity)
	assert.Equal(t, []int{wrong.Line, wrong.Col}, []int{got[0].Line, got[0].Col})
	assert.Equal(t, `test "honest, expecting the wrong ending" fails: ending: want bad, got good; switchboard test shows its transcript`, got[0].Message)

	stopped := engine.CheckTests(sc, []engine.TestCase{byName["honest"]}, "ok/basic.test.yaml", func() bool { return true })
	require.Len(t, stopped, 1, "a stopped test says nothing about what the tests reach, but says it stopped")
	assert.Equal(t, engine.SeverityWarning, stopped[0].Severity)
	assert.Contains(t, stopped[0].Message, `the tests ran out of time at test "honest"`)
}

// TestLineMarkupReplayIsExact: random calls of a scenario with pauses and conditional text
// (replies landing before, during and after the pauses) replay to the same outputs.
func TestLineMarkupReplayIsExact(t *testing.T) {
	sc := loadMarkup(t)
	cuts := 0
	for i := range 300 {
		seed := uint64(i*104729 + 3)
		events, outs := randomCall(sc, seed, rand.New(rand.NewPCG(seed, 7)))
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
		require.Equal(t, string(want), string(got), "seed %d", seed)
		cuts += len(ofType(outs, engine.OutCut))
	}
	assert.Positive(t, cuts, "some replies interrupt a line")
}
