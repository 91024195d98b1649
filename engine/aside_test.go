package engine_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
)

func TestIsCorrection(t *testing.T) {
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"*refund", true},
		{"* refund", true},
		{"refund*", true},
		{"  *the refund  ", true},
		{"*i meant the full refund", false}, // five words: a reply like any other
		{"*", true},
		{"refund", false},
		{"the *new* one is ready", false},
		{"so*rry", false},
	} {
		assert.Equal(t, tc.want, engine.IsCorrection(tc.text), "%q", tc.text)
	}
}

// A correction fixes a typo of the previous message: each of its words is a near spelling
// of one there (or a function word). Anything else sent with an asterisk is a reply, judged
// as one: an insult was an unjudged aside ("*shut up you idiot" passed a call at 100%).
func TestCorrectsTypo(t *testing.T) {
	for _, tc := range []struct {
		text, prev string
		want       bool
	}{
		{"*refund", "ill refnud it now", true},
		{"*refund", "ill refudn it now", true}, // swapped letters
		{"*the refund", "ill process refnd", true},
		{"*28th", "its due on the 27th", true},
		{"*manchego", "were out of manchgo sorry", true},
		{"*Tuesday", "it comes on teusday", true},
		{"*sorry", "so sory about that", true},
		{"*", "anything", true},
		{"*refund", "", true}, // the first message: its form decides
		{"*shut up you idiot", "we're out of manchego, would you like comte?", false},
		{"*cheapskate*", "it's a firm cheese, try a sliver", false},
		{"*idiot", "i did it", false},
		{"*stfu", "sorry about that", false},
		{"*tuesday", "it comes on monday", false}, // another word: a new reply, judged
		// A negation the previous message did not have takes it back (an outside panel's
		// "*not refunding" passed one-script at 100% as an unjudged aside).
		{"*not refunding", "ive refunded it now", false},
		{"*never", "we will refund it", false},
		{"*dont", "we will refund it", false},
		{"*not", "i can not refnud it", true}, // the same "not": still a typo fix
		{"sorry", "so sory", false},           // no asterisk
	} {
		assert.Equal(t, tc.want, engine.CorrectsTypo(tc.text, tc.prev), "%q after %q", tc.text, tc.prev)
	}
}

func TestAnInsultWithAnAsteriskIsJudged(t *testing.T) {
	sc := loadOK(t, "semantics")
	c := newCall(t, sc)
	c.do(answer(1000))
	c.do(say(8000, "so sory about that"))
	outs := c.do(say(20_000, "*sorry"))
	tr := ofType(outs, engine.OutTrainee)
	require.Len(t, tr, 1)
	assert.Equal(t, []string{engine.FlagCorrection}, tr[0].Flags, "a typo fix")
	outs = c.do(say(21_000, "*shut up"))
	tr = ofType(outs, engine.OutTrainee)
	require.Len(t, tr, 1)
	assert.NotContains(t, tr[0].Flags, engine.FlagCorrection, "no typo of the message before: a reply")
}

func TestIsBackchannel(t *testing.T) {
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"mm", true},
		{"Mmm...", true},
		{"mm-hmm", true},
		{"ok", true},
		{"OK.", true},
		{"okkk", true},
		{"i see", true},
		{"I see!", true},
		{"right, go on", true},
		{"i'm listening", true},
		{"uh huh", true},
		{"yeah", true},
		{"mm mm", true},
		{"yeah, ok", true},
		{"yeah yeah", false}, // hurrying her along (impatientAcks)
		{"ok ok", false},
		{"Yes yes yes", false},
		{"right, right", false},
		{"go on go on", false},
		{"no", false}, // disagreement is a reply
		{"ok let me check", false},
		{"sorry", false},
		{"i see what you mean, let me check the system for you", false},
	} {
		assert.Equal(t, tc.want, engine.IsBackchannel(tc.text), "%q", tc.text)
	}
}

// An aside is recorded and judged by nothing: the customer's line goes on, no rule is
// checked (the semantics scenario's "measure" rule records every say), and the timers
// and the node stay as they were.
func TestAsidesAreNotJudged(t *testing.T) {
	sc := loadOK(t, "semantics")
	for _, tc := range []struct {
		name string
		at   int64 // ms after the line started (6 words at 60 wpm: 6 s)
		text string
		flag string
	}{
		{"a correction while the customer talks", 2500, "*sorry", engine.FlagCorrection},
		{"a correction after the line", 9000, "sorry*", engine.FlagCorrection},
		{"a listening noise while the customer talks", 2500, "mm hmm", engine.FlagBackchannel},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCall(t, sc)
			c.do(answer(1000))
			deadline, hasDeadline := c.s.NextDeadline()
			sil := c.s.Vars()["sil"] // the answer's
			outs := c.do(say(1000+tc.at, tc.text))
			require.Len(t, outs, 1, "only the trainee's message: no cut, no rule, no transition")
			assert.Equal(t, engine.OutTrainee, outs[0].Type)
			assert.Equal(t, []string{tc.flag}, outs[0].Flags)
			assert.Empty(t, outs[0].Intents, "an aside is not understood")
			assert.Equal(t, "greet", c.s.Node())
			assert.Equal(t, sil, c.s.Vars()["sil"], "no rule saw it")
			d, ok := c.s.NextDeadline()
			assert.Equal(t, hasDeadline, ok)
			assert.Equal(t, deadline, d, "the customer's timers are unchanged")

			// The reply after it is judged as usual, its silence from the line's end.
			outs = c.do(say(1000+9500, "so sorry about that"))
			assert.NotEmpty(t, ofType(outs, engine.OutScore))
			assert.InDelta(t, 3.5, c.s.Vars()["sil"], 1e-9, "the silence ran on from the line's end (7 s)")
		})
	}
}

// "ok" once the customer has finished is a reply (an answer to a question), and while
// the customer's last word is being said too: only a noise that would interrupt is an
// aside.
func TestABackchannelAfterTheLineIsAReply(t *testing.T) {
	sc := loadOK(t, "semantics")
	for _, at := range []int64{5500, 6000, 8000} {
		c := newCall(t, sc)
		c.do(answer(1000))
		outs := c.do(say(1000+at, "ok"))
		tr := ofType(outs, engine.OutTrainee)
		require.Len(t, tr, 1)
		assert.NotContains(t, tr[0].Flags, engine.FlagBackchannel, "at %d ms", at)
		assert.Equal(t, false, c.s.Vars()["intr"], "at %d ms", at)
	}
}

// A correction does not interrupt: the customer's line goes on to its end, where the
// same message typed without its asterisk would have cut it and cost a point.
func TestACorrectionDoesNotInterrupt(t *testing.T) {
	sc := loadOK(t, "semantics")
	c := newCall(t, sc)
	c.do(answer(1000))
	outs := c.do(say(3000, "*sorry"))
	assert.Empty(t, ofType(outs, engine.OutCut))
	assert.Equal(t, false, c.s.Vars()["intr"])

	c = newCall(t, sc)
	c.do(answer(1000))
	outs = c.do(say(3000, "sorry"))
	assert.Len(t, ofType(outs, engine.OutCut), 1, "the plain word interrupts")
	assert.Equal(t, true, c.s.Vars()["intr"])
}

func TestIsRepeatRequest(t *testing.T) {
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"sorry, what was that?", true},
		{"Sorry?", true},
		{"pardon?", true},
		{"pardon", true},
		{"what?", true},
		{"sorry what?", true},
		{"could you say that again please", true},
		{"sorry, I didn't catch that", true},
		{"sorry, i didn’t catch that", true},
		{"can you repeat that for me?", true},
		{"come again?", true},
		{"sorry, you're breaking up", true},
		{"sorry", false}, // an apology
		{"so sorry", false},
		{"so what?", false},
		{"ok, what?", false},
		{"what was your name again?", false}, // a question of its own
		{"sorry, which date did you want it moved to?", false},
		{"sorry, what can i do for you?", false},
		{"what was that about a refund, can you repeat what you said about the fee and the date", false},
	} {
		assert.Equal(t, tc.want, engine.IsRepeatRequest(tc.text), "%q", tc.text)
	}
}

// Asked to repeat once she has finished, the customer says her line again, and the
// silence runs from its new end; asked again, the request is a reply like any other.
func TestARequestToRepeatIsAnsweredOnce(t *testing.T) {
	c := newCall(t, loadOK(t, "semantics"))
	c.do(answer(1000)) // "one two three four five six", 6 s
	sil := c.s.Vars()["sil"]
	outs := c.do(say(8000, "sorry, what was that?"))
	require.Len(t, outs, 3, "the request, the line, and the suggestions shown before it")
	assert.Equal(t, engine.OutChoices, outs[2].Type)
	assert.Equal(t, int64(14000), outs[2].At, "after the repeated line")
	assert.Equal(t, []string{engine.FlagRepeat}, outs[0].Flags)
	assert.Equal(t, engine.OutLine, outs[1].Type)
	assert.Equal(t, "one two three four five six", outs[1].Text)
	assert.Equal(t, int64(8000), outs[1].At)
	assert.Equal(t, int64(6000), outs[1].Duration)
	assert.Equal(t, sil, c.s.Vars()["sil"], "no rule saw it")

	// Said over the repeated line, a reply interrupts it.
	outs = c.do(say(10000, "let me check that"))
	assert.Len(t, ofType(outs, engine.OutCut), 1)
	assert.Equal(t, 2, ofType(outs, engine.OutCut)[0].Spoken)

	c = newCall(t, loadOK(t, "semantics"))
	c.do(answer(1000))
	c.do(say(8000, "pardon?"))
	c.do(say(16000, "hmm")) // after the repeated line (it ended at 14 s): a reply
	assert.InDelta(t, 2.0, c.s.Vars()["sil"], 1e-9, "the silence runs from the repeated line's end")
	outs = c.do(say(17000, "pardon?"))
	tr := ofType(outs, engine.OutTrainee)
	require.Len(t, tr, 1)
	assert.NotContains(t, tr[0].Flags, engine.FlagRepeat, "once a line")
	assert.Empty(t, ofType(outs, engine.OutLine))
}

// While the customer is still talking, "sorry, what?" talks over her.
func TestARequestToRepeatMidLineInterrupts(t *testing.T) {
	c := newCall(t, loadOK(t, "semantics"))
	c.do(answer(1000))
	outs := c.do(say(3000, "sorry, what was that?"))
	assert.Len(t, ofType(outs, engine.OutCut), 1)
	assert.Equal(t, true, c.s.Vars()["intr"])
}

// A reply whose typing began before the customer's line — she said two things in a row,
// or gave up waiting while it was being typed — was under way before she spoke: it cuts her
// line but does not interrupt. Typing begun once she is talking does, however soon.
func TestAReplyUnderWayBeforeTheLineDoesNotInterrupt(t *testing.T) {
	sc := loadInline(t, `id: under
title: Under
brief: b
persona: {name: Jo, wpm: 60}
vars: {intr: false}
start: ring
rules:
  - {id: measure, when: 'event == "say"', set: {intr: interrupted}}
nodes:
  ring:
    ring: true
    transitions:
      - {when: 'event == "answer"', to: ask}
  ask:
    say: what now
    transitions:
      - {when: 'text == "go on"', to: first}
      - {when: 'true', to: done}
      - {after: 10s, to: again}
  first:
    say: one
    transitions:
      - {after: 0s, to: second}
  second:
    say: two three four five
    transitions:
      - {when: 'true', to: done}
  again:
    say: are you still there
    transitions:
      - {when: 'true', to: done}
  done:
    end: {title: Done, outcome: resolved}
`)
	typing := func(at int64) engine.Event { return engine.Event{Type: engine.EventTyping, At: at} }
	for _, tc := range []struct {
		name        string
		events      []engine.Event
		interrupted bool
	}{
		// "what now" ends at 3 s; the timer brings "are you still there" (4 s).
		{"typing when she gave up waiting", []engine.Event{typing(4000), {Type: engine.EventTimeout, At: 49_000}, typing(49_100), say(50_000, "sorry, yes")}, false},
		{"typing once she is talking again", []engine.Event{{Type: engine.EventTimeout, At: 13_000}, typing(13_500), say(15_000, "sorry, yes")}, true},
		{"typing from her line's first word", []engine.Event{{Type: engine.EventTimeout, At: 13_000}, typing(13_000), say(15_000, "sorry, yes")}, true},
		// "go on" at 4 s: "one" (1 s), then at once "two three four five" (5 s to 9 s).
		{"typing while she says two things in a row", []engine.Event{say(4000, "go on"), typing(4500), {Type: engine.EventTimeout, At: 5000}, say(6000, "ok then")}, false},
		{"typing once the second thing has started", []engine.Event{say(4000, "go on"), {Type: engine.EventTimeout, At: 5000}, typing(5500), say(6000, "ok then")}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sc.NewSession(1, "Ann")
			c := &call{t: t, s: s, outs: s.Start(nil)}
			c.do(answer(1000))
			var outs []engine.Output
			for _, ev := range tc.events {
				outs = c.do(ev)
			}
			assert.Len(t, ofType(outs, engine.OutCut), 1, "the line is cut either way")
			assert.Equal(t, tc.interrupted, s.Vars()["intr"])
		})
	}
}

// A correction ends the typing that sent it, as any aside: the customer waits on the compose
// hold only while the client says the trainee is typing (an outside trainee's "*28th" kept
// the customer waiting to the compose limit, then drew "you were still typing").
func TestACorrectionEndsTheComposeHold(t *testing.T) {
	sc := loadInline(t, `id: hold
title: Hold
brief: b
persona: {name: Jo, wpm: 60}
compose_limit: 60s
start: ring
nodes:
  ring:
    ring: true
    transitions:
      - {when: 'event == "answer"', to: ask}
  ask:
    say: what now
    transitions:
      - {when: 'true', to: done}
      - {after: 15s, to: gone}
  done:
    end: {title: Done, outcome: resolved}
  gone:
    end: {title: Gone, outcome: lost}
`)
	s := sc.NewSession(1, "Ann")
	c := &call{t: t, s: s, outs: s.Start(nil)}
	c.do(answer(1000)) // the line ends at 3 s; the timer is due at 18 s
	c.do(engine.Event{Type: engine.EventTyping, At: 8000})
	c.do(say(9000, "*comte"))
	d, ok := s.NextDeadline()
	require.True(t, ok)
	assert.Equal(t, int64(18_000), d, "sent: no longer typing, the customer's timer runs from her line")
	c.do(engine.Event{Type: engine.EventTyping, At: 10_000})
	d, ok = s.NextDeadline()
	require.True(t, ok)
	assert.Equal(t, int64(70_000), d, "typing the reply holds her again, from its first keystroke")
}

// A number changed by a "*" correction once the customer has answered the message it
// corrects ("the 28th it is") is a reply, judged: an outside panel's "*18th" after the
// customer confirmed the 28th went unjudged as a typo fix. Fixed at once, while she is
// still answering, it is still a typo fix.
func TestACorrectionThatChangesAnAnsweredNumberIsJudged(t *testing.T) {
	sc := loadInline(t, `
id: dates
title: Dates
brief: The trainee books a date.
persona: {name: Sam, wpm: 60, mood: 0}
vars: {wrong: false}
start: ask
rules:
  - id: wrong-date
    when: event == "say" && text matches "\\b18th\\b"
    set: {wrong: true}
nodes:
  ask:
    say: which day then
    transitions:
      - {when: 'text matches "28th"', to: booked}
  booked:
    say: the 28th it is lovely
    transitions:
      - {when: 'text matches "18th"', to: done}
  done:
    end: {title: Done, outcome: resolved}
`)
	for _, tc := range []struct {
		name string
		at   int64 // ms; the reply came at 4,000 and her 5-word answer (60 wpm) ends at 9,000
		text string
		flag bool // a correction, not judged
	}{
		{"a changed number once she has answered", 10_000, "*18th", false},
		{"a changed number while she answers", 6_000, "*18th", true},
		{"the same number once she has answered", 10_000, "*28th", true},
		{"a word of the message once she has answered", 10_000, "*lovely", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCall(t, sc)
			c.do(say(4_000, "we can do the 28th, lovely"))
			require.Equal(t, "booked", c.s.Node())
			outs := c.do(say(tc.at, tc.text))
			tr := ofType(outs, engine.OutTrainee)
			require.Len(t, tr, 1)
			if tc.flag {
				assert.Equal(t, []string{engine.FlagCorrection}, tr[0].Flags)
				assert.Equal(t, false, c.s.Vars()["wrong"], "not judged")
				return
			}
			assert.NotContains(t, tr[0].Flags, engine.FlagCorrection)
			if tc.text == "*18th" {
				assert.Equal(t, true, c.s.Vars()["wrong"], "the rules judged the new number")
				assert.Equal(t, "done", c.s.Node())
			}
		})
	}
}

// A correction judged as a reply is read into the message it corrects: the rules and the
// matcher see the whole reply with the new number, the transcript keeps what was typed.
func TestAJudgedCorrectionIsReadIntoTheMessageBefore(t *testing.T) {
	sc := loadInline(t, `
id: refunds
title: Refunds
brief: The trainee refunds an overcharge.
persona: {name: Sam, wpm: 60, mood: 0}
vars: {right: false}
start: ask
intents:
  refund:
    phrases: [refund]
rules:
  - id: right-sum
    when: event == "say" && said("refund") && text matches "£168\\b"
    set: {right: true}
nodes:
  ask:
    say: what can you do
    transitions:
      - {when: 'said("refund")', to: offered}
  offered:
    say: is that the right amount
    transitions:
      - {when: 'said("refund") && text matches "£168"', to: done}
      - {when: 'said("refund")', to: wrong}
  wrong:
    say: that is still not right
    transitions:
      - {when: 'said("refund") && text matches "£168"', to: done}
  done:
    end: {title: Done, outcome: resolved}
`)
	c := newCall(t, sc)
	c.do(say(4_000, "I can refund £186 today."))
	require.Equal(t, "offered", c.s.Node())
	outs := c.do(say(12_000, "*£168"))
	tr := ofType(outs, engine.OutTrainee)
	require.Len(t, tr, 1)
	assert.Equal(t, "*£168", tr[0].Text, "the transcript keeps what was typed")
	assert.Equal(t, []string{engine.FlagReadIn}, tr[0].Flags)
	assert.Equal(t, []string{"refund"}, tr[0].Intents, "understood from the message read in")
	assert.Equal(t, true, c.s.Vars()["right"])
	assert.Equal(t, "done", c.s.Node())

	// A further correction, once she has answered the first, corrects the message as
	// read in.
	c = newCall(t, sc)
	c.do(say(4_000, "I can refund £186 today."))
	c.do(say(12_000, "*£167"))
	require.Equal(t, "wrong", c.s.Node())
	assert.Equal(t, false, c.s.Vars()["right"])
	outs = c.do(say(20_000, "*£168"))
	tr = ofType(outs, engine.OutTrainee)
	require.Len(t, tr, 1)
	assert.Equal(t, []string{engine.FlagReadIn}, tr[0].Flags)
	assert.Equal(t, true, c.s.Vars()["right"])
}

// repeat_requests counts the requests the customer honoured by saying her line again; a
// second request for the same line is a reply, and not counted.
func TestRepeatRequestsCountsTheLinesSaidAgain(t *testing.T) {
	sc := loadInline(t, `
id: repeats
title: Repeats
brief: The trainee asks the customer to say her lines again.
persona: {name: Sam, wpm: 60, mood: 0}
vars: {n: -1}
start: ask
rules:
  - id: count
    when: event == "say"
    set: {n: repeat_requests}
nodes:
  ask:
    say: which day then
    transitions:
      - {when: 'text contains "28th"', to: booked}
  booked:
    say: the 28th it is
    transitions:
      - {when: 'text contains "bye"', to: done}
  done:
    end: {title: Done, outcome: resolved}
`)
	c := newCall(t, sc)
	outs := c.do(say(4_000, "sorry, what was that?")) // her 3-word line ended at 3,000
	require.Len(t, ofType(outs, engine.OutLine), 1, "she says it again")
	outs = c.do(say(8_000, "pardon?")) // a second request for the same line is a reply
	assert.Empty(t, ofType(outs, engine.OutLine))
	assert.Equal(t, 1.0, c.s.Vars()["n"])
	c.do(say(9_000, "the 28th please"))
	require.Equal(t, "booked", c.s.Node())
	c.do(say(14_000, "sorry, say that again?"))
	c.do(say(19_000, "ok bye"))
	assert.Equal(t, 2.0, c.s.Vars()["n"])
}
