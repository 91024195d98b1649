package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr/vm"
)

// Session is one call: a scenario, a seed and the events applied so far. It is not safe for
// concurrent use. Replaying the same events on a new session with the same scenario, seed
// and trainee name reproduces every output exactly.
type Session struct {
	sc      *Scenario
	seed    uint64
	rng     uint64
	trainee string

	node   int
	vars   []any
	scores []float64
	mood   float64
	turn   int
	counts []uint16 // per intent
	// lastSaid are the intents of the trainee's last message (say or choose) before the
	// one being applied: said_last().
	lastSaid intentSet
	// critical is the id of the first critical rule that fired ("" for none): the call
	// cannot pass.
	critical string
	// typingCarried: the trainee was typing when the customer gave up waiting (a timer moved
	// the call); the reply they send next was under way before her new line.
	typingCarried bool
	// carriedOverlaps counts the carried replies excused for cutting the customer's line
	// (MaxCarriedOverlaps).
	carriedOverlaps uint8
	// heldAt is when the trainee's last reply announced a wait (Scenario.HoldLimit), -1
	// when it did not.
	heldAt int64
	// leadIn: the trainee sent a lead-in ("hi there,", "um...", "ok so") at this node, and
	// the reply it leads into has not come; leadInSaid and leadInUnderstood are what it
	// was read as, joined to that reply's.
	leadIn           bool
	leadInSaid       intentSet
	leadInUnderstood []Understood
	// leadInDue is when a bare greeting sent as a lead-in ("hi!") is judged as the reply
	// on its own if the trainee has not started typing more (LeadInWaitMS after it), -1
	// otherwise; leadInText and leadInAt are that message and when it came; judgingLeadIn
	// is set while it is judged.
	leadInDue     int64
	leadInAt      int64
	leadInText    string
	judgingLeadIn bool
	// typingSeen: the client reports typing (a typing message came in this call).
	typingSeen bool
	// prevText is the trainee's last message but a correction: what a "*word" corrects;
	// prevAt is when it came.
	prevText string
	prevAt   int64
	// replyAt is when the trainee's last reply (say or choose) came, -1 before the first.
	replyAt int64
	visits  []uint16 // per node
	// said holds a hash of each line the customer said (not repeats asked for), for
	// Scenario.SameLineLimit.
	said    []uint64
	history [][]uint32
	shown   uint64 // choices offered to the trainee in the current node
	avail   uint64 // choices of the current node whose when held on entry
	mode    SuggestionMode
	hints   int
	// repeatRequests counts the trainee's requests that the customer said a line again
	// (each one she honoured: a FlagRepeat aside).
	repeatRequests int

	// composeStart is when the trainee started composing the reply they have not sent
	// yet (EventTyping or EventHint); -1 when they are not composing.
	composeStart int64
	picked       bool   // the phone was answered (or the call started unringing)
	spoke        bool   // the trainee said something (say or choose)
	assessed     []bool // per axis: the trainee had a chance to show it (see finish)
	chance       bool   // the step being applied is the trainee's chance at the guards it evaluates

	now        int64
	enteredAt  int64
	lineStart  int64
	lineEnd    int64
	lineWords  int
	lineWPM    int // the pace of the current line: its own wpm or the persona's
	linePauses []Pause
	// The current node's line as said, for a request to repeat it: its text ("" when the
	// node has none), its own wpm (0: the persona's), emotion and length; lineRepeated,
	// that it was repeated once already.
	lineText     string
	lineOwnWPM   int
	lineEmotion  string
	lineDur      int64
	lineRepeated bool
	quietSince   int64
	// timerSpent is set when the node's timer fired and could not move the call; it holds
	// the timers until the trainee acts or the call enters a node.
	timerSpent bool
	ringStart  int64
	ringing    float64
	answered   bool
	started    bool
	ended      bool
	end        *EndInfo

	lastScratch *scratch // the evaluation scratch this session used last (see scratch)
	trace       bool
	// returns are the nodes that entered the sub-flows the call is in (to: >id),
	// innermost last: a node with return: true goes back to the last.
	returns []int
}

// OverlapStartMS bounds how soon after the customer starts a line that reacts to the
// trainee's reply the trainee may start typing (the client's typing message) another
// message that is then no interruption (and carried): a reply sent in two messages goes
// on while she starts to react to the first, and a person's first keystroke after Enter
// comes half a second to two seconds later (at 200 wpm she has said a word or two by
// then: the first version's "before her second word" held almost no one's).
const OverlapStartMS = 2000

// MaxCarriedOverlaps is how many carried replies a call excuses for cutting the customer's
// line: a reply sent in two messages now and then. After that, a trainee who starts the next
// message as soon as they have sent one, every time, is typing over the customer's answers
// (an outside panel cut every line that way, after 4 to 22 words, and passed at 100%); the
// reply is still carried, but it interrupts.
const MaxCarriedOverlaps = 2

// MaxChoices is the most suggested replies one node may offer.
const MaxChoices = 64

// NewSession creates a session. trainee is the name used for {trainee} ("there" when empty).
// Call Start before Apply.
func (sc *Scenario) NewSession(seed uint64, trainee string) *Session {
	if trainee == "" {
		trainee = "there"
	}
	s := &Session{sc: sc, seed: seed, rng: seed, trainee: trainee, node: sc.Start,
		mood: sc.Persona.Mood, lineEnd: -1, mode: sc.Suggestions, composeStart: -1, heldAt: -1,
		replyAt: -1, leadInDue: -1}
	s.assessed = make([]bool, len(sc.Axes))
	s.vars = make([]any, len(sc.Vars))
	for i, v := range sc.Vars {
		s.vars[i] = v.Init
	}
	s.scores = make([]float64, len(sc.Axes))
	for i, a := range sc.Axes {
		s.scores[i] = a.Start
	}
	s.counts = make([]uint16, len(sc.Intents))
	s.visits = make([]uint16, len(sc.Nodes))
	return s
}

// SetSuggestions sets how this call offers suggested replies (the scenario's own mode by
// default). It must be called before Start. The engine accepts any mode; a server offers a
// trainee only the scenario's AllowedModes.
func (s *Session) SetSuggestions(m SuggestionMode) error {
	if s.started {
		return errors.New("the session has already started")
	}
	if m.rank() < 0 {
		return fmt.Errorf("unknown suggestion mode %q", m)
	}
	s.mode = m
	return nil
}

// Suggestions returns the call's suggestion mode.
func (s *Session) Suggestions() SuggestionMode { return s.mode }

// choicesHint says which suggested replies a choose could pick now, for a test's failure:
// "it offers 0, 2" or why none.
func (s *Session) choicesHint() string {
	n := s.sc.Nodes[s.node]
	switch {
	case len(n.Choices) == 0:
		return "it has no suggested replies"
	case s.shown == 0 && s.mode == SuggestOnRequest:
		return fmt.Sprintf("it has %d, offered after a hint", len(n.Choices))
	case s.shown == 0:
		return fmt.Sprintf("it has %d, none offered now", len(n.Choices))
	}
	var idx []string
	for i := range n.Choices {
		if s.shown&(1<<i) != 0 {
			idx = append(idx, strconv.Itoa(i))
		}
	}
	return "it offers " + strings.Join(idx, ", ")
}

// Composing reports whether the trainee is composing a reply, and since when.
func (s *Session) Composing() (bool, int64) { return s.composeStart >= 0, s.composeStart }

// Scenario returns the session's scenario.
func (s *Session) Scenario() *Scenario { return s.sc }

// Seed returns the seed the session was created with.
func (s *Session) Seed() uint64 { return s.seed }

// Node returns the id of the current node.
func (s *Session) Node() string { return s.sc.Nodes[s.node].ID }

// Ended reports whether the call is over; End returns its result (nil before).
func (s *Session) Ended() bool { return s.ended }

// End returns the result of a finished call, or nil.
func (s *Session) End() *EndInfo { return s.end }

// Mood returns the customer's mood (-1..1).
func (s *Session) Mood() float64 { return s.mood }

// Now returns the time of the last event applied.
func (s *Session) Now() int64 { return s.now }

// Speaking reports whether the customer is still speaking at time at, and until when.
func (s *Session) Speaking(at int64) (bool, int64) { return at < s.lineEnd, s.lineEnd }

// Vars returns a copy of the vars by name.
func (s *Session) Vars() map[string]any {
	m := make(map[string]any, len(s.vars))
	for i, v := range s.sc.Vars {
		m[v.Name] = s.vars[i]
	}
	return m
}

// Scores returns a copy of the axis points by name.
func (s *Session) Scores() map[string]float64 {
	m := make(map[string]float64, len(s.scores))
	for i, a := range s.sc.Axes {
		m[a.Name] = s.scores[i]
	}
	return m
}

// NextDeadline returns when the next timer is due, if any. Whoever drives the session
// delivers an EventTimeout at (or after) that time.
func (s *Session) NextDeadline() (int64, bool) {
	if s.ended || !s.started {
		return 0, false
	}
	if s.leadInDue >= 0 && s.composeStart < 0 {
		// A bare greeting nothing followed: judged as the reply when it falls due, before
		// any timer of the node (which waits at least as long as for any reply).
		return s.leadInDue, true
	}
	n := s.sc.Nodes[s.node]
	if len(n.Timers) == 0 {
		return 0, false
	}
	if s.timerSpent {
		return 0, false
	}
	d := s.quietSince + n.Timers[0].After
	if s.composeStart >= 0 && n.awaitsReply() {
		// Composing is talking: the timers of a node that waits for a reply wait until the
		// compose limit has passed. A customer who is saying two things in a row (a node
		// with only timers) goes on: the reply is for the node that waits for it.
		d = max(d, s.composeStart+s.sc.ComposeLimit)
	}
	if s.heldAt >= 0 && n.awaitsReply() {
		// An announced wait: the customer agreed to hold (the time pack's long-hold
		// judges a hold past 30 s).
		d = max(d, s.heldAt+s.sc.HoldLimit)
	}
	return d, true
}

// Start enters the start node at time 0 and returns its outputs. It is called once.
func (s *Session) Start(out []Output) []Output {
	if s.started {
		return out
	}
	s.started = true
	s.picked = !s.sc.Nodes[s.sc.Start].Ring
	sc := s.scratch(Event{Type: "", At: 0})
	defer s.release(sc)
	return s.enter(sc, s.sc.Start, out)
}

// Check returns the error Apply would refuse ev with, or nil when Apply would take it,
// without changing the session: Apply refuses an event for these reasons and no other.
// A caller can so record an event (start writing it to a journal) before applying it.
func (s *Session) Check(ev Event) error { return s.validate(ev) }

// Apply applies one event and appends its outputs to out. On error the session is unchanged.
func (s *Session) Apply(ev Event, out []Output) ([]Output, error) {
	if err := s.validate(ev); err != nil {
		return out, err
	}
	if ev.Type == EventTimeout {
		deadline, ok := s.NextDeadline()
		if !ok || ev.At < deadline {
			return out, nil // stale or early timer: nothing to do
		}
	}
	s.now = ev.At
	s.chance = false
	if ev.Type == EventTimeout && s.leadInDue >= 0 && s.composeStart < 0 {
		return s.judgeLeadIn(ev.At, out), nil
	}
	switch ev.Type {
	case EventWhisper:
		return append(out, Output{Type: OutWhisper, At: ev.At, Text: ev.Text}), nil
	case EventTyping:
		s.typingSeen = true
		if s.composeStart < 0 {
			s.composeStart = ev.At
		}
		return append(out, Output{Type: OutTyping, At: ev.At, Node: s.Node()}), nil
	case EventTimeout:
		// A timer in an answered call is part of how the trainee handled it.
		s.chance = s.picked
		sc := s.scratch(ev)
		defer s.release(sc)
		n := s.sc.Nodes[s.node]
		t := n.Timers[0]
		if t.After > 0 {
			// The trainee had this long to take any of the node's ways on and did not:
			// the points those ways would have earned are missed. An axis they could
			// only have lost here (ethics kept by saying nothing) is not shown by silence.
			s.exposedEarnable(n)
		} else {
			s.exposed(t)
		}
		moodBefore := s.mood
		typing := false
		if s.picked && n.awaitsReply() {
			// The customer gave up waiting for a reply: the global rules judge the
			// silence (or the composing) that made them, and a reply begun for it is
			// no longer the one being waited for (a client still typing says so again).
			out = s.timeoutRules(sc, ev.At, out)
			typing = s.composeStart >= 0
			s.composeStart = -1
			// Still under way after a second timer in a row (her "goodbye", then the
			// next caller), from a client that did not say so again.
			s.typingCarried = s.typingCarried || typing
		}
		if typing {
			// The trainee was typing until the compose limit: the customer's patience ran
			// out (the timer's set and its way on), but the timer's score and feedback
			// judge a silence, which this was not (the time pack's typed-too-long judges
			// the typing). "Saying nothing is a dodge" was told to a trainee typing the
			// honest answer.
			out = s.applySets(sc, t, out)
		} else {
			out = s.applyEffects(sc, t, out)
		}
		out = s.moodChanged(moodBefore, out)
		var to int
		if to, out = s.follow(t, out); to < 0 {
			// The timer could not move the call (a scenario error, reported): it is spent
			// until the trainee acts or the call enters a node, or it would fire again at
			// once, for ever.
			s.timerSpent = true
			return out, nil
		}
		if s.sc.holdIntent >= 0 {
			// The customer moved on without the trainee: a wait announced before is over
			// (her timers and said_last(HoldIntent) no longer count it), so the next silence
			// is judged as a silence, not as the same hold again.
			s.heldAt = -1
			s.lastSaid.del(s.sc.holdIntent)
		}
		return s.enter(sc, to, out), nil
	}
	return s.traineeEvent(ev, out), nil
}

func (s *Session) validate(ev Event) error {
	if !s.started || s.ended {
		return ErrEnded
	}
	if ev.At < s.now {
		return ErrTimeBackward
	}
	node := s.sc.Nodes[s.node]
	switch ev.Type {
	case EventAnswer:
		if !node.Ring {
			return ErrNotRinging
		}
	case EventSay, EventWhisper:
		if node.Ring && ev.Type == EventSay {
			return ErrNotAnswered
		}
		if !utf8.ValidString(ev.Text) {
			return ErrInvalidUTF8
		}
		if len(ev.Text) > MaxMessageBytes {
			return ErrTextTooLong
		}
		if strings.TrimSpace(ev.Text) == "" {
			return ErrEmptyText
		}
	case EventChoose:
		if node.Ring {
			return ErrNotAnswered
		}
		if ev.Index < 0 || ev.Index >= len(node.Choices) || s.shown&(1<<ev.Index) == 0 {
			return ErrBadChoice
		}
	case EventTyping:
		if node.Ring {
			return ErrNotAnswered
		}
	case EventHint:
		switch {
		case node.Ring:
			return ErrNotAnswered
		case s.mode == SuggestNever:
			return ErrNoHints
		case s.avail == 0:
			return ErrNoHintHere
		case s.mode == SuggestAlways:
			return ErrHintsAlways
		case s.shown != 0:
			return ErrHintShown
		}
	case EventHangup, EventTimeout:
	default:
		return fmt.Errorf("%w %q", ErrUnknownEvent, ev.Type)
	}
	return nil
}

// traineeEvent handles answer, say, choose and hangup.
func (s *Session) traineeEvent(ev Event, out []Output) []Output {
	node := s.sc.Nodes[s.node]
	flag := s.asideFlag(ev)
	// A correction judged as a reply (it changes a number the customer had answered) is
	// read into the message it corrects: "*£168" after "i can refund £186 today" is judged
	// as "i can refund £168 today".
	read := ""
	if ev.Type == EventSay && flag == "" && !s.judgingLeadIn && IsCorrection(ev.Text) && s.changesAnsweredNumber(ev) {
		if r, ok := readCorrection(s.prevText, ev.Text); ok {
			read = r
		}
	}
	if ev.Type == EventSay && flag != FlagCorrection {
		s.prevText, s.prevAt = ev.Text, ev.At
		if read != "" {
			s.prevText = read // what a further correction corrects
		}
	}
	if flag != "" {
		return s.aside(ev, flag, out)
	}
	speaking := s.speakingAt(ev.At)
	sc := s.scratch(ev)
	defer s.release(sc)

	reply := ev.Type == EventSay || ev.Type == EventChoose
	s.chance = reply || ev.Type == EventAnswer

	// Interruption and silence, from the customer's line timing. Asking for a hint does
	// not interrupt; saying something or hanging up does.
	// A reply whose typing began before the line (the customer said two things in a row,
	// or gave up waiting while it was being typed), or, when the trainee's last reply
	// started the line, within OverlapStartMS of its start (a reply sent in two messages
	// going on), was under way before the trainee could read her: carried.
	carried := reply && (s.typingCarried || s.composeStart >= 0 && (s.composeStart < s.lineStart ||
		s.lineStart == s.replyAt && s.composeStart < s.lineStart+OverlapStartMS))
	interrupted := false
	if ev.Type != EventAnswer && ev.Type != EventHint && ev.At < s.lineEnd {
		if speaking {
			spoken := spokenAt(ev.At-s.lineStart, s.lineWPM, s.lineWords, s.linePauses)
			// A carried reply cuts her line, but she spoke over the trainee: excused up to
			// MaxCarriedOverlaps times a call.
			interrupted = !carried || s.carriedOverlaps >= MaxCarriedOverlaps
			if carried && !interrupted {
				s.carriedOverlaps++
			}
			out = append(out, Output{Type: OutCut, At: ev.At, Node: node.ID, Spoken: spoken})
		}
		// Else the last word has been sent: the trainee has seen the whole line, and a
		// reply while it is said is no interruption. The line ends there either way.
		s.lineEnd = ev.At
	}
	// Silence runs from the end of the customer's line to the moment the trainee started
	// to answer: the first keystroke of the reply when the client signalled it.
	silence, composing := 0.0, 0.0
	if !interrupted {
		from := s.enteredAt
		if s.lineEnd >= 0 {
			from = s.lineEnd
		}
		until := ev.At
		if reply && s.composeStart >= 0 {
			until = s.composeStart
		}
		silence = float64(max(until-from, 0)) / 1000
	}
	if reply && s.composeStart >= 0 {
		composing = float64(ev.At-s.composingFrom()) / 1000
	}
	switch {
	case reply:
		s.composeStart = -1
		s.typingCarried = false
		s.spoke = true
		s.replyAt = ev.At
	case ev.Type == EventHint:
		s.hints++
		if s.composeStart < 0 {
			// Asking for help is starting to answer, from when the suggestions show.
			s.composeStart = max(ev.At, s.lineEnd)
		}
		out = append(out, Output{Type: OutHint, At: ev.At, Node: node.ID, Hints: s.hints})
	case ev.Type == EventAnswer:
		s.ringing = float64(ev.At-s.ringStart) / 1000
		s.answered = true
		s.picked = true
	}

	// What was said.
	text, choice := ev.Text, -1
	if read != "" {
		text = read
	}
	var said intentSet
	var understood []Understood
	repeated, telegraph, funcWords := false, false, 0
	if ev.Type == EventChoose {
		c := node.Choices[ev.Index]
		choice = ev.Index
		text = c.Text.render(s.sc, s)
		if c.static {
			said, understood = c.intents, c.understood
		}
	}
	if ev.Type == EventSay || ev.Type == EventChoose {
		var hs []uint32
		if ev.Type == EventChoose && node.Choices[ev.Index].static {
			hs = node.Choices[ev.Index].hashes
		} else {
			r := s.sc.readReply(&sc.text, text)
			said, understood, hs = r.said, r.understood, r.hashes
		}
		answered := text
		if s.leadIn && s.leadInText != "" {
			answered = s.leadInText + " " + text // "of course," then the rest: a yes
		}
		said, understood = node.answerMeans(s.sc, answered, said, understood)
		telegraph = ev.Type == EventSay && s.sc.reads.has(readTelegraphic) && telegraphic(text, hs)
		if s.sc.reads.has(readFunctionWords) {
			funcWords = countFunctionWords(hs)
		}
		if s.leadIn {
			// Read with the lead-in before it ("hi there" … "we're out of it, sorry").
			for i := range said {
				said[i] |= s.leadInSaid[i]
			}
			understood = append(slices.Clip(s.leadInUnderstood), understood...)
			s.dropLeadIn()
		}
		if len(hs) >= repeatMinWords {
			for _, h := range s.history {
				if jaccard(h, hs) >= repeatJaccard {
					repeated = true
					break
				}
			}
		}
		if len(s.history) == repeatHistory {
			copy(s.history, s.history[1:])
			s.history = s.history[:repeatHistory-1]
		}
		s.history = append(s.history, hs)
		s.turn++
		for i := range s.counts {
			if said.has(i) && s.counts[i] < math.MaxUint16 {
				s.counts[i]++
			}
		}
		o := Output{Type: OutTrainee, At: ev.At, Node: node.ID, Text: text}
		if read != "" {
			o.Text = ev.Text // as typed; the flag says it was read into the message before
			o.Flags = append(o.Flags, FlagReadIn)
		}
		if s.judgingLeadIn {
			o.Flags = append(o.Flags, FlagAlone)
		}
		if choice >= 0 {
			c := choice // only a choice's output keeps a pointer: choice stays off the heap
			o.Choice = &c
		}
		if !node.Model.Empty() {
			o.Model = node.Model.render(s.sc, s)
		}
		for i := range said.all {
			o.Intents = append(o.Intents, s.sc.Intents[i].Name) // only those said: a cold step reads no other
		}
		o.Understood = understood
		if interrupted {
			o.Flags = append(o.Flags, FlagInterrupted)
		}
		if repeated {
			o.Flags = append(o.Flags, FlagRepeated)
		}
		out = append(out, o)
	}
	s.quietSince, s.timerSpent = ev.At, false

	sc.said = said
	// scratch loaded the rest; these differ for a trainee's event (only what is read).
	env, r := sc.env, s.sc.reads
	if r.has(readText) {
		env[envText] = text
	}
	if r.has(readChoice) {
		env[envChoice] = choice
	}
	if r.has(readInterrupted) {
		env[envInterrupted] = interrupted
	}
	if r.has(readCarried) {
		env[envCarried] = carried
	}
	if r.has(readSilence) {
		env[envSilence] = silence
	}
	if r.has(readRepeated) {
		env[envRepeated] = repeated
	}
	if r.has(readTelegraphic) {
		env[envTelegraphic] = telegraph
	}
	if r.has(readFunctionWords) {
		env[envFunctionWords] = funcWords
	}
	if r.has(readRinging) {
		setFloat(env, envRinging, s.ringingAt(ev.At))
	}
	if r.has(readTurn) {
		env[envTurn] = s.turn
	}
	if r.has(readComposing) {
		env[envComposing] = composing
	}
	if r.has(readHints) {
		env[envHints] = s.hints
	}

	// Global rules: all that match apply; the first with a target moves the call. A hint
	// or a hang-up is no reply: rules see it (to score it) but do not move the call, and
	// the node's transitions are not checked.
	moves := ev.Type != EventHint && ev.Type != EventHangup
	moodBefore := s.mood
	to := -1
	var taken *Transition
	if moves {
		s.exposedNode(node)
	}
	if reply {
		// Only a reply is a chance at the rules: answering the phone is not a chance to
		// interrupt, repeat or pressure anyone (slow-answer scores when it holds).
		s.exposedRules()
	}
	for i, r := range s.sc.Rules {
		if s.skip(sc, i) {
			continue
		}
		if s.test(sc, r.guard, r.When, r.WhenSrc, r.ID, r.To, &out) {
			out = s.applyEffects(sc, r, out)
			if to < 0 && r.To >= 0 && moves {
				to, taken = r.To, r
			}
		}
	}
	if to < 0 && moves {
		for _, t := range node.Transitions {
			if s.test(sc, t.guard, t.When, t.WhenSrc, "", t.To, &out) {
				out = s.applyEffects(sc, t, out)
				to, taken = t.To, t
				break
			}
		}
	}
	out = s.moodChanged(moodBefore, out)
	switch ev.Type {
	case EventHint:
		s.shown = s.avail
		return append(out, s.choicesOutput(sc, node))
	case EventHangup:
		return s.hangup(sc, node, ev.At, out)
	}
	if to >= 0 {
		if to, out = s.follow(taken, out); to >= 0 {
			out = s.enter(sc, to, out)
		}
	}
	if reply {
		s.lastSaid = said // after the routers the reply led through: they read the one before
		s.heldAt = -1
		if s.sc.holdIntent >= 0 && s.sc.HoldLimit > 0 && said.has(s.sc.holdIntent) {
			s.heldAt = ev.At
		}
	}
	return out
}

// follow returns the node a taken transition leads to: its target, after remembering
// where the call was when it enters a sub-flow (to: >id), or the calling node for a
// return node's own timer. -1 (with an error output) when there is no calling node to
// return to or the sub-flows are nested too deep.
func (s *Session) follow(t *Transition, out []Output) (int, []Output) {
	switch {
	case t.To == toReturn:
		return s.back(out)
	case t.Call:
		if len(s.returns) >= MaxCallDepth {
			return -1, append(out, Output{Type: OutError, At: s.now, Node: s.Node(), Text: fmt.Sprintf("more than %d sub-flows entered without returning", MaxCallDepth)})
		}
		s.returns = append(s.returns, s.node)
	}
	return t.To, out
}

// back pops the node that entered the current sub-flow.
func (s *Session) back(out []Output) (int, []Output) {
	if len(s.returns) == 0 {
		return -1, append(out, Output{Type: OutError, At: s.now, Node: s.Node(), Text: "node " + s.Node() + " returns, but the call did not enter a sub-flow"})
	}
	to := s.returns[len(s.returns)-1]
	s.returns = s.returns[:len(s.returns)-1]
	return to, out
}

// spokenAt is how many words of a line of words words at wpm, with pauses, were spoken
// elapsed ms after it started: floor(speech × wpm / 60000), where speech is the time
// spent speaking (elapsed less the pauses already passed). During a pause the customer
// has said exactly the words before it.
func spokenAt(elapsed int64, wpm, words int, pauses []Pause) int {
	w := int64(wpm)
	var paused int64
	for _, p := range pauses {
		at := int64(p.After) * 60000 // the pause starts when speech × wpm reaches this
		if (elapsed-paused)*w <= at {
			break
		}
		if (elapsed-paused-p.MS)*w < at {
			return min(p.After, words)
		}
		paused += p.MS
	}
	spoken := int((elapsed - paused) * w / 60000)
	return min(max(spoken, 0), words)
}

// wordStart is when word k of a line starts, in ms from the line's start: the first
// instant at which spokenAt counts k words, held back by the pauses before it. The live
// server sends each word then (web/live: wordAt).
func wordStart(k, wpm int, pauses []Pause) int64 {
	w := int64(max(wpm, 1))
	at := (int64(max(k, 0))*60000 + w - 1) / w
	for _, p := range pauses {
		if p.After <= k {
			at += p.MS
		}
	}
	return at
}

// hangup ends the call at once because the trainee hung up: in the ending the node maps a
// hang-up to (its last line is recorded, never spoken), or the built-in hangup ending.
func (s *Session) hangup(sc *scratch, node *Node, at int64, out []Output) []Output {
	if s.lineEnd > at {
		s.lineEnd = at
	}
	target := node.Hangup
	if t := closingTimer(s.sc, node); target < 0 && t != nil {
		// The customer was saying a last line on the way to an ending: the call ends there,
		// as it would have a moment later (the timer's effects apply), not as a hang-up.
		out = s.applyEffects(sc, t, out)
		target = t.To
	} else if t := goodbyeTimer(s.sc, node); target < 0 && t != nil && s.picked && s.spoke {
		// The customer has what she called for: had the trainee said nothing more, her
		// timer would have ended the call resolved. Hanging up is saying nothing, sooner:
		// the call ends there, without what a goodbye would have earned.
		s.assessEarnable(node)
		// Her timer's feedback would speak of a silence she sat through: say what happened.
		out = s.applyEffectsSaying(sc, t, out, fmt.Sprintf("You hung up while %s was still waiting for your reply.", s.customerName()))
		target = t.To
	} else if s.picked && s.spoke {
		// Hanging up gives up the node's ways on, as a silence the customer gave up on
		// does: the points they could have earned are missed, not "not assessed" (one
		// good line and a hang-up scored 100%). A call where nothing was said is void
		// anyway (NoteSilent).
		s.assessEarnable(node)
	}
	if target < 0 {
		return s.finish(at, HangupEnding, OutcomeLost, HangupTitle, "You ended the call before it was over.", "", out)
	}
	n := s.sc.Nodes[target]
	s.node = n.Index
	if s.visits[n.Index] < math.MaxUint16 {
		s.visits[n.Index]++
	}
	if s.trace {
		out = append(out, Output{Type: OutEnter, At: at, Node: n.ID})
	}
	last := ""
	if lv := s.pickLine(sc, n, &out); lv != nil {
		last, _ = lv.Text.renderLine(sc, s, &out)
	}
	return s.finish(at, n.ID, n.End.Outcome, n.End.Title, n.End.Text.render(s.sc, s), last, out)
}

// closingTimer returns n's timer when n is a closing line: the customer waits for no
// reply there (no when transitions) and its only timer leads straight to an ending. Nil
// otherwise.
func closingTimer(sc *Scenario, n *Node) *Transition {
	if n.Ring || n.End != nil || len(n.Transitions) > 0 || len(n.Timers) != 1 {
		return nil
	}
	t := n.Timers[0]
	if t.To < 0 || sc.Nodes[t.To].End == nil {
		return nil
	}
	return t
}

// goodbyeTimer returns the timer of n, a node that waits for a reply, when it leads
// straight to a resolved ending: the customer's thanks or goodbye, after which silence
// would end the call well. Nil otherwise.
func goodbyeTimer(sc *Scenario, n *Node) *Transition {
	if !n.awaitsReply() || len(n.Timers) == 0 {
		return nil
	}
	t := n.Timers[0]
	if t.To < 0 || sc.Nodes[t.To].End == nil || sc.Nodes[t.To].End.Outcome != OutcomeResolved {
		return nil
	}
	return t
}

// timeoutRules applies the global rules to a timer that fired while the customer waited
// for the trainee's reply: event is "timeout", silence runs from the end of the customer's
// line to now (or to the first keystroke when the trainee was composing), composing from
// that keystroke to now. Rules that hold apply their effects; as for a hint or a hang-up,
// none moves the call (the timer does). A rule's axes count as assessed only when it
// scores.
func (s *Session) timeoutRules(sc *scratch, at int64, out []Output) []Output {
	from := s.enteredAt
	if s.lineEnd >= 0 {
		from = s.lineEnd
	}
	until := at
	composing := 0.0
	if s.composeStart >= 0 {
		until = s.composeStart
		composing = float64(max(at-s.composingFrom(), 0)) / 1000
	}
	env, r := sc.env, s.sc.reads
	if r.has(readSilence) {
		env[envSilence] = float64(max(until-from, 0)) / 1000
	}
	if r.has(readComposing) {
		env[envComposing] = composing
	}
	for i, rule := range s.sc.Rules {
		if s.skip(sc, i) {
			continue
		}
		if s.test(sc, rule.guard, rule.When, rule.WhenSrc, rule.ID, rule.To, &out) {
			out = s.applyEffects(sc, rule, out)
		}
	}
	return out
}

// scoreWide is a Transition's scoreAxes when it scores an axis past the 63rd.
const scoreWide = 1 << 63

// exposed marks the axes t scores as assessed when the step gives the trainee a chance at
// them: t's guard is about to be checked against what they did.
func (s *Session) exposed(t *Transition) {
	if !s.chance {
		return
	}
	if t.scoreAxes == scoreWide {
		for _, d := range t.Score {
			s.assessed[d.Axis] = true
		}
		return
	}
	for m := t.scoreAxes; m != 0; m &= m - 1 {
		s.assessed[bits.TrailingZeros64(m)] = true
	}
}

// exposedRules marks the axes every global rule scores as assessed, as exposed does for
// one.
func (s *Session) exposedRules() {
	if !s.chance {
		return
	}
	if s.sc.rulesAxes == scoreWide {
		for _, r := range s.sc.Rules {
			s.exposed(r)
		}
		return
	}
	for m := s.sc.rulesAxes; m != 0; m &= m - 1 {
		s.assessed[bits.TrailingZeros64(m)] = true
	}
}

// skip reports whether global rule i is false at the step sc is evaluating by its
// ruleFilter alone, as the VM would find it (never while tracing, which reports every
// rule checked).
func (s *Session) skip(sc *scratch, i int) bool {
	if fs := s.sc.ruleFilters; s.trace || i >= len(fs) || fs[i].may(sc) {
		return false
	}
	if guardCheck != nil {
		r := s.sc.Rules[i]
		vmValue, vmErr := sc.vm.Run(r.When, sc.env)
		guardCheck(r.WhenSrc, false, vmValue, vmErr)
	}
	return true
}

// exposedNode marks as assessed every axis that n's transitions and timers score, or
// those of a router they lead to, when the step gives the trainee a chance at them: what
// they said here could have taken any of n's ways on, whichever the first that held, so
// an early way out (a hand-off, a hang-up node, a shortcut) does not leave the axes of the
// ways not taken unassessed, nor does a way whose points a router after it gives ("the
// truth is out: did an alternative come with it?").
func (s *Session) exposedNode(n *Node) {
	if !s.chance {
		return
	}
	for _, a := range n.exposes {
		s.assessed[a] = true
	}
}

// exposedEarnable marks as assessed the axes that n's ways on (as for exposedNode) could
// raise, when the step gives the trainee a chance at them: the axes a timer running out
// shows they did not earn.
func (s *Session) exposedEarnable(n *Node) {
	if s.chance {
		s.assessEarnable(n)
	}
}

// assessEarnable marks as assessed the axes that n's ways on could raise.
func (s *Session) assessEarnable(n *Node) {
	for _, a := range n.earnable {
		s.assessed[a] = true
	}
}

// computeExposure fills each node's exposes and earnable, once, at load.
func (sc *Scenario) computeExposure() {
	mask := func(t *Transition) {
		for _, d := range t.Score {
			if d.Axis < 0 || d.Axis >= 63 {
				t.scoreAxes = scoreWide
				return
			}
			t.scoreAxes |= 1 << d.Axis
		}
	}
	for _, r := range sc.Rules {
		mask(r)
	}
	for _, n := range sc.Nodes {
		for _, t := range n.Transitions {
			mask(t)
		}
		for _, t := range n.Timers {
			mask(t)
		}
	}
	for _, n := range sc.Nodes {
		all := make([]bool, len(sc.Axes))
		up := make([]bool, len(sc.Axes))
		best := make([]float64, len(sc.Axes))
		seen := make([]bool, len(sc.Nodes))
		var walk func(n *Node)
		walk = func(n *Node) {
			seen[n.Index] = true
			for _, group := range [2][]*Transition{n.Transitions, n.Timers} {
				for _, t := range group {
					for _, d := range t.Score {
						all[d.Axis] = true
						up[d.Axis] = up[d.Axis] || d.Delta > 0
						best[d.Axis] = max(best[d.Axis], d.Delta)
					}
					if t.To >= 0 && t.To < len(sc.Nodes) && !seen[t.To] && sc.Nodes[t.To].Router() {
						walk(sc.Nodes[t.To])
					}
				}
			}
		}
		walk(n)
		for a := range sc.Axes {
			if all[a] {
				n.exposes = append(n.exposes, a)
			}
			if up[a] {
				n.earnable = append(n.earnable, a)
				n.offers = append(n.offers, AxisDelta{Axis: sc.Axes[a].Name, Delta: best[a]})
			}
		}
	}
}

// Offers is, per axis, the most points one way on from node (one of its transitions or
// timers, or of a router they lead to) adds: what a reply there could have earned. Nil
// for an unknown node. The slice is shared: do not change it.
func (sc *Scenario) Offers(node string) []AxisDelta {
	if n := sc.Node(node); n != nil {
		return n.offers
	}
	return nil
}

// choicesOutput offers the node's available choices in an order shuffled per call and
// node visit (stable on replay), timed at the end of the customer's line: suggestions
// never appear while the customer is still speaking.
func (s *Session) choicesOutput(sc *scratch, n *Node) Output {
	idx := make([]int, 0, len(n.Choices))
	for ci := range n.Choices {
		if s.avail&(1<<ci) != 0 {
			idx = append(idx, ci)
		}
	}
	r := shuffleSeed(s.seed, n.Index, int(s.visits[n.Index]))
	for i := len(idx) - 1; i > 0; i-- {
		r = splitmix(r)
		j := int(r % uint64(i+1))
		idx[i], idx[j] = idx[j], idx[i]
	}
	shown := make([]ChoiceShown, len(idx))
	for k, ci := range idx {
		shown[k] = ChoiceShown{Index: ci, Text: n.Choices[ci].Text.render(s.sc, s)}
	}
	return Output{Type: OutChoices, At: max(s.now, s.lineEnd), Node: n.ID, Choices: shown}
}

// lineSalt keeps a shuffled line's draw apart from the same visit's choice order.
const lineSalt = 0x6c696e6573 // "lines"

// pickLine is the line variant said on this visit of n (already counted in s.visits), by
// the node's sequence among the variants whose when holds; nil when none holds.
func (s *Session) pickLine(sc *scratch, n *Node, out *[]Output) *LineVariant {
	var held []int
	for i := range n.Lines {
		lv := &n.Lines[i]
		if lv.When != nil && !s.test(sc, lv.guard, lv.When, lv.WhenSrc, "", -1, out) {
			continue
		}
		if n.Sequence == "" || n.Sequence == "first" {
			return lv
		}
		held = append(held, i)
	}
	if len(held) == 0 {
		return nil
	}
	visit := max(int(s.visits[n.Index]), 1) - 1 // 0 on the first visit
	k := 0
	switch n.Sequence {
	case "cycle":
		k = visit % len(held)
	case "once":
		k = min(visit, len(held)-1)
	case "shuffle":
		k = int(shuffleSeed(s.seed^lineSalt, n.Index, visit) % uint64(len(held)))
	}
	return &n.Lines[held[k]]
}

// shuffleSeed derives the choice order's seed from the call's seed, the node and its visit.
func shuffleSeed(seed uint64, node, visit int) uint64 {
	return splitmix(seed ^ splitmix(uint64(node)<<20|uint64(visit)))
}

// splitmix is one step of splitmix64 on x.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	z := x
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (s *Session) ringingAt(at int64) float64 {
	if s.answered || !s.sc.Nodes[s.node].Ring {
		return s.ringing
	}
	return float64(at-s.ringStart) / 1000
}

func (s *Session) moodChanged(before float64, out []Output) []Output {
	if s.mood == before {
		return out
	}
	m := s.mood
	return append(out, Output{Type: OutMood, At: s.now, Mood: &m, MoodBefore: before})
}

// test evaluates a guard; a run-time failure counts as false and is reported. With tracing
// on, every evaluation is reported with its result.
func (s *Session) test(sc *scratch, g *guard, prog *vm.Program, src, rule string, to int, out *[]Output) bool {
	if g != nil && !s.trace {
		// Decided without the VM: the same outcome, and nothing that could fail was skipped.
		if v, safe := g.eval(sc); safe && v != triUnknown {
			if guardCheck != nil {
				vmValue, vmErr := sc.vm.Run(prog, sc.env)
				guardCheck(src, v == triTrue, vmValue, vmErr)
			}
			return v == triTrue
		}
	}
	if vmRan != nil {
		vmRan()
	}
	v, err := sc.vm.Run(prog, sc.env)
	if err != nil {
		*out = append(*out, Output{Type: OutError, At: s.now, Node: s.Node(), Rule: rule, Text: err.Error()})
		return false
	}
	b, _ := v.(bool)
	if s.trace {
		holds := b // only a trace keeps a pointer: b itself stays off the heap
		o := Output{Type: OutTrace, At: s.now, Node: s.Node(), Rule: rule, Text: src, Holds: &holds}
		if to >= 0 {
			o.To = s.sc.Nodes[to].ID
		}
		*out = append(*out, o)
	}
	return b
}

// SetTrace turns guard tracing on or off: with it on, every guard evaluated is reported as
// an OutTrace output with its result, so a designer can see why the call went where it
// went. Tracing changes no state: a traced session replays like an untraced one.
func (s *Session) SetTrace(on bool) { s.trace = on }

// applyEffects applies a transition's set, score and feedback.
func (s *Session) applyEffects(sc *scratch, t *Transition, out []Output) []Output {
	return s.applyEffectsSaying(sc, t, out, "")
}

// applyEffectsSaying is applyEffects with feedback, when not "", said instead of the
// transition's own (a timer's feedback speaks of a silence the trainee did not keep).
func (s *Session) applyEffectsSaying(sc *scratch, t *Transition, out []Output, feedback string) []Output {
	if t.Critical && s.critical == "" {
		s.critical = t.ID
	}
	out = s.applySets(sc, t, out)
	if len(t.Score) > 0 {
		o := Output{Type: OutScore, At: s.now, Node: s.Node(), Rule: t.ID}
		for _, d := range t.Score {
			s.scores[d.Axis] += d.Delta
			s.assessed[d.Axis] = true
			sc.score[s.sc.Axes[d.Axis].Name] = s.scores[d.Axis]
			o.Deltas = append(o.Deltas, AxisDelta{Axis: s.sc.Axes[d.Axis].Name, Delta: d.Delta})
		}
		out = append(out, o)
	}
	if t.ID != "" || !t.Feedback.Empty() {
		text := feedback
		if text == "" {
			text = t.Feedback.render(s.sc, s)
		}
		out = append(out, Output{Type: OutFeedback, At: s.now, Node: s.Node(), Rule: t.ID, Text: text})
	}
	return out
}

// applySets applies a transition's or rule's set, in order.
func (s *Session) applySets(sc *scratch, t *Transition, out []Output) []Output {
	for _, a := range t.Sets {
		v, err := sc.vm.Run(a.Prog, sc.env)
		if err != nil {
			out = append(out, Output{Type: OutError, At: s.now, Node: s.Node(), Rule: t.ID, Text: fmt.Sprintf("set: %v", err)})
			continue
		}
		if a.Var == moodTarget {
			f, _ := v.(float64)
			if math.IsNaN(f) {
				f = s.mood
			}
			s.mood = clamp(f, -1, 1)
			sc.env[envMood] = s.mood
			continue
		}
		if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
			out = append(out, Output{Type: OutError, At: s.now, Node: s.Node(), Rule: t.ID, Text: "set: result is not a finite number"})
			continue
		}
		if err := checkValueSize(v); err != nil { // the var keeps its old value
			out = append(out, Output{Type: OutError, At: s.now, Node: s.Node(), Rule: t.ID, Text: fmt.Sprintf("set %s: %v", s.sc.Vars[a.Var].Name, err)})
			continue
		}
		s.vars[a.Var] = v
		sc.env[s.sc.Vars[a.Var].Name] = v
	}
	return out
}

// enter moves the call into node i (and through routers), emitting what happens there.
func (s *Session) enter(sc *scratch, i int, out []Output) []Output {
	for hop := 0; hop < MaxRouterHops; hop++ {
		n := s.sc.Nodes[i]
		s.node = i
		if s.visits[i] < math.MaxUint16 {
			s.visits[i]++
		}
		if s.sc.reads.has(readVisits) {
			sc.env[envVisits] = int(s.visits[i])
		}
		s.enteredAt, s.quietSince, s.timerSpent = s.now, s.now, false
		s.shown, s.avail = 0, 0
		s.dropLeadIn()
		if s.trace {
			out = append(out, Output{Type: OutEnter, At: s.now, Node: n.ID})
		}
		if n.Ring {
			s.ringStart, s.answered, s.ringing = s.now, false, 0
			out = append(out, Output{Type: OutRing, At: s.now, Node: n.ID})
		}
		if lv := s.pickLine(sc, n, &out); lv != nil {
			text, pauses := lv.Text.renderLine(sc, s, &out)
			if n.End == nil && s.sc.SameLineLimit > 0 {
				h := lineHash(text)
				if s.timesSaid(h) >= s.sc.SameLineLimit {
					// Going round in circles: she gives up rather than say it again.
					out = s.giveUp(n, text, out)
					if s.sc.GivesUp < 0 {
						return s.finish(s.now, GaveUpEnding, OutcomeLost, s.customerName()+" gave up",
							s.customerName()+" ended the call: it was going round in circles.", "", out)
					}
					i = s.sc.GivesUp
					continue
				}
				s.said = append(s.said, h)
			}
			words := lv.Text.wordCount(text)
			wpm := s.sc.Persona.WPM
			if lv.WPM > 0 {
				wpm = lv.WPM
			}
			dur := int64(words) * 60000 / int64(wpm)
			for _, p := range pauses {
				dur += p.MS
			}
			s.lineStart, s.lineEnd, s.lineWords, s.lineWPM, s.linePauses = s.now, s.now+dur, words, wpm, pauses
			s.quietSince = s.lineEnd
			out = append(out, Output{Type: OutLine, At: s.now, Node: n.ID, Text: text, Words: words, Duration: dur,
				WPM: lv.WPM, Pauses: pauses, Emotion: lv.Emotion})
			s.lineText, s.lineOwnWPM, s.lineEmotion, s.lineDur, s.lineRepeated = text, lv.WPM, lv.Emotion, dur, false
		} else {
			s.lineText = ""
		}
		if len(n.Choices) > 0 {
			for ci, c := range n.Choices {
				if c.When != nil && !s.test(sc, c.guard, c.When, c.WhenSrc, "", -1, &out) {
					continue
				}
				s.avail |= 1 << ci
			}
			if s.avail != 0 && s.mode == SuggestAlways {
				s.shown = s.avail
				out = append(out, s.choicesOutput(sc, n))
			}
		}
		if n.End != nil {
			return s.finish(s.now, n.ID, n.End.Outcome, n.End.Title, n.End.Text.render(s.sc, s), "", out)
		}
		if n.Return && len(n.Lines) == 0 {
			// A return node without a line goes back at once.
			var back int
			if back, out = s.back(out); back < 0 {
				return out
			}
			i = back
			continue
		}
		if !n.Router() {
			return out
		}
		next := -1
		moodBefore := s.mood
		s.exposedNode(n)
		for _, t := range n.Transitions {
			if s.test(sc, t.guard, t.When, t.WhenSrc, "", t.To, &out) {
				out = s.applyEffects(sc, t, out)
				next, out = s.follow(t, out)
				break
			}
		}
		out = s.moodChanged(moodBefore, out)
		if next < 0 {
			return out
		}
		i = next
	}
	return append(out, Output{Type: OutError, At: s.now, Node: s.Node(), Text: fmt.Sprintf("more than %d routers passed in one step", MaxRouterHops)})
}

// lineHash is the FNV-1a hash of a line's text, as said.
func lineHash(text string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(text); i++ {
		h ^= uint64(text[i])
		h *= 1099511628211
	}
	return h
}

// timesSaid is how many times the customer has said the line whose hash is h in this call.
func (s *Session) timesSaid(h uint64) int {
	n := 0
	for _, x := range s.said {
		if x == h {
			n++
		}
	}
	return n
}

// MaxQuotedLine bounds how much of a line the give-up feedback quotes, in bytes.
const MaxQuotedLine = 60

// giveUp records that the customer gives up at n rather than say text once more
// (Scenario.SameLineLimit): the node's ways on were the trainee's chance, missed as a
// silence she gives up on misses them, and the feedback says why the call ended.
func (s *Session) giveUp(n *Node, text string, out []Output) []Output {
	if s.picked && s.spoke {
		s.assessEarnable(n)
	}
	q := text
	if len(q) > MaxQuotedLine {
		cut := strings.LastIndexByte(q[:MaxQuotedLine], ' ')
		if cut <= 0 {
			cut = MaxQuotedLine
			for cut > 0 && !utf8.RuneStart(q[cut]) {
				cut--
			}
		}
		q = strings.TrimRight(q[:cut], " ,;:") + "…"
	}
	name := s.customerName()
	return append(out, Output{Type: OutFeedback, At: s.now, Node: n.ID, Text: fmt.Sprintf(
		"%s would have said %q for the %s time, and gave up: the call was going round in circles. "+
			"Answer what %s asks, so the call moves on.", name, q, ordinal(s.sc.SameLineLimit+1), name)})
}

// ordinal spells n as an ordinal ("third"); past twelfth, as "13th".
func ordinal(n int) string {
	words := []string{"", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh", "twelfth"}
	if n > 0 && n < len(words) {
		return words[n]
	}
	switch {
	case n%100 >= 11 && n%100 <= 13:
		return fmt.Sprintf("%dth", n)
	case n%10 == 1:
		return fmt.Sprintf("%dst", n)
	case n%10 == 2:
		return fmt.Sprintf("%dnd", n)
	case n%10 == 3:
		return fmt.Sprintf("%drd", n)
	}
	return fmt.Sprintf("%dth", n)
}

// Why a call cannot pass whatever its scores (EndInfo.Note).
const (
	NoteNotAnswered = "You never answered the phone."
	NoteSilent      = "You never said anything to the customer."
	NoteNoChance    = "The call ended before any skill could be assessed."
	// NoteLost explains a lost call whose scores reach the pass mark (its overall stays).
	NoteLost = "The call ended lost, and a lost call does not pass, whatever its scores."
	// NoteCritical (with the rule's id) explains a call a critical rule failed.
	NoteCritical = "A critical mistake (rule %s) fails the call, whatever its scores."
	// NoteBelowPass (with the overall and the pass mark, in percent) explains a call that
	// ended well but whose scores fall short: the ending's text may praise what went right.
	NoteBelowPass = "The overall, %d%%, is below the pass mark of %d%%: see where points were lost."
)

// HangupTitle is the title of the built-in hangup ending.
const HangupTitle = "You hung up"

// finish ends the call with its scores. An axis counts only when the trainee had a chance
// to show it (assessed): its points changed, or a rule that scores it was checked against
// the trainee's reply, or a transition or timer of a node where they replied scores it
// (exposedNode), or one of a node where a timer ran out on them could raise it
// (exposedEarnable). A call that was never
// answered, in which the trainee said nothing, or in which no axis could be assessed
// cannot pass.
func (s *Session) finish(at int64, ending, outcome, title, text, last string, out []Output) []Output {
	info := &EndInfo{Ending: ending, Outcome: outcome, Title: title, Text: text, LastLine: last, Hints: s.hints}
	var sum, weights float64
	anyAssessed := false
	for i, a := range s.sc.Axes {
		pts := clamp(s.scores[i], 0, a.Max)
		norm := 0.0
		if a.Max > 0 {
			norm = pts / a.Max
		}
		info.Scores = append(info.Scores, AxisScore{Axis: a.Name, Points: pts, Max: a.Max, Normalized: norm, Weight: a.Weight, Assessed: s.assessed[i]})
		if s.assessed[i] {
			anyAssessed = true
			sum += norm * a.Weight
			weights += a.Weight
		}
	}
	switch {
	case !s.picked:
		info.Note = NoteNotAnswered
	case !s.spoke:
		info.Note = NoteSilent
	case len(s.sc.Axes) > 0 && !anyAssessed:
		info.Note = NoteNoChance
	}
	switch {
	case info.Note != "":
		info.Overall = 0
	case weights > 0:
		info.Overall = sum / weights
	default:
		info.Overall = 1 // no axes, or only weightless ones
	}
	info.Passed = outcome != OutcomeLost && info.Note == "" && info.Overall >= s.sc.Pass-1e-9
	switch {
	case info.Note != "":
	case s.critical != "":
		info.Passed = false
		info.Note = fmt.Sprintf(NoteCritical, s.critical)
	case outcome == OutcomeLost && info.Overall >= s.sc.Pass-1e-9:
		info.Note = NoteLost // the scores would pass: say why it does not
	case outcome != OutcomeLost && !info.Passed:
		info.Note = fmt.Sprintf(NoteBelowPass, int(math.Floor(info.Overall*100)), int(math.Ceil(s.sc.Pass*100-1e-9)))
	}
	s.ended, s.end = true, info
	return append(out, Output{Type: OutEnd, At: at, Node: ending, End: info})
}

// next returns the next pseudo-random number (splitmix64).
func (s *Session) next() uint64 {
	s.rng += 0x9e3779b97f4a7c15
	z := s.rng
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// StartAt starts the call in the node with the given id instead of the scenario's start,
// with some vars set first: how designers play a scenario from the middle. Values must
// suit the var's type (numbers may be any Go integer or float type). The call counts as
// answered unless the node rings.
func (s *Session) StartAt(node string, vars map[string]any, out []Output) ([]Output, error) {
	if s.started {
		return out, errors.New("the session has already started")
	}
	i, ok := s.sc.nodeIndex[node]
	if !ok {
		return out, fmt.Errorf("unknown node %q%s", node, didYouMean(node, sortedKeys(s.sc.nodeIndex)))
	}
	values := make([]any, len(s.vars))
	copy(values, s.vars)
	names := make([]string, 0, len(vars))
	for name := range vars {
		names = append(names, name)
	}
	slices.Sort(names) // report problems in a stable order
	for _, name := range names {
		vi, ok := s.sc.varIndex[name]
		if !ok {
			return out, fmt.Errorf("unknown var %q%s", name, didYouMean(name, sortedKeys(s.sc.varIndex)))
		}
		v, err := convertVar(s.sc.Vars[vi].Kind, vars[name])
		if err == nil {
			err = checkValueSize(v)
		}
		if err != nil {
			return out, fmt.Errorf("var %s: %w", name, err)
		}
		values[vi] = v
	}
	s.vars = values
	s.started = true
	s.answered = !s.sc.Nodes[i].Ring
	s.picked = s.answered
	sc := s.scratch(Event{At: 0})
	defer s.release(sc)
	return s.enter(sc, i, out), nil
}

func convertVar(kind VarKind, v any) (any, error) {
	switch kind {
	case VarBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return nil, fmt.Errorf("want true or false, got %T", v)
	case VarString:
		if str, ok := v.(string); ok {
			return str, nil
		}
		return nil, fmt.Errorf("want text, got %T", v)
	}
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case int32:
		f = float64(x)
	case uint64:
		f = float64(x)
	case json.Number:
		var err error
		if f, err = x.Float64(); err != nil {
			return nil, fmt.Errorf("want a number, got %q", x)
		}
	default:
		return nil, fmt.Errorf("want a number, got %T", v)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, errors.New("want a finite number")
	}
	return f, nil
}

// clone returns an independent copy of the session: applying events to it changes
// nothing of s.
func (s *Session) clone() *Session {
	c := *s
	c.vars = slices.Clone(s.vars)
	c.scores = slices.Clone(s.scores)
	c.counts = slices.Clone(s.counts)
	c.visits = slices.Clone(s.visits)
	c.said = slices.Clone(s.said)
	c.history = slices.Clone(s.history)
	c.assessed = slices.Clone(s.assessed)
	c.linePauses = slices.Clone(s.linePauses)
	c.returns = slices.Clone(s.returns)
	c.lastScratch = nil
	return &c
}

// ModelEarns reports what the current node's model answer would earn if the trainee sent
// it instead of ev (a say or a choose, about to be applied): per axis, the points its
// step adds (global rules, the transition, the routers after it), the way ev is judged
// (same time, same silence and typing). ok is false when the node has no model answer or
// ev is no reply. s is left as it was. The debrief measures a reply's "not earned here"
// against it: the designer's strong answer, not the most any way on could give.
func (s *Session) ModelEarns(ev Event) (earned []AxisDelta, ok bool) {
	if s.ended || (ev.Type != EventSay && ev.Type != EventChoose) || s.asideFlag(ev) != "" {
		return nil, false
	}
	node := s.sc.Nodes[s.node]
	if node.Model.Empty() {
		return nil, false
	}
	c := s.clone()
	model := Event{Type: EventSay, At: ev.At, Text: node.Model.render(s.sc, s)}
	outs, err := c.Apply(model, nil)
	if err != nil {
		return nil, false
	}
	for _, o := range outs {
		if o.Type != OutScore {
			continue
		}
		for _, d := range o.Deltas {
			if d.Delta <= 0 {
				continue
			}
			i := slices.IndexFunc(earned, func(e AxisDelta) bool { return e.Axis == d.Axis })
			if i < 0 {
				earned = append(earned, d)
			} else {
				earned[i].Delta += d.Delta
			}
		}
	}
	return earned, true
}

// customerName is the persona's name, or "the customer" when the scenario gives none.
func (s *Session) customerName() string {
	if s.sc.Persona.Name == "" {
		return "the customer"
	}
	return s.sc.Persona.Name
}

// composingFrom is when the trainee's composing counts from: the first keystroke of the
// reply, or the end of the customer's line when the typing began while she was still
// talking (typing then is listening time too, not time the customer waited: a reply begun
// during her line was charged as slow).
func (s *Session) composingFrom() int64 {
	if s.lineEnd > s.composeStart {
		return s.lineEnd
	}
	return s.composeStart
}
