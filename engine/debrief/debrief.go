// Package debrief turns a recorded call into its debrief: the transcript with timestamps
// (cut-off lines marked), the rules that fired and when, the scores, and the rules that
// never fired (what went well). The call is rebuilt from its journal — the scenario's
// exact sources and the accepted inputs — so a debrief is the same however often it is
// built, whatever happened to the scenario files since.
//
// Build is a pure function; a Record is a plain value, safe to share once built.
package debrief

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/journal"
)

// Record is the debrief of one call.
type Record struct {
	ID         string          `json:"id"`
	ScenarioID string          `json:"scenario_id"`
	Title      string          `json:"title"`
	Lesson     string          `json:"lesson,omitempty"`
	Trainee    string          `json:"trainee"`
	Customer   string          `json:"customer"` // the persona's name
	Hash       string          `json:"scenario_hash"`
	Started    time.Time       `json:"started"`
	Ended      *time.Time      `json:"ended,omitempty"` // wall clock; nil while the call is open
	Open       bool            `json:"open"`
	Elapsed    int64           `json:"elapsed_ms"` // call clock at the last event or the end
	End        *engine.EndInfo `json:"end,omitempty"`
	Transcript []Item          `json:"transcript"`
	Fired      []Fired         `json:"fired"`
	Quiet      []QuietRule     `json:"quiet"`
	// Coached lists the supervisors' whispers during the call ("coached at 0:42: …"); they
	// are in the transcript too, as items from "supervisor".
	Coached []Coached `json:"coached"`
	// Notes are supervisors' notes on the call, written after it (journal.Notes). Build
	// leaves them empty: whoever serves the record adds the journal's.
	Notes  []journal.Note `json:"notes"`
	Axes   []string       `json:"axes"`
	Events int            `json:"events"` // inputs recorded

	sc     *engine.Scenario // for what each node's ways on offer (Item.Missed)
	typing bool             // the trainee is typing a reply (while the record is built)
}

// Item is one line of the transcript.
type Item struct {
	At  int64  `json:"at"`  // ms since the call started
	Who string `json:"who"` // "customer", "trainee", "supervisor" (a whisper) or "call" (answer, hang-up, ring)
	// Text is what was said: for a cut-off customer line, only the words spoken.
	Text     string   `json:"text"`
	Full     string   `json:"full,omitempty"` // the whole line, when it was cut off
	Cut      bool     `json:"cut,omitempty"`
	Spoken   int      `json:"spoken,omitempty"` // words spoken before the cut
	Words    int      `json:"words,omitempty"`
	Node     string   `json:"node,omitempty"`
	Choice   *int     `json:"choice,omitempty"` // a suggested reply picked, absent when typed
	Flags    []string `json:"flags,omitempty"`  // "interrupted", "repeated"; an aside's "correction", "backchannel" or "repeat"
	Duration int64    `json:"duration_ms,omitempty"`
	// Emotion is, for a customer line, its emotion tag (engine.Emotions), when it has one.
	Emotion string `json:"emotion,omitempty"`
	// Lost lists, for a trainee's message, the points it cost by axis.
	Lost []engine.AxisDelta `json:"lost,omitempty"`
	// Missed lists, for a trainee's message, the points a way on from its node offers that
	// it did not earn, by axis (the most any one of the node's transitions, or of a router
	// after them, gives, less what the message earned): "could have earned tone +1 here".
	Missed []engine.AxisDelta `json:"missed,omitempty"`
	// Model is, for a trainee's message that lost or missed points or made a rule with feedback fire, what a
	// strong agent would have said there (the node's model reply), when the scenario
	// gives one.
	Model string `json:"model,omitempty"`
	// Understood is what a trainee's message was understood as: each intent matched, with
	// the words it was understood from.
	Understood []engine.Understood `json:"understood,omitempty"`
}

// Fired is a rule or transition that fired, with its feedback.
type Fired struct {
	At   int64  `json:"at"`
	Rule string `json:"rule,omitempty"` // empty for a transition's feedback
	Text string `json:"text"`
	Node string `json:"node"`
}

// Coached is a supervisor's whisper to the trainee during the call.
type Coached struct {
	At   int64  `json:"at"`
	Text string `json:"text"`
}

// CoachedLine words a whisper as the debrief shows it: "coached at 0:42: slow down".
func CoachedLine(c Coached) string {
	return fmt.Sprintf("coached at %d:%02d: %s", c.At/60000, c.At/1000%60, c.Text)
}

// QuietRule is a global rule that never fired during the call: a habit the trainee avoided
// or a good move they never made.
type QuietRule struct {
	ID       string `json:"id"`
	When     string `json:"when"`
	Feedback string `json:"feedback,omitempty"` // the feedback it would have given (as written)
	// Kind is QuietAvoided for a rule whose scores only take points away (a habit the
	// trainee avoided), QuietMissed for one that adds points (a good move they never
	// made), "" for a rule that scores nothing.
	Kind string `json:"kind,omitempty"`
}

// Kinds of QuietRule.
const (
	QuietAvoided = "avoided"
	QuietMissed  = "missed"
)

// quietKind tells a rule that only takes points away from one that adds some.
func quietKind(rule *engine.Transition) string {
	kind := ""
	for _, d := range rule.Score {
		switch {
		case d.Delta > 0:
			return QuietMissed
		case d.Delta < 0:
			kind = QuietAvoided
		}
	}
	return kind
}

// ErrScenario is returned when the recorded sources no longer load (they are the exact
// bytes the call started with, so this means a damaged record or an incompatible engine).
var ErrScenario = errors.New("the call's recorded scenario does not load")

// Build rebuilds call c from its entries and returns its debrief. res is the journal's
// result (nil while the call is open).
func Build(c journal.Call, entries []journal.Entry, res *journal.Result) (*Record, error) {
	sc, diags := engine.LoadSources(c.Sources)
	if sc == nil || diags.HasErrors() {
		return nil, fmt.Errorf("%w: %s", ErrScenario, diags.Error())
	}
	r := newRecord(sc, c.ID, c.ScenarioID, c.Title, c.Trainee, c.Created)
	r.Hash, r.Open, r.Events = c.Hash, res == nil, len(entries)
	if res != nil {
		ended := res.Ended
		r.Ended = &ended
	}
	s := c.Session(sc)
	out := s.Start(nil)
	r.add(out, nil, nil)
	for _, e := range entries {
		var err error
		var model *[]engine.AxisDelta
		if earns, ok := s.ModelEarns(e.Event); ok {
			model = &earns
		}
		out, err = s.Apply(e.Event, out[:0])
		if err != nil {
			return nil, fmt.Errorf("replaying entry %d (%s at %d ms): %w", e.Seq, e.Event.Type, e.Event.At, err)
		}
		r.add(out, &e.Event, model)
		r.Elapsed = max(r.Elapsed, e.Event.At)
	}
	r.finish(sc, s.End())
	return r, nil
}

// Step is one input of a call and the outputs it caused; Event is nil for the outputs of
// the call's start.
type Step struct {
	Event *engine.Event
	Out   []engine.Output
	// ModelEarns is, for a reply at a node with a model answer, what that answer would
	// have earned instead (engine.Session.ModelEarns, asked before the reply was applied);
	// nil otherwise.
	ModelEarns *[]engine.AxisDelta
}

// Live builds the debrief of a call played in this process and not recorded in a journal
// (switchboard play), from its steps in order, the way Build does from a journal. end is
// the session's End (nil while the call is open).
func Live(sc *engine.Scenario, id, trainee string, started time.Time, steps []Step, end *engine.EndInfo) *Record {
	r := newRecord(sc, id, sc.ID, sc.Title, trainee, started)
	r.Open = true
	for _, st := range steps {
		r.add(st.Out, st.Event, st.ModelEarns)
		if st.Event != nil {
			r.Events++
			r.Elapsed = max(r.Elapsed, st.Event.At)
		}
	}
	r.finish(sc, end)
	return r
}

// newRecord starts the debrief of a call of sc.
func newRecord(sc *engine.Scenario, id, scenarioID, title, trainee string, started time.Time) *Record {
	r := &Record{ID: id, ScenarioID: scenarioID, Title: title, Lesson: sc.Lesson, Trainee: trainee, Customer: sc.Persona.Name,
		Started: started, Transcript: []Item{}, Fired: []Fired{}, Quiet: []QuietRule{}, Axes: []string{}, Coached: []Coached{}, Notes: []journal.Note{},
		sc: sc}
	for _, a := range sc.Axes {
		r.Axes = append(r.Axes, a.Name)
	}
	return r
}

// finish records the call's end (when it has ended) and the rules that never fired.
func (r *Record) finish(sc *engine.Scenario, end *engine.EndInfo) {
	if end != nil {
		r.End = end
		r.Open = false
	}
	fired := map[string]bool{}
	for _, f := range r.Fired {
		fired[f.Rule] = true
	}
	for _, rule := range sc.Rules {
		if rule.ID != "" && !fired[rule.ID] {
			// The names are known; a var placeholder stays as written.
			fb := strings.NewReplacer("{name}", sc.Persona.Name, "{trainee}", r.Trainee).Replace(rule.Feedback.Source(sc))
			r.Quiet = append(r.Quiet, QuietRule{ID: rule.ID, When: rule.WhenSrc, Feedback: fb, Kind: quietKind(rule)})
		}
	}
}

// add appends one step's outputs; ev is the input that caused them (nil at the start).
func (r *Record) add(out []engine.Output, ev *engine.Event, modelEarns *[]engine.AxisDelta) {
	if ev != nil && (ev.Type == engine.EventAnswer || ev.Type == engine.EventHangup) {
		if len(out) > 0 && out[0].Type == engine.OutCut { // hanging up on the customer
			r.cut(out[0])
			out = out[1:]
		}
		text := answeredText
		if ev.Type == engine.EventHangup {
			text = "You hung up."
		}
		r.Transcript = append(r.Transcript, Item{At: ev.At, Who: "call", Text: text})
	}
	firedBefore := len(r.Fired)
	var waitSecs int64
	waitOK := false
	if ev != nil && ev.Type == engine.EventTimeout {
		waitSecs, waitOK = r.waited(ev.At) // before this step's lines join the transcript
	}
	if ev != nil {
		switch ev.Type {
		case engine.EventTimeout:
			r.gaveUp(out, ev.At)
			if len(out) > 0 { // a timer that moved the call (not a stale one)
				r.typing = false
			}
		case engine.EventTyping:
			r.typing = true
		case engine.EventSay, engine.EventChoose, engine.EventHangup:
			r.typing = false
		}
	}
	said := -1 // the trainee's item of this step, if any
	model, fired := "", false
	var lost, earned, timerLost []engine.AxisDelta
	timerNote := -1 // the Fired entry of the timer's own feedback, if any
	for _, o := range out {
		switch o.Type {
		case engine.OutRing:
			r.Transcript = append(r.Transcript, Item{At: o.At, Who: "call", Text: "The phone rings.", Node: o.Node})
		case engine.OutLine:
			r.Transcript = append(r.Transcript, Item{At: o.At, Who: "customer", Text: o.Text, Words: o.Words, Node: o.Node, Duration: o.Duration, Emotion: o.Emotion})
		case engine.OutCut:
			r.cut(o)
		case engine.OutTrainee:
			if slices.Contains(o.Flags, engine.FlagAlone) {
				// A greeting sent as a lead-in that nothing followed, judged now as the
				// reply on its own: the same message, no new bubble.
				if i := r.lastLeadIn(o.Text); i >= 0 {
					it := &r.Transcript[i]
					it.Flags, it.Understood = []string{}, slices.Clone(o.Understood)
					said, model = i, o.Model
					break
				}
			}
			if !engine.IsAside(o.Flags) {
				said, model = len(r.Transcript), o.Model // an aside is judged by nothing
			}
			r.Transcript = append(r.Transcript, Item{At: o.At, Who: "trainee", Text: o.Text, Node: o.Node, Choice: o.Choice, Flags: slices.Clone(o.Flags), Understood: slices.Clone(o.Understood)})
		case engine.OutWhisper:
			r.Transcript = append(r.Transcript, Item{At: o.At, Who: "supervisor", Text: o.Text})
			r.Coached = append(r.Coached, Coached{At: o.At, Text: o.Text})
		case engine.OutHint:
			r.Transcript = append(r.Transcript, Item{At: o.At, Who: "call", Text: HintText, Node: o.Node})
		case engine.OutFeedback:
			if o.Rule == "" && o.Text != "" {
				timerNote = len(r.Fired)
			}
			r.Fired = append(r.Fired, Fired{At: o.At, Rule: o.Rule, Text: o.Text, Node: o.Node})
			// A rule that says something about the reply; one that only moves the
			// customer's mood (no feedback) is no reason to show a stronger answer.
			fired = fired || (o.Rule != "" && o.Text != "")
		case engine.OutScore:
			for _, d := range o.Deltas {
				if d.Delta < 0 {
					lost = addDelta(lost, d)
					if o.Rule == "" {
						timerLost = addDelta(timerLost, d)
					}
				} else {
					earned = addDelta(earned, d)
				}
			}
		case engine.OutEnd:
			r.Elapsed = max(r.Elapsed, o.At)
		}
	}
	if ev != nil && ev.Type == engine.EventTimeout && said < 0 && len(timerLost) > 0 {
		// Points the customer's timer took (a silence judged by the scenario, not a rule):
		// said with the timer's feedback, or with the note that she gave up, or on a note
		// of their own.
		var parts []string
		for _, d := range timerLost {
			parts = append(parts, fmt.Sprintf("%s %g", d.Axis, d.Delta))
		}
		cost := strings.Join(parts, ", ")
		switch {
		case timerNote >= 0:
			r.Fired[timerNote].Text += " (" + cost + ")"
		case len(r.Fired) > firedBefore && r.Fired[firedBefore].Rule == "":
			r.Fired[firedBefore].Text = strings.TrimSuffix(r.Fired[firedBefore].Text, ".") + ": " + cost + "."
		default:
			text := fmt.Sprintf("The time %s waited for your reply ran out: %s.", r.Customer, cost)
			if waitOK {
				text = fmt.Sprintf("%s waited %d seconds for your reply, then went on without it: %s.", r.Customer, waitSecs, cost)
			}
			r.Fired = append(r.Fired, Fired{At: ev.At, Text: text})
		}
	}
	if said >= 0 {
		it := &r.Transcript[said]
		it.Lost = lost
		it.Missed = r.missed(it.Node, earned, modelEarns)
		if len(lost) > 0 || len(it.Missed) > 0 || fired {
			it.Model = model
		}
	}
}

// missed is what a reply at node did not earn: per axis, what the node's model answer
// would have earned there (model, when the node has one), or else the most one of its
// ways on adds (engine.Scenario.Offers), less what the reply earned. Against the model,
// a reply as good as the designer's own strong answer misses nothing, though another way
// on might have given more.
func (r *Record) missed(node string, earned []engine.AxisDelta, model *[]engine.AxisDelta) []engine.AxisDelta {
	var out []engine.AxisDelta
	ref := r.sc.Offers(node)
	if model != nil {
		ref = *model
	}
	for _, b := range ref {
		for _, e := range earned {
			if e.Axis == b.Axis {
				b.Delta -= e.Delta
			}
		}
		if b.Delta > 0 {
			out = append(out, b)
		}
	}
	// In the scenario's order of axes, as the scores are shown.
	slices.SortStableFunc(out, func(a, b engine.AxisDelta) int {
		return slices.Index(r.Axes, a.Axis) - slices.Index(r.Axes, b.Axis)
	})
	return out
}

// gaveUp explains a call the customer ended by waiting no longer for a reply, when the
// scenario's timer said nothing itself: the trainee sees why the call ended, and after how
// long (an outside trainee who said "bear with me" and looked for 25 s lost the call with
// no word of why).
func (r *Record) gaveUp(out []engine.Output, at int64) {
	ended, said := false, false
	for _, o := range out {
		switch o.Type {
		case engine.OutEnd: // the call ends in this step
			ended = ended || o.End != nil && o.End.Outcome == engine.OutcomeLost
		case engine.OutLine: // or the customer's last words lead to an ending
			if n := r.sc.Node(o.Node); n != nil && n.End != nil && n.End.Outcome == engine.OutcomeLost {
				ended = true
			}
		case engine.OutFeedback:
			said = said || o.Text != ""
		}
	}
	if !ended || said {
		return
	}
	secs, ok := r.waited(at)
	if !ok {
		return // not a customer waiting for a reply: her own words led to the end
	}
	text := fmt.Sprintf("%s gave up waiting for your reply after %d seconds of silence.", r.Customer, secs)
	if r.typing {
		text = fmt.Sprintf("%s gave up waiting after %d seconds, while you were still typing: send something shorter first.", r.Customer, secs)
	}
	r.Fired = append(r.Fired, Fired{At: at, Text: text})
}

// waited returns how many seconds, rounded, the customer had waited at time at since her
// last line (recorded so far) ended, when that line waited for a reply in an answered call.
func (r *Record) waited(at int64) (int64, bool) {
	answered, lineEnd, waits := false, int64(-1), false
	for _, it := range r.Transcript {
		switch {
		case it.Who == "call" && it.Text == answeredText:
			answered = true
		case it.Who == "customer":
			lineEnd = it.At + it.Duration
			n := r.sc.Node(it.Node)
			waits = n != nil && n.AwaitsReply()
		}
	}
	if !answered || !waits || lineEnd < 0 || at <= lineEnd {
		return 0, false
	}
	return (at - lineEnd + 500) / 1000, true
}

// answeredText is the transcript's note where the trainee answered the phone.
const answeredText = "You answered the phone."

// HintText is the transcript's note where the trainee asked for a hint.
const HintText = "You asked for a hint."

// addDelta adds d to the list, merging a repeated axis.
func addDelta(list []engine.AxisDelta, d engine.AxisDelta) []engine.AxisDelta {
	for i := range list {
		if list[i].Axis == d.Axis {
			list[i].Delta += d.Delta
			return list
		}
	}
	return append(list, d)
}

// cut marks the last customer line as cut off after o.Spoken words.
func (r *Record) cut(o engine.Output) {
	for i := len(r.Transcript) - 1; i >= 0; i-- {
		it := &r.Transcript[i]
		if it.Who != "customer" {
			continue
		}
		words := strings.Fields(it.Text)
		it.Full, it.Cut, it.Spoken = it.Text, true, o.Spoken
		it.Text = strings.Join(words[:min(o.Spoken, len(words))], " ")
		return
	}
}

// lastLeadIn returns the index of the trainee's last message if it is a lead-in of text,
// -1 otherwise.
func (r *Record) lastLeadIn(text string) int {
	for i := len(r.Transcript) - 1; i >= 0; i-- {
		it := r.Transcript[i]
		if it.Who != "trainee" {
			continue
		}
		if it.Text == text && slices.Equal(it.Flags, []string{engine.FlagLeadIn}) {
			return i
		}
		return -1
	}
	return -1
}

// Passed reports whether the call ended and passed.
func (r *Record) Passed() bool { return r.End != nil && r.End.Passed }
