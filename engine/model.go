package engine

import (
	"sync"

	"github.com/expr-lang/expr/vm"

	"github.com/switchboard-sim/switchboard/engine/understand"
)

// Limits on scenario input. Files and expressions over these bounds are rejected when loading.
const (
	MaxFileBytes    = 1 << 20 // a scenario, pack or test file
	MaxTextBytes    = 8 << 10 // one line, choice or feedback text
	MaxExprBytes    = 2048    // one expression's source, checked before expr sees it
	MaxExprNodes    = 300     // syntax nodes in one expression
	MaxNodes        = 1000    // nodes in one scenario
	MaxIntents      = 256     // intents in one scenario (with its packs)
	MaxIncludeDepth = 1       // packs cannot include packs
	MaxDurationMS   = 24 * 60 * 60 * 1000
	MaxRouterHops   = 64 // router nodes passed through on one event
	// MaxCallDepth is how many sub-flows (to: >id) a call can be inside at once; a
	// deeper call is an error output and does not enter the sub-flow.
	MaxCallDepth     = 16
	exprMemoryBudget = 100_000
	defaultWPM       = 160
	defaultPass      = 0.6
	// DefaultComposeLimitMS is how long a trainee may compose one reply (from the first
	// keystroke) before the node's timers may fire anyway; a scenario sets its own with
	// compose_limit.
	DefaultComposeLimitMS = 45_000
	// MaxComposeLimitMS is the longest compose_limit a scenario may set.
	MaxComposeLimitMS = 10 * 60 * 1000
	// DefaultHoldLimitMS is how long a reply that announced a wait ("bear with me, let me
	// check") holds the timers of a node that waits for a reply, from that reply; a
	// scenario sets its own with hold_limit (0s: no hold). It matches the time pack's
	// long-hold: the customer agreed to the wait.
	DefaultHoldLimitMS = 30_000
	// HoldIntent names the intent whose replies announce a wait (the time pack's).
	HoldIntent = "wait_announced"
	// DefaultSameLineLimit is how many times the customer says the same line (the same
	// words) in one call unless the scenario sets same_line_limit: 0, no limit (a
	// scenario written before the limit keeps its loops). With a limit, when a reply or a
	// timer would have her say a line once more, she gives up instead (GaveUpEnding).
	// RecommendedSameLineLimit is what the shipped scenarios set.
	DefaultSameLineLimit     = 0
	RecommendedSameLineLimit = 2
	// MaxSameLineLimit is the largest same_line_limit.
	MaxSameLineLimit = 100
)

// SuggestionMode says how a call offers suggested replies.
type SuggestionMode string

// The suggestion modes, from the strictest to the most generous.
const (
	// SuggestNever: the trainee always types; choices are never shown.
	SuggestNever SuggestionMode = "never"
	// SuggestOnRequest: the trainee may ask for a hint, which shows the node's choices
	// (and is recorded). The default.
	SuggestOnRequest SuggestionMode = "on_request"
	// SuggestAlways: the choices are shown after every customer line (beginner mode).
	SuggestAlways SuggestionMode = "always"
)

// SuggestionModes lists the modes from the strictest to the most generous.
var SuggestionModes = []SuggestionMode{SuggestNever, SuggestOnRequest, SuggestAlways}

// rank orders modes by generosity; -1 for an unknown mode.
func (m SuggestionMode) rank() int {
	for i, x := range SuggestionModes {
		if x == m {
			return i
		}
	}
	return -1
}

// ParseSuggestionMode checks a mode's name.
func ParseSuggestionMode(s string) (SuggestionMode, bool) {
	m := SuggestionMode(s)
	return m, m.rank() >= 0
}

// AllowedModes returns the modes a trainee may choose for this scenario: every mode up to
// the scenario's own (the most generous it allows), strictest first.
func (sc *Scenario) AllowedModes() []SuggestionMode {
	return SuggestionModes[:sc.Suggestions.rank()+1]
}

// Outcomes of an ending.
const (
	OutcomeResolved  = "resolved"
	OutcomeLost      = "lost"
	OutcomeEscalated = "escalated"
)

// HangupEnding is the ending id used when the trainee hangs up and no transition ends the call.
const HangupEnding = "hangup"

// GaveUpEnding is the ending id used when the customer gives up because the call goes
// round in circles (Scenario.SameLineLimit) and the scenario names no gives_up ending.
const GaveUpEnding = "circles"

// Persona is the simulated customer.
type Persona struct {
	Name string  `json:"name"`
	WPM  int     `json:"wpm"`
	Mood float64 `json:"mood"`
	// Voice hints how a browser reading the lines aloud picks a voice (card.go); nil
	// leaves the choice to the browser.
	Voice *Voice `json:"voice,omitempty"`
}

// Axis is a scoring axis.
type Axis struct {
	Name   string  `json:"name"`
	Weight float64 `json:"weight"`
	Start  float64 `json:"start"`
	Max    float64 `json:"max"`
}

// VarKind is the type of a scenario variable.
type VarKind int

// The kinds a variable can have; fixed by its initial value.
const (
	VarBool VarKind = iota
	VarNumber
	VarString
)

// Var is a declared scenario variable.
type Var struct {
	Name string
	Kind VarKind
	Init any // bool, float64 or string
}

// Intent is a named phrase lexicon with the designer's tests of it.
type Intent struct {
	Name string
	// Path and Line say where the intent is declared: the scenario's file, or the rule
	// pack's (a scenario's own intent of a pack's name replaces the pack's).
	Path     string `json:",omitempty"`
	Line     int    `json:",omitempty"`
	Phrases  []string
	Examples []string // replies that must be understood as this intent
	Not      []string // replies that must not
	Except   []string // phrases that stop an overlapping match from counting
}

// Scenario is a loaded, checked and compiled scenario. It is safe to share between any
// number of concurrent sessions: immutable, but for its memo of replies read lately
// (readReply), which changes no result.
type Scenario struct {
	ID      string
	Title   string
	Brief   string
	Lesson  string
	Path    string
	Persona Persona
	Pass    float64
	// Suggestions is the most generous way the scenario lets calls offer suggested
	// replies, and the default for a call.
	Suggestions SuggestionMode
	// ComposeLimit (ms) bounds how long composing one reply holds the node's timers.
	ComposeLimit int64
	// HoldLimit (ms) is how long a reply meaning HoldIntent holds the node's timers
	// (hold_limit; 0: no hold). holdIntent is that intent's index, -1 without one.
	HoldLimit  int64
	holdIntent int
	// SameLineLimit is how many times the customer says the same line before she gives
	// up (same_line_limit; 0: no limit). GivesUp is the ending she gives up in (gives_up),
	// -1 for the built-in GaveUpEnding.
	SameLineLimit int
	GivesUp       int
	// ruleIntents are the intents the global rules ask about: every reply is judged by
	// them, at every node (Watched).
	ruleIntents intentSet
	// textRules are the global rules that move the call and read the reply's text or
	// choice: a lead-in is a reply where one of them holds for it.
	textRules []*Transition
	// Card is how the trainee's scenario picker presents the scenario (card.go).
	Card  Card
	Start int // index into Nodes
	Nodes []*Node
	Rules []*Transition // global rules, packs first
	// ruleFilters holds each global rule's ruleFilter (compileGuards); rulesAxes is
	// every global rule's scoreAxes together (scoreWide when one is).
	ruleFilters []ruleFilter
	rulesAxes   uint64
	textTests   []textTest // the guards' tests of text names (guardText)
	Vars        []Var
	Intents     []Intent
	Axes        []Axis
	// Sources holds the exact bytes of every file the scenario was built from, keyed by
	// path: the scenario first, then its packs. Hash is the SHA-256 of them, in hex.
	Sources []SourceFile
	Hash    string
	// Warnings found while loading (errors prevent loading).
	Warnings Diagnostics

	lexicon     *understand.Lexicon
	memo        *replyMemo // replies read lately (readReply)
	textRoom    sync.Pool  // *understand.Text: room to read a reply in outside a step's scratch
	nodeIndex   map[string]int
	intentIndex map[string]int
	varIndex    map[string]int
	axisIndex   map[string]int
	scratch     sync.Pool
	// reads says which per-event built-ins some expression reads; the others are not
	// loaded into the environment on each event.
	reads builtinSet
	// sketchRules are rules that failed to compile, kept only for Sketch.
	sketchRules []*Transition
}

// SourceFile is one file a scenario was loaded from.
type SourceFile struct {
	Path string `json:"path"`
	Data []byte `json:"data"`
}

// Node is one state of the scenario graph.
type Node struct {
	ID    string
	Index int
	Lines []LineVariant
	// Sequence is how a line is chosen among the variants whose when holds (one of
	// Sequences; "" is "first").
	Sequence    string
	Choices     []Choice
	Transitions []*Transition // when-transitions, in order
	Timers      []*Transition // after-transitions, shortest first (stable)
	Ring        bool
	End         *Ending
	// Model is what a strong agent would say here, shown in the debrief where the
	// trainee lost points or a rule fired.
	Model Template
	// Hangup is the ending (a node index) a trainee's hang-up leads to at this node; -1:
	// the built-in hangup ending.
	Hangup    int
	Line, Col int // position of the node's key in its file
	// modelLine, modelCol: where the model reply is written (lint's warnings point there).
	modelLine, modelCol int
	// exposes are the axes a reply here is a chance at: those any transition or timer of
	// the node, or of a router one of them leads to (and so on), scores; earnable are
	// those such a way on could raise (see Session.exposedNode, computeExposure).
	exposes, earnable []int
	// offers is, per axis, the most one of those ways on adds (Scenario.Offers).
	offers []AxisDelta
	broken bool
	sketch []*Transition // transitions that failed to compile, kept only for Sketch
	// Return: the node ends a sub-flow; the call goes back to the node that entered it
	// (to: >id), once its line is spoken (at once when it has none).
	Return bool
	// Pack is the rule pack that declared the node ("" for the scenario's own).
	Pack string
	// maybeTo are nodes named by to: under a key that is not a node key (a misspelt
	// transitions:): the graph checks count them as reached rather than guess.
	maybeTo []int
	// replyIntents are the intents the node's transitions, and the global rules that move
	// the call, ask about; replyText, that one of them reads the reply's text or choice.
	// A lead-in that means one of those intents (or any, with replyText) is a reply here.
	replyIntents intentSet
	replyText    bool
	// textWays are the node's own transitions that read the text or choice. Like a global
	// rule that reads the text (Scenario.textRules), each is tried on a lead-in, which is
	// a reply here only if one holds.
	textWays []*Transition
	// yesMeans and noMeans are the intents (index + 1; 0: none) a yes or a no to the
	// customer's question means here (yes_means, no_means; answer.go).
	yesMeans, noMeans int
}

// Router reports whether the node has no line, no ringing and no ending: its transitions
// are evaluated as soon as the call enters it.
func (n *Node) Router() bool { return len(n.Lines) == 0 && !n.Ring && n.End == nil }

// awaitsReply reports whether the customer waits for the trainee's reply at n: it speaks
// a line and has ways on that depend on what the trainee does (not only timers).
func (n *Node) awaitsReply() bool {
	return !n.Ring && n.End == nil && len(n.Lines) > 0 && len(n.Transitions) > 0
}

// AwaitsReply reports whether the customer waits for the trainee's reply at the node
// once its line is said (a node with a line and a when transition): a timer that fires
// there is the customer giving up on a silence.
func (n *Node) AwaitsReply() bool { return n.awaitsReply() }

// Emotions are the emotion tags a line variant may carry (`emotion:`), in documented
// order. The tag is passed to the voice and shown in the transcript and debrief; it does
// not change the rules.
var Emotions = []string{"neutral", "warm", "annoyed", "angry", "anxious", "relieved", "sad"}

// Sequences are the ways a node's `sequence:` chooses among the line variants whose
// when holds, on each visit: "first" (the first of them; the default), "cycle" (the
// next one each visit, round and round), "once" (the next one each visit, then the last
// one again on every later visit) and "shuffle" (one drawn from the call's seed, the node
// and the visit: the same seed gives the same lines).
var Sequences = []string{"first", "cycle", "once", "shuffle"}

// LineVariant is one variant of a customer line.
type LineVariant struct {
	When    *vm.Program // nil: always
	WhenSrc string
	guard   *guard // what of When is decided without the VM; nil: nothing
	Text    Template
	// WPM is this line's pace in words per minute (60–400); 0 means the persona's.
	WPM int
	// Emotion is one of Emotions, or "" when the line has none.
	Emotion string
}

// Choice is one suggested reply.
type Choice struct {
	Text    Template
	When    *vm.Program // nil: always shown
	WhenSrc string
	guard   *guard    // what of When is decided without the VM; nil: nothing
	intents intentSet // precomputed when Text has no placeholders
	// understood is what the static text is understood as, precomputed with intents.
	understood []Understood
	hashes     []uint32 // word hashes for repetition, likewise
	static     bool
}

// Ending ends the call.
type Ending struct {
	Outcome string
	// Title names the ending for the trainee ("Honest from the start").
	Title string
	Text  Template
}

// Transition is a node transition or (with an ID) a global rule.
type Transition struct {
	ID      string // global rules only
	When    *vm.Program
	WhenSrc string
	guard   *guard // what of When is decided without the VM; nil: nothing
	// scoreAxes has bit a set for each axis a < 63 that Score changes, or is scoreWide
	// when Score changes a later one (computeExposure): a step marks the axes assessed
	// from it without reading Score itself. The fields above, scoreAxes and To are what
	// checking a transition reads when its guard decides it; they come first, together
	// in 64 bytes (at most two cache lines: the struct is not allocated line-aligned).
	scoreAxes uint64
	To        int   // node index, -1 for none
	After     int64 // ms; timers only
	Timer     bool
	Sets      []Assign
	Score     []ScoreDelta
	Feedback  Template
	// Critical (global rules only): when the rule fires, the call cannot pass, whatever
	// its scores (a QA scorecard's automatic fail: a put-down, a data breach).
	Critical  bool
	Path      string
	Line, Col int
	broken    bool // failed to compile: only in a sketch
	// Call: to: >id enters a sub-flow at To; the node it reaches with return: true
	// brings the call back to the node this transition left.
	Call bool
	// guess is the node a misspelt to: most likely meant (-1: none), so that the node
	// it meant is not also reported as never reached.
	guess int
}

// Assign sets a var (or mood, Var == moodTarget) to an expression's value.
type Assign struct {
	Var  int
	Prog *vm.Program
	Src  string
}

const moodTarget = -1

// toReturn is the target of a return node's own timer: back to the calling node.
const toReturn = -2

// ScoreDelta adds Delta to an axis.
type ScoreDelta struct {
	Axis  int
	Delta float64
}

// NodeIndex returns the index of the node with the given id.
func (sc *Scenario) NodeIndex(id string) (int, bool) {
	i, ok := sc.nodeIndex[id]
	return i, ok
}

// Node returns the node with the given id, or nil.
func (sc *Scenario) Node(id string) *Node {
	if i, ok := sc.nodeIndex[id]; ok {
		return sc.Nodes[i]
	}
	return nil
}

// Endings returns the ids of the ending nodes, in file order.
func (sc *Scenario) Endings() []string {
	var ids []string
	for _, n := range sc.Nodes {
		if n.End != nil {
			ids = append(ids, n.ID)
		}
	}
	return ids
}
