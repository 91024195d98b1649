package live

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/web/protocol"
)

// stream turns a session's outputs into protocol messages and paces the customer's lines
// word by word. It is deterministic: the same outputs and the same advance times give the
// same messages with the same seq, which is what lets a call be rebuilt from its journal.
// A stream belongs to one call and is used under its lock.
type stream struct {
	wpm   int64
	coach bool
	// full makes the supervisors' projection: every feedback (whatever coach says), score
	// changes, and the whisperer's message id on whispers.
	full bool
	seq  int64
	// spoke is the call-clock time of the last thing said or done (ring, line end, cut,
	// the trainee's message): the floor board measures silences from it.
	spoke int64
	line  paced
	held  *engine.Output // an end that waits for the last line to be spoken
	// heldChoices wait for the current line to end: suggestions never appear while the
	// customer is still speaking.
	heldChoices *protocol.ChoicesMsg
	feedback    []protocol.Feedback
	endSent     bool
	emit        func(seq int64, frame []byte)
}

// paced is the customer line being spoken.
type paced struct {
	active bool
	node   string
	words  []string
	start  int64
	dur    int64
	next   int            // index of the next word to send
	wpm    int64          // the line's pace: its own wpm or the persona's
	pauses []engine.Pause // the pauses inside the line ({pause D})
}

func newStream(wpm int, coach bool, emit func(int64, []byte)) *stream {
	return &stream{wpm: int64(max(wpm, 1)), coach: coach, emit: emit}
}

// wordAt is when word k of the current line starts: the first instant at which the
// engine counts k words as spoken, so a cut at time t has sent exactly words 0..spoken,
// held back by the pauses before it (a pause after word k-1 holds word k).
func (st *stream) wordAt(k int) int64 {
	at := st.line.start + (int64(k)*msPerMinute+st.line.wpm-1)/st.line.wpm
	for _, p := range st.line.pauses {
		if p.After <= k {
			at += p.MS
		}
	}
	return at
}

// fastJSONCap is the initial buffer of a hand-encoded message: most fit.
const fastJSONCap = 128

// send stamps a message with the next seq and emits it.
func (st *stream) send(typ string, at int64, m any, h *protocol.Header) int64 {
	st.seq++
	*h = protocol.Header{Seq: st.seq, Type: typ, At: at}
	var b []byte
	var err error
	if f, ok := m.(protocol.FastJSON); ok {
		b = f.AppendJSON(make([]byte, 0, fastJSONCap))
	}
	if b == nil {
		b, err = json.Marshal(m)
	}
	if err != nil { // e.g. a NaN from a scenario's arithmetic: say so rather than stall
		b = protocol.MustMarshal(protocol.ErrorMsg{Header: *h, Code: protocol.CodeInternal, Message: "the server could not encode a " + typ + " message"})
	}
	switch typ {
	case "ring", "line_end", "cut", "trainee", "whisper":
		if tm, ok := m.(*protocol.TraineeMsg); ok && (tm.Event == protocol.TypeTyping || tm.Event == protocol.TypeHint) {
			break // a keystroke or a hint asked for says nothing on the line
		}
		st.spoke = max(st.spoke, at)
	}
	st.emit(st.seq, b)
	return st.seq
}

// sendWord sends word k of the current line, as send would, without making the message
// an interface value (which moved it to the heap: one allocation per word and per call
// more than the frame itself).
func (st *stream) sendWord(at int64, k int) {
	st.seq++
	m := protocol.WordMsg{Header: protocol.Header{Seq: st.seq, Type: "word", At: at}, Index: k, Text: st.line.words[k]}
	st.emit(st.seq, m.AppendJSON(make([]byte, 0, fastJSONCap)))
}

// due returns when advance next has something to send.
func (st *stream) due() (int64, bool) {
	if !st.line.active {
		return 0, false
	}
	if st.line.next < len(st.line.words) {
		return st.wordAt(st.line.next), true
	}
	return st.line.start + st.line.dur, true
}

// advance sends the words, the line end and a held end that are due at or before t.
func (st *stream) advance(t int64) {
	for st.line.active {
		if k := st.line.next; k < len(st.line.words) {
			at := st.wordAt(k)
			if at > t {
				return
			}
			st.sendWord(at, k)
			st.line.next++
			continue
		}
		end := st.line.start + st.line.dur
		if end > t {
			return
		}
		m := protocol.LineEndMsg{Node: st.line.node}
		st.send("line_end", end, &m, &m.Header)
		st.line.active = false
		st.releaseChoices(end)
		if st.held != nil {
			o := *st.held
			st.held = nil
			st.sendEnd(o, end)
		}
	}
}

// releaseChoices sends the choices held for the end of the line, if any.
func (st *stream) releaseChoices(at int64) {
	if m := st.heldChoices; m != nil {
		st.heldChoices = nil
		st.send("choices", at, m, &m.Header)
	}
}

// acked lists the client messages acknowledged by a trainee message with no text of
// their own (say and choose are acknowledged by the message as recorded).
func acked(event string) bool {
	switch event {
	case protocol.TypeAnswer, protocol.TypeHangup, protocol.TypeTyping, protocol.TypeHint:
		return true
	}
	return false
}

// ack describes the trainee input whose outputs are being sent.
type ack struct {
	id    string
	event string
}

// outputs sends the messages for one step's outputs and returns the seq of the trainee
// message that acknowledges the input (0 when there is none, e.g. for a timer).
func (st *stream) outputs(outs []engine.Output, a *ack, at int64) int64 {
	var ackSeq int64
	needAck := a != nil && acked(a.event)
	sendAck := func(at int64) {
		if needAck {
			needAck = false
			m := protocol.TraineeMsg{ID: a.id, Event: a.event, Flags: []string{}}
			if a.event == protocol.TypeHangup && st.lastCut(outs) {
				m.Flags = append(m.Flags, "interrupted")
			}
			ackSeq = st.send("trainee", at, &m, &m.Header)
		}
	}
	for i := range outs {
		o := &outs[i]
		if o.Type != engine.OutCut {
			sendAck(o.At)
		}
		switch o.Type {
		case engine.OutRing:
			m := protocol.RingMsg{Node: o.Node}
			st.send("ring", o.At, &m, &m.Header)
		case engine.OutLine:
			if st.line.active && st.line.next == len(st.line.words) {
				// The trainee replied while the last word was said (no cut: the whole line
				// was sent); it ends as the next line starts.
				m := protocol.LineEndMsg{Node: st.line.node}
				st.send("line_end", o.At, &m, &m.Header)
				st.line.active = false
			}
			st.heldChoices = nil // a new line: the previous node's suggestions are moot
			words := strings.Fields(o.Text)
			m := protocol.LineStartMsg{Node: o.Node, Text: o.Text, Words: len(words), Duration: o.Duration, Emotion: o.Emotion, Pauses: o.Pauses}
			if len(words) > 0 {
				speaking := o.Duration // the pace of speech: the pauses are not words
				for _, p := range o.Pauses {
					speaking -= p.MS
				}
				m.MsPerWord = float64(speaking) / float64(len(words))
			}
			st.send("line_start", o.At, &m, &m.Header)
			st.line = paced{active: true, node: o.Node, words: words, start: o.At, dur: o.Duration, wpm: st.wpm, pauses: o.Pauses}
			if o.WPM > 0 {
				st.line.wpm = int64(o.WPM)
			}
			st.advance(o.At)
		case engine.OutCut:
			m := protocol.CutMsg{Node: o.Node, Spoken: o.Spoken, Words: len(st.line.words)}
			st.send("cut", o.At, &m, &m.Header)
			st.line.active = false
		case engine.OutTrainee:
			if slices.Contains(o.Flags, engine.FlagAlone) {
				// A greeting already acknowledged as a lead-in, now judged as the reply on
				// its own: the customer's answer follows; the message is not sent twice.
				continue
			}
			m := protocol.TraineeMsg{Event: protocol.TypeSay, Text: o.Text, Choice: o.Choice, Flags: o.Flags}
			if a != nil {
				m.ID = a.id
				m.Event = a.event
			}
			if m.Flags == nil {
				m.Flags = []string{}
			}
			ackSeq = st.send("trainee", o.At, &m, &m.Header)
		case engine.OutChoices:
			m := protocol.ChoicesMsg{Node: o.Node, Choices: make([]protocol.Choice, len(o.Choices))}
			for j, c := range o.Choices {
				m.Choices[j] = protocol.Choice{Index: c.Index, Text: c.Text}
			}
			if st.line.active {
				st.heldChoices = &m
			} else {
				st.send("choices", o.At, &m, &m.Header)
			}
		case engine.OutMood:
			if o.Mood != nil {
				m := protocol.MoodMsg{Mood: *o.Mood}
				st.send("mood", o.At, &m, &m.Header)
			}
		case engine.OutFeedback:
			st.feedback = append(st.feedback, protocol.Feedback{Rule: o.Rule, Text: o.Text, At: o.At})
			if st.coach || st.full {
				m := protocol.FeedbackMsg{Rule: o.Rule, Text: o.Text}
				st.send("feedback", o.At, &m, &m.Header)
			}
		case engine.OutWhisper:
			m := protocol.WhisperMsg{Text: o.Text}
			if st.full && a != nil {
				m.ID = strings.TrimPrefix(a.id, whisperIDPrefix)
			}
			st.send("whisper", o.At, &m, &m.Header)
		case engine.OutScore:
			if st.full {
				m := protocol.ScoreMsg{Rule: o.Rule, Node: o.Node, Deltas: o.Deltas}
				st.send("score", o.At, &m, &m.Header)
			}
		case engine.OutEnd:
			st.heldChoices = nil // nothing to answer any more
			if st.line.active {
				held := *o
				st.held = &held
			} else {
				st.sendEnd(*o, o.At)
			}
		}
	}
	sendAck(at)
	if !st.line.active {
		// A cut line whose call stayed where it was: its suggestions are still current.
		st.releaseChoices(at)
	}
	return ackSeq
}

// lastCut reports whether outs starts with a cut (the input interrupted the customer).
func (st *stream) lastCut(outs []engine.Output) bool {
	return len(outs) > 0 && outs[0].Type == engine.OutCut
}

// ended reports whether the end message has been sent.
func (st *stream) ended() bool { return st.endSent }

func (st *stream) sendEnd(o engine.Output, at int64) {
	m := protocol.EndMsg{Feedback: st.feedback}
	if m.Feedback == nil {
		m.Feedback = []protocol.Feedback{}
	}
	if e := o.End; e != nil {
		m.Ending, m.Outcome, m.Text, m.Overall, m.Passed = e.Ending, e.Outcome, e.Text, e.Overall, e.Passed
		m.Title, m.LastLine, m.Note, m.Hints = e.Title, e.LastLine, e.Note, e.Hints
		m.Scores = make([]protocol.Score, len(e.Scores))
		for i, s := range e.Scores {
			m.Scores[i] = protocol.Score(s)
		}
	}
	if m.Scores == nil {
		m.Scores = []protocol.Score{}
	}
	st.send("end", at, &m, &m.Header)
	st.endSent = true
}
