package scenarios_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/scenarios"
)

// sayAll answers sc's call and types each reply at 40 wpm, starting two seconds after
// the customer's line ends; it returns the customer's lines in order.
func sayAll(t *testing.T, sc *engine.Scenario, replies ...string) []string {
	return linesOf(sayAllPlayer(t, sc, replies...).outs)
}

// sayAllPlayer is sayAll returning the player, to go on with the call.
func sayAllPlayer(t *testing.T, sc *engine.Scenario, replies ...string) *player {
	t.Helper()
	p := &player{t: t, s: sc.NewSession(1, "Sam")}
	p.outs = p.s.Start(nil)
	p.act(engine.Event{Type: engine.EventAnswer, At: answerAfter})
	for _, r := range replies {
		require.False(t, p.s.Ended(), "the call ended before %q", r)
		_, lineEnd := p.s.Speaking(p.now)
		from := max(p.now, lineEnd) + typeAfter
		_, ok := p.act(engine.Event{Type: engine.EventTyping, At: from})
		require.True(t, ok, "the call moved on before %q", r)
		_, ok = p.act(engine.Event{Type: engine.EventSay, At: from + typingMS(r), Text: r})
		require.True(t, ok, "the call moved on while %q was typed", r)
	}
	return p
}

// linesOf returns the customer's lines in outs, in order.
func linesOf(outs []engine.Output) []string {
	var lines []string
	for _, o := range outs {
		if o.Type == engine.OutLine {
			lines = append(lines, o.Text)
		}
	}
	return lines
}

// TestLinesFollowTheReply checks customer lines that answer what the trainee offered: a
// line must not ask about a car park bay after a taxi, nor thank for a car after a refund.
func TestLinesFollowTheReply(t *testing.T) {
	for _, c := range []struct {
		scenario string
		replies  []string
		want     string // the customer's last line
	}{
		{"car-reservation", []string{"im so sorry, thats our mistake", "ill book you a taxi into the city at our cost"},
			"That works. Thank you. Where do I meet the taxi?"},
		{"car-reservation", []string{"im so sorry, thats our mistake", "our partner next door has cars, well cover it"},
			"That works. Thank you. Who do I ask for when I get there?"},
		{"car-reservation", []string{"im so sorry, thats our mistake", "ill refund your deposit in full"},
			"All right, a refund helps. I'll find my own way into the city, then. Is that everything?"},
		{"car-reservation", []string{"im so sorry, thats our mistake", "ive a free upgrade to an suv for you"},
			"That works. Thank you. Where do I pick it up?"},
	} {
		t.Run(c.scenario+"/"+c.replies[len(c.replies)-1], func(t *testing.T) {
			sc, diags := engine.Load(scenarios.FS, scenarios.Root+"/"+c.scenario+".yaml")
			require.NotNil(t, sc, diags.Error())
			lines := sayAll(t, sc, c.replies...)
			require.NotEmpty(t, lines)
			assert.Equal(t, c.want, lines[len(lines)-1])
		})
	}
}

// TestCheeseShopDescribesTheCheeseOffered checks that the customer asks about the
// alternative the trainee named, and that the honest description among the suggested
// replies is of that cheese.
func TestCheeseShopDescribesTheCheeseOffered(t *testing.T) {
	sc, diags := engine.Load(scenarios.FS, scenarios.Root+"/cheese-shop.yaml")
	require.NotNil(t, sc, diags.Error())
	for _, c := range []struct {
		replies                  []string
		cheese, asked, describes string
	}{
		{[]string{"sorry, were out of manchego today. i could do you a smoked gouda?"}, "smoked gouda", "Manchego", "smoky"},
		{[]string{"no manchego im afraid, the delivery didnt come. the goats cheese is lovely though"}, "goat's cheese", "Manchego", "tangy"},
		{[]string{"sorry, none today. we have an aged comte thats a bit similar"}, "comté", "Manchego", "nutty"},
		{[]string{"were out of it, sorry. we have gouda, comte and goats cheese"}, "comté", "Manchego", "nutty"},
		{[]string{"sorry we ran out", "just a fresh goats cheese today"}, "goat's cheese", "Manchego", "tangy"},
		// The gouda offered instead of an answer; the truth comes after.
		{[]string{"let me check the back", "hmm, gouda maybe?", "no sorry, we dont have any"}, "smoked gouda", "Gruyère", "smoky"},
	} {
		t.Run(strings.Join(c.replies, " / "), func(t *testing.T) {
			p := sayAllPlayer(t, sc, c.replies...)
			lines := linesOf(p.outs)
			assert.Equal(t, "Hm. Is the "+c.cheese+" anything like "+c.asked+"?", lines[len(lines)-1])
			_, lineEnd := p.s.Speaking(p.now)
			outs, ok := p.act(engine.Event{Type: engine.EventHint, At: lineEnd + hintAfter})
			require.True(t, ok)
			var honest []string
			for _, ch := range lastChoices(outs) {
				if strings.Contains(ch.Text, "Try a") {
					honest = append(honest, ch.Text)
				}
			}
			require.Len(t, honest, 1, "one honest description among %v", lastChoices(outs))
			assert.Contains(t, honest[0], c.describes)
		})
	}
}
