package api

import (
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Typing is talking: a trainee who starts composing right after the customer's line is
// not nudged by the node's 800 ms silence timer while composing (testdata/live.yaml
// holds timers for compose_limit: 2s).
func TestTypingHoldsTheSilenceTimer(t *testing.T) { synctest.Test(t, testTypingHoldsTheSilenceTimer) }

func testTypingHoldsTheSilenceTimer(t *testing.T) {
	ts := newMemTestServer(t, Options{})
	r, c := ts.answered(t, `{"scenario":"live","trainee":"Ada"}`)
	end := c.until("line_end")
	c.send(map[string]any{"type": "typing", "id": "t1"})
	ack := c.until("trainee")
	assert.Equal(t, "typing", ack.Event)
	assert.Equal(t, "t1", ack.ID)
	assert.Empty(t, ack.Text)
	for _, m := range c.quiet(1300 * time.Millisecond) {
		assert.NotEqual(t, "line_start", m.Type, "the customer waits while the trainee composes (got %s)", m.Raw)
	}
	c.send(map[string]any{"type": "say", "id": "s1", "text": "So sorry, here is a refund."})
	tr := c.until("trainee")
	assert.Equal(t, "say", tr.Event)
	assert.Empty(t, tr.Flags, "not an interruption")
	fin := c.until("end")
	assert.Equal(t, "refunded", fin.Ending)
	assert.Equal(t, "Refunded", fin.Title)
	assert.True(t, fin.Passed)
	assert.Greater(t, fin.At, end.At)
	c.checkSeqs(1)

	// Past compose_limit the timer fires even while composing.
	r = ts.start(t, `{"scenario":"live","trainee":"Ada"}`)
	c = ts.dial(t, r.WS, nil)
	c.until("ring")
	c.send(map[string]any{"type": "answer", "id": "a"})
	c.until("line_end")
	began := time.Now()
	c.send(map[string]any{"type": "typing", "id": "t1"})
	nudge := c.until("line_start")
	assert.Equal(t, "nudge", nudge.Node)
	assert.GreaterOrEqual(t, time.Since(began), 1500*time.Millisecond)
}

func TestHintsOnRequestOverTheWire(t *testing.T) { synctest.Test(t, testHintsOnRequestOverTheWire) }

func testHintsOnRequestOverTheWire(t *testing.T) {
	ts := newMemTestServer(t, Options{})
	r := ts.start(t, `{"scenario":"live","suggestions":"on_request"}`)
	assert.Equal(t, "on_request", string(r.Suggestions))
	c := ts.dial(t, r.WS, nil)
	c.until("ring")
	c.send(map[string]any{"type": "answer", "id": "a"})
	c.until("word")
	c.send(map[string]any{"type": "hint", "id": "h1"})
	ack := c.until("trainee")
	assert.Equal(t, "hint", ack.Event)
	end := c.until("line_end")
	ch := c.until("choices")
	assert.Equal(t, end.Seq+1, ch.Seq, "asked for mid-line, the suggestions follow the line's end")
	assert.Len(t, ch.Choices, 2)
	c.send(map[string]any{"type": "choose", "id": "c1", "index": ch.Choices[0].Index})
	fin := c.until("end")
	assert.Equal(t, 1, fin.Hints)

	// Asked for once the line has ended, they come at once; a second hint is refused.
	r = ts.start(t, `{"scenario":"live","suggestions":"on_request"}`)
	c = ts.dial(t, r.WS, nil)
	c.until("ring")
	c.send(map[string]any{"type": "answer", "id": "a"})
	c.until("line_end")
	c.send(map[string]any{"type": "hint", "id": "h1"})
	c.until("choices")
	c.send(map[string]any{"type": "hint", "id": "h2"})
	e := c.until("error")
	assert.Equal(t, "not_allowed", e.Code)
	assert.Equal(t, "h2", e.ID)

	// No hints in a call that offers none; a mode more generous than the scenario allows
	// is refused.
	r = ts.start(t, `{"scenario":"live","suggestions":"never"}`)
	c = ts.dial(t, r.WS, nil)
	c.until("ring")
	c.send(map[string]any{"type": "answer", "id": "a"})
	c.until("line_end")
	c.send(map[string]any{"type": "hint", "id": "h"})
	e = c.until("error")
	assert.Equal(t, "not_allowed", e.Code)
	assert.Contains(t, e.Message, "no suggested replies")
	for _, m := range c.quiet(300 * time.Millisecond) {
		assert.NotEqual(t, "choices", m.Type)
	}
	for _, body := range []string{`{"scenario":"live","suggestions":"sometimes"}`, `{"scenario":"live","suggestions":7}`} {
		resp, err := ts.client.Post(ts.url+"/api/calls", "application/json", strings.NewReader(body))
		require.NoError(t, err)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
		resp.Body.Close()
	}
}

func TestHangupEndsTheCallAtOnceOverTheWire(t *testing.T) {
	synctest.Test(t, testHangupEndsTheCallAtOnceOverTheWire)
}

func testHangupEndsTheCallAtOnceOverTheWire(t *testing.T) {
	ts := newMemTestServer(t, Options{})
	_, c := ts.answered(t, `{"scenario":"live"}`)
	c.until("word")
	c.send(map[string]any{"type": "hangup", "id": "h"})
	tr := c.until("trainee")
	assert.Equal(t, "hangup", tr.Event)
	fin := c.until("end")
	assert.Equal(t, tr.At, fin.At, "the end follows in the same step")
	assert.Equal(t, "hangup", fin.Ending)
	assert.Equal(t, "You hung up", fin.Title)
	assert.False(t, fin.Passed)
	assert.NotEmpty(t, fin.Note, "why it cannot pass")
	assert.Equal(t, websocket.CloseNormalClosure, c.closeCode())
	c.mu.Lock()
	defer c.mu.Unlock()
	after := false
	for _, m := range c.all {
		assert.NotEqual(t, "choices", m.Type, "no suggestions: the call was on request and ended")
		if m.Type == "trainee" && m.Event == "hangup" {
			after = true
			continue
		}
		if after {
			assert.Contains(t, []string{"cut", "feedback", "mood", "end"}, m.Type, "nothing more from the customer: %s", m.Raw)
		}
	}
}

// A greeting sent alone from a client that reports typing ("hi!" and Enter) is a lead-in:
// the customer waits for the rest; when the trainee types nothing more within
// engine.LeadInWaitMS, it is judged as the reply on its own, without a second trainee
// message, and the customer answers it.
func TestABareGreetingOverTheWire(t *testing.T) { synctest.Test(t, testABareGreetingOverTheWire) }

func testABareGreetingOverTheWire(t *testing.T) {
	ts := newMemTestServer(t, Options{})
	_, c := ts.answered(t, `{"scenario":"live","trainee":"Ada"}`)
	// At greet a way on reads the choice, so any message there is a reply: wait for the
	// nudge ("Hello? Are you there?"), where a greeting does not answer.
	nudge := c.until("line_start")
	for nudge.Node != "nudge" {
		nudge = c.until("line_start")
	}
	c.until("line_end")
	c.send(map[string]any{"type": "typing", "id": "t1"})
	c.until("trainee")
	sent := time.Now()
	c.send(map[string]any{"type": "say", "id": "s1", "text": "hi!"})
	tr := c.until("trainee")
	assert.Equal(t, "s1", tr.ID)
	assert.Equal(t, []string{"lead-in"}, tr.Flags)
	assert.Empty(t, c.quiet(1900*time.Millisecond), "the customer waits for the rest")
	var next *srvMsg
	for _, m := range c.quiet(500 * time.Millisecond) {
		assert.NotEqual(t, "trainee", m.Type, "the greeting is acknowledged once: %s", m.Raw)
		if m.Type == "line_start" && next == nil {
			next = &m
		}
	}
	require.NotNil(t, next, "the customer answers the greeting")
	assert.Equal(t, "greet_again", next.Node, "judged as the reply: not the refund, a say")
	assert.GreaterOrEqual(t, time.Since(sent), 2*time.Second)
}
