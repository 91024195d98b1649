package engine

import (
	"fmt"
	"strings"
	"time"
)

// FormatTime renders milliseconds as seconds with three decimals, e.g. "12.345s".
func FormatTime(ms int64) string { return fmt.Sprintf("%d.%03ds", ms/1000, ms%1000) }

// FormatDuration renders milliseconds the way scenarios write durations: "20s", "1m30s", "500ms".
func FormatDuration(ms int64) string { return (time.Duration(ms) * time.Millisecond).String() }

// Describe renders one output as a transcript line (without its time).
func (o Output) Describe() string {
	switch o.Type {
	case OutRing:
		return "☎ the phone rings"
	case OutLine:
		text := o.Text
		if len(o.Pauses) > 0 {
			text = withPauses(o.Text, o.Pauses)
		}
		if o.Emotion != "" {
			return "customer (" + o.Emotion + "): " + text
		}
		return "customer: " + text
	case OutCut:
		return fmt.Sprintf("✂ customer cut off after %d words", o.Spoken)
	case OutChoices:
		parts := make([]string, len(o.Choices))
		for i, c := range o.Choices {
			parts[i] = fmt.Sprintf("[%d] %s", c.Index, c.Text)
		}
		return "choices: " + strings.Join(parts, "  ")
	case OutTrainee:
		s := "you: " + o.Text
		if len(o.Flags) > 0 {
			s += "  (" + strings.Join(o.Flags, ", ") + ")"
		}
		if len(o.Intents) > 0 {
			s += "  {" + strings.Join(o.Intents, ", ") + "}"
		}
		return s
	case OutFeedback:
		if o.Rule != "" {
			if o.Text == "" {
				return "rule " + o.Rule + " fired"
			}
			return "rule " + o.Rule + ": " + o.Text
		}
		return "feedback: " + o.Text
	case OutMood:
		if o.Mood != nil { // the change, then the level it leaves (-1 furious .. 1 delighted)
			return fmt.Sprintf("mood %+.2f, now %+.2f", *o.Mood-o.MoodBefore, *o.Mood)
		}
		return "mood"
	case OutWhisper:
		return "supervisor whispers: " + o.Text
	case OutError:
		return "scenario error: " + o.Text
	case OutTrace:
		verdict := "false"
		if o.Holds != nil && *o.Holds {
			verdict = "TRUE"
		}
		who := o.Node
		if o.Rule != "" {
			who = "rule " + o.Rule
		}
		to := ""
		if o.To != "" {
			to = " (to " + o.To + ")"
		}
		return fmt.Sprintf("  %s: %s%s → %s", who, o.Text, to, verdict)
	case OutEnter:
		return "  enter " + o.Node
	case OutEnd:
		if o.End == nil {
			return "end"
		}
		e := o.End
		verdict := "FAILED"
		if e.Passed {
			verdict = "PASSED"
		}
		var axes []string
		for _, a := range e.Scores {
			if !a.Assessed {
				axes = append(axes, a.Axis+" not assessed")
				continue
			}
			axes = append(axes, fmt.Sprintf("%s %g/%g", a.Axis, a.Points, a.Max))
		}
		line := fmt.Sprintf("end: %s (%s) %s, overall %.0f%% [%s]", e.Ending, e.Outcome, verdict, e.Overall*100, strings.Join(axes, ", "))
		if e.Note != "" {
			line += " " + e.Note
		}
		return line
	case OutScore:
		if len(o.Deltas) == 0 {
			return "score"
		}
		parts := make([]string, len(o.Deltas))
		for i, d := range o.Deltas {
			parts[i] = fmt.Sprintf("%s %+g", d.Axis, d.Delta)
		}
		s := "score " + strings.Join(parts, ", ")
		if o.Rule != "" {
			s += " (rule " + o.Rule + ")"
		}
		return s
	}
	return string(o.Type)
}

// FormatTranscript renders outputs one per line with their times, in the order a trainee
// sees them: the suggestions a node offers at the end of its line (emitted as the line
// starts) show when the line ends, or at a cut when the call stays at the node, and not
// at all when the call moved on before the line ended.
func FormatTranscript(outs []Output) string {
	var b strings.Builder
	write := func(o Output) { fmt.Fprintf(&b, "%9s  %s\n", FormatTime(o.At), o.Describe()) }
	var held *Output // choices not yet due
	cut := false     // held was re-timed to a cut of its line
	flush := func() {
		if held != nil {
			write(*held)
			held, cut = nil, false
		}
	}
	for _, o := range outs {
		if held != nil {
			switch {
			case o.Type == OutLine || o.Type == OutEnd:
				if o.At < held.At || cut {
					held, cut = nil, false // the call moved on before the line ended
				} else {
					flush()
				}
			case o.Type == OutCut && o.Node == held.Node && o.At < held.At:
				held.At, cut = o.At, true
			case cut && o.At > held.At, !cut && o.At >= held.At:
				flush()
			}
		}
		if o.Type == OutChoices {
			flush()
			c := o
			held = &c
			continue
		}
		write(o)
	}
	flush()
	return b.String()
}

// withPauses writes a line's pauses into its text where they fall, as {pause D}.
func withPauses(text string, pauses []Pause) string {
	words := strings.Fields(text)
	var b strings.Builder
	k := 0
	for i := 0; i <= len(words); i++ {
		for ; k < len(pauses) && pauses[k].After == i; k++ {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString("{pause " + FormatDuration(pauses[k].MS) + "}")
		}
		if i < len(words) {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(words[i])
		}
	}
	return b.String()
}
