package engine

import (
	"fmt"
	"io/fs"
)

// Sketch is a scenario's graph as a designer sees it while writing: it is drawn even when
// the file has errors, from whatever could be read. Transitions whose guard does not
// compile are kept (Broken), so the graph does not jump about while a guard is being typed.
type Sketch struct {
	ID    string       `json:"id"`
	Title string       `json:"title"`
	Start string       `json:"start,omitempty"`
	Nodes []SketchNode `json:"nodes"`
	Edges []SketchEdge `json:"edges"`
	Rules []SketchRule `json:"rules"`
	Diags Diagnostics  `json:"diagnostics"`
	Vars  []SketchVar  `json:"vars"`
	Axes  []string     `json:"axes"`
}

// The kinds of sketch node.
const (
	KindRing   = "ring"   // the phone rings
	KindLine   = "line"   // the customer says something and waits for the trainee
	KindRouter = "router" // no line: its transitions run at once
	KindEnding = "ending" // the call ends here
)

// SketchNode is one node of a Sketch.
type SketchNode struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	Outcome     string `json:"outcome,omitempty"` // endings only
	Say         string `json:"say,omitempty"`     // the first line's text, as written
	Line        int    `json:"line"`
	Col         int    `json:"col"`
	Start       bool   `json:"start,omitempty"`
	Unreachable bool   `json:"unreachable,omitempty"` // no path from the start leads here
	DeadEnd     bool   `json:"dead_end,omitempty"`    // not an ending, and no way out
	Return      bool   `json:"return,omitempty"`      // ends a sub-flow: back to the node that entered it
	Pack        string `json:"pack,omitempty"`        // the rule pack that declares it
}

// SketchEdge is one transition of a Sketch.
type SketchEdge struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Label  string `json:"label"` // the guard, or "after 20s"
	Timer  bool   `json:"timer,omitempty"`
	Broken bool   `json:"broken,omitempty"` // the guard does not compile
	Call   bool   `json:"call,omitempty"`   // to: >id, enters a sub-flow
	Line   int    `json:"line"`
	Col    int    `json:"col"`
}

// SketchRule is one global rule of a Sketch.
type SketchRule struct {
	ID     string `json:"id"`
	When   string `json:"when"`
	To     string `json:"to,omitempty"`
	Path   string `json:"path"` // the scenario or the rule pack that declares it
	Broken bool   `json:"broken,omitempty"`
	Line   int    `json:"line"`
	Col    int    `json:"col"`
}

// SketchVar is a declared var and its initial value.
type SketchVar struct {
	Name string `json:"name"`
	Kind string `json:"kind"` // "bool", "number" or "string"
	Init any    `json:"init"`
}

// Draw sketches the scenario in data as if read from name (packs are read from fsys) and
// returns it with every problem found, sorted. It never fails: a file that is not even
// YAML gives an empty sketch and the diagnostics that say why.
func Draw(fsys fs.FS, name string, data []byte) Sketch {
	return DrawWith(fsys, name, data, LoadOptions{})
}

// DrawWith is Draw with loader options (the shipped packs).
func DrawWith(fsys fs.FS, name string, data []byte, opts LoadOptions) Sketch {
	var diags Diagnostics
	sc := LoadBytesWith(fsys, name, data, &diags, opts)
	diags.Sort()
	sk := Sketch{ID: sc.ID, Title: sc.Title, Nodes: []SketchNode{}, Edges: []SketchEdge{}, Rules: []SketchRule{},
		Diags: diags, Vars: []SketchVar{}, Axes: []string{}}
	if sk.Diags == nil {
		sk.Diags = Diagnostics{}
	}
	for _, v := range sc.Vars {
		kind := [...]string{VarBool: "bool", VarNumber: "number", VarString: "string"}[v.Kind]
		sk.Vars = append(sk.Vars, SketchVar{Name: v.Name, Kind: kind, Init: v.Init})
	}
	for _, a := range sc.Axes {
		sk.Axes = append(sk.Axes, a.Name)
	}
	if len(sc.Nodes) == 0 {
		return sk
	}
	start := -1
	if sc.Start >= 0 && sc.Start < len(sc.Nodes) {
		start = sc.Start
		sk.Start = sc.Nodes[start].ID
	}
	next := make([][]int, len(sc.Nodes))
	for _, n := range sc.Nodes {
		add := func(t *Transition, label string, broken bool) {
			to := t.To
			if to < 0 && t.guess >= 0 {
				// A misspelt target is drawn to the node it most likely means, broken,
				// so the arrow does not vanish while the id is being typed.
				to, broken = t.guess, true
			}
			if to < 0 {
				return
			}
			next[n.Index] = append(next[n.Index], to)
			sk.Edges = append(sk.Edges, SketchEdge{From: n.ID, To: sc.Nodes[to].ID, Label: label, Timer: t.Timer,
				Broken: broken, Call: t.Call, Line: t.Line, Col: t.Col})
		}
		for _, t := range n.Transitions {
			add(t, t.WhenSrc, false)
		}
		for _, t := range n.Timers {
			add(t, "after "+FormatDuration(t.After), false)
		}
		for _, t := range n.sketch {
			label := t.WhenSrc
			if t.Timer {
				label = "after " + FormatDuration(t.After)
			}
			add(t, label, true)
		}
	}
	for _, rs := range [][]*Transition{sc.Rules, sc.sketchRules} {
		for _, r := range rs {
			sr := SketchRule{ID: r.ID, When: r.WhenSrc, Path: r.Path, Broken: r.broken, Line: r.Line, Col: r.Col}
			if r.To >= 0 {
				sr.To = sc.Nodes[r.To].ID
			}
			sk.Rules = append(sk.Rules, sr)
		}
	}
	// Reachability exactly as lint sees it, over broken transitions too.
	reached := sc.reachable()
	// A pack's nodes are drawn only where the scenario enters them.
	hidden := map[string]bool{}
	for _, n := range sc.Nodes {
		if n.Pack != "" && !reached[n.Index] {
			hidden[n.ID] = true
		}
	}
	if len(hidden) > 0 {
		kept := sk.Edges[:0]
		for _, e := range sk.Edges {
			if !hidden[e.From] && !hidden[e.To] {
				kept = append(kept, e)
			}
		}
		sk.Edges = kept
	}
	for _, n := range sc.Nodes {
		if hidden[n.ID] {
			continue
		}
		sn := SketchNode{ID: n.ID, Line: n.Line, Col: n.Col, Start: n.Index == start, Unreachable: start >= 0 && !reached[n.Index],
			Return: n.Return, Pack: n.Pack}
		switch {
		case n.End != nil:
			sn.Kind, sn.Outcome = KindEnding, n.End.Outcome
		case n.Ring:
			sn.Kind = KindRing
		case n.Router():
			sn.Kind = KindRouter
		default:
			sn.Kind = KindLine
		}
		if len(n.Lines) > 0 {
			sn.Say = n.Lines[0].Text.Source(sc)
		}
		sn.DeadEnd = n.End == nil && len(next[n.Index]) == 0 && !n.Return
		sk.Nodes = append(sk.Nodes, sn)
	}
	return sk
}

// Walk replays a call's events on a new traced session and returns the nodes it entered,
// in order, routers included: the path the call took through the graph.
func Walk(sc *Scenario, seed uint64, trainee string, mode SuggestionMode, events []Event) ([]string, error) {
	s := sc.NewSession(seed, trainee)
	if err := s.SetSuggestions(mode); err != nil {
		return nil, err
	}
	s.SetTrace(true)
	var path []string
	collect := func(outs []Output) {
		for _, o := range outs {
			if o.Type == OutEnter {
				path = append(path, o.Node)
			}
		}
	}
	outs := s.Start(nil)
	collect(outs)
	for i, ev := range events {
		var err error
		outs, err = s.Apply(ev, outs[:0])
		if err != nil {
			return path, fmt.Errorf("event %d (%s at %d ms): %w", i+1, ev.Type, ev.At, err)
		}
		collect(outs)
	}
	return path, nil
}
