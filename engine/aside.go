package engine

import (
	"strings"
	"unicode"
)

// Asides are typed messages that are not a turn of the conversation: a correction of a
// typo in the trainee's previous message ("*refund"), and a listening noise ("mm", "ok",
// "i see") typed while the customer is still talking. An aside is recorded in the
// transcript with its flag and judged by nothing: no rule, no transition, no interruption,
// no cut of the customer's line, no silence measured, no turn counted. See
// docs/scenario-format.md, "Asides".

// Flags an aside's trainee output carries.
const (
	FlagCorrection  = "correction"
	FlagBackchannel = "backchannel"
	FlagInterrupted = "interrupted"
	FlagRepeated    = "repeated"
)

// MaxCorrectionWords is the most words a correction may have besides its asterisk
// ("*refund", "*the refund", "refund*"). A longer message that starts with "*" is a reply
// like any other: to change what you meant, send the whole reply again.
const MaxCorrectionWords = 4

// backchannels are the listening noises, as backchannelKey spells them; a message of one
// or more of them ("right, go on", "oh i see") is one.
var backchannels = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range []string{"ok", "okay", "k", "okey", "mm", "mhm", "mm hmm", "mmhmm", "hmm", "uh huh",
		"uhuh", "aha", "ah", "oh", "ooh", "oh dear", "oh no", "yes", "yeah", "yep", "yup", "ya", "right", "sure",
		"i see", "go on", "please go on", "got it", "gotcha", "understood", "of course", "alright", "all right",
		"listening", "im listening", "i am listening", "go ahead", "carry on", "fair enough"} {
		m[backchannelKey(s)] = true
	}
	return m
}()

// MaxBackchannelBytes bounds what is looked up as a listening noise.
const MaxBackchannelBytes = 24

// backchannelKey returns text in lower case with only its letters, one space between
// words and each run of one letter written once ("Mmm...", "mm-hmm!", "Okkk" → "m", "m hm",
// "ok").
func backchannelKey(text string) string {
	var b strings.Builder
	var last rune
	space := false
	for _, r := range strings.ToLower(text) {
		switch {
		case unicode.IsLetter(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			if r != last {
				b.WriteRune(r)
			}
			last = r
		case r == '\'':
			// "i'm listening": the apostrophe joins the word
		default:
			space, last = true, 0
		}
	}
	return b.String()
}

// IsCorrection reports whether a typed message corrects a typo in the previous one: it
// starts or ends with "*" and has at most MaxCorrectionWords words besides.
func IsCorrection(text string) bool {
	t := strings.TrimSpace(text)
	if !strings.HasPrefix(t, "*") && !strings.HasSuffix(t, "*") {
		return false
	}
	return len(strings.Fields(strings.Trim(t, "* \t"))) <= MaxCorrectionWords
}

// IsBackchannel reports whether a typed message is a listening noise ("mm", "ok", "i
// see"): an aside when it arrives while the customer is still talking.
func IsBackchannel(text string) bool {
	if len(text) > MaxBackchannelBytes {
		return false
	}
	words := strings.Fields(backchannelKey(text))
	if len(words) == 0 {
		return false
	}
	// Each noise in turn, the longest first (at most three words).
	for i := 0; i < len(words); {
		n := min(3, len(words)-i)
		for n > 0 && !backchannels[strings.Join(words[i:i+n], " ")] {
			n--
		}
		if n == 0 {
			return false
		}
		i += n
	}
	return true
}

// aside records ev, a correction or a listening noise, as its flag says, and changes
// nothing else: the customer's line goes on, and the reply being awaited is still awaited.
func (s *Session) aside(ev Event, flag string, out []Output) []Output {
	if s.composeStart >= 0 && flag == FlagCorrection {
		s.composeStart = -1 // the keystrokes were the correction's
	}
	return append(out, Output{Type: OutTrainee, At: ev.At, Node: s.Node(), Text: ev.Text, Flags: []string{flag}})
}

// asideFlag returns the flag ev is recorded with when it is an aside, or "".
func (s *Session) asideFlag(ev Event) string {
	if ev.Type != EventSay {
		return ""
	}
	switch {
	case IsCorrection(ev.Text):
		return FlagCorrection
	case s.speakingAt(ev.At) && IsBackchannel(ev.Text):
		return FlagBackchannel
	}
	return ""
}

// speakingAt reports whether the customer is saying a word of the current line, not its
// last, at time at: a reply then interrupts.
func (s *Session) speakingAt(at int64) bool {
	return at < s.lineEnd && at-s.lineStart < wordStart(s.lineWords-1, s.lineWPM, s.linePauses)
}
