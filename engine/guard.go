package engine

import (
	"regexp"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/parser"
)

// A guard is the part of a when that the step can decide without the expression VM: its
// && / || / ! skeleton over the event's type, said and said_last, comparisons of seen,
// count, score.AXIS and numeric names with numbers, true-or-false names, and tests of a
// text name (text, a text variable) against a quoted text: ==, !=, matches, contains,
// startsWith, endsWith. Most of a
// scenario's rules and transitions begin with such leaves ("event == "say" &&
// said("upsell")"), and at a given step most of them are false on those alone, so a guard
// that decides spares the VM run (42% of one-script's Apply in a profile before guards).
//
// A guard decides only what the VM would: the leaves it cannot read are "unknown", and a
// result is taken only when it is reached the way the VM reaches it, left to right with
// short circuits, past no leaf that might fail at run time (a function call, a member
// access, a regular expression): the VM would report that failure, so the guard leaves
// such a step to it. Leaves that cannot fail (a name, a literal, a comparison of the two)
// may be stepped over. The outcome, the outputs and the errors are those of the VM run.
//
// A scenario's guards live in one array (packGuards), a node's children after it, in the
// order the steps read them: a cold step walks them as a few consecutive cache lines,
// where nodes allocated one by one cost a cache miss each.
type guard struct {
	op     guardOp
	events uint8 // guardEvent: the event types for which the leaf holds (eventBit)
	value  bool  // guardConst
	cmp    cmpOp // guardCompare: the operator
	index  int32 // guardSaid, guardSaidLast: the intent's index, or -1 for a name that is no intent; guardText: its test in the scenario's textTests
	a, b   *guard
	name   string // guardName: a true-or-false name of the environment; guardText: the text name tested
	l, r   operand
}

// cmpOp is a comparison's operator.
type cmpOp uint8

const (
	cmpEq cmpOp = iota
	cmpNe
	cmpLt
	cmpGt
	cmpLe
	cmpGe
)

var cmpOps = map[string]cmpOp{"==": cmpEq, "!=": cmpNe, "<": cmpLt, ">": cmpGt, "<=": cmpLe, ">=": cmpGe}

type guardOp uint8

const (
	guardUnknown  guardOp = iota // a leaf that cannot fail, value unknown
	guardRisky                   // a leaf that might fail at run time
	guardConst                   // true or false
	guardEvent                   // event == "say", event in [...]
	guardSaid                    // said("intent")
	guardSaidLast                // said_last("intent")
	guardName                    // a name whose value is true or false
	guardCompare                 // a comparison of two numbers (operands)
	guardText                    // a test of a text name against a quoted text (textTest)
	guardNot
	guardAnd
	guardOr
)

// A textTest is what a guardText leaf tests its name's text with: name OP "lit", as the
// VM runs it (==, != and the string operators of expr's VM, a quoted pattern compiled as
// its compiler compiles it).
type textTest struct {
	op  textOp
	lit string
	re  *regexp.Regexp // textMatches
}

type textOp uint8

const (
	textEq textOp = iota
	textNe
	textMatches
	textContains
	textStartsWith
	textEndsWith
)

var textOps = map[string]textOp{"==": textEq, "!=": textNe, "matches": textMatches, "contains": textContains, "startsWith": textStartsWith, "endsWith": textEndsWith}

// test is the outcome of the VM's run of name OP lit on the value v of the name. A value
// that is no text is the VM's to judge (unsafe): its == and != of a text name fail on it
// (OpEqualString), its string operators fail on it too, except on nil, which they take as
// false (TestTextGuardsAgreeWithTheVM).
func (t *textTest) test(v any) (tri, bool) {
	s, ok := v.(string)
	if !ok {
		if v == nil && t.op != textEq && t.op != textNe {
			return triFalse, true
		}
		return triUnknown, false
	}
	switch t.op {
	case textEq:
		return truth(s == t.lit), true
	case textNe:
		return truth(s != t.lit), true
	case textMatches:
		return truth(t.re.MatchString(s)), true
	case textContains:
		return truth(strings.Contains(s, t.lit)), true
	case textStartsWith:
		return truth(strings.HasPrefix(s, t.lit)), true
	}
	return truth(strings.HasSuffix(s, t.lit)), true
}

// An operand is a number a guard's comparison reads: a literal, a name of the
// environment, seen("node"), count("intent") or score.axis.
type operand struct {
	kind  operandKind
	index int32   // operandSeen, operandCount: the node's or intent's index, -1 for none
	num   float64 // operandNumber
	name  string  // operandName, operandScore (the axis)
}

type operandKind uint8

const (
	operandNumber operandKind = iota
	operandName
	operandSeen
	operandCount
	operandScore
)

// tri is a three-valued truth: false, true or not known.
type tri uint8

const (
	triFalse tri = iota
	triTrue
	triUnknown
)

// guardCheck, when set (by tests only), is called with each decision a guard takes and
// the VM's own run of the same when, to check that the two agree; vmRan, likewise, for
// each when left to the VM, to count them.
var (
	guardCheck func(src string, decided bool, vmValue any, vmErr error)
	vmRan      func()
)

// eventBit is event type t's bit in a guard's events; 0 for a type rules never see.
func eventBit(t EventType) uint8 {
	for i, e := range ExprEvents {
		if string(t) == e {
			return 1 << i
		}
	}
	return 0
}

// compileGuards gives each when of the scenario its guard, once, at load; opts are the
// options its expressions were compiled with (the same names parse the same way: count
// is the scenario's function, not expr's built-in).
func (sc *Scenario) compileGuards(opts []expr.Option) {
	cfg := conf.CreateNew()
	for _, op := range opts {
		op(cfg)
	}
	b := &guardBuilder{sc: sc, names: typeEnv(sc.Vars), cfg: cfg}
	var all []**guard // in the order steps read them: the global rules, then node by node
	defer func() { packGuards(all) }()
	sc.ruleFilters = make([]ruleFilter, len(sc.Rules))
	for i, r := range sc.Rules {
		sc.ruleFilters[i] = ruleFilter{events: anyEvent, intent: -1}
		if r.When != nil {
			r.guard = b.compile(r.WhenSrc)
			all = append(all, &r.guard)
			if r.guard != nil {
				sc.ruleFilters[i] = r.guard.filter()
			}
		}
		if sc.rulesAxes != scoreWide {
			sc.rulesAxes |= r.scoreAxes
		}
		if r.scoreAxes == scoreWide {
			sc.rulesAxes = scoreWide
		}
	}
	for _, n := range sc.Nodes {
		for _, ts := range [][]*Transition{n.Transitions, n.Timers} {
			for _, t := range ts {
				if t.When != nil {
					t.guard = b.compile(t.WhenSrc)
					all = append(all, &t.guard)
				}
			}
		}
		for i := range n.Lines {
			if lv := &n.Lines[i]; lv.When != nil {
				lv.guard = b.compile(lv.WhenSrc)
				all = append(all, &lv.guard)
			}
		}
		for i := range n.Choices {
			if c := &n.Choices[i]; c.When != nil {
				c.guard = b.compile(c.WhenSrc)
				all = append(all, &c.guard)
			}
		}
	}
}

// A ruleFilter is what a global rule's when needs to hold, found from its guard at load:
// one of some event types, and an intent said. A step that meets neither knows the rule
// false without reading the rule or its guard: the global rules are checked at every
// event, and most of them are false at most steps for one of these two reasons (a cold
// step reads one small array instead of each rule and guard).
//
// A filter says false only where the VM would: false, with no error (filter).
type ruleFilter struct {
	events uint8 // the event types for which the when may hold (eventBit); anyEvent: any
	intent int16 // an intent that must have been said for it to hold; -1: none
}

// anyEvent is a ruleFilter's events when the when names no event type it needs.
const anyEvent = 0xff

// may reports whether the rule can hold at the step x is evaluating. An event type rules
// never see (eventBit 0) is not filtered by type.
func (f ruleFilter) may(x *scratch) bool {
	return (f.events == anyEvent || x.event == 0 || f.events&x.event != 0) && (f.intent < 0 || x.said.has(int(f.intent)))
}

// filter is g's ruleFilter: when the step meets neither of its needs, the VM's run of the
// when is false and fails nowhere (filterOf).
func (g *guard) filter() ruleFilter {
	f, _ := g.filterOf()
	return f
}

// filterOf returns what g needs to hold (a weaker need is always correct: it only filters
// less) and whether its VM run might fail. Left to right, as the VM runs it: in a && b,
// b's need counts only when a cannot fail, since the VM runs a first and would report its
// failure whatever b is.
func (g *guard) filterOf() (f ruleFilter, canFail bool) {
	f = ruleFilter{events: anyEvent, intent: -1}
	switch g.op {
	case guardEvent:
		f.events = g.events
	case guardSaid:
		if g.index < 0 {
			f.events = 0 // said of a name that is no intent: never true
		} else {
			f.intent = int16(g.index)
		}
	case guardConst:
		if !g.value {
			f.events = 0
		}
	case guardRisky:
		canFail = true
	case guardText:
		canFail = g.name != envText // a variable could hold something else; the event's text cannot
	case guardNot:
		_, canFail = g.a.filterOf()
	case guardAnd:
		fa, failA := g.a.filterOf()
		fb, failB := g.b.filterOf()
		f, canFail = fa, failA || failB
		if !failA {
			f.events &= fb.events
			if f.intent < 0 {
				f.intent = fb.intent
			}
		}
	case guardOr:
		fa, failA := g.a.filterOf()
		fb, failB := g.b.filterOf()
		canFail = failA || failB
		switch {
		case fa.events == 0 && fa.intent < 0:
			f = fb // a never holds
		case fb.events == 0 && fb.intent < 0:
			f = fa
		default:
			f.events = fa.events | fb.events
			if fa.intent == fb.intent {
				f.intent = fa.intent
			}
		}
	}
	return f, canFail
}

// packGuards moves the guards *gs point to, in that order, into one array, each node
// followed by its children (the order eval reads them), and points *gs at the copies.
func packGuards(gs []**guard) {
	n := 0
	for _, g := range gs {
		n += (*g).size()
	}
	arena := make([]guard, 0, n) // never grows: the pointers into it stay valid
	var pack func(g *guard) *guard
	pack = func(g *guard) *guard {
		if g == nil {
			return nil
		}
		arena = append(arena, *g)
		p := &arena[len(arena)-1]
		p.a, p.b = pack(g.a), pack(g.b)
		return p
	}
	for _, g := range gs {
		*g = pack(*g)
	}
}

// size is the number of nodes in g (0 for nil).
func (g *guard) size() int {
	if g == nil {
		return 0
	}
	return 1 + g.a.size() + g.b.size()
}

// compile builds src's guard, or nil when no part of it can be decided without the VM (a
// guard of one unknown leaf would only cost time).
func (b *guardBuilder) compile(src string) *guard {
	tree, err := parser.ParseWithConfig(src, b.cfg)
	if err != nil {
		return nil
	}
	g := b.build(tree.Node)
	if !g.decides() {
		return nil
	}
	return g
}

// decides reports whether any leaf of g is read without the VM.
func (g *guard) decides() bool {
	switch g.op {
	case guardUnknown, guardRisky:
		return false
	case guardNot:
		return g.a.decides()
	case guardAnd, guardOr:
		return g.a.decides() || g.b.decides()
	}
	return true
}

// guardBuilder builds the guards of one scenario.
type guardBuilder struct {
	sc    *Scenario
	names map[string]any // the environment's names, with a value of each one's type
	cfg   *conf.Config   // the expressions' parser configuration
}

func (b *guardBuilder) build(n ast.Node) *guard {
	switch n := n.(type) {
	case *ast.BoolNode:
		return &guard{op: guardConst, value: n.Value}
	case *ast.UnaryNode:
		if n.Operator == "!" || n.Operator == "not" {
			return &guard{op: guardNot, a: b.build(n.Node)}
		}
	case *ast.BinaryNode:
		switch n.Operator {
		case "&&", "and":
			return &guard{op: guardAnd, a: b.build(n.Left), b: b.build(n.Right)}
		case "||", "or":
			return &guard{op: guardOr, a: b.build(n.Left), b: b.build(n.Right)}
		case "==", "!=":
			if m, ok := eventComparison(n.Left, n.Right); ok {
				if n.Operator == "!=" {
					m = ^m
				}
				return &guard{op: guardEvent, events: m}
			}
		case "in":
			if m, ok := eventIn(n.Left, n.Right); ok {
				return &guard{op: guardEvent, events: m}
			}
		}
		if g := b.textTest(n); g != nil {
			return g
		}
		switch n.Operator {
		case "==", "!=", "<", ">", "<=", ">=":
			l, okL := b.operand(n.Left)
			r, okR := b.operand(n.Right)
			if okL && okR {
				return &guard{op: guardCompare, cmp: cmpOps[n.Operator], l: l, r: r}
			}
			if b.plain(n.Left) && b.plain(n.Right) {
				return &guard{op: guardUnknown}
			}
		}
	case *ast.CallNode:
		if name, arg, ok := literalCall(n); ok {
			switch name {
			case envSaid, envSaidLast:
				i, known := b.sc.intentIndex[arg]
				if !known {
					i = -1
				}
				op := guardSaid
				if name == envSaidLast {
					op = guardSaidLast
				}
				return &guard{op: op, index: int32(i)}
			}
		}
	case *ast.IdentifierNode:
		if _, ok := b.names[n.Value].(bool); ok {
			return &guard{op: guardName, name: n.Value}
		}
		return &guard{op: guardUnknown}
	}
	return &guard{op: guardRisky}
}

// textTest reads n as a guardText leaf, name OP "lit" (either way round for == and !=),
// or returns nil.
func (b *guardBuilder) textTest(n *ast.BinaryNode) *guard {
	op, ok := textOps[n.Operator]
	if !ok {
		return nil
	}
	l, r := n.Left, n.Right
	if _, lit := l.(*ast.StringNode); lit && (op == textEq || op == textNe) {
		l, r = r, l
	}
	id, ok := l.(*ast.IdentifierNode)
	lit, ok2 := r.(*ast.StringNode)
	if !ok || !ok2 {
		return nil
	}
	if _, text := b.names[id.Value].(string); !text {
		return nil
	}
	t := textTest{op: op, lit: lit.Value}
	if op == textMatches {
		re, err := regexp.Compile(lit.Value) // as expr's compiler does (OpMatchesConst)
		if err != nil {
			return nil
		}
		t.re = re
	}
	b.sc.textTests = append(b.sc.textTests, t)
	return &guard{op: guardText, name: id.Value, index: int32(len(b.sc.textTests) - 1)}
}

// literalCall reads name("text"), a call of a function of the environment with one
// quoted argument.
func literalCall(n *ast.CallNode) (name, arg string, ok bool) {
	id, ok := n.Callee.(*ast.IdentifierNode)
	if !ok || len(n.Arguments) != 1 {
		return "", "", false
	}
	s, ok := n.Arguments[0].(*ast.StringNode)
	if !ok {
		return "", "", false
	}
	return id.Value, s.Value, true
}

// operand reads n as a number a guard can compare: a number, a numeric name, seen("node"),
// count("intent") or score.axis (of an axis the scenario has).
func (b *guardBuilder) operand(n ast.Node) (operand, bool) {
	switch n := n.(type) {
	case *ast.IntegerNode:
		return operand{kind: operandNumber, num: float64(n.Value)}, true
	case *ast.FloatNode:
		return operand{kind: operandNumber, num: n.Value}, true
	case *ast.IdentifierNode:
		switch b.names[n.Value].(type) {
		case int, float64:
			return operand{kind: operandName, name: n.Value}, true
		}
	case *ast.MemberNode:
		id, ok := n.Node.(*ast.IdentifierNode)
		axis, ok2 := n.Property.(*ast.StringNode)
		if ok && ok2 && id.Value == envScore && !n.Method {
			if _, known := b.sc.axisIndex[axis.Value]; known {
				return operand{kind: operandScore, name: axis.Value}, true
			}
		}
	case *ast.CallNode:
		name, arg, ok := literalCall(n)
		if !ok {
			break
		}
		switch name {
		case envSeen:
			i, known := b.sc.nodeIndex[arg]
			if !known {
				i = -1
			}
			return operand{kind: operandSeen, index: int32(i)}, true
		case envCount:
			i, known := b.sc.intentIndex[arg]
			if !known {
				i = -1
			}
			return operand{kind: operandCount, index: int32(i)}, true
		}
	}
	return operand{}, false
}

// plain reports whether reading n cannot fail: a name, a literal, or a call of said,
// said_last, seen or count with a quoted argument.
func (b *guardBuilder) plain(n ast.Node) bool {
	switch n := n.(type) {
	case *ast.IdentifierNode, *ast.BoolNode, *ast.IntegerNode, *ast.FloatNode, *ast.StringNode, *ast.NilNode:
		return true
	case *ast.CallNode:
		name, _, ok := literalCall(n)
		return ok && (name == envSaid || name == envSaidLast || name == envSeen || name == envCount)
	}
	return false
}

// eventComparison reads event == "type" (either way round) as the event types it holds
// for.
func eventComparison(l, r ast.Node) (uint8, bool) {
	if _, ok := l.(*ast.StringNode); ok {
		l, r = r, l
	}
	id, ok := l.(*ast.IdentifierNode)
	s, ok2 := r.(*ast.StringNode)
	if !ok || !ok2 || id.Value != envEvent {
		return 0, false
	}
	return eventBit(EventType(s.Value)), true
}

// eventIn reads event in ["type", ...] as the event types it holds for.
func eventIn(l, r ast.Node) (uint8, bool) {
	id, ok := l.(*ast.IdentifierNode)
	arr, ok2 := r.(*ast.ArrayNode)
	if !ok || !ok2 || id.Value != envEvent {
		return 0, false
	}
	var m uint8
	for _, e := range arr.Nodes {
		s, ok := e.(*ast.StringNode)
		if !ok {
			return 0, false
		}
		m |= eventBit(EventType(s.Value))
	}
	return m, true
}

// eval decides g for the step x is evaluating. safe is false when the VM, reaching the
// same result, would have run a leaf that might fail.
func (g *guard) eval(x *scratch) (v tri, safe bool) {
	switch g.op {
	case guardConst:
		return truth(g.value), true
	case guardEvent:
		return truth(g.events&x.event != 0), true
	case guardSaid:
		return truth(g.index >= 0 && x.said.has(int(g.index))), true
	case guardSaidLast:
		return truth(g.index >= 0 && x.sess.lastSaid.has(int(g.index))), true
	case guardName:
		if b, ok := x.env[g.name].(bool); ok {
			return truth(b), true
		}
		return triUnknown, true
	case guardText:
		return x.sess.sc.textTests[g.index].test(x.env[g.name])
	case guardCompare:
		l, okL := g.l.value(x)
		r, okR := g.r.value(x)
		if !okL || !okR {
			return triUnknown, true
		}
		return truth(compare(g.cmp, l, r)), true
	case guardUnknown:
		return triUnknown, true
	case guardNot:
		v, safe := g.a.eval(x)
		switch v {
		case triTrue:
			return triFalse, safe
		case triFalse:
			return triTrue, safe
		}
		return triUnknown, safe
	case guardAnd, guardOr:
		// && stops at a false left side, || at a true one.
		stop := triFalse
		if g.op == guardOr {
			stop = triTrue
		}
		a, safeA := g.a.eval(x)
		if a == stop || !safeA {
			return a, safeA
		}
		b, safeB := g.b.eval(x)
		if a == triUnknown && b != stop {
			return triUnknown, safeB
		}
		return b, safeB
	}
	return triUnknown, false
}

func truth(b bool) tri {
	if b {
		return triTrue
	}
	return triFalse
}

// value is the operand's number at the step x is evaluating; false when the environment
// holds no number under its name.
func (o operand) value(x *scratch) (float64, bool) {
	switch o.kind {
	case operandNumber:
		return o.num, true
	case operandName:
		switch v := x.env[o.name].(type) {
		case int:
			return float64(v), true
		case float64:
			return v, true
		}
		return 0, false
	case operandSeen:
		if o.index < 0 {
			return 0, true
		}
		return float64(x.sess.visits[o.index]), true
	case operandCount:
		if o.index < 0 {
			return 0, true
		}
		return float64(x.sess.counts[o.index]), true
	case operandScore:
		v, ok := x.score[o.name]
		return v, ok
	}
	return 0, false
}

func compare(op cmpOp, l, r float64) bool {
	switch op {
	case cmpEq:
		return l == r
	case cmpNe:
		return l != r
	case cmpLt:
		return l < r
	case cmpGt:
		return l > r
	case cmpLe:
		return l <= r
	}
	return l >= r
}
