package library_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/web/library"
)

func mustLoad(t *testing.T, src string) *engine.Scenario {
	t.Helper()
	var diags engine.Diagnostics
	sc := engine.LoadBytes(nil, "heavy.yaml", []byte(src), &diags)
	require.False(t, diags.HasErrors(), diags.Error())
	return sc
}

// TestPathEdgeCases: names the library would never list, that spoof other names, or that
// some systems cannot store are refused up front with ErrBadPath, naming only the path.
func TestPathEdgeCases(t *testing.T) {
	for _, p := range []string{
		"a\x00b.yaml",                              // NUL
		strings.Repeat("a", 300) + ".yaml",         // a name over 255 bytes
		strings.Repeat("abcdefgh/", 60) + "x.yaml", // a path over 512 bytes
		"two\nlines.yaml",                          // newline
		"tab\there.yaml",                           // control
		"invoice\u202Elmth.yaml",                   // right-to-left override
		"a\u2066b.yaml",                            // left-to-right isolate
		"CON.yaml", "con.yaml", "nul.test.yaml", "COM1.yaml", "lpt9.yaml", "rules/AUX.yaml",
		"testdata/x.yaml", "rules/testdata/x.yaml", // never listed by the library
		".hidden/x.yaml", "rules/.x.yaml",
		"trailing./x.yaml", "space /x.yaml",
		"what?.yaml", "a:b.yaml",
		"bad\xffutf8.yaml",
	} {
		err := library.CheckPath(p)
		require.ErrorIs(t, err, library.ErrBadPath, "%q", p)
		assert.NotContains(t, err.Error(), os.TempDir(), "no server path in %q", err)
	}
	for _, p := range []string{"cheese-shop.yaml", "rules/listening.yaml", "tests/a.test.yaml", "console.yaml", "com10.yaml", "café.yaml"} {
		assert.NoError(t, library.CheckPath(p), p)
	}
}

// TestSaveTooLargeIsErrTooLarge lets the studio answer 413.
func TestSaveTooLargeIsErrTooLarge(t *testing.T) {
	l, _ := open(t)
	err := l.Save("big.yaml", make([]byte, 1<<20+1), "")
	assert.ErrorIs(t, err, library.ErrTooLarge)
}

// TestSymlinksCannotLeadOutside: with a real directory symlink in the scenario folder that
// points outside it, a save through it is refused (nothing is written outside), a file
// symlink is not overwritten through, the scan does not list what is outside, and an
// include through it is refused with an error that shows nothing of the outside file.
func TestSymlinksCannotLeadOutside(t *testing.T) {
	l, dir := open(t)
	outside := t.TempDir()
	secretPack := "intents:\n  top_secret_key: [\"launch codes\"]\n"
	require.NoError(t, os.WriteFile(filepath.Join(outside, "pack.yaml"), []byte(secretPack), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(outside, "target.yaml"), []byte("outside: true\n"), 0o644))
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "evil")))
	require.NoError(t, os.Symlink(filepath.Join(outside, "target.yaml"), filepath.Join(dir, "link.yaml")))

	err := l.Save("evil/new.yaml", []byte("id: x\n"), "")
	require.ErrorIs(t, err, library.ErrOutside)
	assert.NotContains(t, err.Error(), outside, "the message names no server path")
	assert.NoFileExists(t, filepath.Join(outside, "new.yaml"))

	err = l.Save("link.yaml", []byte("id: x\n"), "")
	require.Error(t, err)
	b, _ := os.ReadFile(filepath.Join(outside, "target.yaml"))
	assert.Equal(t, "outside: true\n", string(b), "the outside file is untouched")

	require.NoError(t, l.Rescan())
	for _, e := range l.Entries() {
		assert.False(t, strings.HasPrefix(e.Path, "evil/"), e.Path)
	}
	_, ok := l.File("evil/pack.yaml")
	assert.False(t, ok, "files behind the link are not listed")

	leaky := "id: leaky\ntitle: Leaky\nbrief: B\ninclude: [evil/pack.yaml]\nstart: a\nnodes:\n  a:\n    end: {outcome: lost, title: Gone}\n"
	require.NoError(t, l.Save("leaky.yaml", []byte(leaky), ""))
	d, ok := l.Entry("leaky.yaml")
	require.True(t, ok)
	require.True(t, d.Draft, "the include is an error")
	text := d.Diags.Error()
	assert.Contains(t, text, `cannot read rule pack "evil/pack.yaml": the path leads outside the scenario folder`)
	assert.NotContains(t, text, "top_secret_key", "nothing of the outside file shows")
	assert.NotContains(t, text, outside)
}

// heavyScenario's rules use the whole run-time budget of every event (about ten
// milliseconds each), so its tests take a while.
func heavyScenario(n int) (string, string) {
	var sb strings.Builder
	sb.WriteString("id: heavy\ntitle: Heavy\nbrief: B\nrules:\n")
	for i := range 30 {
		fmt.Fprintf(&sb, "  - {id: r%d, when: 'all(1..999, {# > 0}) && all(2..999, {# > 0}) && all(3..999, {# > 0}) && all(4..999, {# > 0})'}\n", i)
	}
	sb.WriteString("start: talk\nnodes:\n  talk:\n    say: Go on.\n    transitions:\n      - {when: 'text == \"stop\"', to: done}\n  done:\n    end: {outcome: resolved, title: Done}\n")
	var tb strings.Builder
	tb.WriteString("- name: long\n  steps:\n")
	for range n {
		tb.WriteString("    - {say: more}\n")
	}
	tb.WriteString("    - {say: stop}\n  expect: {ending: done}\n")
	return sb.String(), tb.String()
}

// TestTestsRunOutsideTheSaveLock: while one scenario's tests run after its save (held
// here by a hook until the other save is done), another designer's save of a different
// file completes: no lock is held while tests run.
func TestTestsRunOutsideTheSaveLock(t *testing.T) {
	l, _ := open(t)
	// Few steps: the hook, not the scenario's weight, holds the run, and a long run
	// could meet the tests' wall-clock limit on a loaded machine.
	sc, tests := heavyScenario(1)
	require.NoError(t, l.Save("heavy.yaml", []byte(sc), ""))
	started, release := make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	library.SetTestHook(func() {
		if first.CompareAndSwap(false, true) { // only the heavy save's run is held
			close(started)
			<-release
		}
	})
	t.Cleanup(func() { library.SetTestHook(nil) })
	heavyDone := make(chan error, 1)
	go func() { heavyDone <- l.Save("heavy.test.yaml", []byte(tests), "") }()
	<-started
	otherDone := make(chan error, 1)
	go func() {
		e, _ := l.Entry("boutique.yaml")
		otherDone <- l.Save("boutique.yaml", append(e.Source, []byte("\n# edited\n")...), e.Hash)
	}()
	select {
	case err := <-otherDone:
		assert.NoError(t, err)
	case <-time.After(60 * time.Second): // heavy's tests are held until release: a lock would block for ever
		t.Error("another save waited for heavy's tests")
	}
	close(release)
	require.NoError(t, <-heavyDone)
	h, _ := l.Entry("heavy.yaml")
	assert.True(t, h.Tests.Ran, "the saver gets its own results")
	assert.False(t, h.Tests.Pending)
	assert.Equal(t, 1, h.Tests.Passed, "%v", h.Tests)
}

// TestTestsHaveATimeLimit: a test stopped by its deadline fails as stopped.
func TestTestsHaveATimeLimit(t *testing.T) {
	sc, tests := heavyScenario(5)
	status := library.TestScenario("heavy.test.yaml", []byte(tests), mustLoad(t, sc), -time.Second)
	assert.True(t, status.Ran)
	assert.Equal(t, []string{"long"}, status.Failed, "stopped at once")
}

// TestOpenDoesNotWaitForTests: a start publishes the scenarios at once; their tests run
// in the background (held here by a hook) and their status says pending until then.
func TestOpenDoesNotWaitForTests(t *testing.T) {
	_, dir := open(t)
	sc, tests := heavyScenario(5)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "heavy.yaml"), []byte(sc), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "heavy.test.yaml"), []byte(tests), 0o644))
	release := make(chan struct{})
	library.SetTestHook(func() { <-release })
	t.Cleanup(func() { library.SetTestHook(nil) })
	opened := make(chan *library.Library, 1)
	go func() {
		l, err := library.Open(dir, filepath.Join(t.TempDir(), "revisions"), nil)
		assert.NoError(t, err)
		opened <- l
	}()
	var l *library.Library
	select {
	case l = <-opened:
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("Open waited for the tests")
	}
	h, ok := l.Entry("heavy.yaml")
	require.True(t, ok)
	assert.NotNil(t, h.Published, "published before its tests ran")
	assert.True(t, h.Tests.Pending)
	assert.False(t, h.Tests.Ran)
	close(release)
	l.WaitForTests()
	h, _ = l.Entry("heavy.yaml")
	assert.True(t, h.Tests.Ran)
	assert.False(t, h.Tests.Pending)
	assert.Equal(t, 1, h.Tests.Passed, "%+v", h.Tests)
}

// FuzzCheckPath: CheckPath never panics, and a path it accepts is one the library lists
// and every system can store: a valid, relative, slash path to a .yaml file, without
// control or direction characters, hidden parts or testdata/. The corpus
// (testdata/fuzz/FuzzCheckPath) holds the hostile names of issue 13.
func FuzzCheckPath(f *testing.F) {
	f.Add("cheese-shop.yaml")
	f.Add("rules/listening.yaml")
	f.Fuzz(func(t *testing.T, p string) {
		if library.CheckPath(p) != nil {
			return
		}
		switch {
		case !utf8.ValidString(p), !fs.ValidPath(p), len(p) > library.MaxPathBytes:
			t.Fatalf("accepted %q", p)
		case !strings.HasSuffix(p, ".yaml") && !strings.HasSuffix(p, ".yml"):
			t.Fatalf("accepted %q without .yaml", p)
		case strings.ContainsFunc(p, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) }):
			t.Fatalf("accepted %q with a control character", p)
		}
		for _, part := range strings.Split(p, "/") {
			if strings.HasPrefix(part, ".") || part == "testdata" || len(part) > library.MaxNameBytes {
				t.Fatalf("accepted %q", p)
			}
		}
	})
}
