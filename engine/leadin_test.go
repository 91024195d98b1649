package engine_test

import (
	"strings"
	"unicode"

	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
)

func TestIsLeadIn(t *testing.T) {
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"ok so", true},
		{"Right, so...", true},
		{"hi there,", true},
		{"Hello Mrs Patel -", true},
		{"good morning,", true},
		{"um...", true},
		{"hmm…", true},
		{"erm, well", true},
		{"alright then,", false}, // "then" is no lead-in word
		{"ok", false},            // an answer
		{"hi", true},             // a greeting alone: it opens the reply, or is it if nothing follows
		{"hello!", true},
		{"Good morning Mrs Patel.", true},
		{"hi there", true},
		{"hi dario,", true}, // a name, whoever the caller is
		{"morning mrs evelyn marsh -", true},
		{"hello?", false}, // is anyone there?
		{"good", false},   // approval, not a greeting
		{"hi ok", false},
		{"heya, sorry about that", false},
		{"hopefully soon", false},
		{"hi dario rossi jones,", false}, // three unknown words are no name
		{"dario,", false},                // a name needs a greeting or address before it
		{"hmm", false},
		{"um", false},
		{"yes,", false}, // an answer: its yes is read where it stands
		{"no...", false},
		{"sorry,", false}, // an apology
		{"of course,", true},
		{"Sure -", true},
		{"thanks,", true},
		{"thank you...", true},
		{"absolutely, so", true},
		{"of course", false}, // goes on by nothing: an answer
		{"thanks!", false},
		{"ok so we're out of it", false},
		{"hi hi hi hi hi hi hi,", false}, // longer than MaxLeadInWords
		{"", false},
		{"...", false},
	} {
		assert.Equal(t, tc.want, engine.IsLeadIn(tc.text, "Mrs Patel"), "%q", tc.text)
	}
	assert.True(t, engine.IsLeadIn("morning jo,", "Jo Bloggs"), "the customer's name")
	assert.True(t, engine.IsLeadIn("morning sam,", "Jo Bloggs"), "another caller's name")
}

// leadInScenario: a yes-or-no question whose catch-all costs a point, and a customer who
// greets the trainee on a second line and takes a greeting as the answer there.
const leadInScenario = `id: leadin
title: Lead-in
brief: b
persona: {name: Jo, wpm: 60}
intents:
  greeting: ["hi", "hello", "good morning"]
  out_of_stock: ["were out", "none left"]
  apology: ["sorry"]
scores:
  honesty: {max: 1}
start: ring
nodes:
  ring:
    ring: true
    transitions:
      - {when: 'event == "answer"', to: ask}
  ask:
    say: do you have any left
    transitions:
      - {when: 'said("out_of_stock")', to: told, score: {honesty: 1}}
      - {when: 'true', to: dodged, score: {honesty: -1}}
      - {after: 20s, to: gone}
  dodged:
    say: is that a no
    transitions:
      - {when: 'true', to: told}
  told:
    say: hello are you there
    transitions:
      - {when: 'said("greeting")', to: done}
      - {when: 'true', to: gone}
  done:
    end: {title: Done, outcome: resolved}
  gone:
    end: {title: Gone, outcome: lost}
`

func TestALeadInWaitsForTheReplyItOpens(t *testing.T) {
	sc := loadInline(t, leadInScenario)
	c := newCall(t, sc)
	c.do(answer(1000)) // "do you have any left" ends at 6 s
	outs := c.do(say(7000, "hi there,"))
	tr := ofType(outs, engine.OutTrainee)
	require.Len(t, tr, 1)
	assert.Equal(t, []string{engine.FlagLeadIn}, tr[0].Flags)
	assert.True(t, engine.IsAside(tr[0].Flags))
	assert.Empty(t, ofType(outs, engine.OutLine), "the customer waits for the rest")
	assert.Empty(t, ofType(outs, engine.OutScore), "judged by nothing")
	assert.Equal(t, "ask", c.s.Node())
	d, ok := c.s.NextDeadline()
	require.True(t, ok)
	assert.Equal(t, int64(26_000), d, "the timer still counts from the line's end")

	outs = c.do(say(9000, "we're out of them, sorry"))
	tr = ofType(outs, engine.OutTrainee)
	require.Len(t, tr, 1)
	assert.Empty(t, tr[0].Flags)
	assert.ElementsMatch(t, []string{"greeting", "out_of_stock", "apology"}, tr[0].Intents, "read with its lead-in")
	assert.Equal(t, "told", c.s.Node(), "the answer, not the catch-all")
	assert.Equal(t, 1.0, c.s.Scores()["honesty"])

	// The next line is another node: a lead-in there is read afresh. At "hello are
	// you there" a greeting is the answer: a bare "hello!" answers, while "hello," visibly
	// goes on and the rest is awaited (an outside good trainee's "Hi Priya," was judged alone).
	outs = c.do(say(20_000, "hello!"))
	tr = ofType(outs, engine.OutTrainee)
	require.Len(t, tr, 1)
	assert.Empty(t, tr[0].Flags, "the node asks for a greeting: a bare one answers")
	assert.Equal(t, "done", c.s.Node())
}

// A lead-in that visibly goes on ("hi priya,", "of course,", "thanks -") waits for the
// rest even where the node asks about what it means; the rest is read with it, its yes
// too ("of course," then the details answers a yes-or-no question).
func TestAGoingOnLeadInWaitsEvenWhereItAnswers(t *testing.T) {
	sc := loadInline(t, leadInScenario)
	c := newCall(t, sc)
	c.do(answer(1000))
	c.do(say(7000, "we're out of them, sorry"))
	require.Equal(t, "told", c.s.Node())
	outs := c.do(say(20_000, "hello,"))
	assert.Equal(t, []string{engine.FlagLeadIn}, ofType(outs, engine.OutTrainee)[0].Flags)
	assert.Equal(t, "told", c.s.Node(), "she waits for the rest")
	c.do(say(23_000, "yes im still here, sorry"))
	assert.Equal(t, "done", c.s.Node(), "read with the greeting before it")

	yn := loadInline(t, `id: yn
title: YN
brief: b
persona: {name: Jo, wpm: 60}
intents:
  swap_ok: ["she can swap it"]
start: ring
nodes:
  ring:
    ring: true
    transitions:
      - {when: 'event == "answer"', to: ask}
  ask:
    say: can my sister swap it
    yes_means: swap_ok
    transitions:
      - {when: 'said("swap_ok")', to: done}
      - {when: 'true', to: gone}
  done:
    end: {title: Done, outcome: resolved}
  gone:
    end: {title: Gone, outcome: lost}
`)
	c = newCall(t, yn)
	c.do(answer(1000))
	outs = c.do(say(7000, "of course,"))
	assert.Equal(t, []string{engine.FlagLeadIn}, ofType(outs, engine.OutTrainee)[0].Flags)
	c.do(say(10_000, "just bring it back within 30 days with the receipt"))
	assert.Equal(t, "done", c.s.End().Ending, "the yes of the lead-in answers the question")
}

func TestALeadInIsOncePerLineAndDroppedByATimer(t *testing.T) {
	sc := loadInline(t, leadInScenario)
	c := newCall(t, sc)
	c.do(answer(1000))
	c.do(say(7000, "ok so"))
	outs := c.do(say(8000, "um..."))
	tr := ofType(outs, engine.OutTrainee)
	require.Len(t, tr, 1)
	assert.Empty(t, tr[0].Flags, "a second lead-in is a reply")
	assert.Equal(t, "dodged", c.s.Node(), "taken by the catch-all")
	assert.ElementsMatch(t, []string{}, intentsOrEmpty(tr[0].Intents))

	// A timer that moves the call drops a lead-in.
	c = newCall(t, sc)
	c.do(answer(1000))
	c.do(say(7000, "right, well"))
	d, ok := c.s.NextDeadline()
	require.True(t, ok)
	c.do(engine.Event{Type: engine.EventTimeout, At: d})
	assert.Equal(t, "gone", c.s.Node())
}

func intentsOrEmpty(in []string) []string {
	if in == nil {
		return []string{}
	}
	return in
}

// A reply sent in two messages: the trainee goes on typing the second as the customer
// starts to react to the first. Typing begun within OverlapStartMS of that line is no
// interruption; begun later, once she is talking, it is.
func TestTheSecondHalfOfAReplyInTwoMessagesDoesNotInterrupt(t *testing.T) {
	src := `id: two
title: Two
brief: b
persona: {name: Jo, wpm: 60}
vars: {intr: false, carr: false}
start: ring
rules:
  - {id: measure, when: 'event == "say"', set: {intr: interrupted, carr: carried}}
nodes:
  ring:
    ring: true
    transitions:
      - {when: 'event == "answer"', to: ask}
  ask:
    say: what now
    transitions:
      - {when: 'true', to: react}
  react:
    say: oh i see well then go on
    transitions:
      - {when: 'true', to: done}
  done:
    end: {title: Done, outcome: resolved}
`
	sc := loadInline(t, src)
	for _, tc := range []struct {
		name        string
		typingAt    int64
		interrupted bool
	}{
		{"typing at once", 5000, false},
		{"typing half a second in", 5500, false},
		{"typing a second and a half in", 6500, false},
		{"typing two and a half seconds in", 7500, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCall(t, sc)
			c.do(answer(1000)) // "what now" ends at 3 s
			c.do(say(5000, "sorry about the wait"))
			require.Equal(t, "react", c.s.Node()) // "oh i see well then go on": 5 s to 12 s
			c.do(engine.Event{Type: engine.EventTyping, At: tc.typingAt})
			outs := c.do(say(8500, "i have the details here"))
			assert.Len(t, ofType(outs, engine.OutCut), 1, "her line is cut either way")
			assert.Equal(t, tc.interrupted, c.s.Vars()["intr"])
			assert.Equal(t, !tc.interrupted, c.s.Vars()["carr"], "carried: the reply went on from the last")
		})
	}
}

// FuzzIsLeadIn: any text, any name: no panic, and a lead-in has at most MaxLeadInWords
// words and ends in a mark or word that goes on.
func FuzzIsLeadIn(f *testing.F) {
	for _, s := range []string{"ok so", "hi there,", "um...", "hmm", "Hello Mrs Patel -", "ok so we're out", "…", "ok\u00a0so"} {
		f.Add(s, "Mrs Patel")
	}
	f.Fuzz(func(t *testing.T, text, name string) {
		if !engine.IsLeadIn(text, name) {
			return
		}
		words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' && r != '’' })
		if len(words) == 0 || len(words) > engine.MaxLeadInWords {
			t.Fatalf("%q: %d words", text, len(words))
		}
	})
}

// "mm" as the customer's last word streams, or within a second after it, is still
// listening; "ok" there answers (an outside trainee's "mm" 0.1 s into her last word was
// judged a dodge).
func TestAListeningNoiseJustAfterTheLineIsStillListening(t *testing.T) {
	sc := loadInline(t, leadInScenario)
	for _, tc := range []struct {
		text  string
		at    int64
		aside bool
	}{
		{"mm", 6100, true},     // "do you have any left" (5 words at 60 wpm) ends at 6 s
		{"uh huh", 6900, true}, // within the grace
		{"mm", 7500, false},    // past it: a reply, as before
		{"ok", 6100, false},    // an acknowledgement answers
	} {
		c := newCall(t, sc)
		c.do(answer(1000))
		outs := c.do(say(tc.at, tc.text))
		tr := ofType(outs, engine.OutTrainee)
		require.Len(t, tr, 1)
		assert.Equal(t, tc.aside, engine.IsAside(tr[0].Flags), "%q at %d", tc.text, tc.at)
		if tc.aside {
			assert.Equal(t, "ask", c.s.Node(), "%q: nothing judged", tc.text)
		}
	}
}

// A reply that is no lead-in costs IsLeadIn no allocation (it is asked of most replies).
func TestIsLeadInDoesNotAllocateForReplies(t *testing.T) {
	for _, text := range []string{"we're out of manchego, sorry", "I'll check that for you now.", "no!",
		"how can I help?", "here you go", "good news, it's in stock"} {
		assert.Zero(t, testing.AllocsPerRun(100, func() { engine.IsLeadIn(text, "Mrs Patel") }), "%q", text)
	}
}

// A greeting sent alone, as many type in a chat ("hi!" and Enter, then the reply), from a
// client that reports typing: the customer waits LeadInWaitMS for the trainee to go on.
// Typing in time, the reply that follows is read with the greeting; not, the greeting is
// judged as the reply on its own then.
func TestABareGreetingWaitsBrieflyForTheRest(t *testing.T) {
	sc := loadInline(t, leadInScenario)
	for _, greeting := range []string{"hi!", "Hello", "hi there jo", "good morning", "morning dario"} {
		t.Run(greeting+", then the answer", func(t *testing.T) {
			c := newCall(t, sc)
			c.do(answer(1000)) // "do you have any left" ends at 6 s
			c.do(typing(6500))
			outs := c.do(say(7000, greeting))
			tr := ofType(outs, engine.OutTrainee)
			require.Len(t, tr, 1)
			assert.Equal(t, []string{engine.FlagLeadIn}, tr[0].Flags)
			assert.Empty(t, ofType(outs, engine.OutLine), "the customer waits")
			d, ok := c.s.NextDeadline()
			require.True(t, ok)
			assert.Equal(t, int64(7000+engine.LeadInWaitMS), d)
			c.do(typing(8000)) // in time: she waits for the rest
			d, _ = c.s.NextDeadline()
			assert.Greater(t, d, int64(9000), "no longer the greeting's deadline")
			c.do(say(12_000, "none left im afraid"))
			assert.Equal(t, "told", c.s.Node())
			assert.Equal(t, 1.0, c.s.Scores()["honesty"])
		})
	}
	t.Run("hi!, and nothing more", func(t *testing.T) {
		c := newCall(t, sc)
		c.do(answer(1000))
		c.do(typing(6500))
		c.do(say(7000, "hi!"))
		outs := c.do(engine.Event{Type: engine.EventTimeout, At: 7000 + engine.LeadInWaitMS})
		tr := ofType(outs, engine.OutTrainee)
		require.Len(t, tr, 1)
		assert.Equal(t, []string{engine.FlagAlone}, tr[0].Flags, "judged, not an aside")
		assert.False(t, engine.IsAside(tr[0].Flags))
		assert.Equal(t, "dodged", c.s.Node(), "the catch-all: a greeting does not answer")
		assert.Equal(t, -1.0, c.s.Scores()["honesty"])
		assert.NotEmpty(t, ofType(outs, engine.OutLine), "she answers")
	})
	t.Run("a client that never reports typing: judged at once", func(t *testing.T) {
		c := newCall(t, sc)
		c.do(answer(1000))
		outs := c.do(say(7000, "hi!"))
		tr := ofType(outs, engine.OutTrainee)
		require.Len(t, tr, 1)
		assert.Empty(t, tr[0].Flags)
		assert.Equal(t, "dodged", c.s.Node())
	})
	t.Run("hello? asks whether she is there", func(t *testing.T) {
		c := newCall(t, sc)
		c.do(answer(1000))
		c.do(typing(6500))
		c.do(say(7000, "hello?"))
		assert.Equal(t, "dodged", c.s.Node())
	})
}

// A reply still being typed when the customer gives up, says goodbye and the next caller
// starts (two timers in a row) was under way before that caller's line: sent during it,
// it is no interruption, though the client did not report typing again.
func TestTypingCarriedAcrossTwoTimers(t *testing.T) {
	sc := loadInline(t, `id: two
title: Two
brief: b
persona: {name: Jo, wpm: 60}
compose_limit: 10s
vars: {intr: true}
start: ring
rules:
  - {id: measure, when: 'event == "say"', set: {intr: interrupted}}
intents:
  bye: ["bye"]
nodes:
  ring:
    ring: true
    transitions:
      - {when: 'event == "answer"', to: ask}
  ask:
    say: what now
    transitions:
      - {when: 'true', to: done}
      - {after: 5s, to: gone}
  gone:
    say: fine then goodbye
    transitions:
      - {when: 'said("bye")', to: done}
      - {after: 1s, to: next}
  next:
    say: hello i am the next caller with a long question
    transitions:
      - {when: 'true', to: done}
  done:
    end: {title: Done, outcome: resolved}
`)
	c := newCall(t, sc)
	c.do(answer(1000)) // "what now" ends at 3 s
	c.do(typing(4000))
	for c.s.Node() != "next" {
		d, ok := c.s.NextDeadline()
		require.True(t, ok)
		c.do(engine.Event{Type: engine.EventTimeout, At: d})
	}
	_, end := c.s.Speaking(c.s.Now())
	c.do(say(end-3000, "sorry, here is the answer to your first question"))
	assert.Equal(t, false, c.s.Vars()["intr"])
}

// A global rule that moves the call and reads the reply's text makes a lead-in a reply
// only where it holds for the lead-in: one-script's rule on a wrong refund sum read the
// text, and made "hi dario," a whole reply at every node.
func TestAGlobalTextRuleIsTriedOnALeadIn(t *testing.T) {
	sc := loadInline(t, `id: tr
title: T
brief: b
persona: {name: Jo, wpm: 60}
intents:
  out_of_stock: ["none left"]
rules:
  - {id: wrong-sum, when: 'event == "say" && lower(text) contains "£5"', to: wrong}
start: ring
nodes:
  ring:
    ring: true
    transitions:
      - {when: 'event == "answer"', to: ask}
  ask:
    say: do you have any left
    transitions:
      - {when: 'said("out_of_stock")', to: told}
      - {when: 'true', to: gone}
  told:
    end: {title: Told, outcome: resolved}
  gone:
    end: {title: Gone, outcome: lost}
  wrong:
    end: {title: Wrong, outcome: lost}
`)
	c := newCall(t, sc)
	c.do(answer(1000))
	outs := c.do(say(7000, "hi jo,"))
	tr := ofType(outs, engine.OutTrainee)
	require.Len(t, tr, 1)
	assert.Equal(t, []string{engine.FlagLeadIn}, tr[0].Flags, "the rule does not hold for it")
	c.do(say(9000, "none left, sorry"))
	assert.Equal(t, "told", c.s.End().Ending)

	c = newCall(t, sc)
	c.do(answer(1000))
	outs = c.do(say(7000, "hi £5,"))
	assert.Empty(t, ofType(outs, engine.OutTrainee)[0].Flags, "the rule holds: a reply")
}

// A node's own transition that reads the text is tried on a lead-in too: car-reservation's
// node that listens for "taxi" made every "hi," there a whole reply.
func TestANodesTextTransitionIsTriedOnALeadIn(t *testing.T) {
	sc := loadInline(t, `id: tn
title: T
brief: b
persona: {name: Jo, wpm: 60}
intents:
  out_of_stock: ["none left"]
start: ring
nodes:
  ring:
    ring: true
    transitions:
      - {when: 'event == "answer"', to: ask}
  ask:
    say: can i get there some other way
    transitions:
      - {when: 'lower(text) contains "taxi"', to: taxi}
      - {when: 'said("out_of_stock")', to: told}
      - {when: 'true', to: gone}
  taxi:
    end: {title: Taxi, outcome: resolved}
  told:
    end: {title: Told, outcome: resolved}
  gone:
    end: {title: Gone, outcome: lost}
`)
	c := newCall(t, sc)
	c.do(answer(1000))
	outs := c.do(say(7000, "ok so,"))
	tr := ofType(outs, engine.OutTrainee)
	require.Len(t, tr, 1)
	assert.Equal(t, []string{engine.FlagLeadIn}, tr[0].Flags, "no text transition holds for it")
	c.do(say(9000, "a taxi is on us, ill book it now"))
	assert.Equal(t, "taxi", c.s.End().Ending)

	c = newCall(t, sc)
	c.do(answer(1000))
	outs = c.do(say(7000, "taxi so,"))
	assert.Empty(t, ofType(outs, engine.OutTrainee)[0].Flags, "the transition holds: a reply")
	assert.Equal(t, "taxi", c.s.End().Ending)
}

// A call excuses MaxCarriedOverlaps carried replies that cut the customer's line; a
// trainee who starts the next message as soon as the last is sent, every time, types over
// her answers, and from the third time on that interrupts (it is still carried).
func TestCarriedOverlapsAreExcusedTwiceACall(t *testing.T) {
	sc := loadInline(t, `id: many
title: Many
brief: b
persona: {name: Jo, wpm: 60}
vars: {intr: false, carr: false}
start: ring
rules:
  - {id: measure, when: 'event == "say"', set: {intr: interrupted, carr: carried}}
nodes:
  ring:
    ring: true
    transitions:
      - {when: 'event == "answer"', to: talk}
  talk:
    say: oh i see well then go on
    transitions:
      - {when: 'turn < 8', to: talk}
      - {when: 'true', to: done}
  done:
    end: {title: Done, outcome: resolved}
`)
	c := newCall(t, sc)
	c.do(answer(1000)) // her line: 1 s to 7 s
	at := int64(8000)
	c.do(say(at, "first"))
	for i := 1; i <= engine.MaxCarriedOverlaps+2; i++ {
		// Typing at once as she starts to react, sent three seconds into her line.
		c.do(engine.Event{Type: engine.EventTyping, At: at + 500})
		at += 3000
		outs := c.do(say(at, "and another thing here"))
		require.Len(t, ofType(outs, engine.OutCut), 1, "overlap %d cuts her line", i)
		assert.Equal(t, true, c.s.Vars()["carr"], "overlap %d is carried", i)
		assert.Equal(t, i > engine.MaxCarriedOverlaps, c.s.Vars()["intr"], "overlap %d", i)
	}
}
