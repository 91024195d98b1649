package engine

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
)

// Names every expression can use, besides the scenario's vars.
const (
	envEvent          = "event"
	envText           = "text"
	envChoice         = "choice"
	envSaid           = "said"
	envCount          = "count"
	envSaidLast       = "said_last"
	envInterrupted    = "interrupted"
	envRinging        = "ringing"
	envSilence        = "silence"
	envElapsed        = "elapsed"
	envTurn           = "turn"
	envVisits         = "visits"
	envSeen           = "seen"
	envMood           = "mood"
	envRepeated       = "repeated"
	envRandom         = "random"
	envScore          = "score"
	envComposing      = "composing"
	envHints          = "hints"
	envCarried        = "carried"
	envTelegraphic    = "telegraphic"
	envFunctionWords  = "function_words"
	envRepeatRequests = "repeat_requests"
)

// BuiltinNames lists the names the expression environment provides, in documentation order.
var BuiltinNames = []string{envEvent, envText, envChoice, envSaid, envCount, envSaidLast, envInterrupted,
	envRinging, envSilence, envElapsed, envTurn, envVisits, envSeen, envMood, envRepeated,
	envRandom, envScore, envComposing, envHints, envCarried, envTelegraphic, envFunctionWords, envRepeatRequests}

// disabledBuiltins read the wall clock, iterate maps in random order, or allocate without
// the VM's memory budget (repeat and replace can multiply a text's length).
var disabledBuiltins = []string{"now", "date", "timezone", "keys", "values", "toPairs", "repeat", "replace"}

var exprKeywords = []string{"true", "false", "nil", "in", "not", "and", "or", "matches",
	"contains", "startsWith", "endsWith", "let", "if", "else"}

// reservedName reports whether name cannot be a var: a built-in, an expr function or keyword.
func reservedName(name string) bool {
	if slices.Contains(BuiltinNames, name) || slices.Contains(exprKeywords, name) {
		return true
	}
	_, isBuiltin := builtin.Index[name]
	return isBuiltin || strings.HasPrefix(name, "$")
}

// typeEnv builds the compile-time environment: the value of each name fixes its type.
func typeEnv(vars []Var) map[string]any {
	env := map[string]any{
		envEvent:          "",
		envText:           "",
		envChoice:         0,
		envSaid:           (func(string) bool)(nil),
		envCount:          (func(string) int)(nil),
		envSaidLast:       (func(string) bool)(nil),
		envInterrupted:    false,
		envCarried:        false,
		envTelegraphic:    false,
		envFunctionWords:  0,
		envRinging:        0.0,
		envSilence:        0.0,
		envElapsed:        0.0,
		envTurn:           0,
		envVisits:         0,
		envSeen:           (func(string) int)(nil),
		envMood:           0.0,
		envRepeated:       false,
		envRandom:         (func(int, int) int)(nil),
		envScore:          map[string]float64{},
		envComposing:      0.0,
		envHints:          0,
		envRepeatRequests: 0,
	}
	for _, v := range vars {
		env[v.Name] = v.Init
	}
	meterEnv(env, nil) // typed placeholders; each scratch has its own meter
	return env
}

// exprCompiler compiles expressions of one scenario against its typed environment.
type exprCompiler struct {
	env     map[string]any
	names   []string // for "did you mean"
	intents map[string]int
	nodes   map[string]int
	axes    map[string]int
	opts    []expr.Option
	used    map[string]bool // every identifier a compiled expression reads
	// usedIntents are the intents a compiled expression looks at (said, count).
	usedIntents map[string]bool
}

func newExprCompiler(vars []Var, intents, nodes, axes map[string]int) *exprCompiler {
	c := &exprCompiler{env: typeEnv(vars), intents: intents, nodes: nodes, axes: axes, used: map[string]bool{},
		usedIntents: map[string]bool{}}
	for name := range c.env {
		if !strings.HasPrefix(name, "$") {
			c.names = append(c.names, name)
		}
	}
	slices.Sort(c.names)
	c.opts = []expr.Option{expr.Env(c.env), expr.MaxNodes(MaxExprNodes)}
	for _, name := range disabledBuiltins {
		c.opts = append(c.opts, expr.DisableBuiltin(name))
	}
	return c
}

// exprError is a problem inside an expression at a byte offset of its source.
type exprError struct {
	offset int
	msg    string
	warn   bool // a warning, not an error
}

var unknownNameRE = regexp.MustCompile(`^unknown name ([A-Za-z_$][A-Za-z0-9_]*)`)

// compile compiles src; kind is the expected result: "bool", "number", "string" or "".
func (c *exprCompiler) compile(src string, kind VarKind, wantBool bool) (*vm.Program, []exprError) {
	if len(src) > MaxExprBytes {
		return nil, []exprError{{offset: 0, msg: fmt.Sprintf("expression is %d bytes; the limit is %d", len(src), MaxExprBytes)}}
	}
	if strings.TrimSpace(src) == "" {
		return nil, []exprError{{offset: 0, msg: "expression is empty"}}
	}
	// Our own checks first, on the parsed tree: they give better messages than expr's.
	cfg := conf.CreateNew()
	for _, op := range c.opts {
		op(cfg)
	}
	tree, err := parser.ParseWithConfig(src, cfg)
	if err != nil {
		return nil, []exprError{fromExprErr(src, err, c.names)}
	}
	if errs := c.checkNames(src, tree.Node); len(errs) > 0 {
		return nil, errs
	}
	if errs := checkBounds(tree.Node); len(errs) > 0 {
		return nil, errs
	}
	opts := c.opts
	switch {
	case wantBool:
		opts = append(slices.Clip(opts), expr.AsBool())
	case kind == VarNumber:
		opts = append(slices.Clip(opts), expr.AsFloat64())
	case kind == VarBool:
		opts = append(slices.Clip(opts), expr.AsBool())
	case kind == VarString:
		opts = append(slices.Clip(opts), expr.AsKind(reflect.String))
	}
	prog, err := expr.Compile(src, opts...)
	if err != nil {
		return nil, []exprError{fromExprErr(src, err, c.names)}
	}
	if needsMeter(tree.Node) {
		// Compiled a second time with the meter patched in (see meterPatch): the first,
		// fully typed compile gave the diagnostics; this program runs.
		metered := append(slices.Clip(opts), meterFunctions...)
		prog, err = expr.Compile(src, append(metered, expr.Patch(meterPatch{}))...)
		if err != nil {
			return nil, []exprError{fromExprErr(src, fmt.Errorf("internal: metering this expression: %w", err), c.names)}
		}
	}
	return prog, nil
}

func fromExprErr(src string, err error, names []string) exprError {
	e := exprError{msg: err.Error()}
	var fe *file.Error
	if errors.As(err, &fe) {
		e = exprError{offset: min(max(fe.From, 0), len([]rune(src))), msg: fe.Message}
		if fe.Message == "unexpected token EOF" {
			e.offset = len([]rune(strings.TrimRight(src, " \t\r\n")))
		}
		if m := unknownNameRE.FindStringSubmatch(e.msg); m != nil {
			e.msg = unknownName(m[1], names)
		}
	}
	if rest, ok := strings.CutPrefix(e.msg, "expected bool, but got "); ok {
		e.msg = "a condition must be true or false, but this is " + rest
	}
	e.msg = plainExprMessage(e.msg)
	if strings.Contains(e.msg, "exceeds maximum allowed nodes") {
		e = exprError{msg: fmt.Sprintf("expression has more than %d syntax nodes; split it into simpler rules or vars", MaxExprNodes)}
	}
	return e
}

var (
	unexpectedTokenRE = regexp.MustCompile(`^unexpected token \w+\("?(.*?)"?\)$`)
	mismatchedRE      = regexp.MustCompile(`^invalid operation: (\S+) \(mismatched types (.+) and (.+)\)$`)
	expectedRE        = regexp.MustCompile(`^expected (.+), but got (.+)$`)
	typeWordRE        = regexp.MustCompile(`\b(?:u?int(?:8|16|32|64)?|float(?:32|64)|string|bool|map\[string\]float64|interface \{\}|<nil>)\b`)
)

// plainExprMessage rewords the expression compiler's messages in a designer's words: no
// Go type names, no parser token names.
func plainExprMessage(msg string) string {
	switch {
	case msg == "unexpected token EOF":
		return "the expression ends too early: something is missing at its end"
	case unexpectedTokenRE.MatchString(msg):
		tok := unexpectedTokenRE.FindStringSubmatch(msg)[1]
		if tok == "=" {
			return `unexpected "=" here (did you mean "==" to compare? set: assigns a var)`
		}
		return fmt.Sprintf("unexpected %q here", tok)
	case mismatchedRE.MatchString(msg):
		m := mismatchedRE.FindStringSubmatch(msg)
		out := fmt.Sprintf("%s cannot be used between %s and %s", m[1], typeWords(m[2]), typeWords(m[3]))
		switch m[1] {
		case "and", "or", "&&", "||":
			if typeWords(m[2]) == "a number" || typeWords(m[3]) == "a number" {
				// said("refund") and count("refund_date"): a count is no condition.
				out += `: compare the number to make it one, such as count("intent") > 0`
			}
		}
		return out
	case expectedRE.MatchString(msg):
		m := expectedRE.FindStringSubmatch(msg)
		return fmt.Sprintf("this must give %s, but it gives %s", typeWords(m[1]), typeWords(m[2]))
	}
	return typeWordRE.ReplaceAllStringFunc(msg, typeWords)
}

// typeWords names a Go type as a designer would.
func typeWords(t string) string {
	switch {
	case t == "string":
		return "text"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"), strings.HasPrefix(t, "float"):
		return "a number"
	case strings.HasPrefix(t, "map["):
		return "the scores"
	case strings.HasPrefix(t, "func"):
		return "a function"
	case t == "<nil>" || t == "nil":
		return "nothing"
	case t == "interface {}":
		return "any value"
	}
	return t
}

// checkNames reports unknown names, intents, nodes and axes with suggestions.
func (c *exprCompiler) checkNames(src string, root ast.Node) []exprError {
	v := &nameChecker{c: c, declared: map[string]bool{}, args: map[ast.Node]bool{}, callees: map[ast.Node]bool{}}
	ast.Walk(&root, &declCollector{declared: v.declared, args: v.args, callees: v.callees})
	ast.Walk(&root, v)
	return v.errs
}

// declCollector finds let-declared names, and the arguments of said/count/seen (whose
// problems are reported once, by the call).
type declCollector struct {
	declared map[string]bool
	args     map[ast.Node]bool
	callees  map[ast.Node]bool
}

func (d *declCollector) Visit(n *ast.Node) {
	switch x := (*n).(type) {
	case *ast.VariableDeclaratorNode:
		d.declared[x.Name] = true
	case *ast.CallNode:
		d.callees[x.Callee] = true
		if id, ok := x.Callee.(*ast.IdentifierNode); ok && (id.Value == envSaid || id.Value == envCount || id.Value == envSaidLast || id.Value == envSeen) {
			for _, a := range x.Arguments {
				d.args[a] = true
			}
		}
	}
}

type nameChecker struct {
	c        *exprCompiler
	declared map[string]bool
	args     map[ast.Node]bool
	callees  map[ast.Node]bool
	errs     []exprError
}

// functionNames are the functions an expression can call, for "did you mean".
var functionNames = func() []string {
	names := []string{envSaid, envCount, envSaidLast, envSeen, envRandom}
	for name := range builtin.Index {
		if !slices.Contains(disabledBuiltins, name) && !strings.HasPrefix(name, "$") {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}()

// unknownName says a name is unknown, with what was likely meant: a close name, true or
// false for yes and no, or the text in quotes.
func unknownName(name string, names []string) string {
	if dym := didYouMean(name, names); dym != "" {
		return fmt.Sprintf("unknown name %q%s", name, dym)
	}
	switch strings.ToLower(name) {
	case "yes", "no", "on", "off", "y", "n":
		return fmt.Sprintf("unknown name %q (write true or false)", name)
	}
	return fmt.Sprintf("unknown name %q: no var, intent or function has it; to write the text %s, quote it: '\"%s\"'", name, name, name)
}

func (v *nameChecker) add(n ast.Node, msg string) {
	v.errs = append(v.errs, exprError{offset: n.Location().From, msg: msg})
}

// ExprEvents are the values event takes in a rule's or a transition's when.
var ExprEvents = []string{string(EventAnswer), string(EventSay), string(EventChoose), string(EventHint),
	string(EventHangup), string(EventTimeout)}

// checkEventValue reports a comparison of event with a text it never has.
func (v *nameChecker) checkEventValue(n *ast.BinaryNode) {
	if n.Operator != "==" && n.Operator != "!=" {
		return
	}
	id, lit := n.Left, n.Right
	if _, ok := id.(*ast.StringNode); ok {
		id, lit = lit, id
	}
	ident, ok := id.(*ast.IdentifierNode)
	str, ok2 := lit.(*ast.StringNode)
	if !ok || !ok2 || ident.Value != envEvent || v.declared[envEvent] || slices.Contains(ExprEvents, str.Value) {
		return
	}
	switch str.Value {
	case string(EventTyping):
		v.add(str, `event is never "typing" here: typing only starts the reply's composing time (use composing, or silence)`)
	case string(EventWhisper):
		v.add(str, `event is never "whisper" here: a supervisor's whisper goes to the trainee, not to the rules`)
	default:
		v.add(str, fmt.Sprintf("event is never %q: it is one of %s%s", str.Value, strings.Join(ExprEvents, ", "), didYouMean(str.Value, ExprEvents)))
	}
}

func (v *nameChecker) Visit(np *ast.Node) {
	switch n := (*np).(type) {
	case *ast.BinaryNode:
		v.checkEventValue(n)
	case *ast.IdentifierNode:
		if v.args[n] {
			return
		}
		v.c.used[n.Value] = true
		if strings.HasPrefix(n.Value, "$") {
			v.add(n, fmt.Sprintf("%s is not available in scenario expressions", n.Value))
			return
		}
		if slices.Contains(disabledBuiltins, n.Value) {
			v.add(n, fmt.Sprintf("%s() is disabled: scenarios must replay exactly and stay within memory bounds", n.Value))
			return
		}
		if _, ok := v.c.env[n.Value]; !ok && !v.declared[n.Value] && !strings.HasPrefix(n.Value, "$") {
			if _, isBuiltin := builtin.Index[n.Value]; !isBuiltin {
				if v.callees[n] {
					v.add(n, fmt.Sprintf("unknown function %s()%s", n.Value, didYouMean(n.Value, functionNames)))
				} else {
					v.add(n, unknownName(n.Value, v.c.names))
				}
			}
		}
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		if !ok {
			return
		}
		var table map[string]int
		var what string
		switch id.Value {
		case envSaid, envCount, envSaidLast:
			table, what = v.c.intents, "intent"
		case envSeen:
			table, what = v.c.nodes, "node"
		default:
			return
		}
		if len(n.Arguments) != 1 {
			v.add(n, fmt.Sprintf("%s() takes one %s name", id.Value, what))
			return
		}
		s, ok := n.Arguments[0].(*ast.StringNode)
		if !ok {
			v.add(n.Arguments[0], fmt.Sprintf("%s() takes a quoted %s name, such as %s(\"%s\")", id.Value, what, id.Value, firstKey(table)))
			return
		}
		if _, ok := table[s.Value]; !ok {
			v.add(s, fmt.Sprintf("unknown %s %q%s", what, s.Value, didYouMean(s.Value, sortedKeys(table))))
		} else if what == "intent" {
			v.c.usedIntents[s.Value] = true
		}
	case *ast.MemberNode:
		id, ok := n.Node.(*ast.IdentifierNode)
		if !ok || id.Value != envScore {
			return
		}
		s, ok := n.Property.(*ast.StringNode)
		if !ok {
			v.add(n, "score is read with a fixed axis name, such as score."+firstKey(v.c.axes))
			return
		}
		if _, ok := v.c.axes[s.Value]; !ok {
			v.add(s, fmt.Sprintf("unknown score axis %q%s", s.Value, didYouMean(s.Value, sortedKeys(v.c.axes))))
		}
	}
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func firstKey(m map[string]int) string {
	keys := sortedKeys(m)
	if len(keys) == 0 {
		return "name"
	}
	return keys[0]
}

// replyReads returns what a compiled when expression looks at of a reply: the intents it
// asks about (said, count, said_last) and whether it reads the reply's text or choice. A
// source that does not parse reads nothing (it did not compile either).
func (c *exprCompiler) replyReads(src string) (intents []int, text bool) {
	cfg := conf.CreateNew()
	for _, op := range c.opts {
		op(cfg)
	}
	tree, err := parser.ParseWithConfig(src, cfg)
	if err != nil {
		return nil, false
	}
	v := &replyReader{c: c}
	ast.Walk(&tree.Node, v)
	return v.intents, v.text
}

type replyReader struct {
	c       *exprCompiler
	intents []int
	text    bool
}

func (v *replyReader) Visit(np *ast.Node) {
	switch n := (*np).(type) {
	case *ast.IdentifierNode:
		if n.Value == envText || n.Value == envChoice {
			v.text = true
		}
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		if !ok || (id.Value != envSaid && id.Value != envCount && id.Value != envSaidLast) || len(n.Arguments) != 1 {
			return
		}
		if s, ok := n.Arguments[0].(*ast.StringNode); ok {
			if i, ok := v.c.intents[s.Value]; ok {
				v.intents = append(v.intents, i)
			}
		}
	}
}
