package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
)

type result struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, stdin io.Reader, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	code := run(&cliEnv{stdin: stdin, stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}, args)
	return result{code, out.String(), errb.String()}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

const quickScenario = `id: quick
title: Quick call
brief: A fast customer.
persona: {name: Quinn, wpm: 400}
intents: {sorry: ["sorry"]}
scores: {care: 1}
start: ring
nodes:
  ring:
    ring: true
    transitions:
      - {when: 'event == "answer"', to: ask}
  ask:
    say: Hi there.
    choices: ["Sorry about that.", "Whatever."]
    transitions:
      - {when: 'said("sorry")', to: fine, score: {care: 1}}
      - {when: 'true', to: upset}
  fine:
    say: Thanks.
    end: {title: Fine, outcome: resolved}
  upset:
    end: {title: Upset, outcome: lost}
`

func TestUsageAndUnknownCommand(t *testing.T) {
	r := runCLI(t, nil)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "Commands:")
	r = runCLI(t, nil, "lnt")
	assert.Equal(t, 2, r.code)
	r = runCLI(t, nil, "tes")
	assert.Contains(t, r.stderr, `did you mean "test"?`)
	for _, cmd := range []string{"lint", "test", "play", "graph", "loadgen"} {
		r := runCLI(t, nil, cmd, "--help")
		assert.Equal(t, 0, r.code, cmd)
		assert.Equal(t, 1, strings.Count(r.stdout, "Usage: switchboard "+cmd), "%s: the usage once, on stdout", cmd)
		assert.NotContains(t, r.stderr, "Usage:", cmd)
	}
	r = runCLI(t, nil, "lint", "--no-such-flag")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "flag provided but not defined: -no-such-flag")
	assert.Equal(t, 1, strings.Count(r.stderr, "Usage: switchboard lint"), "a bad flag: the error, then the usage once")
}

func TestLintLibraryIsClean(t *testing.T) {
	r := runCLI(t, nil, "lint")
	assert.Equal(t, 0, r.code, r.stdout)
	assert.Contains(t, r.stderr, "8 scenarios and 2 tracks checked: 0 errors, 0 warnings")
}

func TestLintChecksTracks(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "quick.yaml", quickScenario)
	tp := writeFile(t, dir, "tracks/first.yaml", "id: first\ntitle: First\nsteps:\n  - scenario: quik\n  - {scenario: quick, unlock: {after: [later]}}\n  - {id: later, scenario: quick}\n")
	r := runCLI(t, nil, "lint", dir)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, tp+`:4:15: unknown scenario "quik" (did you mean "quick"?)`)
	assert.Contains(t, r.stdout, tp+`:5:40: step "later" comes later in the track (step 3 of 3)`)
	assert.Contains(t, r.stderr, "1 scenario and 1 track checked: 2 errors")

	// A lone track file is checked against the scenarios of the folder above tracks/.
	r = runCLI(t, nil, "lint", tp)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, `unknown scenario "quik" (did you mean "quick"?)`)
	assert.Contains(t, r.stderr, "1 track checked: 2 errors")

	// Two tracks of one folder with one id: the server refuses the second, so lint does.
	writeFile(t, dir, "tracks/first.yaml", "id: first\ntitle: First\nsteps:\n  - scenario: quick\n")
	dup := writeFile(t, dir, "tracks/second.yaml", "title: Second\nid: first\nsteps:\n  - scenario: quick\n")
	r = runCLI(t, nil, "lint", dir)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, dup+`:2:1: track id "first" is already used by `)
}

func TestLintReportsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "broken.yaml", strings.Replace(strings.Replace(quickScenario, `said("sorry")`, `said("sory")`, 1), "to: upset", "to: upsett", 1))
	r := runCLI(t, nil, "lint", p)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, p+`:17:22: unknown intent "sory" (did you mean "sorry"?)`)
	assert.Contains(t, r.stdout, p+`:18:28: unknown node "upsett" (did you mean "upset"?)`)
	assert.Contains(t, r.stderr, "1 scenario checked: 2 errors")

	r = runCLI(t, nil, "lint", filepath.Join(dir, "missing.yaml"))
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "no shipped scenario has the id")
}

func TestLintChecksTestFiles(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "quick.yaml", quickScenario)
	writeFile(t, dir, "quick.test.yaml", "- name: t\n  steps: [listen]\n  expect: {ending: fien}\n")
	r := runCLI(t, nil, "lint", p)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, `quick.test.yaml:3:20: "fien" is not an ending of quick (did you mean "fine"?)`)
}

// TestLintWarnsAboutCheckTests: with a test file beside the scenario, lint runs
// its tests and warns at each ending none reaches; a warning does not fail lint.
func TestLintWarnsAboutCheckTests(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "quick.yaml", quickScenario)
	writeFile(t, dir, "quick.test.yaml", "- name: t\n  steps: [{answer: 1s}, listen, {say: sorry}]\n  expect: {ending: fine}\n")
	r := runCLI(t, nil, "lint", p)
	assert.Equal(t, 0, r.code, "warnings do not fail lint")
	assert.Equal(t, p+":22:3: warning: ending upset is reached by no test (none in "+filepath.Join(dir, "quick.test.yaml")+" ends there)\n", r.stdout)
	assert.Contains(t, r.stderr, "1 scenario checked: 0 errors, 1 warning")

	writeFile(t, dir, "quick.test.yaml", "- name: t\n  steps: [{answer: 1s}, listen, {say: sorry}]\n  expect: {ending: fine}\n"+
		"- name: u\n  steps: [{answer: 1s}, listen, {say: whatever}]\n  expect: {ending: upset}\n")
	r = runCLI(t, nil, "lint", p)
	assert.Equal(t, 0, r.code)
	assert.Empty(t, r.stdout)
	assert.Contains(t, r.stderr, "1 scenario checked: 0 errors, 0 warnings")

	// Without a test file there is nothing to warn about.
	require.NoError(t, os.Remove(filepath.Join(dir, "quick.test.yaml")))
	r = runCLI(t, nil, "lint", p)
	assert.Equal(t, 0, r.code)
	assert.Empty(t, r.stdout)
}

func TestTestCommand(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "quick.yaml", quickScenario)
	writeFile(t, dir, "quick.test.yaml", `- name: apology resolves
  steps: [{answer: 1s}, listen, {choose: 0}]
  expect: {ending: fine, passed: true, fired: []}
- name: wrong expectation
  steps: [{answer: 1s}, listen, {say: "whatever"}]
  expect: {ending: fine}
`)
	r := runCLI(t, nil, "test", p)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, "--- FAIL quick: wrong expectation")
	assert.Contains(t, r.stdout, "ending: want fine, got upset")
	assert.Contains(t, r.stdout, "you: whatever", "the transcript is printed")
	assert.Contains(t, r.stderr, "tests: 1 passed, 1 failed")

	r = runCLI(t, nil, "test", "-run", "apology", dir)
	assert.Equal(t, 0, r.code, r.stdout)
	assert.Contains(t, r.stdout, "ok   quick")

	r = runCLI(t, nil, "test")
	assert.Equal(t, 0, r.code, r.stdout)
	assert.Contains(t, r.stderr, "0 failed")
}

func TestGraph(t *testing.T) {
	r := runCLI(t, nil, "graph", "cheese-shop", "--format", "mermaid")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "flowchart LR")
	assert.Contains(t, r.stdout, "n_ring -->")
	r = runCLI(t, nil, "graph", "cheese-shop")
	require.Equal(t, 0, r.code)
	assert.True(t, strings.HasPrefix(r.stdout, `digraph "cheese-shop" {`))
	assert.Contains(t, r.stdout, "style=dashed", "timers are dashed")
	r = runCLI(t, nil, "graph", "cheese", "--format", "svg")
	assert.Equal(t, 2, r.code)
	r = runCLI(t, nil, "graph", "chese-shop")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "shipped:")
}

// slowReader feeds lines with pauses, like a person at a keyboard.
type slowReader struct {
	lines []string
	pause time.Duration
	buf   []byte
}

func (s *slowReader) Read(p []byte) (int, error) {
	if len(s.buf) == 0 {
		if len(s.lines) == 0 {
			time.Sleep(s.pause)
			return 0, io.EOF
		}
		time.Sleep(s.pause)
		s.buf = []byte(s.lines[0] + "\n")
		s.lines = s.lines[1:]
	}
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	return n, nil
}

func TestPlayOnTheRealClock(t *testing.T) {
	p := writeFile(t, t.TempDir(), "quick.yaml", quickScenario)
	// Enter answers; "1" picks the first reply as listed (they are numbered from 1 in the
	// order shown, which is shuffled per call) once the line is spoken (2 words at 400 wpm
	// take 300 ms).
	in := &slowReader{lines: []string{"", "/hint", "1"}, pause: 400 * time.Millisecond}
	// Suggestions come in an order shuffled per call: find a seed that shows the apology
	// first.
	sc, diags := engine.LoadFile(p)
	require.NotNil(t, sc, diags.Error())
	seed := uint64(0)
	for s := uint64(1); seed == 0 && s < 100; s++ {
		sess := sc.NewSession(s, "Ann")
		outs := sess.Start(nil)
		outs, err := sess.Apply(engine.Event{Type: engine.EventAnswer, At: 1}, outs)
		require.NoError(t, err)
		outs, err = sess.Apply(engine.Event{Type: engine.EventHint, At: 1000}, outs)
		require.NoError(t, err)
		if ch := outs[len(outs)-1]; ch.Type == engine.OutChoices && ch.Choices[0].Text == "Sorry about that." {
			seed = s
		}
	}
	require.NotZero(t, seed)
	r := runCLI(t, in, "play", "--name", "Ann", "--seed", strconv.FormatUint(seed, 10), p)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Ring ring")
	assert.Contains(t, r.stdout, "Quinn: Hi there.")
	assert.Contains(t, r.stdout, "1) Sorry about that.")
	assert.Contains(t, r.stdout, "2) Whatever.")
	assert.Contains(t, r.stdout, "Fine (resolved), PASSED")
	assert.Contains(t, r.stdout, "1 asked for")
	assert.Contains(t, r.stdout, "You: Sorry about that.")

	// The same seed lists the apology first: "0" is not a number in the list, so it is
	// sent as typed text, and "2" picks the second reply listed. The debrief is the one
	// switchboard report prints: a reply that cost points shows the node's model answer.
	modelled := strings.Replace(quickScenario, "      - {when: 'true', to: upset}", "      - {when: 'true', to: upset, score: {care: -1}}", 1)
	modelled = strings.Replace(modelled, "    choices: [", "    model: I'm so sorry about that, Quinn.\n    choices: [", 1)
	p = writeFile(t, t.TempDir(), "quick.yaml", modelled)
	for _, c := range []struct{ pick, you string }{{"0", "You: 0"}, {"2", "You: Whatever."}} {
		in = &slowReader{lines: []string{"", "/hint", c.pick}, pause: 400 * time.Millisecond}
		r = runCLI(t, in, "play", "--name", "Ann", "--seed", strconv.FormatUint(seed, 10), p)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stdout, c.you)
		assert.Contains(t, r.stdout, "Upset (lost), NOT PASSED")
		assert.Contains(t, r.stdout, "lost: care -1")
		assert.Contains(t, r.stdout, "a strong answer: I'm so sorry about that, Quinn.")
	}
}

func TestPlayInterruptAndHangUp(t *testing.T) {
	long := strings.Replace(quickScenario, "say: Hi there.", "say: "+strings.Repeat("word ", 40), 1)
	p := writeFile(t, t.TempDir(), "quick.yaml", long)
	in := &slowReader{lines: []string{"", "wait", "/hangup"}, pause: 300 * time.Millisecond}
	r := runCLI(t, in, "play", p)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "— (cut off)")
	assert.Contains(t, r.stdout, "Upset (lost)")

	// Suggestions held back for the line that was cut off belong to the node the call
	// left: they are not shown after the interruption moved the call on.
	always := strings.Replace(long, "start: ring", "suggestions: always\nstart: ring", 1)
	p = writeFile(t, t.TempDir(), "quick.yaml", always)
	in = &slowReader{lines: []string{"", "whatever"}, pause: 300 * time.Millisecond}
	r = runCLI(t, in, "play", p)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "— (cut off)")
	assert.Contains(t, r.stdout, "Upset (lost)")
	assert.NotContains(t, r.stdout, ") Sorry about that.", "the cut-off node's choices are not shown")
}

// TestPlayHoldsWordsThroughAPause: the terminal prints a line's words at its pace and
// holds them through a {pause}: a reply sent during the pause cuts the line after the
// words before it. "Hi {pause 3s} there." at 400 wpm: "there." is due at 3.15 s (at 1.65 s
// if the pause were spread over the words); the reply comes 2.2 s into the line.
func TestPlayHoldsWordsThroughAPause(t *testing.T) {
	paused := strings.Replace(quickScenario, "say: Hi there.", `say: "Hi {pause 3s} there."`, 1)
	p := writeFile(t, t.TempDir(), "quick.yaml", paused)
	in := &slowReader{lines: []string{"", "whatever"}, pause: 2200 * time.Millisecond}
	r := runCLI(t, in, "play", p)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Quinn: Hi — (cut off)")
	assert.NotContains(t, r.stdout, "Quinn: Hi there", "the second word waits for the pause")
}

// A scenario outside the library includes the shipped packs by name, and a test of it sees
// the pack's rules fire.
func TestLintAndTestIncludeShippedPackByName(t *testing.T) {
	dir := t.TempDir()
	src := strings.Replace(quickScenario, "intents: {sorry: [\"sorry\"]}\n", "include: [listening, time]\nintents: {sorry: [\"sorry\"]}\n", 1)
	p := writeFile(t, dir, "elsewhere/quick.yaml", src)
	writeFile(t, dir, "elsewhere/quick.test.yaml", "- name: interrupted\n  steps: [{answer: 1s}, {say: \"sorry\"}]\n  expect: {ending: fine, fired: [interrupting]}\n")
	r := runCLI(t, nil, "lint", p)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	r = runCLI(t, nil, "test", p)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)

	writeFile(t, dir, "elsewhere/quick.yaml", strings.Replace(src, "[listening, time]", "[listning]", 1))
	r = runCLI(t, nil, "lint", p)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, `no shipped pack is called "listning" (did you mean "listening"?)`)
}

// An intent's failing example in a pack is reported once, with why, however many
// scenarios include the pack.
func TestLintReportsFailingExamplesOnce(t *testing.T) {
	dir := t.TempDir()
	pack := writeFile(t, filepath.Join(dir, "rules"), "words.yaml", "intents:\n  apology:\n    phrases: [\"sorry\"]\n    examples: [\"my bad\", \"so sorry\"]\n    not: [\"im not sorry\", \"sorry about that\"]\n")
	for _, id := range []string{"one", "two"} {
		writeFile(t, dir, id+".yaml", "id: "+id+"\ntitle: T\nbrief: B\ninclude: [rules/words.yaml]\nstart: s\nnodes:\n  s:\n    say: Hi.\n"+
			"    transitions:\n      - {when: 'said(\"apology\")', to: e}\n      - {when: 'true', to: e}\n  e:\n    end: {outcome: resolved, title: Done}\n")
	}
	r := runCLI(t, nil, "lint", dir)
	assert.Equal(t, 0, r.code, "failing examples are warnings")
	assert.Equal(t, pack+`:4:16: warning: example "my bad" is not understood as apology: no phrase matched (add a phrase, or check the spelling)`+"\n"+
		pack+`:5:27: warning: counter-example "sorry about that" is understood as apology: "sorry" matched "sorry" (narrow the phrase, or add an except: phrase)`+"\n", r.stdout)
	assert.Contains(t, r.stderr, "2 scenarios checked: 0 errors, 2 warnings")
}

// test --coverage reports what the tests exercised and lists, with positions, what none
// did: here the tests never reach the upset ending nor take the catch-all transition.
func TestTestCoverage(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "quick.yaml", quickScenario)
	writeFile(t, dir, "quick.test.yaml", "- name: sorry\n  steps: [{answer: 1s}, listen, {say: \"sorry\"}]\n  expect: {ending: fine}\n")
	r := runCLI(t, nil, "test", "--coverage", p)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "  nodes    2/2 (100%)\n")
	assert.Contains(t, r.stdout, "  edges    2/3 (66%)  never taken: ask → upset ("+p+":18)\n")
	assert.Contains(t, r.stdout, "  rules    0/0 (100%)\n")
	assert.Contains(t, r.stdout, "  endings  1/2 (50%)  never reached: upset ("+p+":22)\n")

	r = runCLI(t, nil, "test", p)
	assert.NotContains(t, r.stdout, "never reached", "only with --coverage")
}
