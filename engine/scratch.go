package engine

import (
	"github.com/expr-lang/expr/vm"

	"github.com/switchboard-sim/switchboard/engine/understand"
)

// scratch is the per-step evaluation state: an expression VM and the environment map.
// Scenarios pool them, so a live session holds none between steps.
type scratch struct {
	vm    vm.VM
	meter workMeter // the work of this step's expressions; reset for each step
	env   map[string]any
	score map[string]float64
	sess  *Session
	said  intentSet
	event uint8 // the step's event type (eventBit), for guards
	// owner is the session whose vars, scores and mood env holds; they are kept in step
	// as the session changes them, so a scratch that returns to its owner skips reloading.
	owner *Session
	// text is the room a trainee's message is analysed in (understand.AnalyzeInto).
	text understand.Text
}

func (sc *Scenario) newScratch() *scratch {
	x := &scratch{vm: vm.VM{MemoryBudget: exprMemoryBudget}}
	x.env = typeEnv(sc.Vars)
	meterEnv(x.env, &x.meter)
	x.score = make(map[string]float64, len(sc.Axes))
	x.env[envScore] = x.score
	x.env[envSaid] = func(name string) bool {
		i, ok := sc.intentIndex[name]
		return ok && x.said.has(i)
	}
	x.env[envCount] = func(name string) int {
		if i, ok := sc.intentIndex[name]; ok {
			return int(x.sess.counts[i])
		}
		return 0
	}
	x.env[envSaidLast] = func(name string) bool {
		i, ok := sc.intentIndex[name]
		return ok && x.sess.lastSaid.has(i)
	}
	x.env[envSeen] = func(name string) int {
		if i, ok := sc.nodeIndex[name]; ok {
			return int(x.sess.visits[i])
		}
		return 0
	}
	x.env[envRandom] = func(lo, hi int) int {
		if hi < lo {
			lo, hi = hi, lo
		}
		span := uint64(hi-lo) + 1
		if span == 0 { // the whole int range
			return int(x.sess.next())
		}
		return lo + int(x.sess.next()%span)
	}
	return x
}

// scratch takes an evaluation scratch from the pool and loads the session's state into it.
func (s *Session) scratch(ev Event) *scratch {
	x, _ := s.sc.scratch.Get().(*scratch)
	if x == nil {
		x = s.sc.newScratch()
	}
	x.sess = s
	x.said = intentSet{}
	x.event = eventBit(ev.Type)
	x.meter.reset() // the work budget is per event (MaxEventWork)
	env, r := x.env, s.sc.reads
	if r.has(readEvent) {
		env[envEvent] = ev.Type.value()
	}
	if r.has(readText) {
		env[envText] = ev.Text
	}
	if r.has(readChoice) {
		env[envChoice] = -1
	}
	if r.has(readInterrupted) {
		env[envInterrupted] = false
	}
	if r.has(readCarried) {
		env[envCarried] = false
	}
	if r.has(readSilence) {
		env[envSilence] = 0.0
	}
	if r.has(readRepeated) {
		env[envRepeated] = false
	}
	if r.has(readTelegraphic) {
		env[envTelegraphic] = false
	}
	if r.has(readFunctionWords) {
		env[envFunctionWords] = 0
	}
	if r.has(readRinging) {
		setFloat(env, envRinging, s.ringingAt(ev.At))
	}
	if r.has(readElapsed) {
		env[envElapsed] = float64(ev.At) / 1000
	}
	if r.has(readTurn) {
		env[envTurn] = s.turn
	}
	if r.has(readVisits) {
		env[envVisits] = int(s.visits[s.node])
	}
	if r.has(readComposing) {
		env[envComposing] = 0.0
	}
	if r.has(readHints) {
		env[envHints] = s.hints
	}
	if r.has(readRepeatRequests) {
		env[envRepeatRequests] = s.repeatRequests
	}
	if x.owner != s || s.lastScratch != x {
		x.owner, s.lastScratch = s, x
		env[envMood] = s.mood
		for i, a := range s.sc.Axes {
			x.score[a.Name] = s.scores[i]
		}
		for i, v := range s.sc.Vars {
			env[v.Name] = s.vars[i]
		}
	}
	return x
}

// setFloat sets env[k] to v unless it holds v already: a float64 put in an interface is a
// heap allocation, and most values (a call's ringing time once answered) stay the same.
func setFloat(env map[string]any, k string, v float64) {
	if old, ok := env[k].(float64); !ok || old != v {
		env[k] = v
	}
}

func (s *Session) release(x *scratch) {
	x.sess = nil
	s.sc.scratch.Put(x)
}

// builtinSet is a set of the per-event built-ins (readEvent…readVisits).
type builtinSet uint32

// The per-event built-ins, as members of a builtinSet.
const (
	readEvent builtinSet = 1 << iota
	readText
	readChoice
	readInterrupted
	readSilence
	readRepeated
	readRinging
	readElapsed
	readTurn
	readVisits
	readComposing
	readHints
	readCarried
	readTelegraphic
	readFunctionWords
	readRepeatRequests
)

var builtinReads = map[string]builtinSet{
	envEvent: readEvent, envText: readText, envChoice: readChoice, envInterrupted: readInterrupted,
	envSilence: readSilence, envRepeated: readRepeated, envRinging: readRinging,
	envElapsed: readElapsed, envTurn: readTurn, envVisits: readVisits,
	envComposing: readComposing, envHints: readHints, envCarried: readCarried,
	envTelegraphic: readTelegraphic, envFunctionWords: readFunctionWords, envRepeatRequests: readRepeatRequests,
}

func (b builtinSet) has(x builtinSet) bool { return b&x != 0 }

// readsOf returns the per-event built-ins among the identifiers used.
func readsOf(used map[string]bool) builtinSet {
	var b builtinSet
	for name := range used {
		b |= builtinReads[name]
	}
	return b
}
