package engine_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
)

// loadInline loads a scenario from YAML text that must have no errors.
func loadInline(t *testing.T, src string) *engine.Scenario {
	t.Helper()
	var diags engine.Diagnostics
	sc := engine.LoadBytes(fstest.MapFS{}, "inline.yaml", []byte(src), &diags)
	require.False(t, diags.HasErrors(), diags.Error())
	return sc
}

// TestExpressionBombIsRefusedAtLoad: the 58-byte guard of issue 13 (999^3 steps, 28 CPU
// seconds and 688 MB before) is an error at its line and column, found in milliseconds.
func TestExpressionBombIsRefusedAtLoad(t *testing.T) {
	start := time.Now()
	sc, diags := engine.Load(os.DirFS("testdata"), "bad/bounds.yaml")
	require.Nil(t, sc)
	assert.Less(t, time.Since(start), 2*time.Second)
	text := diags.Error()
	assert.Contains(t, text, "bad/bounds.yaml:11:49: all() is nested 3 predicates deep; the limit is 2")
	assert.Contains(t, text, "bad/bounds.yaml:13:21: the range 1..100000 has more than 1000 elements")
	assert.Contains(t, text, "bad/bounds.yaml:14:53: the range 1..5001", "a range built from let bindings")
	assert.NotContains(t, text, ":19:", "small ranges, shallow nesting: fine")
}

// runtimeScenario has guards whose work depends on a var, so only the run-time meter can
// stop them.
const runtimeScenario = `id: rt
title: Run-time bounds
brief: B
vars: {n: 3, hits: 0}
rules:
  - {id: bump, when: 'event == "say" && text == "more"', set: {n: n * 10}}
  - {id: hit, when: 'any(1..int(n), {# == 2})', set: {hits: hits + 1}}
%s
start: talk
nodes:
  talk:
    say: Go on.
    transitions:
      - {when: 'text == "stop"', to: done}
  done:
    end: {outcome: resolved, title: Done}
`

// TestRangeFromAVarIsBoundedAtRunTime: a range whose size comes from a var passes lint
// (it is counted as MaxRangeLen); at run time a range over the limit is an error output
// and the guard is false — the call goes on.
func TestRangeFromAVarIsBoundedAtRunTime(t *testing.T) {
	sc := loadInline(t, fmt.Sprintf(runtimeScenario, ""))
	c := newCall(t, sc)
	outs := c.do(say(1000, "hello"))
	assert.Empty(t, ofType(outs, engine.OutError))
	assert.EqualValues(t, 1, c.s.Vars()["hits"], "1..3 holds 2")
	assert.Zero(t, c.s.Vars()["hits"].(float64)-1)
	for i, at := range []int64{2000, 3000, 4000} { // n: 30, 300, 3000
		outs = c.do(say(at, "more"))
		if i < 2 {
			assert.Empty(t, ofType(outs, engine.OutError), "n=%v", c.s.Vars()["n"])
		}
	}
	errs := ofType(outs, engine.OutError)
	require.NotEmpty(t, errs, "1..3000 is over the limit")
	assert.Contains(t, errs[0].Text, "range 1..3000 has 3000 elements; the limit is 1000")
	c.do(say(5000, "stop"))
	assert.True(t, c.s.Ended(), "the call survives")
}

// TestEventWorkBudget: many rules, each within the per-expression estimate, together
// exceed the per-event budget: the later ones fail with a clear error instead of running.
func TestEventWorkBudget(t *testing.T) {
	var rules strings.Builder
	for i := range 40 {
		fmt.Fprintf(&rules, "  - {id: r%d, when: 'all(1..999, {# > 0}) && all(2..999, {# > 0}) && all(3..999, {# > 0}) && all(4..999, {# > 0})'}\n", i)
	}
	sc := loadInline(t, fmt.Sprintf(runtimeScenario, rules.String()))
	c := newCall(t, sc)
	start := time.Now()
	outs := c.do(say(1000, "hello"))
	assert.Less(t, time.Since(start), 15*time.Second, "unbounded, these rules run for minutes (generous for -race on a loaded machine)")
	errs := ofType(outs, engine.OutError)
	require.NotEmpty(t, errs)
	assert.Contains(t, errs[0].Text, fmt.Sprintf("more than %d steps", engine.MaxEventWork))
	// The budget is per event: the next event starts afresh (and fails the same way).
	outs = c.do(say(2000, "hello"))
	assert.NotEmpty(t, ofType(outs, engine.OutError))
	assert.Equal(t, "talk", c.s.Node())
}

// TestStringBuiltInOneExpressionIsBounded: let-chained doubling inside one expression
// (no set involved) is stopped by the meter at MaxStringBytes.
func TestStringBuiltInOneExpressionIsBounded(t *testing.T) {
	sc := loadInline(t, `id: str
title: T
brief: B
vars: {s: "abcdefghabcdefghabcdefghabcdefgh"}
start: talk
nodes:
  talk:
    say: Go on.
    transitions:
      - {when: 'let a = s + s; let b = a + a; let c = b + b; let d = c + c; let e = d + d; let f = e + e; let g = f + f; let h = g + g; let i = h + h; let j = i + i; let k = j + j; len(k) > 0', to: done}
  done:
    end: {outcome: resolved, title: Done}
`)
	c := newCall(t, sc)
	outs := c.do(say(1000, "hello"))
	errs := ofType(outs, engine.OutError)
	require.NotEmpty(t, errs)
	assert.Contains(t, errs[0].Text, "the limit is 16384")
	assert.Equal(t, "talk", c.s.Node(), "a failed guard is false")
}

// TestDoublingVarIsCapped: the fixture with set {s: s + s} loads with a warning at the +;
// at run time s stops at MaxVarBytes: each later set is an error output and s keeps its
// value, so a live call does not grow.
func TestDoublingVarIsCapped(t *testing.T) {
	sc, diags := engine.Load(os.DirFS("testdata"), "bad/warnings-doubling.yaml")
	require.NotNil(t, sc, diags.Error())
	require.Len(t, diags, 1)
	assert.Equal(t, engine.SeverityWarning, diags[0].Severity)
	c := newCall(t, sc)
	var errs []engine.Output
	for i := range 40 {
		outs := c.do(say(int64(1000*(i+1)), "again"))
		errs = append(errs, ofType(outs, engine.OutError)...)
		assert.LessOrEqual(t, len(c.s.Vars()["s"].(string)), engine.MaxVarBytes)
	}
	assert.Len(t, c.s.Vars()["s"].(string), 4096, "8 bytes doubled 9 times, then kept")
	assert.Equal(t, true, c.s.Vars()["big"])
	require.Len(t, errs, 40-9, "every refused set is reported")
	assert.Equal(t, "set s: the value is 8192 bytes; a var holds at most 4096", errs[0].Text)
	assert.Equal(t, "grow", errs[0].Rule)
	c.do(say(50_000, "stop"))
	assert.True(t, c.s.Ended())
}

// FuzzGuard: any guard either fails to load with positioned diagnostics, or loads and
// then every event it is evaluated for finishes quickly: the static bounds and the run-time
// meter leave no expression that can stall a call. The corpus (testdata/fuzz/FuzzGuard)
// holds the hostile guards of issue 13.
func FuzzGuard(f *testing.F) {
	for _, g := range []string{`said("x") && n > 2`, `let r = 1..999; all(r, {all(r, {all(r, {# > 0})})})`,
		`any(1..int(n), {# == 2})`, `len(s + s + s) > n`} {
		f.Add(g)
	}
	f.Fuzz(func(t *testing.T, guard string) {
		quoted, _ := json.Marshal(guard) // JSON strings are YAML double-quoted scalars
		src := fmt.Sprintf("id: g\ntitle: T\nbrief: B\nvars: {n: 3, s: \"ab\"}\nintents: {x: [\"hello\"]}\n"+
			"rules:\n  - {id: more, when: 'true', set: {n: n * 10, s: 's + \"ab\"'}}\n"+
			"start: a\nnodes:\n  a:\n    say: hi\n    transitions:\n      - {when: %s, to: b}\n  b:\n    end: {outcome: lost, title: Gone}\n", quoted)
		var diags engine.Diagnostics
		sc := engine.LoadBytes(fstest.MapFS{}, "g.yaml", []byte(src), &diags)
		for _, d := range diags {
			if d.Line < 1 || d.Col < 1 || d.Message == "" {
				t.Fatalf("diagnostic without a position or message: %+v", d)
			}
		}
		if diags.HasErrors() {
			return
		}
		s := sc.NewSession(1, "")
		outs := s.Start(nil)
		for i := range 6 {
			start := time.Now()
			outs, _ = s.Apply(engine.Event{Type: engine.EventSay, At: int64(1000 * (i + 1)), Text: "hello there"}, outs)
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("one event took %v with guard %q", d, guard)
			}
		}
	})
}

// TestVarValuesAreCappedEverywhere: an initial value in the file and a value set when
// debug play starts at a node are held to MaxVarBytes too.
func TestVarValuesAreCappedEverywhere(t *testing.T) {
	big := strings.Repeat("x", engine.MaxVarBytes+1)
	var diags engine.Diagnostics
	engine.LoadBytes(fstest.MapFS{}, "v.yaml", []byte("id: v\ntitle: T\nbrief: B\nvars: {s: "+big+"}\nstart: a\nnodes:\n  a:\n    end: {outcome: lost, title: Gone}\n"), &diags)
	assert.Contains(t, diags.Error(), "v.yaml:4:11: var s: the value is 4097 bytes; a var holds at most 4096")

	sc, diags := engine.LoadFile("testdata/ok/semantics.yaml")
	require.False(t, diags.HasErrors(), diags.Error())
	_, err := sc.NewSession(1, "").StartAt("greet", map[string]any{"path": big}, nil)
	assert.EqualError(t, err, "var path: the value is 4097 bytes; a var holds at most 4096")
}

// TestEventWorkBudgetIsPerEvent: rules that use about a third of the budget on every
// event keep working event after event (the meter is reset for each one; pooled scratches
// carry nothing over).
func TestEventWorkBudgetIsPerEvent(t *testing.T) {
	var rules strings.Builder
	for i := range 10 { // 10 × 4 × (999 + 999 × 3) ≈ 160,000 steps per event
		fmt.Fprintf(&rules, "  - {id: r%d, when: 'all(1..999, {# > 0}) && all(2..999, {# > 0}) && all(3..999, {# > 0}) && all(4..999, {# > 0})'}\n", i)
	}
	sc := loadInline(t, fmt.Sprintf(runtimeScenario, rules.String()))
	c := newCall(t, sc)
	for i := range 10 {
		outs := c.do(say(int64(1000*(i+1)), "hello"))
		require.Empty(t, ofType(outs, engine.OutError), "event %d", i+1)
		assert.Len(t, engine.FiredRules(outs), 10+1, "event %d: every rule fired", i+1)
	}
}
