package engine

import (
	"fmt"
	"slices"
	"strings"
)

// CoverItem is one part of a scenario a test can exercise, and whether one did.
type CoverItem struct {
	Name    string `json:"name"` // a node or ending id, "from → to" for an edge, a rule id
	Path    string `json:"path"`
	Line    int    `json:"line"`
	Covered bool   `json:"covered"`
}

// Coverage is what a scenario's tests exercised: the nodes entered, the endings reached,
// the edges the call moved along (a transition, timer or rule from one node to another)
// and the global rules that fired. Build it with NewCoverage and Add each test's traced
// transcript (RunTestTraced or RunTestUntil with trace).
type Coverage struct {
	Nodes   []CoverItem `json:"nodes"`
	Endings []CoverItem `json:"endings"`
	Edges   []CoverItem `json:"edges"`
	Rules   []CoverItem `json:"rules"`

	nodeAt, endingAt, edgeAt, ruleAt map[string]int
}

// NewCoverage lists what sc's tests could exercise, none of it covered yet. A pack's
// sub-flow nodes that the scenario never enters are left out.
func NewCoverage(sc *Scenario) *Coverage {
	c := &Coverage{Nodes: []CoverItem{}, Endings: []CoverItem{}, Edges: []CoverItem{}, Rules: []CoverItem{},
		nodeAt: map[string]int{}, endingAt: map[string]int{}, edgeAt: map[string]int{}, ruleAt: map[string]int{}}
	reached := sc.reachable()
	for _, n := range sc.Nodes {
		if n.Pack != "" && !reached[n.Index] {
			continue
		}
		path := sc.Path
		if n.Pack != "" {
			path = n.Pack
		}
		it := CoverItem{Name: n.ID, Path: path, Line: n.Line}
		if n.End != nil {
			c.endingAt[n.ID] = len(c.Endings)
			c.Endings = append(c.Endings, it)
			continue
		}
		c.nodeAt[n.ID] = len(c.Nodes)
		c.Nodes = append(c.Nodes, it)
		for _, ts := range [][]*Transition{n.Transitions, n.Timers} {
			for _, t := range ts {
				if t.To < 0 {
					continue
				}
				key := n.ID + " → " + sc.Nodes[t.To].ID
				if _, dup := c.edgeAt[key]; dup {
					continue
				}
				c.edgeAt[key] = len(c.Edges)
				c.Edges = append(c.Edges, CoverItem{Name: key, Path: t.Path, Line: t.Line})
			}
		}
	}
	for _, r := range sc.Rules {
		if _, dup := c.ruleAt[r.ID]; dup {
			continue
		}
		c.ruleAt[r.ID] = len(c.Rules)
		c.Rules = append(c.Rules, CoverItem{Name: r.ID, Path: r.Path, Line: r.Line})
	}
	return c
}

// Add marks what one traced transcript exercised.
func (c *Coverage) Add(outs []Output) {
	prev := ""
	for _, o := range outs {
		switch {
		case o.Type == OutEnter:
			if i, ok := c.nodeAt[o.Node]; ok {
				c.Nodes[i].Covered = true
			}
			if i, ok := c.endingAt[o.Node]; ok {
				c.Endings[i].Covered = true
			}
			if prev != "" {
				if i, ok := c.edgeAt[prev+" → "+o.Node]; ok {
					c.Edges[i].Covered = true
				}
			}
			prev = o.Node
		case o.Type == OutFeedback && o.Rule != "":
			if i, ok := c.ruleAt[o.Rule]; ok {
				c.Rules[i].Covered = true
			}
		}
	}
}

// Report is a summary line per kind, then what no test exercised, with positions.
func (c *Coverage) Report() string {
	var b strings.Builder
	for _, k := range []struct {
		what  string
		items []CoverItem
		never string
	}{
		{"nodes", c.Nodes, "never entered"},
		{"edges", c.Edges, "never taken"},
		{"rules", c.Rules, "never fired"},
		{"endings", c.Endings, "never reached"},
	} {
		n := 0
		var missed []string
		for _, it := range k.items {
			if it.Covered {
				n++
			} else {
				missed = append(missed, fmt.Sprintf("%s (%s:%d)", it.Name, it.Path, it.Line))
			}
		}
		pct := 100
		if len(k.items) > 0 {
			pct = n * 100 / len(k.items)
		}
		fmt.Fprintf(&b, "  %-8s %d/%d (%d%%)", k.what, n, len(k.items), pct)
		if len(missed) > 0 {
			fmt.Fprintf(&b, "  %s: %s", k.never, strings.Join(missed, ", "))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// CheckTests runs a scenario's test cases (cases, from the test file testPath), as lint
// and the studio do, and returns a warning at each ending of sc that no test's call
// reached ("ending walked_out is reached by no test") and one at each test that fails, with its first failure (switchboard test prints the transcript). Endings no call
// can reach are left out (lint reports them as errors already), and so are a pack's
// endings the scenario never enters. stop is asked as by RunTestUntil; when it stops a
// test, what the tests reach is unknown: the one warning says so.
func CheckTests(sc *Scenario, cases []TestCase, testPath string, stop func() bool) Diagnostics {
	cov := NewCoverage(sc)
	var diags Diagnostics
	for _, c := range cases {
		res := RunTestUntil(sc, c, true, stop)
		if slices.Contains(res.Failures, StoppedFailure) {
			return Diagnostics{{Path: testPath, Line: c.Line, Col: c.Col, Severity: SeverityWarning,
				Message: fmt.Sprintf("the tests ran out of time at test %q: failing tests and endings no test reaches are not checked (switchboard test runs them all)", c.Name)}}
		}
		if !res.Passed() {
			more := ""
			if len(res.Failures) > 1 {
				more = fmt.Sprintf(" (and %d more)", len(res.Failures)-1)
			}
			diags = append(diags, Diagnostic{Path: testPath, Line: c.Line, Col: c.Col, Severity: SeverityWarning,
				Message: fmt.Sprintf("test %q fails: %s%s; switchboard test shows its transcript", c.Name, res.Failures[0], more)})
		}
		cov.Add(res.Transcript)
	}
	reached := sc.reachable()
	for _, it := range cov.Endings {
		i, ok := sc.nodeIndex[it.Name]
		if it.Covered || !ok || !reached[i] {
			continue
		}
		n := sc.Nodes[i]
		diags = append(diags, Diagnostic{Path: it.Path, Line: n.Line, Col: n.Col, Severity: SeverityWarning,
			Message: fmt.Sprintf("ending %s is reached by no test (none in %s ends there)", n.ID, testPath)})
	}
	return diags
}
