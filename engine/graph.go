package engine

import (
	"fmt"
	"strings"
)

// Edge is one arrow of the scenario graph.
type Edge struct {
	From, To string
	Label    string // the guard, "after 20s", or "rule ID"
	Timer    bool
	Rule     bool // a global rule's target (From is empty: it can fire anywhere)
	Hangup   bool // where the trainee's hang-up at From ends the call (the node's hangup:)
}

// Edges lists the graph's arrows in file order: each node's transitions, timers and
// hang-up ending, then the global rules.
func (sc *Scenario) Edges() []Edge {
	var es []Edge
	for _, n := range sc.Nodes {
		for _, t := range n.Transitions {
			label := t.WhenSrc
			if t.Call {
				label += " (sub-flow)"
			}
			es = append(es, Edge{From: n.ID, To: sc.Nodes[t.To].ID, Label: label})
		}
		for _, t := range n.Timers {
			if t.To == toReturn {
				continue // a return node's own timer: back to whichever node entered the sub-flow
			}
			label := "after " + FormatDuration(t.After)
			if t.Call {
				label += " (sub-flow)"
			}
			es = append(es, Edge{From: n.ID, To: sc.Nodes[t.To].ID, Label: label, Timer: true})
		}
		if n.Hangup >= 0 {
			es = append(es, Edge{From: n.ID, To: sc.Nodes[n.Hangup].ID, Label: "hang-up", Hangup: true})
		}
	}
	for _, r := range sc.Rules {
		if r.To >= 0 {
			label := "rule " + r.ID + ": " + r.WhenSrc
			if r.Call {
				label += " (sub-flow)"
			}
			es = append(es, Edge{To: sc.Nodes[r.To].ID, Label: label, Rule: true})
		}
	}
	return es
}

var outcomeColor = map[string]string{OutcomeResolved: "#2e7d32", OutcomeLost: "#c62828", OutcomeEscalated: "#ef6c00"}

// Dot renders the graph in Graphviz dot.
func (sc *Scenario) Dot() string {
	q := func(s string) string {
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
	}
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %s {\n  label=%s;\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"sans-serif\"];\n  edge [fontname=\"sans-serif\", fontsize=10];\n", q(sc.ID), q(sc.Title))
	for _, n := range sc.Nodes {
		attrs := []string{"label=" + q(nodeLabel(n))}
		switch {
		case n.End != nil:
			attrs = append(attrs, "shape=doubleoctagon", "color="+q(outcomeColor[n.End.Outcome]))
		case n.Ring:
			attrs = append(attrs, "shape=ellipse")
		case n.Router():
			attrs = append(attrs, "shape=diamond")
		}
		if n.Index == sc.Start {
			attrs = append(attrs, "penwidth=2")
		}
		fmt.Fprintf(&b, "  %s [%s];\n", q(n.ID), strings.Join(attrs, ", "))
	}
	for _, e := range sc.Edges() {
		if e.Rule {
			continue
		}
		style := ""
		switch {
		case e.Timer:
			style = ", style=dashed"
		case e.Hangup:
			style = ", style=dotted, color=\"#757575\""
		}
		fmt.Fprintf(&b, "  %s -> %s [label=%s%s];\n", q(e.From), q(e.To), q(e.Label), style)
	}
	if len(sc.Rules) > 0 {
		var lines []string
		for _, r := range sc.Rules {
			line := r.ID + ": " + r.WhenSrc
			if r.To >= 0 {
				line += " → " + sc.Nodes[r.To].ID
			}
			lines = append(lines, line)
		}
		fmt.Fprintf(&b, "  \"rules\" [shape=note, label=%s];\n", q("global rules\n"+strings.Join(lines, "\n")))
		for _, e := range sc.Edges() {
			if e.Rule {
				fmt.Fprintf(&b, "  \"rules\" -> %s [label=%s, style=dotted];\n", q(e.To), q(e.Label))
			}
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// Mermaid renders the graph as a Mermaid flowchart.
func (sc *Scenario) Mermaid() string {
	// Mermaid node ids may not contain '-'; labels escape quotes as #quot;.
	id := func(s string) string { return "n_" + strings.ReplaceAll(s, "-", "_") }
	lbl := func(s string) string {
		return `"` + strings.NewReplacer(`"`, "#quot;", "\n", "<br/>", "|", "#124;").Replace(s) + `"`
	}
	var b strings.Builder
	fmt.Fprintf(&b, "---\ntitle: %s\n---\nflowchart LR\n", strings.ReplaceAll(sc.Title, "\n", " "))
	for _, n := range sc.Nodes {
		l := lbl(nodeLabel(n))
		switch {
		case n.End != nil:
			fmt.Fprintf(&b, "  %s{{%s}}:::%s\n", id(n.ID), l, n.End.Outcome)
		case n.Ring:
			fmt.Fprintf(&b, "  %s([%s])\n", id(n.ID), l)
		case n.Router():
			fmt.Fprintf(&b, "  %s{%s}\n", id(n.ID), l)
		default:
			fmt.Fprintf(&b, "  %s[%s]\n", id(n.ID), l)
		}
	}
	for _, e := range sc.Edges() {
		if e.Rule {
			fmt.Fprintf(&b, "  rules[/global rules/] -.->|%s| %s\n", lbl(e.Label), id(e.To))
			continue
		}
		arrow := "-->"
		if e.Timer || e.Hangup {
			arrow = "-.->"
		}
		fmt.Fprintf(&b, "  %s %s|%s| %s\n", id(e.From), arrow, lbl(e.Label), id(e.To))
	}
	fmt.Fprintf(&b, "  classDef resolved stroke:%s,stroke-width:2px\n  classDef lost stroke:%s,stroke-width:2px\n  classDef escalated stroke:%s,stroke-width:2px\n",
		outcomeColor[OutcomeResolved], outcomeColor[OutcomeLost], outcomeColor[OutcomeEscalated])
	return b.String()
}

func nodeLabel(n *Node) string {
	switch {
	case n.End != nil:
		return n.ID + "\n(" + n.End.Outcome + ")"
	case n.Ring:
		return n.ID + "\n☎ rings"
	}
	return n.ID
}
