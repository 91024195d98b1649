package engine

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/parser"
)

// Bounds on the work one expression can do. expr has no step budget of its own (its
// MemoryBudget does not stop pure computation: 58 bytes of nested predicates over a range
// run 10^9 steps), so the work is bounded twice: statically when a scenario loads (range
// sizes, predicate nesting, an estimate of the iterations), and at run time by a meter the
// compiled program carries (every range and every collection a predicate walks is counted,
// every string an operation produces is measured).
const (
	// MaxRangeLen is the most elements a range (a..b) may have.
	MaxRangeLen = 1000
	// MaxPredicateDepth is how deeply predicates (all, any, filter, map, …) may nest.
	MaxPredicateDepth = 2
	// MaxExprWork is the most steps the load-time estimate allows one expression. A step
	// is one range element, or one syntax node of a predicate's body evaluated for one
	// element: the sizes of the collections the predicates walk times the sizes of their
	// bodies, multiplied along the nesting. A collection whose size is not known at load
	// counts as MaxRangeLen.
	MaxExprWork = 50_000
	// MaxEventWork is the run-time backstop: the steps (counted as for MaxExprWork, with
	// the real sizes) all the expressions evaluated for one event may take together. Past
	// it, the expression fails (a guard counts as false, a set is not applied; an error is
	// reported).
	MaxEventWork = 500_000
	// MaxStringBytes is the longest string an operation in an expression may produce.
	MaxStringBytes = 16 << 10
	// MaxEventStringBytes is the most string bytes the expressions of one event may produce.
	MaxEventStringBytes = 1 << 20
	// MaxVarBytes is the longest string a set may store in a var. A longer value is a
	// run-time error and the var keeps its old value.
	MaxVarBytes = 4096
)

// Names of the run-time meter in the expression environment. They start with '$', so a
// scenario cannot name them (checkNames refuses such identifiers); only the patch adds them.
const (
	meterName   = "$sbwork"
	rangeFunc   = "$sbrange"
	eachFunc    = "$sbeach"
	concatFunc  = "$sbcat"
	measureFunc = "$sbstr"
)

// workMeter counts the work of the expressions evaluated for one event.
type workMeter struct {
	steps int // range elements and predicate iterations
	bytes int // string bytes produced
}

func (m *workMeter) reset() { *m = workMeter{} }

var (
	errEventWork = fmt.Errorf("the expressions of this event took more than %d steps (range elements, and each predicate's body per element); simplify the rules", MaxEventWork)
	errEventStr  = fmt.Errorf("the expressions of this event built more than %d bytes of text", MaxEventStringBytes)
)

func (m *workMeter) step(n int) error {
	if m == nil {
		return errors.New("internal: no work meter")
	}
	m.steps += n
	if m.steps > MaxEventWork {
		return errEventWork
	}
	return nil
}

func (m *workMeter) str(n int) error {
	if m == nil {
		return errors.New("internal: no work meter")
	}
	if n > MaxStringBytes {
		return fmt.Errorf("an expression built a text of %d bytes; the limit is %d", n, MaxStringBytes)
	}
	m.bytes += n
	if m.bytes > MaxEventStringBytes {
		return errEventStr
	}
	return nil
}

// meterEnv adds the meter to an expression environment.
func meterEnv(env map[string]any, m *workMeter) {
	env[meterName] = m
}

// meterFunctions are the meter's functions, as expr functions: the VM calls them directly,
// where a function in the environment with an error result is called through reflection
// (a sixth of a rule-heavy scenario's step, when lower(text) and the like were measured
// that way). Each takes the event's meter, from the environment, first.
var meterFunctions = []expr.Option{
	expr.Function(rangeFunc, func(p ...any) (any, error) {
		m, lo, hi := p[0].(*workMeter), p[1].(int), p[2].(int)
		n := hi - lo + 1
		if hi < lo {
			n = 0
		}
		if n > MaxRangeLen || n < 0 {
			return nil, fmt.Errorf("range %d..%d has %d elements; the limit is %d", lo, hi, n, MaxRangeLen)
		}
		if err := m.step(n); err != nil {
			return nil, err
		}
		r := make([]int, n)
		for i := range r {
			r[i] = lo + i
		}
		return r, nil
	}, new(func(*workMeter, int, int) []int)),
	expr.Function(eachFunc, func(p ...any) (any, error) {
		m, coll, weight := p[0].(*workMeter), p[1], p[2].(int)
		n := 0
		if v := reflect.ValueOf(coll); v.IsValid() {
			switch v.Kind() {
			case reflect.Slice, reflect.Array, reflect.Map, reflect.String:
				n = v.Len()
			}
		}
		return coll, m.step(n * max(weight, 1))
	}, new(func(*workMeter, any, int) any)),
	expr.Function(concatFunc, func(p ...any) (any, error) {
		m, a, b := p[0].(*workMeter), p[1].(string), p[2].(string)
		if err := m.str(len(a) + len(b)); err != nil {
			return "", err
		}
		return a + b, nil
	}, new(func(*workMeter, string, string) string)),
	expr.Function(measureFunc, func(p ...any) (any, error) {
		m, s := p[0].(*workMeter), p[1].(string)
		return s, m.str(len(s))
	}, new(func(*workMeter, string) string)),
}

// meterPatch rewrites a checked expression tree so that its program counts its work:
// ranges become $sbrange (bounded, counted), the collection of every predicate builtin
// passes through $sbeach (counted: its length times the size of the predicate's body),
// string + becomes $sbcat and every other operation that
// returns a string passes through $sbstr (measured).
type meterPatch struct{}

func (meterPatch) Visit(np *ast.Node) {
	meter := func(n ast.Node) ast.Node {
		id := &ast.IdentifierNode{Value: meterName}
		id.SetLocation(n.Location())
		return id
	}
	call := func(at ast.Node, fn string, args ...ast.Node) ast.Node {
		callee := &ast.IdentifierNode{Value: fn}
		callee.SetLocation(at.Location())
		c := &ast.CallNode{Callee: callee, Arguments: append([]ast.Node{meter(at)}, args...)}
		c.SetLocation(at.Location())
		return c
	}
	isString := func(n ast.Node) bool { return n.Type() != nil && n.Type().Kind() == reflect.String }
	switch n := (*np).(type) {
	case *ast.BinaryNode:
		switch {
		case n.Operator == "..":
			*np = call(n, rangeFunc, n.Left, n.Right)
		case n.Operator == "+" && isString(n.Left) && isString(n.Right):
			*np = call(n, concatFunc, n.Left, n.Right)
		}
	case *ast.BuiltinNode:
		if f, ok := builtin.Index[n.Name]; ok && builtin.Builtins[f].Predicate && len(n.Arguments) > 0 {
			weight := &ast.IntegerNode{Value: predicateWeight(n)}
			weight.SetLocation(n.Location())
			n.Arguments[0] = call(n.Arguments[0], eachFunc, n.Arguments[0], weight)
		} else if isString(n) {
			*np = call(n, measureFunc, n)
		}
	}
}

// predicateWeight is the steps one element of a predicate builtin costs: the syntax nodes
// of its predicates (at least 1).
func predicateWeight(n *ast.BuiltinNode) int {
	w := 0
	for _, a := range n.Arguments[1:] {
		if p, ok := a.(*ast.PredicateNode); ok {
			ast.Walk(&p.Node, visitFunc(func(ast.Node) { w++ }))
		}
	}
	return max(w, 1)
}

// needsMeter reports whether an expression has anything the meter counts: ranges,
// predicates, or builtins (which may build strings). Most guards have none, and keep
// their unpatched, fully typed program.
func needsMeter(root ast.Node) bool {
	found := false
	ast.Walk(&root, visitFunc(func(n ast.Node) {
		switch x := n.(type) {
		case *ast.BuiltinNode:
			found = true
		case *ast.BinaryNode:
			if x.Operator == ".." || x.Operator == "+" {
				found = true
			}
		}
	}))
	return found
}

type visitFunc func(ast.Node)

func (f visitFunc) Visit(n *ast.Node) { f(*n) }

// boundsInfo is what the static check knows about a value: an integer constant, or a
// collection's size.
type boundsInfo struct {
	isConst   bool
	n         int // the constant
	size      int // elements, when a collection
	sizeKnown bool
}

// boundsChecker checks ranges, predicate nesting and the estimated work of one expression.
type boundsChecker struct {
	errs         []exprError
	workReported bool
}

func (b *boundsChecker) add(n ast.Node, format string, args ...any) {
	b.errs = append(b.errs, exprError{offset: n.Location().From, msg: fmt.Sprintf(format, args...)})
}

// checkBounds returns the expression's problems with MaxRangeLen, MaxPredicateDepth and
// MaxExprWork, each at the position of the range or predicate at fault.
func checkBounds(root ast.Node) []exprError {
	b := &boundsChecker{}
	_, work := b.eval(root, nil, 0)
	if work > MaxExprWork && !b.workReported {
		b.errs = append(b.errs, exprError{offset: 0, msg: fmt.Sprintf("this expression may take about %d steps (every element a predicate walks costs the size of its body); the limit is %d: use smaller ranges, simpler predicates or less nesting", work, MaxExprWork)})
	}
	return b.errs
}

type boundsScope struct {
	name string
	info boundsInfo
	up   *boundsScope
}

func (s *boundsScope) lookup(name string) (boundsInfo, bool) {
	for ; s != nil; s = s.up {
		if s.name == name {
			return s.info, true
		}
	}
	return boundsInfo{}, false
}

// satMul and satAdd saturate at MaxExprWork*MaxExprWork, far past every limit.
const workCeiling = MaxExprWork * MaxExprWork

func satAdd(a, b int) int { return min(a+b, workCeiling) }
func satMul(a, b int) int {
	if a == 0 || b == 0 {
		return 0
	}
	if a > workCeiling/b {
		return workCeiling
	}
	return min(a*b, workCeiling)
}

// eval returns what is known of n's value and the estimated work to evaluate it once.
func (b *boundsChecker) eval(n ast.Node, sc *boundsScope, depth int) (boundsInfo, int) {
	switch x := n.(type) {
	case nil:
		return boundsInfo{}, 0
	case *ast.IntegerNode:
		return boundsInfo{isConst: true, n: x.Value}, 0
	case *ast.UnaryNode:
		in, w := b.eval(x.Node, sc, depth)
		if x.Operator == "-" && in.isConst {
			return boundsInfo{isConst: true, n: -in.n}, w
		}
		return boundsInfo{}, w
	case *ast.IdentifierNode:
		if in, ok := sc.lookup(x.Value); ok {
			return in, 0
		}
		return boundsInfo{}, 0
	case *ast.VariableDeclaratorNode:
		in, w1 := b.eval(x.Value, sc, depth)
		out, w2 := b.eval(x.Expr, &boundsScope{name: x.Name, info: in, up: sc}, depth)
		return out, satAdd(w1, w2)
	case *ast.ArrayNode:
		w := 0
		for _, e := range x.Nodes {
			_, we := b.eval(e, sc, depth)
			w = satAdd(w, we)
		}
		return boundsInfo{size: len(x.Nodes), sizeKnown: true}, w
	case *ast.BinaryNode:
		l, wl := b.eval(x.Left, sc, depth)
		r, wr := b.eval(x.Right, sc, depth)
		w := satAdd(wl, wr)
		if x.Operator == ".." {
			if l.isConst && r.isConst {
				size := 0
				if r.n >= l.n {
					d := r.n - l.n // negative on overflow
					if d < 0 || d >= MaxRangeLen {
						b.add(x.Left, "the range %d..%d has more than %d elements; the limit is %d", l.n, r.n, MaxRangeLen, MaxRangeLen)
						d = MaxRangeLen - 1
					}
					size = d + 1
				}
				return boundsInfo{size: size, sizeKnown: true}, satAdd(w, size)
			}
			// Bounds known only at run time: the meter refuses more than MaxRangeLen.
			return boundsInfo{size: MaxRangeLen}, satAdd(w, MaxRangeLen)
		}
		if l.isConst && r.isConst {
			switch x.Operator {
			case "+":
				return boundsInfo{isConst: true, n: l.n + r.n}, w
			case "-":
				return boundsInfo{isConst: true, n: l.n - r.n}, w
			case "*":
				return boundsInfo{isConst: true, n: l.n * r.n}, w
			}
		}
		return boundsInfo{}, w
	case *ast.BuiltinNode:
		f, ok := builtin.Index[x.Name]
		if !ok || !builtin.Builtins[f].Predicate || len(x.Arguments) == 0 {
			w := 0
			for _, a := range x.Arguments {
				_, wa := b.eval(a, sc, depth)
				w = satAdd(w, wa)
			}
			return boundsInfo{}, w
		}
		coll, w := b.eval(x.Arguments[0], sc, depth)
		size := MaxRangeLen
		if coll.sizeKnown {
			size = coll.size
		}
		if depth+1 > MaxPredicateDepth {
			b.add(x, "%s() is nested %d predicates deep; the limit is %d: split the rule, or use a var", x.Name, depth+1, MaxPredicateDepth)
		}
		body := 0
		for _, a := range x.Arguments[1:] {
			if p, ok := a.(*ast.PredicateNode); ok {
				_, wb := b.eval(p.Node, sc, depth+1)
				body = satAdd(body, wb)
			} else {
				_, wa := b.eval(a, sc, depth)
				w = satAdd(w, wa)
			}
		}
		w = satAdd(w, satMul(size, satAdd(predicateWeight(x), body)))
		if w > MaxExprWork && !b.workReported {
			b.workReported = true
			b.add(x, "%s() may take about %d steps (every element a predicate walks costs the size of its body); the limit is %d: use smaller ranges, simpler predicates or less nesting", x.Name, w, MaxExprWork)
		}
		switch x.Name {
		case "filter", "map", "sortBy":
			return boundsInfo{size: size, sizeKnown: coll.sizeKnown}, w
		}
		return boundsInfo{}, w
	}
	// Every other node: the sum of its children.
	w := 0
	for _, c := range children(n) {
		_, wc := b.eval(c, sc, depth)
		w = satAdd(w, wc)
	}
	return boundsInfo{}, w
}

// children returns a node's direct children (as ast.Walk visits them).
func children(n ast.Node) []ast.Node {
	switch x := n.(type) {
	case *ast.ChainNode:
		return []ast.Node{x.Node}
	case *ast.MemberNode:
		return []ast.Node{x.Node, x.Property}
	case *ast.SliceNode:
		return []ast.Node{x.Node, x.From, x.To}
	case *ast.CallNode:
		return append([]ast.Node{x.Callee}, x.Arguments...)
	case *ast.PredicateNode:
		return []ast.Node{x.Node}
	case *ast.SequenceNode:
		return x.Nodes
	case *ast.ConditionalNode:
		return []ast.Node{x.Cond, x.Exp1, x.Exp2}
	case *ast.MapNode:
		return x.Pairs
	case *ast.PairNode:
		return []ast.Node{x.Key, x.Value}
	}
	return nil
}

// checkValueSize refuses a value a set would store that is over MaxVarBytes. Vars hold
// bools, numbers and strings (their kind is fixed by their initial value); a list or map
// could only come from an untyped expression and is refused too.
func checkValueSize(v any) error {
	switch x := v.(type) {
	case string:
		if len(x) > MaxVarBytes {
			return fmt.Errorf("the value is %d bytes; a var holds at most %d", len(x), MaxVarBytes)
		}
	case bool, float64, int, nil:
	default:
		return fmt.Errorf("a var holds a bool, a number or a text, not %T", v)
	}
	return nil
}

// growthWarnings warns about a set whose value contains the var itself more than once
// under a +: v = v + v doubles v every time the rule fires, and soon hits MaxVarBytes.
func growthWarnings(src, target string) []exprError {
	tree, err := parser.Parse(src)
	if err != nil {
		return nil
	}
	var warns []exprError
	ast.Walk(&tree.Node, visitFunc(func(n ast.Node) {
		bn, ok := n.(*ast.BinaryNode)
		if !ok || bn.Operator != "+" || len(warns) > 0 {
			return
		}
		if mentions(bn.Left, target) && mentions(bn.Right, target) {
			warns = append(warns, exprError{offset: bn.Location().From, warn: true, msg: fmt.Sprintf(
				"%s appears on both sides of +: its length doubles each time this rule fires, and a set over %d bytes is refused at run time", target, MaxVarBytes)})
		}
	}))
	return warns
}

func mentions(n ast.Node, name string) bool {
	found := false
	ast.Walk(&n, visitFunc(func(x ast.Node) {
		if id, ok := x.(*ast.IdentifierNode); ok && id.Value == name {
			found = true
		}
	}))
	return found
}
