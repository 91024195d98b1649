package engine

import (
	"flag"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/vm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain runs every test of the package with each guard's decision checked against the
// VM's own run of the same when: the shipped scenarios' replays, the random events of
// TestCheckIsApplysRefusal and the judgement tests all go through guards. With -v it says
// how many whens the guards decided and how many they left to the VM. Benchmarks run
// without the check, which runs the VM as well.
func TestMain(m *testing.M) {
	flag.Parse()
	if flag.Lookup("test.bench").Value.String() != "" {
		os.Exit(m.Run())
	}
	var mu sync.Mutex
	var wrong []string
	decided, ran := 0, 0
	vmRan = func() {
		mu.Lock()
		ran++
		mu.Unlock()
	}
	guardCheck = func(src string, decided0 bool, vmValue any, vmErr error) {
		mu.Lock()
		defer mu.Unlock()
		decided++
		if vmErr != nil || vmValue != decided0 {
			wrong = append(wrong, fmt.Sprintf("%s: guard %v, VM %v (%v)", src, decided0, vmValue, vmErr))
		}
	}
	code := m.Run()
	if len(wrong) > 0 {
		fmt.Fprintf(os.Stderr, "guards disagreed with the VM %d times:\n", len(wrong))
		for i, w := range wrong {
			if i == 20 {
				break
			}
			fmt.Fprintln(os.Stderr, " ", w)
		}
		code = 1
	} else if code == 0 && testing.Verbose() {
		fmt.Printf("guards decided %d whens, all as the VM did, and left %d to the VM\n", decided, ran)
	}
	os.Exit(code)
}

// testGuardVars are the variables of testGuardBuilder's scenario.
var testGuardVars = []Var{{Name: "cheese", Kind: VarString, Init: "brie"}}

// testGuardBuilder builds the guards of a scenario with intents upsell and apology, a node
// greet and an axis care.
func testGuardBuilder() *guardBuilder {
	sc := &Scenario{intentIndex: map[string]int{"upsell": 0, "apology": 1}, nodeIndex: map[string]int{"greet": 0},
		axisIndex: map[string]int{"care": 0}}
	cfg := conf.CreateNew()
	for _, op := range newExprCompiler(nil, sc.intentIndex, sc.nodeIndex, nil).opts {
		op(cfg)
	}
	return &guardBuilder{sc: sc, names: typeEnv(testGuardVars), cfg: cfg}
}

func TestGuardDecidesOnlyWhatTheVMWould(t *testing.T) {
	b := testGuardBuilder()
	var upsell, both intentSet
	upsell.add(0)
	both.add(0)
	both.add(1)
	say, hangup := eventBit(EventSay), eventBit(EventHangup)
	cases := []struct {
		src         string
		ev          uint8
		said        intentSet
		interrupted bool
		want        tri
		safe        bool
		isNil       bool   // no guard: nothing to decide
		text        string // the event's text
	}{
		{src: `event == "say" && said("upsell")`, ev: say, said: upsell, want: triTrue, safe: true},
		{src: `event == "say" && said("upsell")`, ev: hangup, said: upsell, want: triFalse, safe: true},
		{src: `"say" == event && said("apology")`, ev: say, said: upsell, want: triFalse, safe: true},
		{src: `(event == "say" || event == "choose") && !said("apology")`, ev: say, said: both, want: triFalse, safe: true},
		{src: `event in ["say", "choose"] and not said("apology")`, ev: say, said: upsell, want: triTrue, safe: true},
		{src: `event != "hangup" && said("upsell")`, ev: hangup, said: upsell, want: triFalse, safe: true},
		// The last message's intents (none), the visits of a node (2) and an intent's count (3).
		{src: `event == "say" && said_last("upsell")`, ev: say, want: triFalse, safe: true},
		{src: `seen("greet") > 1 && count("upsell") >= 3`, ev: say, want: triTrue, safe: true},
		{src: `seen("greet") == 0 || count("apology") != 0`, ev: say, want: triFalse, safe: true},
		{src: `seen("nowhere") > 0.5`, ev: say, want: triFalse, safe: true},
		// True-or-false and numeric names are read from the environment.
		{src: `interrupted && event == "say"`, ev: say, interrupted: true, want: triTrue, safe: true},
		{src: `interrupted && event == "say"`, ev: say, want: triFalse, safe: true},
		{src: `silence > 10 && said("upsell")`, ev: say, said: upsell, want: triTrue, safe: true},
		{src: `silence < 12 && turn == 2`, ev: say, want: triTrue, safe: true},
		// A text name is tested against a quoted text.
		{src: `text == "hi" && event == "say"`, ev: hangup, text: "hi", want: triFalse, safe: true},
		{src: `text == "hi" && event == "say"`, ev: say, text: "hi", want: triTrue, safe: true},
		{src: `"hi" != text`, ev: say, text: "hi", want: triFalse, safe: true},
		{src: `event == "say" && !(text matches "[a-z]") && text matches "([A-Z][^A-Z]*){10}"`, ev: say, text: "WHERE IS MY PARCEL", want: triTrue, safe: true},
		{src: `event == "say" && !(text matches "[a-z]") && text matches "([A-Z][^A-Z]*){10}"`, ev: say, text: "Where is my parcel", want: triFalse, safe: true},
		{src: `text contains "sorry" || text startsWith "Hi" || text endsWith "?"`, ev: say, text: "Hi there", want: triTrue, safe: true},
		{src: `text contains "sorry" || text startsWith "Hi" || text endsWith "?"`, ev: say, text: "hi there", want: triFalse, safe: true},
		{src: `cheese == "comté" && said("upsell")`, ev: say, said: upsell, want: triFalse, safe: true},
		{src: `cheese != "comté" && said("upsell")`, ev: say, said: upsell, want: triTrue, safe: true},
		// A name of another type is stepped over; its value decides nothing.
		{src: `silence == "hi" && event == "say"`, ev: hangup, want: triFalse, safe: true},
		// A leaf that might fail is left to the VM, unless the VM would not reach it.
		{src: `len(text) > 3 && said("upsell")`, ev: say, safe: false},
		{src: `said("upsell") && len(text) > 3`, ev: say, want: triFalse, safe: true},
		{src: `said("upsell") && len(text) > 3`, ev: say, said: upsell, safe: false},
		{src: `score.care < 2 && event == "hangup"`, ev: hangup, want: triTrue, safe: true},
		{src: `score.nothing < 2 || event == "hangup"`, ev: hangup, safe: false},
		{src: `score["care"] < 2 && event == "hangup"`, ev: hangup, want: triTrue, safe: true},
		{src: `lower(text) matches "x" || said("upsell")`, ev: say, said: upsell, safe: false},
		{src: `text matches "x" || said("upsell")`, ev: say, text: "x", want: triTrue, safe: true},
		// An intent no scenario has is never said.
		{src: `said("nope") || event == "answer"`, ev: say, want: triFalse, safe: true},
		// Nothing to decide: no guard.
		{src: `len(text) > 3`, isNil: true},
		{src: `lower(text) == "hi"`, isNil: true},
		{src: `let event = "say"; event == "say" && said("upsell")`, isNil: true},
	}
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) {
			g := b.compile(c.src)
			if c.isNil {
				assert.Nil(t, g)
				return
			}
			require.NotNil(t, g)
			x := &scratch{env: typeEnv(testGuardVars), event: c.ev, said: c.said, score: map[string]float64{"care": 1},
				sess: &Session{sc: b.sc, visits: []uint16{2}, counts: []uint16{3, 0}}}
			x.env[envText] = c.text
			x.env[envInterrupted] = c.interrupted
			x.env[envSilence] = 10.5
			x.env[envTurn] = 2
			v, safe := g.eval(x)
			if c.safe {
				assert.True(t, safe)
				assert.Equal(t, c.want, v)
			} else {
				assert.False(t, safe, "a decision past a leaf that might fail")
			}
		})
	}
}

// A global rule's filter says what its when needs to hold: one of some event types, an
// intent said. It needs nothing past a leaf that might fail (the VM would run that first,
// and report its failure whatever came after).
func TestRuleFilterNeedsOnlyWhatTheVMWouldStopAt(t *testing.T) {
	b := testGuardBuilder()
	say, choose, hangup := eventBit(EventSay), eventBit(EventChoose), eventBit(EventHangup)
	cases := []struct {
		src    string
		events uint8
		intent int16
	}{
		{`event == "say" && said("upsell")`, say, 0},
		{`said("apology") && event == "say"`, say, 1},
		{`(event == "say" || event == "choose") && !said("apology")`, say | choose, -1},
		{`event in ["say", "choose"] && said("upsell") && said("apology")`, say | choose, 0},
		{`event != "hangup" && said("apology")`, ^hangup, 1},
		{`said("upsell") || said("apology")`, anyEvent, -1},
		{`said("upsell") || event == "hangup" && said("upsell")`, anyEvent, 0},
		{`event == "say" || event == "hangup"`, say | hangup, -1},
		{`!(event == "say")`, anyEvent, -1},
		// Never true: said of a name that is no intent, false.
		{`said("nope") && event == "say"`, 0, -1},
		{`false || event == "hangup"`, hangup, -1},
		// Past a leaf that might fail, nothing more is needed.
		{`len(text) > 3 && said("upsell")`, anyEvent, -1},
		{`said("upsell") && len(text) > 3 && event == "say"`, anyEvent, 0},
		{`text matches "x" || said("upsell")`, anyEvent, -1},
		// Leaves that cannot fail are stepped over.
		{`turn > 2 && said("upsell")`, anyEvent, 0},
		{`interrupted && event == "say"`, say, -1},
	}
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) {
			g := b.compile(c.src)
			require.NotNil(t, g)
			f := g.filter()
			assert.Equal(t, c.events, f.events, "events")
			assert.Equal(t, c.intent, f.intent, "intent")
		})
	}

	// may: the step's event and what was said against the filter.
	var upsell intentSet
	upsell.add(0)
	f := ruleFilter{events: say, intent: 0}
	assert.True(t, f.may(&scratch{event: say, said: upsell}))
	assert.False(t, f.may(&scratch{event: say}))
	assert.False(t, f.may(&scratch{event: hangup, said: upsell}))
	assert.True(t, f.may(&scratch{event: 0, said: upsell}), "an event type rules never see is not filtered")
	assert.True(t, ruleFilter{events: anyEvent, intent: -1}.may(&scratch{}))
}

// TestTextGuardsAgreeWithTheVM runs tests of text names through the guard and through
// expr's VM, on texts and variable values of every kind (a variable set to nothing or to
// a number included): wherever the guard decides, the VM gives the same answer without
// failing; where the VM would fail, the guard leaves the step to it.
func TestTextGuardsAgreeWithTheVM(t *testing.T) {
	b := testGuardBuilder()
	opts := newExprCompiler(testGuardVars, b.sc.intentIndex, b.sc.nodeIndex, nil).opts
	srcs := []string{
		`text == "hi"`, `"hi" == text`, `text != "hi"`, `text matches "^[A-Z ]+$"`, `text matches "(?i)refund"`,
		`!(text matches "[a-z]") && text matches "([A-Z][^A-Z]*){10}"`, `text contains "£"`,
		`text startsWith "Hi"`, `text endsWith "?"`, `cheese == "comté"`, `cheese != "comté"`,
		`cheese matches "^c"`, `cheese contains "om"`, `cheese startsWith "g"`, `cheese endsWith "é"`,
	}
	texts := []string{"", "hi", "Hi there?", "HELLO WHERE IS MY REFUND", "i want a REFUND of £12", "comté", "héllo ÉÉÉ"}
	cheeses := []any{"comté", "gouda", "", nil, 3.5, true}
	decided, left := 0, 0
	for _, src := range srcs {
		prog, err := expr.Compile(src, opts...)
		require.NoError(t, err, src)
		g := b.compile(src)
		require.NotNil(t, g, src)
		for _, text := range texts {
			for _, cheese := range cheeses {
				x := &scratch{env: typeEnv(testGuardVars), event: eventBit(EventSay), sess: &Session{sc: b.sc}}
				x.env[envText], x.env["cheese"] = text, cheese
				v, safe := g.eval(x)
				out, vmErr := vm.Run(prog, x.env)
				if !safe || v == triUnknown {
					left++
					continue
				}
				decided++
				require.NoError(t, vmErr, "%s with text %q, cheese %v: the guard decided %v where the VM fails", src, text, cheese, v)
				require.Equal(t, v == triTrue, out, "%s with text %q, cheese %v", src, text, cheese)
			}
		}
	}
	require.Greater(t, decided, 500)
	require.Positive(t, left, "a variable holding a number leaves its string tests to the VM")
}
