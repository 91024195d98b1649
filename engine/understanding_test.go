package engine_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/scenarios"
)

// Targets of the understanding corpus (docs/understanding.md).
const (
	targetMisread      = 0.05 // replies read as a different set of watched intents
	targetNegatedRead  = 0.02 // negated phrases read as their intent
	targetLexiconWrong = 0.0  // replies in the lexicon's own phrasing misread
)

// corpusClasses are the kinds of reply a corpus file sorts its replies by; chat, question
// and mixed are the outside testers' (testdata/understanding/outside).
var corpusClasses = []string{"plain", "paraphrase", "negation", "typo", "lexicon", "chat", "question", "mixed"}

// outsideMisreadAtMost pins the outside testers' sets (testdata/understanding/outside: 1,822
// replies, twelve scenarios of their own and 320 replies to the eight shipped ones) at their
// figure when they were added: a change that reads more of them wrong fails; one that
// reads fewer wrong lowers it. (From 155 to 156 on purpose: "call back" matches "call us
// back" again, as documented; the broadband designer's label wanted the agent's
// direction, which their phrase did not say.)
const outsideMisreadAtMost = 410

// heldout3MisreadAtMost pins testdata/understanding/heldout3: 208 replies an outside tester
// wrote and labelled blind for the shipped scenarios (2026-12-07), 70 misread (33.7%) when
// first measured by its author, then used to broaden the shipped vocabulary (44 after,
// 41 with the next stop's content fixes):
// a development set.
const heldout3MisreadAtMost = 41

// heldout4MisreadAtMost and heldout5MisreadAtMost pin testdata/understanding/heldout4 and
// heldout5: 222 and 233 replies two more outside testers wrote and labelled blind for the
// shipped scenarios (2026-12-07), 37.4% and 35.6% misread when their authors measured them,
// then used to fix the shipped vocabulary and the matcher: development sets. Each node is
// scored on the intents it watches now, many of them added by the fixes after the labels
// were written (boutique's right_price, the packs' blames_customer…), so part of these
// figures is the labels' gaps: they guard against regressions, they are no misread rate.
const (
	heldout4MisreadAtMost = 80
	heldout5MisreadAtMost = 54
)

// corpusReply is one labelled reply of the understanding corpus.
type corpusReply struct {
	file, node, class, text string
	line                    int
	watch, want, negated    []string
}

// readCorpus parses the corpus files matching pattern (format: testdata/understanding/README.md).
func readCorpus(t *testing.T, pattern string) []corpusReply {
	t.Helper()
	files, err := filepath.Glob(pattern)
	require.NoError(t, err)
	require.NotEmpty(t, files, pattern)
	var out []corpusReply
	for _, f := range files {
		fh, err := os.Open(f)
		require.NoError(t, err)
		sc := bufio.NewScanner(fh)
		var node string
		var watch []string
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			switch {
			case line == "" || strings.HasPrefix(line, "#"):
				continue
			case strings.HasPrefix(line, "@"):
				name, ws, ok := strings.Cut(strings.TrimPrefix(line, "@"), ":")
				require.True(t, ok, "%s:%d: want '@ node: intents'", f, n)
				node, watch = strings.TrimSpace(name), strings.Fields(ws)
				continue
			}
			parts := strings.Split(line, "|")
			require.Len(t, parts, 3, "%s:%d: want 'class | labels | text'", f, n)
			r := corpusReply{file: f, line: n, node: node, watch: watch,
				class: strings.TrimSpace(parts[0]), text: strings.TrimSpace(parts[2])}
			require.Contains(t, corpusClasses, r.class, "%s:%d", f, n)
			for _, l := range strings.Fields(parts[1]) {
				switch {
				case l == "-":
				case strings.HasPrefix(l, "!"):
					r.negated = append(r.negated, l[1:])
				default:
					r.want = append(r.want, l)
				}
			}
			for _, l := range append(slices.Clone(r.want), r.negated...) {
				require.Contains(t, watch, l, "%s:%d: label %s is not watched at %s", f, n, l, node)
			}
			require.NotEmpty(t, node, "%s:%d: no @ node line before the first reply", f, n)
			out = append(out, r)
		}
		require.NoError(t, sc.Err())
		fh.Close()
	}
	return out
}

// corpusScore is what the corpus measures.
type corpusScore struct {
	total, misread       int
	byClass, misByClass  map[string]int
	negated, negatedRead int
	tp, fp, fn           map[string]int
	failures             []string
}

func scoreCorpus(t *testing.T, replies []corpusReply) corpusScore {
	t.Helper()
	s := corpusScore{byClass: map[string]int{}, misByClass: map[string]int{},
		tp: map[string]int{}, fp: map[string]int{}, fn: map[string]int{}}
	loaded := map[string]*engine.Scenario{}
	for _, r := range replies {
		id := strings.TrimSuffix(filepath.Base(r.file), ".txt")
		sc := loaded[id]
		if sc == nil {
			var diags engine.Diagnostics
			if own := strings.TrimSuffix(r.file, ".txt") + ".yaml"; fileExists(own) {
				// An outside tester's scenario, beside its replies; it may include the
				// shipped packs by name.
				sc, diags = engine.LoadWith(os.DirFS(filepath.Dir(own)), filepath.Base(own), engine.LoadOptions{Packs: scenarios.Packs})
			} else {
				sc, diags = engine.Load(scenarios.FS, scenarios.Root+"/"+id+".yaml")
			}
			require.NotNil(t, sc, "%s: %v", id, diags)
			loaded[id] = sc
		}
		require.True(t, slices.ContainsFunc(sc.Nodes, func(n *engine.Node) bool { return n.ID == r.node }), "%s:%d: no node %s in %s", r.file, r.line, r.node, id)
		for _, w := range r.watch {
			require.True(t, slices.ContainsFunc(sc.Intents, func(in engine.Intent) bool { return in.Name == w }), "%s:%d: no intent %s in %s", r.file, r.line, w, id)
		}
		var got []string
		for _, in := range sc.MatchIntents(r.text) {
			if slices.Contains(r.watch, in) {
				got = append(got, in)
			}
		}
		// A bare yes or no to the node's question, as the call reads it (yes_means, no_means).
		if in, _ := sc.AnswerAt(r.node, r.text); in != "" && slices.Contains(r.watch, in) && !slices.Contains(got, in) {
			got = append(got, in)
		}
		want := slices.Clone(r.want)
		slices.Sort(got)
		slices.Sort(want)
		s.total++
		s.byClass[r.class]++
		for _, w := range r.watch {
			g, e := slices.Contains(got, w), slices.Contains(want, w)
			switch {
			case g && e:
				s.tp[w]++
			case g:
				s.fp[w]++
			case e:
				s.fn[w]++
			}
		}
		for _, n := range r.negated {
			s.negated++
			if slices.Contains(got, n) {
				s.negatedRead++
			}
		}
		if !slices.Equal(got, want) {
			s.misread++
			s.misByClass[r.class]++
			s.failures = append(s.failures, fmt.Sprintf("%s:%d: %-10s %q at %s: read as %v, want %v",
				filepath.Base(r.file), r.line, r.class, r.text, r.node, got, want))
		}
	}
	return s
}

func (s corpusScore) report(t *testing.T, name string) {
	t.Helper()
	rate := func(a, b int) float64 {
		if b == 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d replies, misread %d (%.1f%%); negated phrases read as the intent %d of %d (%.1f%%)\n",
		name, s.total, s.misread, 100*rate(s.misread, s.total), s.negatedRead, s.negated, 100*rate(s.negatedRead, s.negated))
	for _, c := range corpusClasses {
		if s.byClass[c] == 0 && !slices.Contains(corpusClasses[:5], c) {
			continue
		}
		fmt.Fprintf(&b, "  class %-10s %3d replies, misread %2d (%.1f%%)\n", c, s.byClass[c], s.misByClass[c], 100*rate(s.misByClass[c], s.byClass[c]))
	}
	var intents []string
	for _, m := range []map[string]int{s.tp, s.fp, s.fn} {
		for k := range m {
			if !slices.Contains(intents, k) {
				intents = append(intents, k)
			}
		}
	}
	slices.Sort(intents)
	fmt.Fprintf(&b, "  %-14s %9s %7s %4s %4s %4s\n", "intent", "precision", "recall", "tp", "fp", "fn")
	for _, in := range intents {
		fmt.Fprintf(&b, "  %-14s %8.0f%% %6.0f%% %4d %4d %4d\n", in,
			100*rate(s.tp[in], s.tp[in]+s.fp[in]), 100*rate(s.tp[in], s.tp[in]+s.fn[in]), s.tp[in], s.fp[in], s.fn[in])
	}
	t.Log("\n" + b.String())
}

// TestUnderstandingCorpus reads natural replies to the shipped scenarios' key nodes and
// measures how they are understood: precision and recall per intent, misread rate by class.
// It fails above the targets. The held-out replies are reported, never their failures.
func TestUnderstandingCorpus(t *testing.T) {
	main := scoreCorpus(t, readCorpus(t, "testdata/understanding/*.txt"))
	held := scoreCorpus(t, readCorpus(t, "testdata/understanding/heldout/*.txt"))
	held2 := scoreCorpus(t, readCorpus(t, "testdata/understanding/heldout2/*.txt"))
	main.report(t, "corpus")
	held.report(t, "held-out")
	held2.report(t, "held-out 2")
	outside := scoreCorpus(t, readCorpus(t, "testdata/understanding/outside/*.txt"))
	outside.report(t, "outside scenarios")
	held3 := scoreCorpus(t, readCorpus(t, "testdata/understanding/heldout3/*.txt"))
	held3.report(t, "held-out 3 (development)")
	held4 := scoreCorpus(t, readCorpus(t, "testdata/understanding/heldout4/*.txt"))
	held4.report(t, "held-out 4 (development)")
	held5 := scoreCorpus(t, readCorpus(t, "testdata/understanding/heldout5/*.txt"))
	held5.report(t, "held-out 5 (development)")
	if testing.Verbose() {
		for _, f := range slices.Concat(main.failures, held2.failures, outside.failures, held3.failures, held4.failures, held5.failures) {
			t.Log(f)
		}
	}
	for _, h := range []struct {
		name   string
		s      corpusScore
		pinned int
	}{{"held-out 4", held4, heldout4MisreadAtMost}, {"held-out 5", held5, heldout5MisreadAtMost}} {
		if h.s.misread > h.pinned {
			t.Errorf("%s: misread %d replies, more than the %d it is pinned at (go test -v lists them)", h.name, h.s.misread, h.pinned)
		} else if h.s.misread < h.pinned {
			t.Logf("%s: misread %d, fewer than %d: lower its pin", h.name, h.s.misread, h.pinned)
		}
	}
	require.GreaterOrEqual(t, main.total, 400, "the corpus has at least 400 replies")
	if r := float64(main.misread) / float64(main.total); r > targetMisread {
		t.Errorf("misread %.1f%% of replies; the target is at most %.0f%% (go test -v lists them)", 100*r, 100*targetMisread)
	}
	if r := float64(main.negatedRead) / float64(max(main.negated, 1)); r > targetNegatedRead {
		t.Errorf("read %.1f%% of negated phrases as their intent; the target is at most %.0f%%", 100*r, 100*targetNegatedRead)
	}
	// heldout2 was used to find causes (testdata/understanding/README.md): it is held to the
	// same targets, so that a later change cannot undo what it taught.
	if r := float64(held2.misread) / float64(held2.total); r > targetMisread {
		t.Errorf("held-out 2: misread %.1f%% of replies; the target is at most %.0f%% (go test -v lists them)", 100*r, 100*targetMisread)
	}
	if r := float64(held2.negatedRead) / float64(max(held2.negated, 1)); r > targetNegatedRead {
		t.Errorf("held-out 2: read %.1f%% of negated phrases as their intent; the target is at most %.0f%%", 100*r, 100*targetNegatedRead)
	}
	if held3.misread > heldout3MisreadAtMost {
		t.Errorf("held-out 3: misread %d replies, more than the %d it is pinned at (go test -v lists them)", held3.misread, heldout3MisreadAtMost)
	} else if held3.misread < heldout3MisreadAtMost {
		t.Logf("held-out 3: misread %d, fewer than %d: lower heldout3MisreadAtMost", held3.misread, heldout3MisreadAtMost)
	}
	if outside.misread > outsideMisreadAtMost {
		t.Errorf("outside scenarios: misread %d replies, more than the %d when they were added (go test -v lists them)", outside.misread, outsideMisreadAtMost)
	} else if outside.misread < outsideMisreadAtMost {
		t.Logf("outside scenarios: misread %d, fewer than %d: lower outsideMisreadAtMost", outside.misread, outsideMisreadAtMost)
	}
	if main.misByClass["lexicon"] > 0 {
		t.Errorf("misread %d replies in the lexicon's own phrasing; the target is %.0f", main.misByClass["lexicon"], targetLexiconWrong)
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
