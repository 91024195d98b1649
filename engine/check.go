package engine

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// successors lists every node a node could lead to as the designer wrote it: compiled
// transitions, timers and hang-up, transitions whose guard does not compile, misspelt
// targets (as the node they most likely meant) and to: under misspelt keys. The graph
// checks use it, so that an error elsewhere never hides (or fakes) an unreachable node.
func (sc *Scenario) successors(n *Node) []int {
	var next []int
	add := func(t *Transition) {
		switch {
		case t.To >= 0:
			next = append(next, t.To)
		case t.guess >= 0:
			next = append(next, t.guess)
		}
	}
	for _, ts := range [][]*Transition{n.Transitions, n.Timers, n.sketch} {
		for _, t := range ts {
			add(t)
		}
	}
	if n.Hangup >= 0 {
		next = append(next, n.Hangup)
	}
	return append(next, n.maybeTo...)
}

// reachable marks the nodes some path from the start can reach; global rules can fire
// from any node that is not an ending.
func (sc *Scenario) reachable() []bool {
	reached := make([]bool, len(sc.Nodes))
	if sc.Start < 0 || sc.Start >= len(sc.Nodes) {
		return reached
	}
	queue := []int{sc.Start}
	reached[sc.Start] = true
	rulesAdded := false
	for len(queue) > 0 {
		n := sc.Nodes[queue[0]]
		queue = queue[1:]
		next := sc.successors(n)
		if n.End == nil && !rulesAdded {
			rulesAdded = true
			if sc.GivesUp >= 0 {
				next = append(next, sc.GivesUp) // the customer can give up anywhere
			}
			for _, rs := range [][]*Transition{sc.Rules, sc.sketchRules} {
				for _, t := range rs {
					switch {
					case t.To >= 0:
						next = append(next, t.To)
					case t.guess >= 0:
						next = append(next, t.guess)
					}
				}
			}
		}
		for _, to := range next {
			if to >= 0 && !reached[to] {
				reached[to] = true
				queue = append(queue, to)
			}
		}
	}
	return reached
}

// checkGraph finds unreachable nodes, dead ends, router loops and missing endings, and warns
// about transitions that can never be checked. It runs whatever else is broken: a
// transition that does not compile still leads where its to: says.
// A model reply should be typeable, at ModelTypingWPM (five characters a word) after
// ModelStartMS to start, within the scenario's compose limit: lint warns when it is not.
const (
	ModelTypingWPM = 40
	ModelStartMS   = 3000
	modelMSPerChar = 60000 / (ModelTypingWPM * 5)
)

// DeafPause is the shortest pause after a customer's line, at a node that only a timer
// moves on, that lint warns about: long enough for a trainee to start replying.
const DeafPause = 3000 // ms

func (l *loader) checkGraph(r *reader, top decl) {
	sc := l.sc
	if len(sc.Nodes) == 0 || sc.Start < 0 {
		return
	}
	nodeAt := func(n *Node) *yaml.Node { return &yaml.Node{Line: n.Line, Column: n.Col} }
	rd := func(n *Node) *reader { // a pack's nodes are reported in the pack
		if n.Pack != "" {
			return &reader{path: n.Pack, diags: r.diags}
		}
		return r
	}
	reached := sc.reachable()
	endingReached := false
	for _, n := range sc.Nodes {
		if !reached[n.Index] && n.Pack != "" {
			continue // a pack's sub-flow this scenario does not enter
		}
		if !reached[n.Index] {
			kind := "node"
			if n.End != nil {
				kind = "ending"
			}
			rd(n).errorf(nodeAt(n), "%s %s is never reached from %s", kind, n.ID, sc.Nodes[sc.Start].ID)
			continue
		}
		if n.End != nil {
			endingReached = true
			continue
		}
		if len(n.Transitions) == 0 && len(n.Timers) == 0 && !n.broken && !n.Return {
			rd(n).errorf(nodeAt(n), "node %s is not an ending and has no way out (add transitions, or end: to make it an ending)", n.ID)
		}
		if len(n.Transitions) == 0 && len(n.Timers) > 0 && len(n.Lines) > 0 && !n.Ring && !n.Return &&
			n.Timers[0].After >= DeafPause {
			rd(n).warnf(nodeAt(n), "node %s waits %s after its line and only a timer moves it on: a reply typed in that pause is scored by the rules but changes nothing, and the customer talks on as if unheard (add a transition that hears it, e.g. when: 'event == \"say\"', or a pause under %s)",
				n.ID, FormatDuration(n.Timers[0].After), FormatDuration(DeafPause))
		}
		if n.awaitsReply() && n.modelLine > 0 && !n.Model.Empty() {
			chars := int64(len([]rune(n.Model.Source(sc))))
			if typing := ModelStartMS + chars*modelMSPerChar; typing > sc.ComposeLimit {
				rd(n).warnf(&yaml.Node{Line: n.modelLine, Column: n.modelCol}, "the model reply takes about %s to type at %d wpm (%d characters, after %s to start), more than the compose limit of %s: a trainee typing a reply like it is hurried by the customer's timers (shorten it, or raise compose_limit)",
					FormatDuration(typing/1000*1000), ModelTypingWPM, chars, FormatDuration(ModelStartMS), FormatDuration(sc.ComposeLimit))
			}
		}
		always := false
		for _, t := range n.Transitions {
			if always {
				rd(n).warnf(&yaml.Node{Line: t.Line, Column: t.Col}, "this transition is never checked: an earlier one always matches")
				break
			}
			if strings.TrimSpace(t.WhenSrc) == "true" {
				always = true
			}
		}
		if n.Router() && !always && len(n.Transitions) > 0 {
			rd(n).warnf(nodeAt(n), "router %s has no catch-all (when: 'true'): if nothing matches, the call is stuck here", n.ID)
		}
	}
	if !endingReached {
		r.errorf(top.pairs["nodes"].keyN, "no ending can be reached from %s: every call must be able to end", sc.Nodes[sc.Start].ID)
	}
	// A return node must be inside a sub-flow: reachable from the start only through a
	// call (to: >id), or it would have no node to go back to.
	plain := make([]bool, len(sc.Nodes))
	plain[sc.Start] = true
	queue := []int{sc.Start}
	rulesAdded := false
	for len(queue) > 0 {
		n := sc.Nodes[queue[0]]
		queue = queue[1:]
		var ts []*Transition
		for _, group := range [][]*Transition{n.Transitions, n.Timers, n.sketch} {
			ts = append(ts, group...)
		}
		if n.End == nil && !rulesAdded {
			rulesAdded = true
			ts = append(ts, sc.Rules...)
		}
		for _, t := range ts {
			if !t.Call && t.To >= 0 && !plain[t.To] {
				plain[t.To] = true
				queue = append(queue, t.To)
			}
		}
	}
	for _, n := range sc.Nodes {
		if n.Return && plain[n.Index] {
			rd(n).errorf(nodeAt(n), "node %s returns, but the call can reach it without entering a sub-flow (to: >…), so it has nowhere to return to", n.ID)
		}
	}
	l.checkSubflowsReturn(rd, nodeAt)
	if endingReached { // else that is the one error to report
		l.checkWayToAnEnd(rd, nodeAt, reached)
	}
	// Routers pass the call on at once: a loop of routers would never stop.
	const (
		white = iota
		grey
		black
	)
	color := make([]int, len(sc.Nodes))
	var visit func(i int) bool
	visit = func(i int) bool {
		color[i] = grey
		for _, t := range sc.Nodes[i].Transitions {
			if t.To < 0 || !sc.Nodes[t.To].Router() {
				continue
			}
			if color[t.To] == grey {
				rd(sc.Nodes[t.To]).errorf(nodeAt(sc.Nodes[t.To]), "routers %s and %s form a loop with no customer line in between", sc.Nodes[i].ID, sc.Nodes[t.To].ID)
				return true
			}
			if color[t.To] == white && visit(t.To) {
				return true
			}
		}
		color[i] = black
		return false
	}
	for i, n := range sc.Nodes {
		if n.Router() && color[i] == white && visit(i) {
			break
		}
	}
}

// checkSubflowsReturn reports a sub-flow (to: >id) from which no return: true node can be
// reached: the call never comes back from it. When the sub-flow can lead back to the
// node that entered it, every pass nests one more sub-flow (at most MaxCallDepth), an
// error; otherwise a warning.
func (l *loader) checkSubflowsReturn(rd func(*Node) *reader, nodeAt func(*Node) *yaml.Node) {
	sc := l.sc
	done := map[[2]int]bool{}
	for _, n := range sc.Nodes {
		for _, group := range [][]*Transition{n.Transitions, n.Timers} {
			for _, t := range group {
				if !t.Call || t.To < 0 || done[[2]int{n.Index, t.To}] {
					continue
				}
				done[[2]int{n.Index, t.To}] = true
				seen := make([]bool, len(sc.Nodes))
				seen[t.To] = true
				queue := []int{t.To}
				returns, loops := false, false
				for len(queue) > 0 && !returns {
					m := sc.Nodes[queue[0]]
					queue = queue[1:]
					if m.Return {
						returns = true
						break
					}
					for _, to := range sc.successors(m) {
						if to == n.Index {
							loops = true
						}
						if to >= 0 && !seen[to] {
							seen[to] = true
							queue = append(queue, to)
						}
					}
				}
				if returns {
					continue
				}
				at := &yaml.Node{Line: t.Line, Column: t.Col}
				target := sc.Nodes[t.To].ID
				if loops {
					rd(n).errorf(at, "the sub-flow entered at %s never reaches a node with return: true, and leads back to %s: each pass would enter one more sub-flow, until the limit of %d (use to: %s without >, or add a return: true node)", target, n.ID, MaxCallDepth, target)
				} else {
					rd(n).warnf(at, "the sub-flow entered at %s never reaches a node with return: true, so the call never comes back to %s (use to: %s without >, or add a return: true node)", target, n.ID, target)
				}
			}
		}
	}
}

// checkWayToAnEnd warns at the nodes the call can reach but never leave for an ending: a
// loop of timers, or of nodes that only lead to each other (a global rule with a to: is a
// way out from any node).
func (l *loader) checkWayToAnEnd(rd func(*Node) *reader, nodeAt func(*Node) *yaml.Node, reached []bool) {
	sc := l.sc
	for _, rs := range [][]*Transition{sc.Rules, sc.sketchRules} {
		for _, t := range rs {
			if t.To >= 0 || t.guess >= 0 {
				return // a rule can move the call from anywhere: nothing to say
			}
		}
	}
	// Reverse edges; exits are endings and return nodes (the call goes back to a caller).
	pred := make([][]int, len(sc.Nodes))
	exit := make([]bool, len(sc.Nodes))
	var queue []int
	for _, n := range sc.Nodes {
		for _, to := range sc.successors(n) {
			if to >= 0 {
				pred[to] = append(pred[to], n.Index)
			}
		}
		if n.End != nil || n.Return || n.broken {
			exit[n.Index] = true
			queue = append(queue, n.Index)
		}
	}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		for _, p := range pred[i] {
			if !exit[p] {
				exit[p] = true
				queue = append(queue, p)
			}
		}
	}
	for _, n := range sc.Nodes {
		if !reached[n.Index] || exit[n.Index] || len(n.Transitions)+len(n.Timers) == 0 || n.Router() {
			continue // unreachable nodes, dead ends and router loops are reported already
		}
		rd(n).warnf(nodeAt(n), "no ending can be reached from node %s: every way on from it leads only round the same nodes, so the call can end there only by a hang-up", n.ID)
	}
}

// checkIntentsUsed warns of an intent of the scenario's own (not a pack's) that no
// expression looks at: replies are read as it, but nothing in the call depends on it.
func (l *loader) checkIntentsUsed(r *reader) {
	if r.diags.HasErrors() {
		return // an expression that did not compile may be the one that uses it
	}
	for i, in := range l.sc.Intents {
		src := l.intentSrcs[i]
		if src.r != r || src.key == nil || l.ec.usedIntents[in.Name] {
			continue
		}
		r.warnf(src.key, "intent %s is never used: no transition, rule or line looks at it (said(%q) or count(%q)), so replies read as it change nothing in the call", in.Name, in.Name, in.Name)
	}
}

// checkModelAnswers warns where a node's model answer, said there, is marked down: a rule
// or the transition it takes costs points, or a critical rule fires. The answer is said
// in a call started at the node (vars at their defaults, StartAt), a second after the
// customer's line, as a trainee who types it would: a model that the scenario's own
// rules penalise (a jargon intent whose stem also catches the plain word) teaches the
// wrong lesson, and only a scenario test would show it otherwise.
func (l *loader) checkModelAnswers(r *reader) {
	sc := l.sc
	for _, n := range sc.Nodes {
		if !n.awaitsReply() || n.modelLine == 0 || n.Model.Empty() || n.Pack != "" {
			continue
		}
		s := sc.NewSession(0, "Trainee")
		out, err := s.StartAt(n.ID, nil, nil)
		if err != nil || s.Ended() || s.Node() != n.ID {
			continue
		}
		at := s.lineEnd + 1000
		if at < 1000 {
			at = 1000
		}
		text := n.Model.render(sc, s)
		if out, err = s.Apply(Event{Type: EventTyping, At: at - 500}, out[:0]); err != nil {
			continue
		}
		s.SetTrace(true)
		if out, err = s.Apply(Event{Type: EventSay, At: at, Text: text}, out[:0]); err != nil {
			continue
		}
		if l.checkModelMoves(r, n, out) {
			continue // one warning at the model: it is not recognised, whatever it costs
		}
		var why []string
		for _, o := range out {
			if o.Type != OutScore {
				continue
			}
			for _, d := range o.Deltas {
				if d.Delta >= 0 {
					continue
				}
				by := "the transition it takes"
				if o.Rule != "" {
					by = "rule " + o.Rule
				}
				why = append(why, fmt.Sprintf("%s costs %s %g", by, d.Axis, d.Delta))
			}
		}
		if s.critical != "" {
			why = append(why, "critical rule "+s.critical+" fires")
		}
		if len(why) > 0 {
			intents := ""
			for _, o := range out {
				if o.Type == OutTrainee && len(o.Intents) > 0 {
					intents = " (understood as " + strings.Join(o.Intents, ", ") + ")"
				}
			}
			r.warnf(&yaml.Node{Line: n.modelLine, Column: n.modelCol}, "the model answer, said at %s, is marked down%s: %s (a trainee who types it loses points; narrow the phrase that catches it, or change the model)",
				n.ID, intents, strings.Join(why, "; "))
		}
	}
}

// badWay reports whether the transition of n that the trace o shows holding is a way on
// no model answer should take: it costs points, asks again (back to n) or ends lost. A
// catch-all that is the node's good way on (the bad replies checked first) is not.
func (l *loader) badWay(n *Node, o Output) bool {
	for _, t := range n.Transitions {
		if t.WhenSrc != o.Text || t.To < 0 || l.sc.Nodes[t.To].ID != o.To {
			continue
		}
		for _, d := range t.Score {
			if d.Delta < 0 {
				return true
			}
		}
		to := l.sc.Nodes[t.To]
		return t.To == n.Index || to.End != nil && to.End.Outcome == OutcomeLost
	}
	return false
}

// checkModelMoves warns when a node's model answer, just said there (out), takes none of
// the node's ways on that read the reply although the node has such ways: it moves the call
// nowhere (the customer would wait), or only by a way on that does not read the reply
// (the catch-all `when: 'true'`) and costs points, asks again or ends lost, so the phrases
// meant to recognise it do not.
func (l *loader) checkModelMoves(r *reader, n *Node, out []Output) bool {
	reading := false
	for _, t := range n.Transitions {
		ints, text := l.ec.replyReads(t.WhenSrc)
		reading = reading || len(ints) > 0 || text
	}
	if !reading {
		return false // every reply is taken alike: nothing to recognise
	}
	intents := "nothing the node asks about"
	for _, o := range out {
		if o.Type == OutTrainee && len(o.Intents) > 0 {
			intents = strings.Join(o.Intents, ", ")
		}
	}
	at := &yaml.Node{Line: n.modelLine, Column: n.modelCol}
	for _, o := range out {
		if o.Type != OutTrace || o.Holds == nil || !*o.Holds {
			continue
		}
		if o.Rule != "" {
			if o.To != "" {
				return false // a global rule moves the call
			}
			continue
		}
		if o.Node != n.ID {
			return false // a router after the way on
		}
		ints, text := l.ec.replyReads(o.Text)
		if len(ints) == 0 && !text && l.badWay(n, o) {
			r.warnf(at, "the model answer, said at %s, is taken by a way on that does not read the reply (when: %s) and leads to %s: it is understood as %s, so none of the node's phrases recognise it (add a phrase it contains to the intent its way on asks about, or change the model)",
				n.ID, o.Text, o.To, intents)
			return true
		}
		return false
	}
	r.warnf(at, "the model answer, said at %s, moves the call nowhere: it is understood as %s and no way on holds for it, so the customer would wait (add a phrase it contains to the intent its way on asks about, or change the model)",
		n.ID, intents)
	return true
}
