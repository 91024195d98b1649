package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/expr-lang/expr/vm"
	"go.yaml.in/yaml/v3"
)

// Keys allowed at each level of a scenario file. The JSON Schema in docs is checked
// against these lists by a test.
var (
	ScenarioKeys   = []string{"id", "title", "brief", "lesson", "persona", "include", "vars", "intents", "scores", "pass", "suggestions", "compose_limit", "hold_limit", "same_line_limit", "gives_up", "start", "rules", "nodes", "tags", "difficulty", "length"}
	PackKeys       = []string{"intents", "vars", "scores", "rules", "nodes"}
	PersonaKeys    = []string{"name", "wpm", "mood", "voice"}
	AxisKeys       = []string{"weight", "start", "max"}
	NodeKeys       = []string{"say", "sequence", "choices", "model", "transitions", "hangup", "ring", "end", "return", "yes_means", "no_means"}
	LineKeys       = []string{"when", "text", "wpm", "emotion"}
	ChoiceKeys     = []string{"text", "when"}
	EndKeys        = []string{"outcome", "title", "text"}
	TransitionKeys = []string{"when", "after", "to", "set", "score", "feedback"}
	RuleKeys       = []string{"id", "when", "to", "set", "score", "feedback", "critical"}
	Outcomes       = []string{OutcomeResolved, OutcomeLost, OutcomeEscalated}
)

var scenarioIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// OSFS reads files by their operating-system path, relative to the working directory.
// Scenario paths given on a command line are loaded through it.
type OSFS struct{}

// Open implements fs.FS without fs.ValidPath's restrictions, so "../x.yaml" works.
func (OSFS) Open(name string) (fs.File, error) { return os.Open(name) }

// LoadFile loads a scenario from the operating system's file system.
func LoadFile(name string) (*Scenario, Diagnostics) { return Load(OSFS{}, name) }

// Load reads, checks and compiles the scenario at name in fsys, with the rule packs it
// includes. It returns every problem found; the scenario is nil when any is an error.
// Shipped packs cannot be included by name; see LoadWith.
func Load(fsys fs.FS, name string) (*Scenario, Diagnostics) {
	return LoadWith(fsys, name, LoadOptions{})
}

// LoadOptions are what the world passes in to the loader.
type LoadOptions struct {
	// Packs holds the shipped rule packs by file name ("listening.yaml"): an include
	// without a path, such as include: [listening], names one of them, wherever the
	// scenario lives. Callers pass the embedded library's rules folder; nil: includes by
	// name are an error.
	Packs fs.FS
	// Lenient accepts a file written before a newer requirement (today: an ending's
	// title), with defaults standing in, as LoadSources does for recorded calls. It is for
	// serving scenarios published before an upgrade; lint and the studio never use it.
	Lenient bool
}

// ShippedPrefix starts the source path of a pack included by name, as recorded in
// Scenario.Sources and shown in diagnostics: "shipped:listening.yaml".
const ShippedPrefix = "shipped:"

// LoadWith is Load with options.
func LoadWith(fsys fs.FS, name string, opts LoadOptions) (*Scenario, Diagnostics) {
	return load(fsys, name, false, opts)
}

// load is Load; recorded is set when loading the sources a call was recorded with, which
// may predate newer requirements (see loader.recorded).
func load(fsys fs.FS, name string, recorded bool, opts LoadOptions) (*Scenario, Diagnostics) {
	var diags Diagnostics
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		diags = append(diags, Diagnostic{Path: name, Line: 1, Col: 1, Message: fmt.Sprintf("cannot read: %v", unwrapPathErr(err))})
		return nil, diags
	}
	l := &loader{fsys: fsys, packs: opts.Packs, diags: &diags, recorded: recorded || opts.Lenient}
	sc := l.load(name, data)
	diags.Sort()
	if diags.HasErrors() {
		return nil, diags
	}
	sc.Warnings = diags.Warnings()
	return sc, diags
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// LoadBytes compiles a scenario from data as if read from name (includes are read from
// fsys relative to name). Problems are appended to diags; the result is only valid when
// none of them is an error.
func LoadBytes(fsys fs.FS, name string, data []byte, diags *Diagnostics) *Scenario {
	return LoadBytesWith(fsys, name, data, diags, LoadOptions{})
}

// LoadBytesWith is LoadBytes with options.
func LoadBytesWith(fsys fs.FS, name string, data []byte, diags *Diagnostics, opts LoadOptions) *Scenario {
	l := &loader{fsys: fsys, packs: opts.Packs, diags: diags, recorded: opts.Lenient}
	return l.load(name, data)
}

type loader struct {
	fsys  fs.FS
	packs fs.FS // shipped packs, by file name (LoadOptions.Packs)
	diags *Diagnostics
	sc    *Scenario
	ec    *exprCompiler
	// broken is set when a transition or rule could not be compiled: graph checks then
	// skip what that transition might have reached.
	broken bool
	// recorded: the files are the sources of a recorded call, which must replay even if
	// written before a requirement was added (an ending's title): such requirements are
	// not enforced, and sensible defaults stand in.
	recorded bool
	// hangups are the nodes' hangup targets, checked to be endings once all nodes are read.
	hangups []hangupRef
	// intentSrcs says where each of sc.Intents was written.
	intentSrcs []intentSrc
	// includeFailed is set when an included pack could not be read or parsed: what it
	// would have declared is then unknown, and not reported again where it is used.
	includeFailed bool
}

// unknownNameDiag reports whether d is an error about a name a pack could declare.
func unknownNameDiag(d Diagnostic) bool {
	if d.Severity == SeverityWarning {
		return false
	}
	for _, p := range []string{"unknown intent ", "unknown name ", "unknown score axis ", "unknown node ", "unknown var ", "unknown axis "} {
		if strings.HasPrefix(d.Message, p) || strings.Contains(d.Message, ": "+p) {
			return true
		}
	}
	return false
}

type hangupRef struct {
	at *yaml.Node
	to int
}

// decl is one file's declarations (a scenario or a pack), decoded in the first pass.
type decl struct {
	r     *reader
	pairs map[string]pair
}

func (l *loader) load(name string, data []byte) *Scenario {
	sc := &Scenario{Path: name, Pass: defaultPass, Persona: Persona{WPM: defaultWPM},
		Suggestions: SuggestOnRequest, ComposeLimit: DefaultComposeLimitMS, HoldLimit: DefaultHoldLimitMS,
		SameLineLimit: DefaultSameLineLimit, GivesUp: -1,
		nodeIndex: map[string]int{}, intentIndex: map[string]int{}, varIndex: map[string]int{}, axisIndex: map[string]int{}}
	l.sc = sc
	sc.Sources = append(sc.Sources, SourceFile{Path: name, Data: data})
	r := &reader{path: name, diags: l.diags}
	root := r.parseYAML(data)
	if root == nil {
		return sc
	}
	if r.guessed {
		// A line was thrown away to read the rest: the graph can be drawn from what is
		// left, but other errors may only be knock-ons of the syntax error.
		keep := len(*l.diags)
		defer func() { *l.diags = (*l.diags)[:keep] }()
	}
	pairs, ok := r.mapping(root, "the scenario", ScenarioKeys)
	if !ok {
		return sc
	}
	keep := len(*l.diags)
	defer func() {
		if l.includeFailed {
			// One mistake, one error: the intents, vars, axes and nodes a pack that did not
			// load would have declared are not reported again as unknown wherever used.
			*l.diags = append((*l.diags)[:keep:keep], slices.DeleteFunc(slices.Clone((*l.diags)[keep:]), unknownNameDiag)...)
		}
	}()
	top := decl{r: r, pairs: map[string]pair{}}
	for _, p := range pairs {
		top.pairs[p.key] = p
	}
	for _, req := range []string{"id", "title", "brief", "start", "nodes"} {
		if _, ok := top.pairs[req]; !ok {
			r.errorf(root, "missing required key %q", req)
		}
	}

	// Header.
	if p, ok := top.pairs["id"]; ok {
		if s, ok := r.str(p.value, "id"); ok {
			if !scenarioIDRE.MatchString(s) {
				r.errorf(p.value, "id %q must be lower-case letters, digits and '-'", s)
			}
			sc.ID = s
		}
	}
	sc.Title = l.text(top, "title")
	sc.Brief = l.text(top, "brief")
	sc.Lesson = l.text(top, "lesson")
	if p, ok := top.pairs["persona"]; ok {
		l.persona(r, p.value)
	}
	if p, ok := top.pairs["pass"]; ok {
		if f, ok := r.number(p.value, "pass"); ok {
			if f < 0 || f > 1 {
				r.errorf(p.value, "pass must be between 0 and 1")
			}
			sc.Pass = f
		}
	}
	if p, ok := top.pairs["suggestions"]; ok {
		if s, ok := r.str(p.value, "suggestions"); ok {
			m, ok := ParseSuggestionMode(s)
			if !ok {
				names := make([]string, len(SuggestionModes))
				for i, m := range SuggestionModes {
					names[i] = string(m)
				}
				r.errorf(p.value, "suggestions %q must be one of %s%s", s, strings.Join(names, ", "), didYouMean(s, names))
			} else {
				sc.Suggestions = m
			}
		}
	}
	l.card(top) // tags, difficulty, length: the picker's card (card.go)
	if p, ok := top.pairs["compose_limit"]; ok {
		if d, ok := r.duration(p.value, "compose_limit"); ok {
			if d <= 0 || d > MaxComposeLimitMS {
				r.errorf(p.value, "compose_limit must be more than 0s and at most %s", FormatDuration(MaxComposeLimitMS))
			} else {
				sc.ComposeLimit = d
			}
		}
	}
	if p, ok := top.pairs["hold_limit"]; ok {
		if d, ok := r.duration(p.value, "hold_limit"); ok {
			if d < 0 || d > MaxComposeLimitMS {
				r.errorf(p.value, "hold_limit must be from 0s (no hold) to %s", FormatDuration(MaxComposeLimitMS))
			} else {
				sc.HoldLimit = d
			}
		}
	}

	if p, ok := top.pairs["same_line_limit"]; ok {
		if f, ok := r.number(p.value, "same_line_limit"); ok {
			if f != math.Trunc(f) || f < 0 || f > MaxSameLineLimit {
				r.errorf(p.value, "same_line_limit must be a whole number from 0 (no limit) to %d", MaxSameLineLimit)
			} else {
				sc.SameLineLimit = int(f)
			}
		}
	}

	// Declarations: packs first, in include order, then the scenario's own.
	files := []decl{}
	if p, ok := top.pairs["include"]; ok {
		files = append(files, l.includes(r, name, p.value)...)
	}
	files = append(files, top)
	for _, f := range files {
		if p, ok := f.pairs["vars"]; ok {
			l.vars(f.r, p.value)
		}
		if p, ok := f.pairs["intents"]; ok {
			l.intents(f.r, p.value)
		}
		if p, ok := f.pairs["scores"]; ok {
			l.scores(f.r, p.value)
		}
	}

	// Node ids, so that expressions and transitions can refer to any node: the
	// scenario's own, then the packs' (sub-flows, entered with to: >id).
	type nodeSrc struct {
		p    pair
		r    *reader
		pack string
	}
	var nodePairs []nodeSrc
	if p, ok := top.pairs["nodes"]; ok {
		own, _ := r.mapping(p.value, "nodes", nil)
		if len(own) == 0 && p.value.Kind == yaml.MappingNode {
			r.errorf(p.value, "a scenario needs at least one node")
		}
		for _, np := range own {
			nodePairs = append(nodePairs, nodeSrc{p: np, r: r})
		}
	}
	for _, f := range files[:len(files)-1] {
		if p, ok := f.pairs["nodes"]; ok {
			packNodes, _ := f.r.mapping(p.value, "nodes", nil)
			for _, np := range packNodes {
				nodePairs = append(nodePairs, nodeSrc{p: np, r: f.r, pack: f.r.path})
			}
		}
	}
	if len(nodePairs) > MaxNodes {
		r.errorf(top.pairs["nodes"].value, "%d nodes; the limit is %d", len(nodePairs), MaxNodes)
		nodePairs = nodePairs[:MaxNodes]
	}
	for _, ns := range nodePairs {
		np := ns.p
		if !nodeIDRE.MatchString(np.key) {
			ns.r.errorf(np.keyN, "node id %q must start with a letter and hold only letters, digits, '_' and '-'", np.key)
		}
		if j, dup := sc.nodeIndex[np.key]; dup {
			ns.r.errorf(np.keyN, "node %s is declared twice (also at %s:%d)", np.key, pathOr(sc.Nodes[j].Pack, name), sc.Nodes[j].Line)
			continue
		}
		sc.nodeIndex[np.key] = len(sc.Nodes)
		sc.Nodes = append(sc.Nodes, &Node{ID: np.key, Index: len(sc.Nodes), Hangup: -1, Line: np.keyN.Line, Col: np.keyN.Column, Pack: ns.pack})
	}
	sc.holdIntent = -1
	if i, ok := sc.intentIndex[HoldIntent]; ok {
		sc.holdIntent = i
	}
	l.ec = newExprCompiler(sc.Vars, sc.intentIndex, sc.nodeIndex, sc.axisIndex)
	l.compileIntents()

	// Rules, then nodes.
	ruleIDs := map[string]ruleSlot{}
	for i, f := range files {
		if p, ok := f.pairs["rules"]; ok {
			l.rules(f.r, p.value, ruleIDs, i == len(files)-1)
		}
	}
	if p, ok := top.pairs["start"]; ok {
		if s, ok := r.str(p.value, "start"); ok {
			sc.Start = l.target(r, p.value, s)
		}
	}
	for _, ns := range nodePairs {
		if i, ok := sc.nodeIndex[ns.p.key]; ok && sc.Nodes[i].Line == ns.p.keyN.Line && sc.Nodes[i].Pack == ns.pack {
			l.node(ns.r, sc.Nodes[i], ns.p.value)
		}
	}
	if p, ok := top.pairs["gives_up"]; ok {
		if id, ok := r.str(p.value, "gives_up"); ok {
			if to := l.target(r, p.value, id); to >= 0 {
				if sc.Nodes[to].End == nil {
					r.errorf(p.value, "gives_up must name an ending: %s is not one%s", id, didYouMean(id, sc.Endings()))
				} else {
					sc.GivesUp = to
					if sc.SameLineLimit == 0 {
						r.warnf(p.value, "gives_up has no effect without same_line_limit: the customer never gives up (same_line_limit: 2 has her give up rather than say a line a third time)")
					}
				}
			}
		}
	}
	for _, hp := range l.hangups {
		if to := sc.Nodes[hp.to]; to.End == nil {
			r.errorf(hp.at, "hangup must name an ending: %s is not one%s", to.ID, didYouMean(to.ID, sc.Endings()))
		}
	}
	if sc.Start >= 0 && len(sc.Nodes) > 0 {
		l.checkGraph(r, top)
	}
	l.checkIntentsUsed(r)
	l.computeReplyReads()
	sc.computeExposure()
	sc.compileGuards(l.ec.opts)
	sc.reads = readsOf(l.ec.used)
	if !l.recorded && !l.diags.HasErrors() && sc.Start >= 0 && len(sc.Nodes) > 0 {
		// A designer's warning: not for the sources of a recorded call, loaded to replay it.
		l.checkModelAnswers(r)
	}
	h := sha256.New()
	for _, src := range sc.Sources {
		fmt.Fprintf(h, "%s\x00%d\x00", src.Path, len(src.Data))
		h.Write(src.Data)
	}
	sc.Hash = hex.EncodeToString(h.Sum(nil))
	return sc
}

func (l *loader) text(d decl, key string) string {
	if p, ok := d.pairs[key]; ok {
		s, _ := d.r.str(p.value, key)
		return s
	}
	return ""
}

func (l *loader) persona(r *reader, n *yaml.Node) {
	pairs, _ := r.mapping(n, "persona", PersonaKeys)
	for _, p := range pairs {
		switch p.key {
		case "name":
			l.sc.Persona.Name, _ = r.str(p.value, "persona.name")
		case "wpm":
			if f, ok := r.number(p.value, "persona.wpm"); ok {
				if f < 60 || f > 400 || f != float64(int(f)) {
					r.errorf(p.value, "persona.wpm must be a whole number from 60 to 400")
				} else {
					l.sc.Persona.WPM = int(f)
				}
			}
		case "mood":
			if f, ok := r.number(p.value, "persona.mood"); ok {
				if f < -1 || f > 1 {
					r.errorf(p.value, "persona.mood must be between -1 and 1")
				}
				l.sc.Persona.Mood = clamp(f, -1, 1)
			}
		case "voice":
			l.voice(r, p.value) // card.go
		}
	}
}

func (l *loader) includes(r *reader, name string, n *yaml.Node) []decl {
	items, ok := r.list(n, "include")
	if !ok {
		return nil
	}
	var out []decl
	seen := map[string]bool{}
	sameData := map[string]string{} // a pack's text → how it was first included
	for _, it := range items {
		inc, ok := r.str(it, "an include")
		if !ok {
			continue
		}
		var data []byte
		var err error
		p := path.Join(path.Dir(name), inc)
		shipped := IsShippedPackName(inc)
		if shipped {
			p = ShippedPrefix + inc + ".yaml"
		}
		if seen[p] {
			r.errorf(it, "%q is included twice", inc)
			continue
		}
		seen[p] = true
		switch {
		case shipped && l.packs == nil:
			r.errorf(it, "cannot include the shipped pack %q here: shipped packs are not available to this loader", inc)
			continue
		case shipped:
			data, err = fs.ReadFile(l.packs, inc+".yaml")
			if err != nil {
				names, _ := fs.Glob(l.packs, "*.yaml")
				for i, n := range names {
					names[i] = strings.TrimSuffix(n, ".yaml")
				}
				r.errorf(it, "no shipped pack is called %q%s (shipped: %s)", inc, didYouMean(inc, names), strings.Join(names, ", "))
				l.includeFailed = true
				continue
			}
		default:
			data, err = fs.ReadFile(l.fsys, p)
			if err != nil {
				r.errorf(it, "cannot read rule pack %q: %v%s", inc, unwrapPathErr(err), l.packSuggestion(p, inc))
				l.includeFailed = true
				continue
			}
		}
		if prev, ok := sameData[string(data)]; ok {
			r.errorf(it, "%q is the same pack as %q, already included", inc, prev)
			continue
		}
		sameData[string(data)] = inc
		l.sc.Sources = append(l.sc.Sources, SourceFile{Path: p, Data: data})
		pr := &reader{path: p, diags: l.diags}
		root := pr.parseYAML(data)
		if root == nil {
			l.includeFailed = true
			continue
		}
		pairs, ok := pr.mapping(root, "a rule pack", PackKeys)
		if !ok {
			continue
		}
		d := decl{r: pr, pairs: map[string]pair{}}
		for _, p := range pairs {
			d.pairs[p.key] = p
		}
		out = append(out, d)
	}
	return out
}

// packSuggestion says which YAML file beside the missing pack p was likely meant, written
// as the include would name it: ` (did you mean "rules/airline.yaml"?)`, or "".
func (l *loader) packSuggestion(p, inc string) string {
	dir := path.Dir(p)
	entries, err := fs.ReadDir(l.fsys, dir)
	if err != nil {
		return ""
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".yaml") && !strings.HasSuffix(e.Name(), ".test.yaml") {
			names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
		}
	}
	// Compared by file name, without the folder and extension they share.
	best, ok := closest(strings.TrimSuffix(path.Base(inc), ".yaml"), names)
	if !ok {
		return ""
	}
	if dir := path.Dir(inc); dir != "." {
		best = dir + "/" + best
	}
	return fmt.Sprintf(" (did you mean %q?)", best+".yaml")
}

func (l *loader) vars(r *reader, n *yaml.Node) {
	pairs, _ := r.mapping(n, "vars", nil)
	for _, p := range pairs {
		if !identRE.MatchString(p.key) {
			r.errorf(p.keyN, "var name %q must be letters, digits and '_', starting with a letter", p.key)
			continue
		}
		if reservedName(p.key) {
			r.errorf(p.keyN, "%q is a built-in name and cannot be a var", p.key)
			continue
		}
		var v Var
		v.Name = p.key
		switch {
		case p.value.Kind == yaml.ScalarNode && p.value.Tag == "!!bool":
			b, _ := r.boolean(p.value, "var "+p.key)
			v.Kind, v.Init = VarBool, b
		case p.value.Kind == yaml.ScalarNode && (p.value.Tag == "!!int" || p.value.Tag == "!!float"):
			f, _ := r.number(p.value, "var "+p.key)
			v.Kind, v.Init = VarNumber, f
		case p.value.Kind == yaml.ScalarNode && p.value.Tag == "!!str":
			v.Kind, v.Init = VarString, p.value.Value
			if err := checkValueSize(p.value.Value); err != nil {
				r.errorf(p.value, "var %s: %v", p.key, err)
			}
		default:
			r.errorf(p.value, "var %s must start as true/false, a number or text, not %s", p.key, kindName(p.value))
			continue
		}
		if i, ok := l.sc.varIndex[p.key]; ok {
			l.sc.Vars[i] = v // a later file (the scenario) overrides a pack
		} else {
			l.sc.varIndex[p.key] = len(l.sc.Vars)
			l.sc.Vars = append(l.sc.Vars, v)
		}
	}
}

func (l *loader) scores(r *reader, n *yaml.Node) {
	pairs, _ := r.mapping(n, "scores", nil)
	for _, p := range pairs {
		if !identRE.MatchString(p.key) {
			r.errorf(p.keyN, "axis name %q must be letters, digits and '_', starting with a letter", p.key)
			continue
		}
		ax := Axis{Name: p.key, Weight: 1, Max: 1}
		if p.value.Kind == yaml.MappingNode {
			fields, _ := r.mapping(p.value, "axis "+p.key, AxisKeys)
			for _, f := range fields {
				v, ok := r.number(f.value, "scores."+p.key+"."+f.key)
				if !ok {
					continue
				}
				switch f.key {
				case "weight":
					if v < 0 {
						r.errorf(f.value, "a weight cannot be negative")
					}
					ax.Weight = v
				case "start":
					ax.Start = v
				case "max":
					if v <= 0 {
						r.errorf(f.value, "max must be above 0")
						continue
					}
					ax.Max = v
				}
			}
		} else if w, ok := r.number(p.value, "the weight of axis "+p.key); ok {
			if w < 0 {
				r.errorf(p.value, "a weight cannot be negative")
			}
			ax.Weight = w
		}
		if i, ok := l.sc.axisIndex[p.key]; ok {
			l.sc.Axes[i] = ax
		} else {
			l.sc.axisIndex[p.key] = len(l.sc.Axes)
			l.sc.Axes = append(l.sc.Axes, ax)
		}
	}
}

// ruleSlot is where a rule id was declared: its index in Scenario.Rules, and whether a
// pack declared it.
type ruleSlot struct {
	index int
	pack  bool
}

// rules reads a rules list; own is true for the scenario's own (not an included pack's).
// A scenario's own rule with the id of a pack's replaces it, in the pack's place: a pack
// that gains a rule never breaks a scenario that already had one of that id (as a
// scenario's own intent replaces a pack's). Two rules of one id in one file, or in two
// packs, are an error.
func (l *loader) rules(r *reader, n *yaml.Node, ids map[string]ruleSlot, own bool) {
	items, ok := r.list(n, "rules")
	if !ok {
		return
	}
	for _, it := range items {
		t := l.transition(r, it, true)
		if t == nil {
			continue
		}
		if t.broken {
			l.sc.sketchRules = append(l.sc.sketchRules, t)
			continue
		}
		if t.ID != "" {
			if slot, dup := ids[t.ID]; dup {
				if own && slot.pack {
					l.sc.Rules[slot.index] = t
					ids[t.ID] = ruleSlot{index: slot.index}
					continue
				}
				r.errorf(it, "duplicate rule id %q", t.ID)
			}
			ids[t.ID] = ruleSlot{index: len(l.sc.Rules), pack: !own}
		}
		l.sc.Rules = append(l.sc.Rules, t)
	}
}

// target resolves a node id, reporting unknown ones.
func (l *loader) target(r *reader, n *yaml.Node, id string) int {
	if i, ok := l.sc.nodeIndex[id]; ok {
		return i
	}
	r.errorf(n, "unknown node %q%s", id, didYouMean(id, sortedKeys(l.sc.nodeIndex)))
	return -1
}

// mappingKey returns the key node named key of mapping n, or nil.
func mappingKey(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i]
		}
	}
	return nil
}

func pathOr(p, def string) string {
	if p == "" {
		return def
	}
	return p
}

// guessNode is the node a misspelt id most likely meant, as "did you mean" would say, or -1.
func (l *loader) guessNode(id string) int {
	if best, ok := closest(id, sortedKeys(l.sc.nodeIndex)); ok {
		return l.sc.nodeIndex[best]
	}
	return -1
}

// maybeTargets collects the nodes named by to: or hangup: anywhere under n.
func (l *loader) maybeTargets(n *yaml.Node, out []int) []int {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if (k.Value == "to" || k.Value == "hangup") && v.Kind == yaml.ScalarNode {
				if j, ok := l.sc.nodeIndex[v.Value]; ok {
					out = append(out, j)
				} else if g := l.guessNode(v.Value); g >= 0 {
					out = append(out, g)
				}
			}
		}
	}
	for _, c := range n.Content {
		out = l.maybeTargets(c, out)
	}
	return out
}

// exprAt reports expression errors at their position inside the YAML scalar.
func (l *loader) exprAt(r *reader, n *yaml.Node, src string, errs []exprError) {
	for _, e := range errs {
		line, col := n.Line, n.Column
		runes := []rune(src)
		off := min(max(e.offset, 0), len(runes))
		before := string(runes[:off])
		if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
			nl := strings.Count(before, "\n")
			line += 1 + nl
			col = n.Column + 2 + utf8.RuneCountInString(before[strings.LastIndex(before, "\n")+1:])
		} else {
			if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
				col++
			}
			col += off
		}
		d := Diagnostic{Path: r.path, Line: line, Col: col, Message: e.msg}
		if e.warn {
			d.Severity = SeverityWarning
		}
		*r.diags = append(*r.diags, d)
	}
}

func (l *loader) guard(r *reader, n *yaml.Node, what string) (string, bool) {
	src, ok := r.str(n, what)
	if !ok {
		return "", false
	}
	return src, true
}

func (l *loader) compileGuard(r *reader, n *yaml.Node, what string) (*Transition, string) {
	src, ok := l.guard(r, n, what)
	if !ok {
		return nil, ""
	}
	prog, errs := l.ec.compile(src, 0, true)
	if len(errs) > 0 {
		l.exprAt(r, n, src, errs)
		return nil, src
	}
	return &Transition{When: prog, WhenSrc: src}, src
}

func (l *loader) transition(r *reader, n *yaml.Node, rule bool) *Transition {
	what, keys := "a transition", TransitionKeys
	if rule {
		what, keys = "a rule", RuleKeys
	}
	ruleAfter := false
	if k := mappingKey(n, "after"); rule && k != nil {
		// One mistake, one error: not also "unknown key after" and "needs a when"; the
		// rest of the rule (its to:) is read as written.
		r.errorf(k, "a rule cannot have after: rules are checked at every event of the call; timers belong on a node's transitions (give the rule a when, or move the timer to a node)")
		ruleAfter = true
		trimmed := *n
		trimmed.Content = nil
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i] != k {
				trimmed.Content = append(trimmed.Content, n.Content[i], n.Content[i+1])
			}
		}
		n = &trimmed
	}
	pairs, ok := r.mapping(n, what, keys)
	if !ok {
		return nil
	}
	t := &Transition{To: -1, guess: -1, Path: r.path, Line: n.Line, Col: n.Column}
	has := map[string]*yaml.Node{}
	for _, p := range pairs {
		has[p.key] = p.value
	}
	valid := true
	for _, p := range pairs {
		switch p.key {
		case "id":
			if s, ok := r.str(p.value, "id"); ok {
				if !nodeIDRE.MatchString(s) {
					r.errorf(p.value, "rule id %q must start with a letter and hold only letters, digits, '_' and '-'", s)
				}
				t.ID = s
			}
		case "when":
			src, ok := l.guard(r, p.value, "when")
			if !ok {
				valid = false
				continue
			}
			t.WhenSrc = src
			prog, errs := l.ec.compile(src, 0, true)
			if len(errs) > 0 {
				l.exprAt(r, p.value, src, errs)
				valid = false
				continue
			}
			t.When = prog
		case "after":
			if ms, ok := r.duration(p.value, "after"); ok {
				t.After, t.Timer = ms, true
			} else {
				valid = false
			}
		case "to":
			if s, ok := r.str(p.value, "to"); ok {
				if rest, ok := strings.CutPrefix(s, ">"); ok {
					t.Call, s = true, strings.TrimSpace(rest)
				}
				t.To = l.target(r, p.value, s)
				if t.To < 0 {
					t.guess = l.guessNode(s)
				}
			}
		case "set":
			l.sets(r, p.value, t)
		case "score":
			fields, _ := r.mapping(p.value, "score", nil)
			for _, f := range fields {
				ai, ok := l.sc.axisIndex[f.key]
				if !ok {
					r.errorf(f.keyN, "unknown score axis %q%s", f.key, didYouMean(f.key, sortedKeys(l.sc.axisIndex)))
					continue
				}
				if d, ok := r.number(f.value, "a score delta"); ok {
					t.Score = append(t.Score, ScoreDelta{Axis: ai, Delta: d})
				}
			}
		case "feedback":
			if tm, ok := l.template(r, p.value, "feedback"); ok {
				t.Feedback = tm
			}
		case "critical":
			if b, ok := r.boolean(p.value, "critical"); ok {
				t.Critical = b
			}
		}
	}
	if rule {
		if _, ok := has["id"]; !ok {
			r.errorf(n, "a rule needs an id")
		}
		if _, ok := has["when"]; !ok && !ruleAfter {
			r.errorf(n, "a rule needs a when")
		}
	} else {
		_, w := has["when"]
		_, a := has["after"]
		switch {
		case w && a:
			r.errorf(n, "a transition has either when or after, not both")
		case !w && !a:
			r.errorf(n, "a transition needs when (a condition) or after (a duration)")
		}
		if _, ok := has["to"]; !ok {
			r.errorf(n, "a transition needs to (the node it leads to)")
		}
	}
	if !valid {
		l.broken = true
		t.When, t.broken = nil, true // kept for the designer's sketch only
		return t
	}
	return t
}

func (l *loader) sets(r *reader, n *yaml.Node, t *Transition) {
	fields, _ := r.mapping(n, "set", nil)
	for _, f := range fields {
		target, kind := moodTarget, VarNumber
		if f.key != envMood {
			vi, ok := l.sc.varIndex[f.key]
			if !ok {
				names := append(sortedKeys(l.sc.varIndex), envMood)
				r.errorf(f.keyN, "unknown var %q%s", f.key, didYouMean(f.key, names))
				continue
			}
			target, kind = vi, l.sc.Vars[vi].Kind
		}
		src, ok := r.str(f.value, "a set expression")
		if !ok {
			continue
		}
		prog, errs := l.ec.compile(src, kind, false)
		if len(errs) > 0 {
			for i := range errs {
				if rest, ok := strings.CutPrefix(errs[i].msg, "a condition must be true or false, but this is "); ok {
					// A bool var's new value is no condition: say what it must give.
					errs[i].msg = "this must give true or false (" + f.key + " is true/false), but it gives " + rest
				}
				errs[i].msg = "set " + f.key + ": " + errs[i].msg
			}
			l.exprAt(r, f.value, src, errs)
			continue
		}
		l.exprAt(r, f.value, src, growthWarnings(src, f.key))
		t.Sets = append(t.Sets, Assign{Var: target, Prog: prog, Src: src})
	}
}

func (l *loader) template(r *reader, n *yaml.Node, what string) (Template, bool) {
	return l.templateSyntax(r, n, what, false)
}

// lineTemplate reads a customer line's text: a template that may hold pauses and
// conditionals, whose conditions are compiled here against the typed environment.
func (l *loader) lineTemplate(r *reader, n *yaml.Node, what string) (Template, bool) {
	return l.templateSyntax(r, n, what, true)
}

func (l *loader) templateSyntax(r *reader, n *yaml.Node, what string, line bool) (Template, bool) {
	s, ok := r.str(n, what)
	if !ok {
		return Template{}, false
	}
	s = strings.TrimRight(s, " \t\r\n") // folded and literal blocks end with a newline
	condErrs := false
	syn := templateSyntax{line: line, cond: func(src string, off int) *vm.Program {
		prog, errs := l.ec.compile(src, 0, true)
		if len(errs) > 0 {
			condErrs = true
			shift := utf8.RuneCountInString(s[:off])
			for i := range errs {
				errs[i].offset += shift
			}
			l.exprAt(r, n, s, errs)
			return nil
		}
		return prog
	}}
	t, errs := parseTemplateSyntax(s, func(name string) (int, bool) {
		switch name {
		case "name":
			return refPersona, true
		case "trainee":
			return refTrainee, true
		}
		i, ok := l.sc.varIndex[name]
		return i, ok
	}, syn)
	for _, e := range errs {
		msg := e.msg
		if strings.HasPrefix(msg, "unknown placeholder") {
			name := strings.TrimSuffix(strings.TrimPrefix(msg, "unknown placeholder {"), "}")
			switch {
			case line && (name == "pause" || strings.HasPrefix(name, "pause") && strings.ContainsRune("0123456789.", rune(name[5]))):
				msg += ": a pause is written {pause 1.5s}, with a space before the duration"
			case strings.HasPrefix(name, "if") && len(name) > 2 && !isIdentRune(rune(name[2])) && line:
				msg += ": conditional text is written {if COND: THEN|ELSE}, with a space after if"
			default:
				msg += didYouMean(name, append(sortedKeys(l.sc.varIndex), "name", "trainee"))
			}
		}
		col := n.Column + utf8.RuneCountInString(s[:e.offset])
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			col++
		}
		line := n.Line
		if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 || strings.Contains(s[:e.offset], "\n") {
			line, col = n.Line, n.Column
		}
		*r.diags = append(*r.diags, Diagnostic{Path: r.path, Line: line, Col: col, Message: msg})
	}
	return t, len(errs) == 0 && !condErrs
}

func (l *loader) node(r *reader, nd *Node, n *yaml.Node) {
	before := len(*l.diags)
	pairs, ok := r.mapping(n, "node "+nd.ID, NodeKeys)
	if len(*l.diags) > before {
		// A misspelt key may have been meant as transitions: the node is not called a
		// dead end, and whatever a to: under it names counts as reached.
		nd.broken, l.broken = true, true
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if !slices.Contains(NodeKeys, n.Content[i].Value) {
					nd.maybeTo = l.maybeTargets(n.Content[i+1], nd.maybeTo)
				}
			}
		}
	}
	if !ok {
		return
	}
	var seqAt *yaml.Node // the node's sequence, checked once say has been read
	defer func() {
		if seqAt != nil && len(nd.Lines) == 0 {
			r.errorf(seqAt, "node %s has a sequence but no say lines to choose from", nd.ID)
		}
	}()
	for _, p := range pairs {
		switch p.key {
		case "say":
			l.say(r, nd, p.value)
		case "sequence":
			seqAt = p.value
			if q, ok := r.str(p.value, "sequence"); ok {
				if slices.Contains(Sequences, q) {
					nd.Sequence = q
				} else {
					r.errorf(p.value, "sequence %q must be one of %s%s", q, strings.Join(Sequences, ", "), didYouMean(q, Sequences))
				}
			}
		case "choices":
			l.choices(r, nd, p.value)
		case "return":
			nd.Return, _ = r.boolean(p.value, "return")
		case "ring":
			// ring: yes is reported, and read as meant, so the node is not also
			// checked as a node without a line.
			nd.Ring, _ = r.boolean(p.value, "ring")
		case "end":
			l.ending(r, nd, p.value)
		case "yes_means", "no_means":
			if name, ok := r.str(p.value, p.key); ok {
				i, ok := l.sc.intentIndex[name]
				if !ok {
					r.errorf(p.value, "%s: unknown intent %q%s", p.key, name, didYouMean(name, sortedKeys(l.sc.intentIndex)))
					continue
				}
				l.ec.usedIntents[name] = true
				if p.key == "yes_means" {
					nd.yesMeans = i + 1
				} else {
					nd.noMeans = i + 1
				}
			}
		case "model":
			nd.Model, _ = l.template(r, p.value, "model")
			nd.modelLine, nd.modelCol = p.value.Line, p.value.Column
		case "hangup":
			if id, ok := r.str(p.value, "hangup"); ok {
				if to := l.target(r, p.value, id); to >= 0 {
					nd.Hangup = to
					l.hangups = append(l.hangups, hangupRef{at: p.value, to: to})
				} else if g := l.guessNode(id); g >= 0 {
					// A misspelt ending counts as the one "did you mean" names, so it is
					// not also reported as never reached.
					nd.maybeTo = append(nd.maybeTo, g)
				}
			}
		case "transitions":
			var items []*yaml.Node
			if p.value.Kind == yaml.MappingNode {
				// One transition written without its "- ": said once, and read as meant so
				// the graph checks do not also call the node a dead end.
				r.errorf(p.value, "transitions must be a list: start each transition with '- ', or write [{when: ..., to: ...}]")
				items = []*yaml.Node{p.value}
			} else {
				var ok bool
				if items, ok = r.list(p.value, "transitions"); !ok {
					continue
				}
			}
			for _, it := range items {
				t := l.transition(r, it, false)
				if t == nil || t.broken {
					nd.broken = true
					if t != nil {
						nd.sketch = append(nd.sketch, t)
					}
					continue
				}
				if t.Timer {
					nd.Timers = append(nd.Timers, t)
				} else {
					nd.Transitions = append(nd.Transitions, t)
				}
			}
		}
	}
	slices.SortStableFunc(nd.Timers, func(a, b *Transition) int {
		return int(a.After - b.After)
	})
	has := func(k string) bool {
		return slices.ContainsFunc(pairs, func(p pair) bool { return p.key == k })
	}
	switch {
	case nd.End != nil && has("transitions"):
		r.errorf(n, "node %s is an ending and cannot have transitions", nd.ID)
	case nd.End != nil && has("choices"):
		r.errorf(n, "node %s is an ending and cannot offer choices", nd.ID)
	case nd.Ring && nd.End != nil:
		r.errorf(n, "node %s cannot both ring and end the call", nd.ID)
	case nd.End != nil && has("hangup"):
		r.errorf(n, "node %s is an ending: the call is over, so hangup does not apply", nd.ID)
	case nd.End != nil && has("model"):
		r.errorf(n, "node %s is an ending: the trainee says nothing here, so it has no model reply", nd.ID)
	case (nd.End != nil || nd.Ring) && (has("yes_means") || has("no_means")):
		r.errorf(n, "node %s has no question for the trainee to answer (it rings or ends the call): yes_means and no_means do not apply", nd.ID)
	case nd.Ring && has("say"):
		r.errorf(n, "node %s rings: nobody has said anything yet, so it has no say", nd.ID)
	case nd.Router() && has("choices"):
		r.errorf(n, "node %s offers choices but the customer says nothing (add a say)", nd.ID)
	case nd.Router() && len(nd.Timers) > 0 && !has("say"):
		r.errorf(n, "node %s has no line, so its transitions run at once; after cannot be used here", nd.ID)
	case nd.Return && (nd.End != nil || nd.Ring):
		r.errorf(n, "node %s returns to the node that entered its sub-flow, so it cannot also ring or end the call", nd.ID)
	case nd.Return && (has("transitions") || has("choices")):
		r.errorf(n, "node %s returns to the node that entered its sub-flow at once (after its line): it has no transitions or choices", nd.ID)
	}
	if nd.Return && len(nd.Lines) > 0 {
		// Back to the caller when the line has been spoken, as after: 0s would.
		nd.Timers = append(nd.Timers, &Transition{Timer: true, To: toReturn, guess: -1, Path: r.path, Line: n.Line, Col: n.Column})
	}
}

func (l *loader) say(r *reader, nd *Node, n *yaml.Node) {
	// A line whose text has an error is kept (as far as it was read): the node still
	// has a line, so it is not also reported as a router (a knock-on error).
	if n.Kind == yaml.ScalarNode {
		t, _ := l.lineTemplate(r, n, "say")
		nd.Lines = append(nd.Lines, LineVariant{Text: t})
		return
	}
	if n.Kind == yaml.MappingNode {
		// One variant written without its list: say what to write.
		r.errorf(n, "say must be a string or a list of variants, not a mapping: write one variant as a list, say: [{text: ..., emotion: ...}]")
		nd.Lines = append(nd.Lines, LineVariant{})
		return
	}
	items, ok := r.list(n, "say")
	if !ok {
		nd.Lines = append(nd.Lines, LineVariant{})
		return
	}
	if len(items) == 0 {
		r.errorf(n, "say has no lines")
	}
	always := false // some line is said whatever holds
	for _, it := range items {
		if it.Kind == yaml.ScalarNode {
			t, _ := l.lineTemplate(r, it, "a line")
			nd.Lines = append(nd.Lines, LineVariant{Text: t})
			always = true
			continue
		}
		fields, ok := r.mapping(it, "a line variant", LineKeys)
		if !ok {
			nd.Lines = append(nd.Lines, LineVariant{})
			continue
		}
		var lv LineVariant
		hasText := false
		for _, f := range fields {
			switch f.key {
			case "when":
				if t, src := l.compileGuard(r, f.value, "when"); t != nil {
					lv.When, lv.WhenSrc = t.When, src
				}
			case "text":
				lv.Text, _ = l.lineTemplate(r, f.value, "text")
				hasText = true
			case "wpm":
				if v, ok := r.number(f.value, "wpm"); ok {
					if v < 60 || v > 400 || v != float64(int(v)) {
						r.errorf(f.value, "a line's wpm must be a whole number from 60 to 400")
					} else {
						lv.WPM = int(v)
					}
				}
			case "emotion":
				if e, ok := r.str(f.value, "emotion"); ok {
					if slices.Contains(Emotions, e) {
						lv.Emotion = e
					} else {
						r.errorf(f.value, "emotion %q must be one of %s%s", e, strings.Join(Emotions, ", "), didYouMean(e, Emotions))
					}
				}
			}
		}
		if !hasText {
			r.errorf(it, "a line variant needs text")
		}
		if mappingKey(it, "when") == nil {
			always = true
		} else if strings.TrimSpace(lv.WhenSrc) == "true" {
			always = true
		}
		nd.Lines = append(nd.Lines, lv)
	}
	if len(items) > 0 && !always {
		r.warnf(n, "every line of say has a when: on a visit where none holds, the customer says nothing here (end the list with a line without when)")
	}
}

func (l *loader) choices(r *reader, nd *Node, n *yaml.Node) {
	items, ok := r.list(n, "choices")
	if !ok {
		return
	}
	for _, it := range items {
		var c Choice
		if it.Kind == yaml.ScalarNode {
			c.Text, _ = l.template(r, it, "a choice")
		} else {
			fields, ok := r.mapping(it, "a choice", ChoiceKeys)
			if !ok {
				continue
			}
			hasText := false
			for _, f := range fields {
				switch f.key {
				case "when":
					if t, src := l.compileGuard(r, f.value, "when"); t != nil {
						c.When, c.WhenSrc = t.When, src
					}
				case "text":
					c.Text, _ = l.template(r, f.value, "text")
					hasText = true
				}
			}
			if !hasText {
				r.errorf(it, "a choice needs text")
			}
		}
		if c.Text.Static() {
			c.static = true
			var text string
			if len(c.Text.parts) > 0 {
				text = c.Text.parts[0].lit
			}
			c.intents, c.understood = l.sc.understand(text, true)
			c.hashes = wordHashes(text)
		}
		nd.Choices = append(nd.Choices, c)
	}
}

func (l *loader) ending(r *reader, nd *Node, n *yaml.Node) {
	fields, ok := r.mapping(n, "end", EndKeys)
	if !ok {
		return
	}
	nd.End = &Ending{}
	hasOutcome := false
	for _, f := range fields {
		switch f.key {
		case "outcome":
			hasOutcome = true
			if s, ok := r.str(f.value, "outcome"); ok {
				if !slices.Contains(Outcomes, s) {
					r.errorf(f.value, "outcome %q must be one of %s%s", s, strings.Join(Outcomes, ", "), didYouMean(s, Outcomes))
				}
				nd.End.Outcome = s
			}
		case "title":
			if s, ok := r.str(f.value, "end.title"); ok {
				nd.End.Title = strings.TrimSpace(s)
				if nd.End.Title == "" {
					r.errorf(f.value, "end.title is empty")
				}
			}
		case "text":
			nd.End.Text, _ = l.template(r, f.value, "end.text")
		}
	}
	if !slices.ContainsFunc(fields, func(p pair) bool { return p.key == "title" }) && !l.recorded {
		r.errorf(n, "ending %s needs a title: the few words the trainee sees at the end (e.g. title: Honest from the start)", nd.ID)
	}
	if nd.End.Title == "" {
		nd.End.Title = humanize(nd.ID)
	}
	if !hasOutcome {
		r.errorf(n, "an ending needs an outcome (%s)", strings.Join(Outcomes, ", "))
	}
}

func clamp(x, lo, hi float64) float64 { return max(lo, min(hi, x)) }

// LoadSources rebuilds a scenario from the exact files it was loaded from (Scenario.Sources,
// the scenario first), e.g. to replay a recorded call after the files on disk changed.
// The result has the same Hash as the original.
func LoadSources(sources []SourceFile) (*Scenario, Diagnostics) {
	if len(sources) == 0 {
		return nil, Diagnostics{{Path: "(sources)", Line: 1, Col: 1, Message: "no source files"}}
	}
	fsys := sourceFS{}
	for _, f := range sources {
		fsys[f.Path] = f.Data
	}
	// Shipped packs come from the sources too, so the call replays as it was played
	// even after the library changed.
	return load(fsys, sources[0].Path, true, LoadOptions{Packs: shippedSources{fsys}})
}

// IsShippedPackName reports whether an include names a shipped pack (a bare name such as
// "listening") rather than a file (a path ending in .yaml or .yml).
func IsShippedPackName(inc string) bool {
	return identRE.MatchString(strings.ReplaceAll(inc, "-", "_"))
}

// shippedSources serves the shipped packs a call was recorded with.
type shippedSources struct{ src sourceFS }

func (s shippedSources) Open(name string) (fs.File, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
}

func (s shippedSources) ReadFile(name string) ([]byte, error) {
	return s.src.ReadFile(ShippedPrefix + name)
}

// humanize turns an id such as "hung_up-ringing" into "Hung up ringing".
func humanize(id string) string {
	s := strings.TrimSpace(strings.NewReplacer("_", " ", "-", " ").Replace(id))
	if s == "" {
		return id
	}
	r, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[size:]
}

// sourceFS serves files from memory; it implements fs.ReadFileFS, which is all Load uses.
type sourceFS map[string][]byte

func (s sourceFS) Open(name string) (fs.File, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
}

func (s sourceFS) ReadFile(name string) ([]byte, error) {
	data, ok := s[name]
	if !ok {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	return append([]byte(nil), data...), nil
}

// isIdentRune reports whether r may continue an identifier.
func isIdentRune(r rune) bool {
	return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}
