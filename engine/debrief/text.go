package debrief

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/switchboard-sim/switchboard/engine"
)

// Clock formats a call-clock time as m:ss.mmm.
func Clock(ms int64) string {
	return fmt.Sprintf("%d:%02d.%03d", ms/60000, ms/1000%60, ms%1000)
}

// barWidth is the width of a score bar in the terminal report.
const barWidth = 20

// WriteText writes the debrief for a terminal.
func (r *Record) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Debrief: %s (%s)\n", r.Title, r.ScenarioID)
	if r.Lesson != "" {
		fmt.Fprintf(&b, "Lesson: %s\n", r.Lesson)
	}
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Call\t%s\n", r.ID)
	fmt.Fprintf(tw, "Trainee\t%s\n", orDash(r.Trainee))
	fmt.Fprintf(tw, "Started\t%s\n", r.Started.UTC().Format(time.DateTime+" MST"))
	fmt.Fprintf(tw, "Length\t%s\n", Clock(r.Elapsed))
	switch {
	case r.End == nil:
		fmt.Fprintf(tw, "Outcome\tthe call is still open\n")
	default:
		verdict := "NOT PASSED"
		if r.End.Passed {
			verdict = "PASSED"
		}
		fmt.Fprintf(tw, "Outcome\t%s (%s), %s, overall %d%%\n", orDash(r.End.Title), r.End.Outcome, verdict, pct(r.End.Overall))
		if r.End.Note != "" {
			fmt.Fprintf(tw, "\t%s\n", r.End.Note)
		}
		if r.End.LastLine != "" {
			fmt.Fprintf(tw, "\t%s's last words: %s\n", r.Customer, r.End.LastLine)
		}
		if r.End.Text != "" {
			fmt.Fprintf(tw, "\t%s\n", r.End.Text)
		}
		if r.End.Hints > 0 {
			fmt.Fprintf(tw, "Hints\t%d asked for\n", r.End.Hints)
		}
	}
	tw.Flush()

	b.WriteString("\nTranscript\n")
	for _, it := range r.Transcript {
		fmt.Fprintf(&b, "  %s  %s\n", Clock(it.At), r.describe(it))
		if len(it.Lost) > 0 {
			var parts []string
			for _, d := range it.Lost {
				parts = append(parts, fmt.Sprintf("%s %g", d.Axis, d.Delta))
			}
			fmt.Fprintf(&b, "  %s    lost: %s\n", strings.Repeat(" ", len(Clock(it.At))), strings.Join(parts, ", "))
		}
		if len(it.Missed) > 0 {
			var parts []string
			for _, d := range it.Missed {
				parts = append(parts, fmt.Sprintf("%s +%g", d.Axis, d.Delta))
			}
			fmt.Fprintf(&b, "  %s    not earned here: %s\n", strings.Repeat(" ", len(Clock(it.At))), strings.Join(parts, ", "))
		}
		if it.Model != "" {
			fmt.Fprintf(&b, "  %s    a strong answer: %s\n", strings.Repeat(" ", len(Clock(it.At))), it.Model)
		}
	}

	if len(r.Coached) > 0 {
		b.WriteString("\nCoaching from a supervisor\n")
		for _, c := range r.Coached {
			fmt.Fprintf(&b, "  %s\n", CoachedLine(c))
		}
	}

	if len(r.Notes) > 0 {
		b.WriteString("\nNotes from a supervisor\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "  at %d:%02d: %s\n", n.At/60000, n.At/1000%60, n.Text)
		}
	}

	b.WriteString("\nRules that fired\n")
	if len(r.Fired) == 0 {
		b.WriteString("  none\n")
	}
	tw = tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, f := range MergeFired(r.Fired) {
		times := make([]string, len(f.At))
		for i, at := range f.At {
			times[i] = Clock(at)
		}
		text := orDash(f.Text)
		if len(f.At) > 1 {
			text = fmt.Sprintf("%s (×%d)", text, len(f.At))
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", strings.Join(times, ", "), orDash(f.Rule), text)
	}
	tw.Flush()

	if r.End != nil && len(r.End.Scores) > 0 {
		b.WriteString("\nScores\n")
		tw = tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		for _, s := range r.End.Scores {
			if !s.Assessed {
				fmt.Fprintf(tw, "  %s\tnot assessed\t\t(the call gave no chance to show it)\n", s.Axis)
				continue
			}
			n := int(math.Round(min(max(s.Normalized, 0), 1) * barWidth))
			fmt.Fprintf(tw, "  %s\t%g / %g\t%3d%%\t%s%s\n", s.Axis, s.Points, s.Max, pct(s.Normalized),
				strings.Repeat("#", n), strings.Repeat(".", barWidth-n))
		}
		tw.Flush()
	}

	b.WriteString("\nRules that never fired (what went well, or what was never tried)\n")
	if len(r.Quiet) == 0 {
		b.WriteString("  none\n")
	}
	// The good moves never made first, each with what it is for; the habits avoided,
	// often the same packs' rules on every call, on one line so they do not drown the
	// lesson.
	var avoided []string
	for _, kind := range []string{QuietMissed, ""} {
		for _, q := range r.Quiet {
			if q.Kind == kind {
				fmt.Fprintf(&b, "  %s: %s%s\n", q.ID, orDash(q.Feedback), quietNote[q.Kind])
			}
		}
	}
	for _, q := range r.Quiet {
		if q.Kind == QuietAvoided {
			avoided = append(avoided, q.ID)
		}
	}
	if len(avoided) > 0 {
		fmt.Fprintf(&b, "  habits you avoided: %s\n", strings.Join(avoided, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// quietNote says what a rule that never fired means, by its kind.
var quietNote = map[string]string{QuietAvoided: "  (a habit you avoided)", QuietMissed: "  (a good move you never made)"}

func (r *Record) describe(it Item) string {
	switch it.Who {
	case "customer":
		who := r.Customer
		if it.Emotion != "" {
			who += " (" + it.Emotion + ")"
		}
		if it.Cut {
			return fmt.Sprintf("%s: %s — [cut off after %d of %d words]", who, it.Text, it.Spoken, it.Words)
		}
		return who + ": " + it.Text
	case "trainee":
		s := "You: " + it.Text
		if it.Choice != nil {
			s += fmt.Sprintf(" [suggested reply %d]", *it.Choice+1)
		}
		for _, f := range it.Flags {
			s += " [" + f + "]"
		}
		return s + Understanding(it.Understood)
	case "supervisor":
		return "Supervisor (whispered): " + it.Text
	default:
		return "(" + it.Text + ")"
	}
}

// Understanding describes what a message was understood as: ` [understood as apology: "so
// sorry"; out_of_stock: "we are out"]`, or "" when it matched no intent.
func Understanding(us []engine.Understood) string {
	if len(us) == 0 {
		return ""
	}
	parts := make([]string, len(us))
	for i, u := range us {
		parts[i] = fmt.Sprintf("%s: %q", u.Intent, u.Words)
	}
	return " [understood as " + strings.Join(parts, "; ") + "]"
}

// MergedFired is one coach line of a call with every time it was given.
type MergedFired struct {
	Rule string  `json:"rule,omitempty"`
	Text string  `json:"text"`
	At   []int64 `json:"at"`
}

// MergeFired merges repeated coach lines (the same rule and text) into one, in the order
// they were first given, so a debrief says "×3" instead of repeating itself.
func MergeFired(fired []Fired) []MergedFired {
	var out []MergedFired
	index := map[[2]string]int{}
	for _, f := range fired {
		k := [2]string{f.Rule, f.Text}
		if i, ok := index[k]; ok {
			out[i].At = append(out[i].At, f.At)
			continue
		}
		index[k] = len(out)
		out = append(out, MergedFired{Rule: f.Rule, Text: f.Text, At: []int64{f.At}})
	}
	return out
}

func pct(x float64) int { return int(math.Round(x * 100)) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
