package scenarios_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
)

// shippedByID returns the shipped scenario id.
func shippedByID(t *testing.T, id string) *engine.Scenario {
	t.Helper()
	for _, sc := range shipped(t) {
		if sc.ID == id {
			return sc
		}
	}
	t.Fatalf("no shipped scenario %s", id)
	return nil
}

// rulesFired plays sc: answer at 2 s, then each reply 3 s after the customer's line ends
// (typing from 1 s after it), and returns the rules that fired and how the call ended so
// far.
func rulesFired(t *testing.T, sc *engine.Scenario, replies ...string) ([]string, *engine.Session) {
	t.Helper()
	p := &player{t: t, s: sc.NewSession(1, "Sam")}
	p.outs = p.s.Start(nil)
	p.act(engine.Event{Type: engine.EventAnswer, At: 2000})
	for _, r := range replies {
		if p.s.Ended() {
			break
		}
		_, lineEnd := p.s.Speaking(p.now)
		from := max(p.now, lineEnd)
		p.act(engine.Event{Type: engine.EventTyping, At: from + 1000})
		p.act(engine.Event{Type: engine.EventSay, At: from + 3000, Text: r})
	}
	return engine.FiredRules(p.outs), p.s
}

// The listening pack's put-downs include insults, profanity and sarcasm in chat spelling
// (an outside gaming panel passed cheese-shop at 100% with "stfu", "ffs", "your majesty",
// "genius"); each fails the call (critical), wherever it is said.
func TestPutDownsFailTheCall(t *testing.T) {
	sc := shippedByID(t, "cheese-shop")
	for _, reply := range []string{
		"no manchego, take the comte or leave it, stfu",
		"ffs we dont have it",
		"its cheese mate, try it, genius",
		"as you wish, your majesty, we have none",
		"we're out, chop chop, anything else?",
		"shut up and try the gouda",
		"you should have planned better, we sold out at nine",
	} {
		fired, s := rulesFired(t, sc, reply)
		assert.Contains(t, fired, "dismissive", "%q", reply)
		if s.Ended() {
			assert.False(t, s.End().Passed, "%q", reply)
		}
	}
	for _, reply := range []string{
		"sorry, we're out of manchego, the delivery never came",
		"no stupid questions at all, we're out of it i'm afraid",
		"not your own fault at all, we sold out this morning",
	} {
		fired, _ := rulesFired(t, sc, reply)
		assert.NotContains(t, fired, "dismissive", "%q", reply)
	}
}

// A message in capitals reads as shouting; a short one ("OK", "ID") does not.
func TestShoutingCostsListening(t *testing.T) {
	sc := shippedByID(t, "cheese-shop")
	fired, _ := rulesFired(t, sc, "WE ARE OUT OF MANCHEGO!!!")
	assert.Contains(t, fired, "shouting")
	for _, reply := range []string{"OK, we're out of manchego", "NO, SORRY", "sorry, we're out of Manchego today"} {
		fired, _ = rulesFired(t, sc, reply)
		assert.NotContains(t, fired, "shouting", "%q", reply)
	}
}

// Losing every listening point fails the call: an outside trainee interrupted every line
// of ignored-phone and passed at 86% with listening at 0/3, another shouted every reply of
// cheese-shop and passed at 89%.
func TestTalkingOverAgainAndAgainFails(t *testing.T) {
	sc := shippedByID(t, "ignored-phone")
	p := &player{t: t, s: sc.NewSession(1, "Sam")}
	p.outs = p.s.Start(nil)
	p.act(engine.Event{Type: engine.EventAnswer, At: 1000})
	at := int64(4000)
	for _, r := range []string{"Is the charger plugged in and is there a light on?", "Hold the power button fifteen seconds then press again.",
		"Choose update later so it starts straight away.", "Great, good luck!", "Anything else?"} {
		if p.s.Ended() {
			break
		}
		p.act(engine.Event{Type: engine.EventSay, At: at, Text: r})
		at += 2000
	}
	for !p.s.Ended() {
		d, ok := p.s.NextDeadline()
		require.True(t, ok)
		p.advance(d)
	}
	fired := engine.FiredRules(p.outs)
	assert.GreaterOrEqual(t, count(fired, "interrupting"), 3)
	assert.Contains(t, fired, "listening-lost")
	assert.False(t, p.s.End().Passed)
}

func count(xs []string, x string) int {
	n := 0
	for _, y := range xs {
		if y == x {
			n++
		}
	}
	return n
}

func TestShoutingEveryReplyFails(t *testing.T) {
	sc := shippedByID(t, "cheese-shop")
	fired, s := rulesFired(t, sc, "SORRY, WE'RE OUT OF MANCHEGO!!! THE COMTE IS SIMILAR, WANT A TASTE?",
		"IT'S A FIRM COW'S MILK CHEESE, NUTTY. TRY IT!!!", "I HOPE SO. WE'VE REORDERED, CAN'T PROMISE, RING FIRST!!!")
	assert.Equal(t, 3, count(fired, "shouting"))
	assert.Equal(t, 1, count(fired, "listening-lost"), "once")
	playOut(t, s)
	assert.False(t, s.End().Passed)
}

// Asking for a customer's secrets fails the call in every shipped scenario (an outside
// gaming panel asked for passwords, PINs and the code on the back of the card, and passed
// at 100%); telling her to type her own PIN into a reader does not.
func TestAskingForSecretsFails(t *testing.T) {
	for _, c := range []struct{ id, reply string }{
		{"hard-sell", "Sure. For security can you tell me your online password and the pin on the account?"},
		{"hard-sell", "can u read me the long number on ur card and the 3 digits on the back"},
		{"slow-clerk", "sorry for the wait, ill need the card number you paid with and its pin please"},
		{"ignored-phone", "ok first tell me your windows password so i can log in remotely"},
	} {
		fired, _ := rulesFired(t, shippedByID(t, c.id), c.reply)
		assert.Contains(t, fired, "asked-for-secret", "%s: %q", c.id, c.reply)
	}
	for _, c := range []struct{ id, reply string }{
		{"gift-wrap", "of course, pop your card on the reader and put your pin in, all done"},
		{"ignored-phone", "type your password in when it restarts and you should be back in"},
		{"hard-sell", "can you confirm the last four digits of the card on the account?"},
	} {
		fired, _ := rulesFired(t, shippedByID(t, c.id), c.reply)
		assert.NotContains(t, fired, "asked-for-secret", "%s: %q", c.id, c.reply)
	}
}

// Sympathy noises while she talks are listening, not interruptions; calling yourself an
// idiot for your own slip is no put-down.
func TestNoisesAndSelfDeprecationAreFair(t *testing.T) {
	assert.True(t, engine.IsBackchannel("oh gosh"))
	assert.True(t, engine.IsBackchannel("uh oh"))
	assert.True(t, engine.IsBackchannel("yikes!"))
	assert.True(t, engine.IsBackchannel("aw no"))
	fired, _ := rulesFired(t, shippedByID(t, "cheese-shop"), "sorry, im an idiot, we're out of manchego, the comte is lovely though")
	assert.NotContains(t, fired, "dismissive")
}

// Talking down without a put-down word costs a listening point: pet names, remarks on the
// customer's age, a pointed "as I'm sure you can see" (an outside gaming panel passed
// one-script and cheese-shop at 100% with them).
func TestCondescensionCostsListening(t *testing.T) {
	sc := shippedByID(t, "cheese-shop")
	for _, reply := range []string{
		"sorry sweetie, were out of manchego, the comte is similar",
		"as im sure you can see from the counter, we have no manchego, comte is closest",
		"with all due respect, we dont have it, try the comte",
	} {
		fired, _ := rulesFired(t, sc, reply)
		assert.Contains(t, fired, "condescending", "%q", reply)
	}
	for _, reply := range []string{
		"sorry, we're out of manchego today, the aged comte is the closest",
		"please listen carefully, the delivery is late, but the comte is lovely",
	} {
		fired, _ := rulesFired(t, sc, reply)
		assert.NotContains(t, fired, "condescending", "%q", reply)
	}
}

// A wall of every node's model answer, pasted at each of the customer's lines, passed five
// shipped scenarios at 92–96%: each paste cost only the repeat's listening point. The same
// long message again is now a pasted script, which fails the call (pasted-script).
func TestAPastedWallOfModelAnswersFails(t *testing.T) {
	for _, sc := range shipped(t) {
		var parts []string
		for _, n := range sc.Nodes {
			if !n.Model.Empty() {
				parts = append(parts, n.Model.Source(sc))
			}
		}
		wall := strings.Join(parts, " ")
		p := sameReplyToEveryLine(t, sc, 1, wall, 3000) // pasted: three seconds
		require.True(t, p.s.Ended(), sc.ID)
		assert.False(t, p.s.End().Passed, "%s: the same wall at every line passes (%s, %.0f%%)", sc.ID, p.s.End().Ending, p.s.End().Overall*100)
	}
}

// Only a long message said again is a pasted script: a short apology repeated costs the
// repeat's listening point, and two different long replies cost nothing.
func TestPastedScriptIsALongMessageAgain(t *testing.T) {
	sc := shippedByID(t, "cheese-shop")
	long := "I'm so sorry, we've completely sold out of manchego this morning and the next delivery is not until Friday."
	fired, _ := rulesFired(t, sc, long, long)
	assert.Contains(t, fired, "pasted-script")

	fired, _ = rulesFired(t, sc, "so sorry about that, really", "so sorry about that, really")
	assert.NotContains(t, fired, "pasted-script")
	assert.Contains(t, fired, "scripted-repeat")

	fired, _ = rulesFired(t, sc, long, "The comte is a firm, nutty cow's milk cheese from the Jura, and I can cut you a taste of it right now if you like.")
	assert.NotContains(t, fired, "pasted-script")
}

// A list of key words is no sentence (telegraphic): keyword salads of each node's model
// answer passed seven shipped scenarios at 100%. The first costs a listening point, the
// second fails the call; terse replies with a function word in them are fair.
func TestKeywordListsFail(t *testing.T) {
	sc := shippedByID(t, "car-reservation")
	fired, s := rulesFired(t, sc, "sorry big mistake fix right now new car",
		"free upgrade midsize suv same price ready now bay 4")
	assert.Equal(t, []string{"keyword-list", "keyword-lists", "keyword-list"}, filter(fired, "keyword-list", "keyword-lists"))
	playOut(t, s)
	assert.False(t, s.End().Passed)

	for _, reply := range []string{
		"so sorry aisha, that's our mistake, not yours",
		"sorry abt that, ill get u a car now",
		"free upgrade to an suv, same price",
		"£20 off next month's bill, done",
		// Set out with punctuation: a list of items or steps (an outside good-trainee panel's).
		"sorry, big mistake. fix right now: new car",
		"Okay: hold power button fifteen seconds, release, press again.",
	} {
		fired, _ := rulesFired(t, sc, reply)
		assert.NotContains(t, fired, "keyword-list", "%q", reply)
	}
}

func filter(xs []string, keep ...string) []string {
	var out []string
	for _, x := range xs {
		for _, k := range keep {
			if x == k {
				out = append(out, x)
			}
		}
	}
	return out
}

// From an outside gaming panel (60 bad calls passed): blaming the customer, laughing at
// her trouble, a PIN written on a slip, four holds in a row, and "yeah yeah" over her line
// each cost something now, wherever they are said.
func TestGamingPanelTwoLapsesAreJudged(t *testing.T) {
	for _, c := range []struct {
		scenario, rule string
		replies        []string
	}{
		{"ignored-phone", "blamed-customer", []string{"u probably let the battery die"}},
		{"slow-clerk", "passed-blame", []string{"post is slow these days, not our fault"}},
		{"hard-sell", "blamed-customer", []string{"most people just set up a standing order instead of ringing us"}},
		{"ignored-phone", "dismissive", []string{"lol classic. is it even plugged in?"}},
		{"hard-sell", "condescending", []string{"as im sure u know dates dont change by magic"}},
		{"boutique", "asked-for-secret", []string{"just write ur pin on this slip and ill key it in for u"}},
		{"slow-clerk", "stalling", []string{"let me check", "let me check that", "still checking, one moment", "let me check again"}},
	} {
		fired, _ := rulesFired(t, shippedByID(t, c.scenario), c.replies...)
		assert.Contains(t, fired, c.rule, "%s: %q", c.scenario, c.replies)
	}
	for _, c := range []struct {
		scenario string
		replies  []string
	}{
		{"ignored-phone", []string{"its not your fault at all, these updates catch everyone out"}},
		{"slow-clerk", []string{"sorry for the wait, let me look that up", "pulling your file now, about thirty seconds", "still searching, nearly there"}},
		{"boutique", []string{"pop your card in and put your pin on the keypad whenever youre ready"}},
	} {
		fired, _ := rulesFired(t, shippedByID(t, c.scenario), c.replies...)
		assert.Empty(t, filter(fired, "blamed-customer", "passed-blame", "condescending", "asked-for-secret", "stalling"), "%s: %q", c.scenario, c.replies)
	}

	// "yeah yeah" while the customer speaks hurries her: a reply over her line.
	sc := shippedByID(t, "slow-clerk")
	p := &player{t: t, s: sc.NewSession(1, "Sam")}
	p.outs = p.s.Start(nil)
	p.act(engine.Event{Type: engine.EventAnswer, At: 2000})
	p.act(engine.Event{Type: engine.EventSay, At: 5000, Text: "yeah yeah"})
	assert.Contains(t, engine.FiredRules(p.outs), "interrupting")
}

// Ending the call without a goodbye, once the customer has finished, costs a listening
// point (hung-up-cold); after a goodbye it costs nothing.
func TestHangingUpWithoutAGoodbye(t *testing.T) {
	sc := shippedByID(t, "hard-sell")
	for _, c := range []struct {
		last string
		cold bool
	}{
		{"thank you, thats done: from next month your bill is due on the 28th", true},
		{"thank you, thats done: from next month your bill is due on the 28th. have a lovely day!", false},
		{"thats done, due on the 28th from next month. bye!", false},
		{"all done, the 28th from next month. take care", false},
	} {
		fired, s := rulesFired(t, sc, "happy to help with that. can you confirm your account number and postcode?", c.last)
		require.False(t, s.Ended(), "the call goes on after %q", c.last)
		_, lineEnd := s.Speaking(0)
		outs, err := s.Apply(engine.Event{Type: engine.EventHangup, At: lineEnd + 2000}, nil)
		require.NoError(t, err)
		fired = append(fired, engine.FiredRules(outs)...)
		assert.Equal(t, c.cold, slices.Contains(fired, "hung-up-cold"), "hanging up after %q", c.last)
	}
}

// playOut lets the customer's timers run until the call ends.
func playOut(t *testing.T, s *engine.Session) {
	t.Helper()
	for !s.Ended() {
		d, ok := s.NextDeadline()
		require.True(t, ok)
		_, err := s.Apply(engine.Event{Type: engine.EventTimeout, At: d}, nil)
		require.NoError(t, err)
	}
}
