package engine

import "errors"

// EventType names an input to a session.
type EventType string

// The inputs a session accepts.
const (
	EventAnswer  EventType = "answer"  // the trainee picks up the ringing phone
	EventSay     EventType = "say"     // the trainee types a message (Text)
	EventChoose  EventType = "choose"  // the trainee picks suggested reply Index
	EventHangup  EventType = "hangup"  // the trainee hangs up
	EventTimeout EventType = "timeout" // the driver delivers the session's deadline
	EventWhisper EventType = "whisper" // a supervisor whispers a hint (Text) to the trainee
	// EventTyping says the trainee started composing a reply: the first keystroke in the
	// reply box (or, with voice input, the start of speech). From then on the trainee is
	// talking, not silent: see Session.NextDeadline and the composing built-in.
	EventTyping EventType = "typing"
	// EventHint asks for the node's suggested replies (suggestion mode on_request).
	EventHint EventType = "hint"
)

// value is t as the event built-in's value: the known types are constants, so that
// putting one in an interface allocates nothing.
func (t EventType) value() any {
	switch t {
	case EventAnswer:
		return string(EventAnswer)
	case EventSay:
		return string(EventSay)
	case EventChoose:
		return string(EventChoose)
	case EventHangup:
		return string(EventHangup)
	case EventTimeout:
		return string(EventTimeout)
	case EventWhisper:
		return string(EventWhisper)
	case EventTyping:
		return string(EventTyping)
	case EventHint:
		return string(EventHint)
	}
	return string(t)
}

// Event is one input. At is the time in milliseconds since the session started; events
// must arrive in non-decreasing At order.
type Event struct {
	Type  EventType `json:"type"`
	At    int64     `json:"at"`
	Text  string    `json:"text,omitempty"`
	Index int       `json:"index,omitempty"`
}

// OutputType names an output of a session.
type OutputType string

// The outputs a session produces.
const (
	OutRing     OutputType = "ring"     // the phone starts ringing
	OutLine     OutputType = "line"     // the customer starts a line: Text, Words, Duration
	OutCut      OutputType = "cut"      // the current line is cut after Spoken words
	OutChoices  OutputType = "choices"  // suggested replies for the current node
	OutTrainee  OutputType = "trainee"  // the trainee's message as recorded
	OutFeedback OutputType = "feedback" // a rule (Rule) or transition fired; Text may be empty for rules
	OutMood     OutputType = "mood"     // the customer's mood changed
	OutWhisper  OutputType = "whisper"  // a supervisor's hint
	OutError    OutputType = "error"    // an expression failed at run time (a scenario bug)
	OutTrace    OutputType = "trace"    // a guard was evaluated (Text) with its result (Holds) and target (To); only with SetTrace
	OutEnter    OutputType = "enter"    // the call entered a node (Node), routers included; only with SetTrace
	OutEnd      OutputType = "end"      // the call ended
	OutTyping   OutputType = "typing"   // the trainee started composing (acknowledges EventTyping)
	OutHint     OutputType = "hint"     // the trainee asked for a hint (acknowledges EventHint); Hints counts them
	OutScore    OutputType = "score"    // a rule (Rule) or transition changed scores: Deltas by axis
)

// Output is one thing a session tells the world. Only the fields of its Type are set.
type Output struct {
	Type     OutputType `json:"type"`
	At       int64      `json:"at"`
	Node     string     `json:"node,omitempty"`
	Text     string     `json:"text,omitempty"`
	Words    int        `json:"words,omitempty"`
	Duration int64      `json:"duration,omitempty"` // ms, for lines
	Spoken   int        `json:"spoken,omitempty"`   // words spoken before a cut
	// WPM is, for line, the line's own pace when it has one (0: the persona's wpm).
	WPM int `json:"wpm,omitempty"`
	// Pauses are, for line, the pauses inside it ({pause D}), in order; Duration
	// includes them.
	Pauses []Pause `json:"pauses,omitempty"`
	// Emotion is, for line, the line's emotion tag (one of Emotions), when it has one.
	Emotion string        `json:"emotion,omitempty"`
	Choice  *int          `json:"choice,omitempty"` // for trainee: the reply picked, absent when typed
	Choices []ChoiceShown `json:"choices,omitempty"`
	Rule    string        `json:"rule,omitempty"`
	Mood    *float64      `json:"mood,omitempty"`
	// MoodBefore is, for mood, the level before the change (transcripts show both).
	MoodBefore float64  `json:"-"`
	Intents    []string `json:"intents,omitempty"` // for trainee: the intents matched
	// Understood is, for a trainee's message, each intent matched with the words it was
	// understood from ("apology: so sorry"), in the order of Intents.
	Understood []Understood `json:"understood,omitempty"`
	Flags      []string     `json:"flags,omitempty"` // for trainee: "interrupted", "repeated"; an aside's "correction", "backchannel" or "repeat" alone
	End        *EndInfo     `json:"end,omitempty"`
	Holds      *bool        `json:"holds,omitempty"` // for trace: the guard's result
	To         string       `json:"to,omitempty"`    // for trace: the node the guarded transition or rule leads to
	// Model is, for trainee, the node's model reply (what a strong agent says here), when
	// the scenario gives one.
	Model string `json:"model,omitempty"`
	// Deltas are, for score, the points each axis gained (> 0) or lost (< 0).
	Deltas []AxisDelta `json:"deltas,omitempty"`
	// Hints is, for hint, how many hints the trainee has asked for so far.
	Hints int `json:"hints,omitempty"`
}

// AxisDelta is a change of one axis's points.
type AxisDelta struct {
	Axis  string  `json:"axis"`
	Delta float64 `json:"delta"`
}

// ChoiceShown is a suggested reply as shown: Index is its place in the node's choices.
type ChoiceShown struct {
	Index int    `json:"index"`
	Text  string `json:"text"`
}

// EndInfo is the result of a call.
type EndInfo struct {
	Ending  string `json:"ending"`
	Outcome string `json:"outcome"`
	// Title is the ending's title as the designer wrote it, for the trainee.
	Title string `json:"title,omitempty"`
	Text  string `json:"text,omitempty"`
	// LastLine is the customer's last line of an ending reached by hanging up: shown on
	// the end screen, never spoken.
	LastLine string      `json:"last_line,omitempty"`
	Scores   []AxisScore `json:"scores"`
	// Overall is the weighted mean of the assessed axes' normalized scores (0..1).
	Overall float64 `json:"overall"`
	Passed  bool    `json:"passed"`
	// Note says why a call could not pass whatever its scores: never answered, nothing
	// said, nothing assessed (Overall is then 0), or, when its scores reach the pass mark,
	// a lost outcome (NoteLost); empty otherwise.
	Note string `json:"note,omitempty"`
	// Hints is how many hints the trainee asked for.
	Hints int `json:"hints,omitempty"`
}

// AxisScore is one axis's result.
type AxisScore struct {
	Axis string `json:"axis"`
	// Points are the axis's points, 0..Max.
	Points     float64 `json:"points"`
	Max        float64 `json:"max"`
	Normalized float64 `json:"normalized"`
	Weight     float64 `json:"weight"`
	// Assessed is false when the call gave the trainee no chance to show this axis: it
	// is then left out of Overall (see docs/scenario-format.md, "Scores").
	Assessed bool `json:"assessed"`
}

// Errors for events a session refuses; the session is unchanged when Apply returns one.
var (
	ErrEnded        = errors.New("the call has ended")
	ErrTimeBackward = errors.New("event time is before the previous event")
	ErrUnknownEvent = errors.New("unknown event type")
	ErrNotRinging   = errors.New("the phone is not ringing")
	ErrNotAnswered  = errors.New("answer the phone first")
	ErrBadChoice    = errors.New("no such suggested reply")
	ErrEmptyText    = errors.New("the message is empty")
	ErrTextTooLong  = errors.New("the message is too long")
	ErrInvalidUTF8  = errors.New("the message is not valid UTF-8")
	ErrNoHints      = errors.New("this call offers no suggested replies")
	ErrNoHintHere   = errors.New("there are no suggested replies at this point of the call")
	ErrHintShown    = errors.New("a hint was already asked for at this turn (the suggested replies show once the customer has finished)")
	ErrHintsAlways  = errors.New("no need to ask for a hint: this call shows the suggested replies after every line")
)

// MaxMessageBytes is the longest trainee message a session accepts.
const MaxMessageBytes = maxMessageBytes
