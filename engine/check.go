package engine

import (
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
