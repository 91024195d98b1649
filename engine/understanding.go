package engine

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/switchboard-sim/switchboard/engine/understand"
)

// IntentKeys are the keys of an intent written as a mapping.
var IntentKeys = []string{"phrases", "examples", "not", "except", "extend"}

// Limits on an intent's tests.
const (
	MaxIntentExamples = 200 // examples plus counter-examples of one intent
)

// intentSrc is where an intent's phrases and tests were written, for diagnostics.
type intentSrc struct {
	r                                  *reader
	key                                *yaml.Node // the intent's name, where it is declared
	phrases, examples, nots, exceptsNs []srcNode
}

// srcNode is one phrase or example and the file it was written in (an extended intent's
// come from two).
type srcNode struct {
	r *reader
	n *yaml.Node
}

// intents reads the intents: block of a scenario or pack. An intent is a list of phrases or
// a mapping {phrases, examples, not, except}.
func (l *loader) intents(r *reader, n *yaml.Node) {
	pairs, _ := r.mapping(n, "intents", nil)
	for _, p := range pairs {
		if !identRE.MatchString(p.key) {
			r.errorf(p.keyN, "intent name %q must be letters, digits and '_', starting with a letter", p.key)
			continue
		}
		in := Intent{Name: p.key}
		src := intentSrc{r: r, key: p.keyN}
		what := "intent " + p.key
		strs := func(n *yaml.Node, what string) ([]string, []srcNode) {
			items, ok := r.list(n, what)
			if !ok {
				return nil, nil
			}
			var ss []string
			var ns []srcNode
			for _, it := range items {
				if s, ok := r.str(it, "a phrase"); ok {
					ss, ns = append(ss, s), append(ns, srcNode{r, it})
				}
			}
			return ss, ns
		}
		phrasesNode := p.value
		extend := false
		var extendN *yaml.Node
		if p.value.Kind == yaml.MappingNode {
			fields, _ := r.mapping(p.value, what, IntentKeys)
			phrasesNode = nil
			for _, f := range fields {
				switch f.key {
				case "phrases":
					phrasesNode = f.value
				case "examples":
					in.Examples, src.examples = strs(f.value, what+" examples")
				case "not":
					in.Not, src.nots = strs(f.value, what+" not")
				case "except":
					in.Except, src.exceptsNs = strs(f.value, what+" except")
				case "extend":
					extendN = f.value
					if f.value.Kind != yaml.ScalarNode || f.value.Tag != "!!bool" {
						r.errorf(f.value, "extend must be true or false")
					} else {
						extend = f.value.Value == "true"
					}
				}
			}
			if phrasesNode == nil && !extend {
				r.errorf(p.value, "intent %s has no phrases: add phrases: [...]", p.key)
			}
			if len(in.Examples)+len(in.Not) > MaxIntentExamples {
				r.errorf(p.value, "intent %s has %d examples and counter-examples; the limit is %d", p.key, len(in.Examples)+len(in.Not), MaxIntentExamples)
			}
		}
		if phrasesNode != nil {
			in.Phrases, src.phrases = strs(phrasesNode, what)
			if phrasesNode.Kind == yaml.SequenceNode && len(phrasesNode.Content) == 0 {
				r.errorf(phrasesNode, "intent %s has no phrases", p.key)
			}
		}
		in.Path, in.Line = r.path, p.keyN.Line
		if extend {
			// Added to the intent of this name declared before (a pack's), not replacing it.
			i, ok := l.sc.intentIndex[p.key]
			if !ok {
				r.errorf(extendN, "intent %s extends nothing: no included pack declares it%s", p.key,
					didYouMean(p.key, sortedKeys(l.sc.intentIndex)))
				continue
			}
			old, osrc := &l.sc.Intents[i], &l.intentSrcs[i]
			old.Phrases, osrc.phrases = append(old.Phrases, in.Phrases...), append(osrc.phrases, src.phrases...)
			old.Except, osrc.exceptsNs = append(old.Except, in.Except...), append(osrc.exceptsNs, src.exceptsNs...)
			old.Examples, osrc.examples = append(old.Examples, in.Examples...), append(osrc.examples, src.examples...)
			old.Not, osrc.nots = append(old.Not, in.Not...), append(osrc.nots, src.nots...)
			if len(old.Examples)+len(old.Not) > MaxIntentExamples {
				r.errorf(p.value, "intent %s has %d examples and counter-examples with the pack's; the limit is %d", p.key, len(old.Examples)+len(old.Not), MaxIntentExamples)
			}
			continue
		}
		if i, ok := l.sc.intentIndex[p.key]; ok {
			l.sc.Intents[i] = in
			l.intentSrcs[i] = src
		} else {
			if len(l.sc.Intents) >= MaxIntents {
				r.errorf(p.keyN, "more than %d intents", MaxIntents)
				continue
			}
			l.sc.intentIndex[p.key] = len(l.sc.Intents)
			l.sc.Intents = append(l.sc.Intents, in)
			l.intentSrcs = append(l.intentSrcs, src)
		}
	}
}

// compileIntents builds the scenario's matcher, reports phrases it cannot use, and checks
// every intent's examples (warnings: the scenario still loads, lint and the studio say why).
func (l *loader) compileIntents() {
	sc := l.sc
	specs := make([]understand.IntentSpec, len(sc.Intents))
	for i, in := range sc.Intents {
		specs[i] = understand.IntentSpec{Name: in.Name, Phrases: in.Phrases, Except: in.Except}
	}
	lx, errs := understand.Compile(specs)
	sc.lexicon = lx
	sc.memo = new(replyMemo)
	for _, e := range errs {
		src := l.intentSrcs[e.Intent]
		ns := src.phrases
		if e.Except {
			ns = src.exceptsNs
		}
		switch {
		case e.Index < len(ns):
			ns[e.Index].r.errorf(ns[e.Index].n, "%s", e.Msg)
		case src.r != nil:
			src.r.errorf(nil, "%s", e.Msg)
		}
	}
	for i, in := range sc.Intents {
		src := l.intentSrcs[i]
		if src.r == nil {
			continue
		}
		for _, w := range understand.CheckPhrases(in.Phrases) {
			if w.Index < len(src.phrases) {
				src.phrases[w.Index].r.warnf(src.phrases[w.Index].n, "%s", w.Msg)
			}
		}
		for j, ex := range in.Examples {
			if why := sc.exampleFails(i, ex, true); why != "" {
				src.examples[j].r.warnf(src.examples[j].n, "example %q is not understood as %s: %s", ex, in.Name, why)
			}
		}
		for j, ex := range in.Not {
			if why := sc.exampleFails(i, ex, false); why != "" {
				src.nots[j].r.warnf(src.nots[j].n, "counter-example %q is understood as %s: %s", ex, in.Name, why)
			}
		}
	}
}

// exampleFails checks one example (want: it must mean intent i) and says why it fails, or
// returns "".
func (sc *Scenario) exampleFails(i int, text string, want bool) string {
	ex := sc.lexicon.Explain(text)[i]
	if ex.Matched == want {
		return ""
	}
	if want {
		var why []string
		for _, b := range ex.Blocked {
			why = append(why, fmt.Sprintf("%q matched %q but %s", b.Words, b.Phrase, b.Reason))
		}
		if len(why) == 0 {
			if p, between, ok := sc.lexicon.NearMiss(text, i); ok {
				return fmt.Sprintf("no phrase matched: %q stands between the words of %q (add a phrase with it, or one without the words around it)", strings.Join(between, " "), p)
			}
			return "no phrase matched (add a phrase, or check the spelling)"
		}
		return strings.Join(why, "; ")
	}
	var why []string
	for _, h := range ex.Hits {
		why = append(why, fmt.Sprintf("%q matched %q", h.Words, h.Phrase))
	}
	return strings.Join(why, "; ") + " (narrow the phrase, or add an except: phrase)"
}

// Understood is one intent a trainee's message was understood as, with the words that
// matched, as typed.
type Understood struct {
	Intent string `json:"intent"`
	Words  string `json:"words"`
}

// IntentMatch explains what one intent made of a message: whether it matched, the phrases
// that matched (with the message's words) and those that a negation or an exception
// stopped from counting (with why).
type IntentMatch = understand.Explanation

// Understand runs text through the scenario's matching pipeline and explains, for every
// intent in declaration order, whether it matched and why (docs/scenario-format.md,
// "How replies are understood").
func (sc *Scenario) Understand(text string) []IntentMatch {
	if sc.lexicon == nil {
		return nil
	}
	return sc.lexicon.Explain(text)
}

// Reading returns the words the matching pipeline reads text as (steps 1 to 5: lower case,
// contractions and chat spellings rewritten, typos corrected) and the corrections it made,
// as "typed→read".
func (sc *Scenario) Reading(text string) (words, typos []string) {
	if sc.lexicon == nil {
		return nil, nil
	}
	t := sc.lexicon.Analyze(text)
	for _, tok := range t.Tokens {
		words = append(words, tok.Word)
	}
	return words, t.Typos()
}

// NearMiss looks, in text that the intent does not match, for one of its phrases whose
// words are all there in order with a few others between two of them: it returns the
// phrase and the words in the way ("only" between "i can" and "imagine"); a negation in
// the way is no near miss ("i cant promise" does not nearly say "i promise"). ok is false
// when there is none or the intent is unknown.
func (sc *Scenario) NearMiss(text, intent string) (phrase string, between []string, ok bool) {
	i, known := sc.intentIndex[intent]
	if !known || sc.lexicon == nil {
		return "", nil, false
	}
	return sc.lexicon.NearMissUnnegated(text, i)
}

// Watched returns the intents a reply is judged by at the node: those its transitions and
// the global rules ask about (said, count, said_last), and its yes_means and no_means, in
// declaration order, and whether one of its transitions, or a global rule that moves the
// call, reads the text itself (then any wording may count). ok is false for an unknown
// node.
func (sc *Scenario) Watched(node string) (intents []string, readsText, ok bool) {
	i, ok := sc.nodeIndex[node]
	if !ok {
		return nil, false, false
	}
	n := sc.Nodes[i]
	for k, in := range sc.Intents {
		if n.replyIntents.has(k) || sc.ruleIntents.has(k) || n.yesMeans == k+1 || n.noMeans == k+1 {
			intents = append(intents, in.Name)
		}
	}
	return intents, n.replyText, true
}

// AnswerAt returns the intent text means at the node as an answer to the customer's
// yes-or-no question (the node's yes_means or no_means, docs/scenario-format.md), with the
// answering words; "" when it is no answer or the node names no such intent.
func (sc *Scenario) AnswerAt(node, text string) (intent, words string) {
	i, ok := sc.nodeIndex[node]
	if !ok {
		return "", ""
	}
	said, us := sc.Nodes[i].answerMeans(sc, text, intentSet{}, nil)
	for k := range sc.Intents {
		if said.has(k) && len(us) > 0 {
			return sc.Intents[k].Name, us[0].Words
		}
	}
	return "", ""
}

// MatchIntents returns the names of the scenario's intents that text matches, in
// declaration order. It is how designers and tools can see what a message means.
func (sc *Scenario) MatchIntents(text string) []string {
	set, _ := sc.understand(text, false)
	var names []string
	for i, in := range sc.Intents {
		if set.has(i) {
			names = append(names, in.Name)
		}
	}
	return names
}

// understand returns the intents text means and, when words is set, what each was
// understood from (in declaration order).
func (sc *Scenario) understand(text string, words bool) (intentSet, []Understood) {
	return sc.understandInto(nil, text, words)
}

// understandInto is understand analysing text into t (nil: a new Text), whose room it
// reuses.
func (sc *Scenario) understandInto(t *understand.Text, text string, words bool) (intentSet, []Understood) {
	var set intentSet
	if sc.lexicon == nil {
		return set, nil
	}
	if t == nil {
		t = new(understand.Text)
	}
	t = sc.lexicon.AnalyzeInto(t, text)
	var buf [8]understand.Hit
	hits := sc.lexicon.MatchInto(t, buf[:0])
	for _, h := range hits {
		set.add(h.Intent)
	}
	if !words || len(hits) == 0 {
		return set, nil
	}
	slices.SortFunc(hits, func(a, b understand.Hit) int { return a.Intent - b.Intent })
	us := make([]Understood, len(hits))
	for k, h := range hits {
		us[k] = Understood{Intent: sc.Intents[h.Intent].Name, Words: t.Span(h.Start, h.End)}
	}
	return set, us
}
