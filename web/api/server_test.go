package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/web/live"
	"github.com/switchboard-sim/switchboard/web/protocol"
)

// waitFor bounds every wait for a server message in these tests.
const waitFor = 5 * time.Second

// srvMsg is any server message, decoded loosely for assertions.
type srvMsg struct {
	Seq      int64               `json:"seq"`
	Type     string              `json:"type"`
	At       int64               `json:"at"`
	Node     string              `json:"node"`
	Text     string              `json:"text"`
	Words    int                 `json:"words"`
	Duration int64               `json:"duration_ms"`
	MsPer    float64             `json:"ms_per_word"`
	Emotion  string              `json:"emotion"`
	Index    int                 `json:"index"`
	Spoken   int                 `json:"spoken"`
	ID       string              `json:"id"`
	Event    string              `json:"event"`
	Choice   *int                `json:"choice"`
	Flags    []string            `json:"flags"`
	Choices  []protocol.Choice   `json:"choices"`
	Mood     float64             `json:"mood"`
	Rule     string              `json:"rule"`
	Ending   string              `json:"ending"`
	Title    string              `json:"title"`
	Note     string              `json:"note"`
	Hints    int                 `json:"hints"`
	Outcome  string              `json:"outcome"`
	Passed   bool                `json:"passed"`
	Scores   []protocol.Score    `json:"scores"`
	Feedback []protocol.Feedback `json:"feedback"`
	Code     string              `json:"code"`
	Message  string              `json:"message"`
	Raw      json.RawMessage     `json:"-"`
}

// testServer runs a Server with the live test scenario on a loopback httptest server
// (newTestServer) or an in-memory network (newMemTestServer, inside a synctest bubble).
type testServer struct {
	*Server
	http   *httptest.Server // nil on the in-memory network
	url    string           // the server's base URL
	client *http.Client     // an HTTP client that reaches it
	dialer *websocket.Dialer
	serve  *handlerSwitch // what the test server serves: the Server's Handler unless changed
}

// handlerSwitch is an http.Handler that a test may replace while serving.
type handlerSwitch struct{ h atomic.Pointer[http.Handler] }

func newHandlerSwitch(h http.Handler) *handlerSwitch {
	s := &handlerSwitch{}
	s.h.Store(&h)
	return s
}

func (s *handlerSwitch) set(h http.Handler) { s.h.Store(&h) }

func (s *handlerSwitch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*s.h.Load()).ServeHTTP(w, r)
}

func loadLive(t testing.TB) *engine.Scenario {
	t.Helper()
	sc, diags := engine.LoadFile("testdata/live.yaml")
	require.False(t, diags.HasErrors(), diags.Error())
	return sc
}

func newTestServer(t *testing.T, opts Options) *testServer {
	t.Helper()
	s := newServer(t, opts)
	serve := newHandlerSwitch(s.Handler())
	hs := httptest.NewServer(serve)
	ts := &testServer{Server: s, http: hs, url: hs.URL, client: hs.Client(), dialer: websocket.DefaultDialer, serve: serve}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		assert.NoError(t, s.Shutdown(ctx), "every call and connection goroutine stops")
		ts.http.Close()
	})
	return ts
}

// newServer makes a Server for a test: the live test scenario unless opts name others,
// and a quiet logger.
func newServer(t *testing.T, opts Options) *Server {
	t.Helper()
	if opts.Scenarios == nil {
		opts.Scenarios = []*engine.Scenario{loadLive(t)}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s, err := New(opts)
	require.NoError(t, err)
	return s
}

// start begins a call over the HTTP API.
func (ts *testServer) start(t *testing.T, body string) live.Started {
	t.Helper()
	resp, err := ts.client.Post(ts.url+"/api/calls", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	var r live.Started
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
	require.NotEmpty(t, r.ID)
	require.NotEmpty(t, r.Token)
	return r
}

// answered starts a call with body, connects to it, waits for the ring and answers
// (client id "a"): the start of most of these tests.
func (ts *testServer) answered(t *testing.T, body string) (live.Started, *client) {
	t.Helper()
	r := ts.start(t, body)
	c := ts.dial(t, r.WS, nil)
	c.until("ring")
	c.send(map[string]any{"type": "answer", "id": "a"})
	return r, c
}

func (ts *testServer) wsURL(path string) string {
	return "ws" + strings.TrimPrefix(ts.url, "http") + path
}

// client is a websocket test client that collects every message it receives.
type client struct {
	t      *testing.T
	ws     *websocket.Conn
	msgs   chan srvMsg
	closed chan int // the close code, once
	mu     sync.Mutex
	all    []srvMsg
}

func (ts *testServer) dial(t *testing.T, path string, hdr http.Header) *client {
	t.Helper()
	ws, resp, err := ts.dialer.Dial(ts.wsURL(path), hdr)
	require.NoError(t, err)
	resp.Body.Close()
	c := &client{t: t, ws: ws, msgs: make(chan srvMsg, 4096), closed: make(chan int, 1)}
	go func() {
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				code := -1
				if ce, ok := err.(*websocket.CloseError); ok {
					code = ce.Code
				}
				c.closed <- code
				close(c.msgs)
				return
			}
			// A websocket message holds one or more protocol messages, one per line.
			for _, line := range bytes.Split(data, []byte("\n")) {
				var m srvMsg
				if json.Unmarshal(line, &m) != nil {
					m.Type = "undecodable"
				}
				m.Raw = append(json.RawMessage(nil), line...)
				c.msgs <- m
			}
		}
	}()
	t.Cleanup(func() { ws.Close() })
	return c
}

func (c *client) send(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	require.NoError(c.t, err)
	require.NoError(c.t, c.ws.WriteMessage(websocket.TextMessage, b))
}

func (c *client) sendRaw(kind int, data []byte) {
	c.t.Helper()
	require.NoError(c.t, c.ws.WriteMessage(kind, data))
}

// until returns the next message of type typ, failing after waitFor.
func (c *client) until(typ string) srvMsg {
	c.t.Helper()
	deadline := time.After(waitFor)
	for {
		select {
		case m, ok := <-c.msgs:
			if !ok {
				c.t.Fatalf("connection closed while waiting for %q; got %s", typ, c.types())
			}
			c.record(m)
			if m.Type == typ {
				return m
			}
		case <-deadline:
			c.t.Fatalf("no %q message within %v; got %s", typ, waitFor, c.types())
		}
	}
}

// quiet collects messages for d and returns them.
func (c *client) quiet(d time.Duration) []srvMsg {
	var got []srvMsg
	deadline := time.After(d)
	for {
		select {
		case m, ok := <-c.msgs:
			if !ok {
				return got
			}
			c.record(m)
			got = append(got, m)
		case <-deadline:
			return got
		}
	}
}

func (c *client) record(m srvMsg) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.all = append(c.all, m)
}

func (c *client) types() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ts []string
	for _, m := range c.all {
		ts = append(ts, m.Type)
	}
	return strings.Join(ts, " ")
}

// closeCode waits for the connection to close and returns its close code.
func (c *client) closeCode() int {
	c.t.Helper()
	deadline := time.After(waitFor)
	for {
		select {
		case m, ok := <-c.msgs:
			if ok {
				c.record(m)
			}
		case code := <-c.closed:
			// The reader queued every message before the close code; keep them all.
			for m := range c.msgs {
				c.record(m)
			}
			return code
		case <-deadline:
			c.t.Fatalf("the connection did not close within %v", waitFor)
		}
	}
}

// checkSeqs asserts the recorded messages have seq 1, 2, 3… (errors have seq 0).
func (c *client) checkSeqs(from int64) {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	want := from
	for _, m := range c.all {
		if m.Seq == 0 {
			assert.Equal(c.t, "error", m.Type, "only connection-local errors have seq 0")
			continue
		}
		assert.Equal(c.t, want, m.Seq, "message %s", m.Raw)
		want = m.Seq + 1
	}
}

func TestFullCallToAnEnding(t *testing.T) { synctest.Test(t, testFullCallToAnEnding) }

func testFullCallToAnEnding(t *testing.T) {
	ts := newMemTestServer(t, Options{})
	r := ts.start(t, `{"scenario":"live","trainee":"Ada","coach":true}`)
	assert.True(t, r.Coach)
	c := ts.dial(t, r.WS, nil)

	ring := c.until("ring")
	assert.Equal(t, int64(1), ring.Seq)
	assert.Equal(t, "ring", ring.Node)

	c.send(map[string]any{"type": "answer", "id": "a1"})
	ack := c.until("trainee")
	assert.Equal(t, "a1", ack.ID)
	assert.Equal(t, "answer", ack.Event)
	assert.Equal(t, []string{}, ack.Flags)
	line := c.until("line_start")
	assert.Equal(t, "Hello, Ada, my kettle broke after one day, what now?", line.Text)
	assert.Equal(t, 10, line.Words)
	assert.Equal(t, int64(2000), line.Duration)
	assert.InDelta(t, 200, line.MsPer, 0.001)
	assert.Equal(t, "annoyed", line.Emotion, "the line's emotion tag is passed to the browser")
	// The words arrive one by one at the persona's pace, on the real clock.
	began := time.Now()
	end := c.until("line_end")
	elapsed := time.Since(began)
	assert.GreaterOrEqual(t, elapsed, 1500*time.Millisecond, "ten words at 300 wpm take about 2 s to stream")
	assert.Equal(t, line.At+2000, end.At)
	// Suggestions never show while the customer is speaking: they follow the line's end.
	ch := c.until("choices")
	require.Len(t, ch.Choices, 2)
	assert.Equal(t, end.Seq+1, ch.Seq)
	assert.Equal(t, end.At, ch.At)
	var words []srvMsg
	c.mu.Lock()
	for _, m := range c.all {
		if m.Type == "word" {
			words = append(words, m)
		}
	}
	c.mu.Unlock()
	require.Len(t, words, 10)
	for i, w := range words {
		assert.Equal(t, i, w.Index)
		assert.Equal(t, line.At+int64(i)*200, w.At, "word %d is stamped with its due time", i)
	}
	assert.Equal(t, "now?", words[9].Text)

	c.send(map[string]any{"type": "choose", "id": "c1", "index": 0})
	tr := c.until("trainee")
	assert.Equal(t, "choose", tr.Event)
	require.NotNil(t, tr.Choice)
	assert.Equal(t, 0, *tr.Choice)
	assert.Equal(t, "I'm sorry, here is a refund.", tr.Text)
	fb := c.until("feedback")
	assert.Equal(t, "apology", fb.Rule)
	final := c.until("end")
	assert.Equal(t, "refunded", final.Ending)
	assert.Equal(t, "resolved", final.Outcome)
	assert.True(t, final.Passed)
	require.Len(t, final.Scores, 1)
	assert.Equal(t, 2.0, final.Scores[0].Points)
	assert.NotEmpty(t, final.Feedback)
	assert.Equal(t, websocket.CloseNormalClosure, c.closeCode())
	c.checkSeqs(1)

	// The last line was spoken in full before the end.
	types := c.types()
	assert.Contains(t, types, "line_start word word word word word line_end end")
}

func TestInterruptionCutsAtTheWordReached(t *testing.T) {
	synctest.Test(t, testInterruptionCutsAtTheWordReached)
}

func testInterruptionCutsAtTheWordReached(t *testing.T) {
	ts := newMemTestServer(t, Options{})
	_, c := ts.answered(t, `{"scenario":"live","coach":true}`)
	line := c.until("line_start")
	c.until("word")
	c.until("word")
	c.until("word") // word 2 started: at least 400 ms in
	c.send(map[string]any{"type": "say", "id": "s", "text": "Yes yes, what is the problem?"})
	cut := c.until("cut")
	spoken := int((cut.At - line.At) * 300 / 60000)
	assert.Equal(t, spoken, cut.Spoken, "the cut is at the word the customer had reached on the server clock")
	assert.GreaterOrEqual(t, cut.Spoken, 2)
	assert.Less(t, cut.Spoken, 10)
	assert.Equal(t, 10, cut.Words)
	tr := c.until("trainee")
	assert.Equal(t, []string{"interrupted"}, tr.Flags)
	fb := c.until("feedback")
	assert.Equal(t, "interrupting", fb.Rule)
	mood := c.until("mood")
	assert.Less(t, mood.Mood, 0.0)

	// No word of the cut line comes after the cut, and none past the word reached.
	c.mu.Lock()
	sawCut := false
	for _, m := range c.all {
		if m.Type == "cut" {
			sawCut = true
		}
		if m.Type == "word" && !sawCut {
			assert.LessOrEqual(t, m.Index, cut.Spoken)
		}
		if m.Type == "word" && sawCut {
			assert.Fail(t, "a word of the cut line arrived after the cut")
		}
		if m.Type == "line_start" && sawCut {
			break
		}
	}
	c.mu.Unlock()
	next := c.until("line_start")
	assert.Equal(t, "greet_again", next.Node)
}

// TestAReplyDuringTheLastWordIsNoInterruption: once the last word was sent, the trainee
// has seen the whole line; a reply then is not flagged, cuts nothing, and the line's
// line_end comes before the next line starts.
func TestAReplyDuringTheLastWordIsNoInterruption(t *testing.T) {
	synctest.Test(t, testAReplyDuringTheLastWordIsNoInterruption)
}

func testAReplyDuringTheLastWordIsNoInterruption(t *testing.T) {
	ts := newMemTestServer(t, Options{})
	_, c := ts.answered(t, `{"scenario":"live","coach":true}`)
	line := c.until("line_start")
	require.Equal(t, 10, line.Words)
	for w := c.until("word"); w.Index < line.Words-1; w = c.until("word") {
	}
	c.send(map[string]any{"type": "say", "id": "s", "text": "Yes yes, what is the problem?"})
	tr := c.until("trainee")
	assert.Empty(t, tr.Flags, "the whole line had been sent")
	end := c.until("line_end")
	assert.Equal(t, "greet", end.Node)
	next := c.until("line_start")
	assert.Equal(t, "greet_again", next.Node)
	assert.NotContains(t, c.types(), "cut")
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.all {
		assert.NotEqual(t, "interrupting", m.Rule, "no feedback for speaking over the customer")
	}
}

func TestLateAnswerAndSilenceTimer(t *testing.T) { synctest.Test(t, testLateAnswerAndSilenceTimer) }

func testLateAnswerAndSilenceTimer(t *testing.T) {
	ts := newMemTestServer(t, Options{})
	r := ts.start(t, `{"scenario":"live","coach":true}`)
	c := ts.dial(t, r.WS, nil)
	c.until("ring")
	time.Sleep(500 * time.Millisecond)
	c.send(map[string]any{"type": "answer", "id": "a"})
	fb := c.until("feedback")
	assert.Equal(t, "slow_answer", fb.Rule, "the ring time is measured on the server when the answer arrives")
	line := c.until("line_end")
	// Nothing said for 800 ms after the line: the customer nudges.
	nudge := c.until("line_start")
	assert.Equal(t, "nudge", nudge.Node)
	assert.Empty(t, nudge.Emotion, "a line without a tag sends none")
	assert.Equal(t, line.At+800, nudge.At, "the silence timer fires at its deadline on the call clock")
}

func TestEndingOnHangupAndEndedCallsRefuseInput(t *testing.T) {
	synctest.Test(t, testEndingOnHangupAndEndedCallsRefuseInput)
}

func testEndingOnHangupAndEndedCallsRefuseInput(t *testing.T) {
	ts := newMemTestServer(t, Options{})
	r, c := ts.answered(t, `{"scenario":"live"}`)
	c.until("word")
	c.send(map[string]any{"type": "hangup", "id": "h"})
	cut := c.until("cut")
	tr := c.until("trainee")
	assert.Equal(t, "hangup", tr.Event)
	assert.Equal(t, []string{"interrupted"}, tr.Flags)
	assert.Greater(t, tr.Seq, cut.Seq)
	end := c.until("end")
	assert.Equal(t, "hangup", end.Ending)
	assert.Equal(t, "lost", end.Outcome)
	assert.False(t, end.Passed)
	assert.Equal(t, websocket.CloseNormalClosure, c.closeCode())
	require.Eventually(t, func() bool { return ts.LiveCalls() == 0 }, waitFor, 10*time.Millisecond,
		"an ended call leaves memory at once")

	// Reconnecting to an ended call replays it from the journal and closes normally.
	again := ts.dial(t, r.WS, nil)
	assert.Equal(t, websocket.CloseNormalClosure, again.closeCode())
	again.checkSeqs(1)
	assert.Equal(t, c.types(), again.types(), "a replay is the same messages in the same order")
}

func TestBadInputKeepsTheConnectionUsable(t *testing.T) {
	synctest.Test(t, testBadInputKeepsTheConnectionUsable)
}

func testBadInputKeepsTheConnectionUsable(t *testing.T) {
	ts := newMemTestServer(t, Options{})
	r := ts.start(t, `{"scenario":"live"}`)
	c := ts.dial(t, r.WS, nil)
	c.until("ring")
	cases := []struct {
		name  string
		kind  int
		frame string
		code  string
		id    string
	}{
		{"not JSON", websocket.TextMessage, `{"type": "say",`, protocol.CodeBadJSON, ""},
		{"not an object", websocket.TextMessage, `[1,2]`, protocol.CodeBadJSON, ""},
		{"binary frame", websocket.BinaryMessage, `{"type":"answer","id":"b"}`, protocol.CodeBadJSON, ""},
		{"missing id", websocket.TextMessage, `{"type":"answer"}`, protocol.CodeBadJSON, ""},
		{"id too long", websocket.TextMessage, `{"type":"answer","id":"` + strings.Repeat("x", 65) + `"}`, protocol.CodeBadJSON, ""},
		{"unknown type", websocket.TextMessage, `{"type":"dance","id":"u1"}`, protocol.CodeUnknownType, "u1"},
		{"text not a string", websocket.TextMessage, `{"type":"say","id":"t1","text":5}`, protocol.CodeBadJSON, "t1"},
		{"index not an integer", websocket.TextMessage, `{"type":"choose","id":"i1","index":1.5}`, protocol.CodeBadJSON, "i1"},
		{"oversized text", websocket.TextMessage, `{"type":"say","id":"l1","text":"` + strings.Repeat("a", protocol.MaxTextBytes+1) + `"}`, protocol.CodeTooLong, "l1"},
		{"blank text", websocket.TextMessage, `{"type":"say","id":"e1","text":"  \n "}`, protocol.CodeEmptyText, "e1"},
		{"say before answering", websocket.TextMessage, `{"type":"say","id":"n1","text":"hello"}`, protocol.CodeNotAllowed, "n1"},
		{"choice not offered", websocket.TextMessage, `{"type":"choose","id":"n2","index":0}`, protocol.CodeNotAllowed, "n2"},
	}
	for _, tc := range cases {
		c.sendRaw(tc.kind, []byte(tc.frame))
		e := c.until("error")
		assert.Equal(t, tc.code, e.Code, tc.name)
		assert.Equal(t, tc.id, e.ID, tc.name)
		assert.Equal(t, int64(0), e.Seq, "%s: errors are connection-local", tc.name)
		assert.NotEmpty(t, e.Message, tc.name)
		time.Sleep(220 * time.Millisecond) // stay under the rate limit
	}
	// Still usable: the call goes on.
	c.send(map[string]any{"type": "answer", "id": "ok"})
	ack := c.until("trainee")
	assert.Equal(t, "ok", ack.ID)
	c.send(map[string]any{"type": "answer", "id": "twice"})
	e := c.until("error")
	assert.Equal(t, protocol.CodeNotAllowed, e.Code, "answering a phone that no longer rings")
	c.checkSeqs(1)
}

func TestRateLimit(t *testing.T) { synctest.Test(t, testRateLimit) }

func testRateLimit(t *testing.T) {
	ts := newMemTestServer(t, Options{})
	_, c := ts.answered(t, `{"scenario":"live"}`)
	c.until("trainee")
	for i := range 30 {
		c.send(map[string]any{"type": "say", "id": "m" + string(rune('a'+i)), "text": "sorry sorry"})
	}
	got := c.quiet(time.Second)
	limited, acks := 0, 0
	for _, m := range got {
		if m.Type == "error" && m.Code == protocol.CodeRateLimited {
			limited++
		}
		if m.Type == "trainee" {
			acks++
		}
	}
	assert.Equal(t, 1, limited, "one rate_limited error per second while over the limit")
	assert.LessOrEqual(t, acks, live.RateBurst+1, "messages over the limit are not applied")
	assert.GreaterOrEqual(t, acks, 1)
	// After a pause the connection works again.
	time.Sleep(time.Second)
	c.send(map[string]any{"type": "hangup", "id": "bye"})
	assert.Equal(t, "bye", c.until("trainee").ID)
}

func TestInvalidUTF8ClosesWith1007(t *testing.T) { synctest.Test(t, testInvalidUTF8ClosesWith1007) }

func testInvalidUTF8ClosesWith1007(t *testing.T) {
	ts := newMemTestServer(t, Options{})
	r := ts.start(t, `{"scenario":"live"}`)
	c := ts.dial(t, r.WS, nil)
	c.until("ring")
	// gorilla's client does not check what it sends, so an invalid frame reaches the server.
	c.sendRaw(websocket.TextMessage, []byte("{\"type\":\"say\",\"id\":\"x\",\"text\":\"\xff\xfe\"}"))
	e := c.until("error")
	assert.Equal(t, protocol.CodeBadUTF8, e.Code)
	assert.Equal(t, websocket.CloseInvalidFramePayloadData, c.closeCode())

	// The call is intact: reconnect and go on.
	again := ts.dial(t, r.WS, nil)
	again.until("ring")
	again.send(map[string]any{"type": "answer", "id": "a"})
	assert.Equal(t, "a", again.until("trainee").ID)
}

func TestOversizedFrameClosesWith1009(t *testing.T) {
	synctest.Test(t, testOversizedFrameClosesWith1009)
}

func testOversizedFrameClosesWith1009(t *testing.T) {
	ts := newMemTestServer(t, Options{})
	r := ts.start(t, `{"scenario":"live"}`)
	c := ts.dial(t, r.WS, nil)
	c.until("ring")
	c.sendRaw(websocket.TextMessage, bytes.Repeat([]byte("a"), protocol.MaxFrameBytes+1))
	assert.Equal(t, websocket.CloseMessageTooBig, c.closeCode())
}

func TestRetriedMessageIsAppliedOnce(t *testing.T) { synctest.Test(t, testRetriedMessageIsAppliedOnce) }

func testRetriedMessageIsAppliedOnce(t *testing.T) {
	ts := newMemTestServer(t, Options{})
	_, c := ts.answered(t, `{"scenario":"live"}`)
	c.until("line_end")
	c.send(map[string]any{"type": "say", "id": "s1", "text": "what do you mean"})
	first := c.until("trainee")
	c.until("line_start") // greet_again
	c.send(map[string]any{"type": "say", "id": "s1", "text": "what do you mean"})
	again := c.until("trainee")
	assert.Equal(t, first.Seq, again.Seq, "a retried id gets its original acknowledgement")
	assert.JSONEq(t, string(first.Raw), string(again.Raw))
	// Not applied twice: no second greet_again line follows.
	for _, m := range c.quiet(300 * time.Millisecond) {
		assert.NotEqual(t, "line_start", m.Type, "the retried say was applied again")
	}
}

// TestAnOlderConnectionNeverReplacesANewerOne: a trainee's first connection is accepted
// (101) but its handler is slow to attach it; the client gives up on it and connects
// again, and the second is attached first. When the first finally reaches the call it is
// closed as replaced (4000): the newer connection keeps the call and can act.
func TestAnOlderConnectionNeverReplacesANewerOne(t *testing.T) {
	synctest.Test(t, testAnOlderConnectionNeverReplacesANewerOne)
}

func testAnOlderConnectionNeverReplacesANewerOne(t *testing.T) {
	ts := newMemTestServer(t, Options{})
	r := ts.start(t, `{"scenario":"live"}`)
	hold := make(chan struct{})
	var first atomic.Bool
	ts.beforeServe = func(*http.Request, *websocket.Conn) {
		if first.CompareAndSwap(false, true) {
			<-hold
		}
	}
	old := ts.dial(t, r.WS, nil) // upgraded, then held before it is attached
	// The dial returns once the client has the upgrade's answer: let its handler reach
	// the hold before the newer one comes, or the newer one could be the one held.
	synctest.Wait()
	newer := ts.dial(t, r.WS, nil)
	newer.until("ring")
	close(hold)
	assert.Equal(t, protocol.CloseReplaced, old.closeCode(), "the older connection is refused")
	newer.send(map[string]any{"type": "answer", "id": "a"})
	newer.until("line_end")
	newer.send(map[string]any{"type": "say", "id": "s", "text": "sorry, here is a refund"})
	newer.until("end")
}

func TestReconnectReplaysWhatWasMissedAndReplaces(t *testing.T) {
	synctest.Test(t, testReconnectReplaysWhatWasMissedAndReplaces)
}

func testReconnectReplaysWhatWasMissedAndReplaces(t *testing.T) {
	ts := newMemTestServer(t, Options{})
	r, c := ts.answered(t, `{"scenario":"live"}`)
	w := c.until("word")

	// A second connection with after=seq replaces the first (close 4000) and resumes.
	d := ts.dial(t, r.WS+"&after="+itoa(w.Seq), nil)
	assert.Equal(t, protocol.CloseReplaced, c.closeCode())
	d.until("line_end")
	d.checkSeqs(w.Seq + 1) // resumes right after the last seen seq, with no gap
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, m := range d.all {
		if m.Type == "word" {
			assert.Equal(t, w.Index+1, m.Index, "the next word, not one seen before")
			break
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestUpgradeRefusals(t *testing.T) {
	ts := newTestServer(t, Options{})
	r := ts.start(t, `{"scenario":"live"}`)
	good := r.WS
	cases := []struct {
		name   string
		path   string
		origin string
		status int
		code   string
	}{
		{"foreign origin", good, "https://evil.example", http.StatusForbidden, protocol.CodeBadOrigin},
		{"no token", "/ws/calls/" + r.ID, "", http.StatusUnauthorized, protocol.CodeUnauthorized},
		{"wrong token", "/ws/calls/" + r.ID + "?token=nope", "", http.StatusUnauthorized, protocol.CodeUnauthorized},
		{"unknown call", "/ws/calls/nope?token=" + r.Token, "", http.StatusNotFound, protocol.CodeUnknownCall},
		{"bad after", good + "&after=-3", "", http.StatusBadRequest, protocol.CodeBadRequest},
	}
	for _, tc := range cases {
		hdr := http.Header{}
		if tc.origin != "" {
			hdr.Set("Origin", tc.origin)
		}
		_, resp, err := ts.dialer.Dial(ts.wsURL(tc.path), hdr)
		require.Error(t, err, tc.name)
		require.NotNil(t, resp, tc.name)
		assert.Equal(t, tc.status, resp.StatusCode, tc.name)
		var e APIError
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&e), tc.name)
		assert.Equal(t, tc.code, e.Error.Code, tc.name)
		resp.Body.Close()
	}
	// A plain GET is not an upgrade.
	resp, err := ts.client.Get(ts.url + good)
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	resp.Body.Close()
	// The same origin is allowed.
	hdr := http.Header{"Origin": {ts.url}}
	c := ts.dial(t, good, hdr)
	c.until("ring")
}

func TestConfiguredOrigins(t *testing.T) {
	ts := newTestServer(t, Options{Origins: []string{"https://training.example"}})
	r := ts.start(t, `{"scenario":"live"}`)
	_, resp, err := ts.dialer.Dial(ts.wsURL(r.WS), http.Header{"Origin": {ts.url}})
	require.Error(t, err)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "only the configured origins")
	c := ts.dial(t, r.WS, http.Header{"Origin": {"https://training.example"}})
	c.until("ring")

	_, err = New(Options{Origins: []string{"training.example"}})
	assert.ErrorContains(t, err, "scheme://host")
}

func TestHTTPAPIErrors(t *testing.T) {
	ts := newTestServer(t, Options{})
	post := func(ct, body string, hdr map[string]string) (*http.Response, APIError) {
		req, _ := http.NewRequest(http.MethodPost, ts.url+"/api/calls", strings.NewReader(body))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := ts.client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var e APIError
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return resp, e
	}
	cases := []struct {
		name, ct, body string
		hdr            map[string]string
		status         int
		code           string
	}{
		{"unknown scenario", "application/json", `{"scenario":"lve"}`, nil, 404, protocol.CodeUnknownScenario},
		{"not JSON", "application/json", `{"scenario":`, nil, 400, protocol.CodeBadJSON},
		{"wrong media type", "text/plain", `{"scenario":"live"}`, nil, 415, protocol.CodeMediaType},
		{"too big", "application/json", `{"scenario":"live","trainee":"` + strings.Repeat("a", maxBodyBytes) + `"}`, nil, 413, protocol.CodeTooLarge},
		{"long name", "application/json", `{"scenario":"live","trainee":"` + strings.Repeat("é", 65) + `"}`, nil, 400, protocol.CodeBadJSON},
		{"foreign origin", "application/json", `{"scenario":"live"}`, map[string]string{"Origin": "https://evil.example"}, 403, protocol.CodeBadOrigin},
	}
	for _, tc := range cases {
		resp, e := post(tc.ct, tc.body, tc.hdr)
		assert.Equal(t, tc.status, resp.StatusCode, tc.name)
		assert.Equal(t, tc.code, e.Error.Code, tc.name)
		assert.NotEmpty(t, e.Error.Message, tc.name)
	}
	_, e := post("application/json", `{"scenario":"lve"}`, nil)
	assert.Contains(t, e.Error.Message, `did you mean "live"?`)

	resp, err := ts.client.Get(ts.url + "/api/calls")
	require.NoError(t, err)
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.Equal(t, "POST", resp.Header.Get("Allow"))
	resp.Body.Close()
	resp, err = ts.client.Get(ts.url + "/api/nothing")
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp.Body.Close()
}

func TestScenarioListHealthAndStaticHeaders(t *testing.T) {
	ts := newTestServer(t, Options{})
	resp, err := ts.client.Get(ts.url + "/api/scenarios")
	require.NoError(t, err)
	var list []scenarioInfo
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&list))
	resp.Body.Close()
	require.Len(t, list, 1)
	assert.Equal(t, scenarioInfo{ID: "live", Title: "Live test call", Brief: "A short call used by the server's tests.",
		Lesson: "Answer fast, let the customer finish, offer the refund.", Persona: personaInfo{Name: "Pat", WPM: 300},
		Suggestions: engine.SuggestAlways, SuggestionModes: []engine.SuggestionMode{engine.SuggestNever, engine.SuggestOnRequest, engine.SuggestAlways}}, list[0])

	for _, p := range []string{"/livez", "/readyz", "/healthz"} {
		resp, err := ts.client.Get(ts.url + p)
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode, p)
		resp.Body.Close()
	}
	resp, err = ts.client.Get(ts.url + "/")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(body), `<script src="/app.js" defer></script>`)
	assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "script-src 'self'")
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
}

func TestShutdownClosesLiveCallsWith1001(t *testing.T) {
	synctest.Test(t, testShutdownClosesLiveCallsWith1001)
}

func testShutdownClosesLiveCallsWith1001(t *testing.T) {
	j := journal.NewMemory()
	ts := newMemTestServer(t, Options{Journal: j})
	r, c := ts.answered(t, `{"scenario":"live"}`)
	c.until("trainee")
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	require.NoError(t, ts.Shutdown(ctx))
	assert.Equal(t, websocket.CloseGoingAway, c.closeCode())
	resp, err := ts.client.Get(ts.url + "/readyz")
	require.NoError(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	resp.Body.Close()
	// The answer was journaled before it was acknowledged.
	_, entries, _, err := j.Load(ctx, r.ID)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, "a", entries[0].ClientID)
}

func TestOneStepIsOneWebsocketMessage(t *testing.T) {
	synctest.Test(t, testOneStepIsOneWebsocketMessage)
}

func testOneStepIsOneWebsocketMessage(t *testing.T) {
	ts := newMemTestServer(t, Options{})
	r := ts.start(t, `{"scenario":"live"}`)
	ws, resp, err := ts.dialer.Dial(ts.wsURL(r.WS), nil)
	require.NoError(t, err)
	resp.Body.Close()
	defer ws.Close()
	_, ring, err := ws.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, 1, bytes.Count(ring, []byte(`"seq"`)), "the ring is a step of its own: %s", ring)
	require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"answer","id":"a"}`)))
	_, data, err := ws.ReadMessage()
	require.NoError(t, err)
	var types []string
	for _, line := range bytes.Split(data, []byte("\n")) {
		var m srvMsg
		require.NoError(t, json.Unmarshal(line, &m), "each line is one JSON message: %q", line)
		types = append(types, m.Type)
	}
	assert.Equal(t, []string{"trainee", "line_start", "word"}, types,
		"the answer's acknowledgement, the line and its first word arrive in one write (the choices wait for the line's end)")
}

// failingJournal is a journal whose appends fail (like a full disk) while failing is set.
type failingJournal struct {
	*journal.Memory
	mu      sync.Mutex
	failing bool
}

func (f *failingJournal) setFailing(v bool) {
	f.mu.Lock()
	f.failing = v
	f.mu.Unlock()
}

func (f *failingJournal) Append(ctx context.Context, id string, e journal.Entry) error {
	f.mu.Lock()
	failing := f.failing
	f.mu.Unlock()
	if failing {
		return errors.New("write journal.db-wal: no space left on device")
	}
	return f.Memory.Append(ctx, id, e)
}

// WritesRefused says the journal refuses writes while failing is set (sqlitejournal.DB's).
func (f *failingJournal) WritesRefused() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failing {
		return errors.New("the journal's log could not be written: no space left on device")
	}
	return nil
}

// TestHealthzSaysWhenTheJournalRefusesWrites: a journal that still answers reads but
// refuses writes (a full disk) makes /healthz 503 until it takes them again.
func TestHealthzSaysWhenTheJournalRefusesWrites(t *testing.T) {
	j := &failingJournal{Memory: journal.NewMemory()}
	ts := newTestServer(t, Options{Journal: j})
	health := func() (int, string) {
		resp, err := ts.client.Get(ts.url + "/healthz")
		require.NoError(t, err)
		defer resp.Body.Close()
		var body struct{ Status string }
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		return resp.StatusCode, body.Status
	}
	code, status := health()
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok", status)
	j.setFailing(true)
	code, status = health()
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "journal refusing writes", status)
	j.setFailing(false)
	code, _ = health()
	assert.Equal(t, http.StatusOK, code, "healthy again once it takes writes")
}

func TestAWriteErrorRefusesTheInputAndLosesNothing(t *testing.T) {
	synctest.Test(t, testAWriteErrorRefusesTheInputAndLosesNothing)
}

func testAWriteErrorRefusesTheInputAndLosesNothing(t *testing.T) {
	j := &failingJournal{Memory: journal.NewMemory()}
	ts := newMemTestServer(t, Options{Journal: j})
	r, c := ts.answered(t, `{"scenario":"live"}`)
	c.until("line_end")

	j.setFailing(true)
	c.send(map[string]any{"type": "say", "id": "s", "text": "I'm sorry, here is a refund."})
	e := c.until("error")
	assert.Equal(t, protocol.CodeStorage, e.Code, "a clear error")
	assert.Equal(t, "s", e.ID)
	assert.Empty(t, c.quiet(200*time.Millisecond), "nothing unrecorded is shown")

	// The disk has room again: the retry goes through, once, and the call goes on.
	j.setFailing(false)
	c.send(map[string]any{"type": "say", "id": "s", "text": "I'm sorry, here is a refund."})
	tr := c.until("trainee")
	assert.Equal(t, "s", tr.ID)
	assert.Equal(t, "refunded", c.until("end").Ending)
	assert.Equal(t, []string{"a", "s"}, journaledIDs(t, j, r.ID), "the journal holds each accepted input once")
	c.checkSeqs(1)
}

// journaledIDs returns the client ids of the entries j holds for call id, in order.
func journaledIDs(t *testing.T, j journal.Journal, id string) []string {
	t.Helper()
	_, entries, _, err := j.Load(context.Background(), id)
	require.NoError(t, err)
	var ids []string
	for _, en := range entries {
		ids = append(ids, en.ClientID)
	}
	return ids
}

// startingJournal is a journal.Starter over the memory journal: StartAppend tells started
// the entry's client id and returns a wait that holds until released (or gateWait at most,
// then noting that it was not released) and then appends, or fails while failing is set.
type startingJournal struct {
	*journal.Memory
	started  chan string
	release  chan struct{}
	failing  atomic.Bool
	timedOut atomic.Bool
	idle     bool // Starts reports false: StartAppend must not be called
}

func (j *startingJournal) Starts() bool { return !j.idle }

func (j *startingJournal) StartAppend(ctx context.Context, id string, e journal.Entry) func() error {
	j.started <- e.ClientID
	return func() error {
		select {
		case <-j.release:
		case <-time.After(gateWait):
			j.timedOut.Store(true)
		}
		if j.failing.Load() {
			return errors.New("sync journal.log: input/output error")
		}
		return j.Memory.Append(ctx, id, e)
	}
}

func TestAStartedAppendHoldsTheReplyUntilItIsDurable(t *testing.T) {
	synctest.Test(t, testAStartedAppendHoldsTheReplyUntilItIsDurable)
}

// testAStartedAppendHoldsTheReplyUntilItIsDurable: with a journal that starts appends
// before the engine's step (journal.Starter), an input the engine takes is started, its
// reply is sent only once the append's wait has returned, and an input the engine refuses
// is never started.
func testAStartedAppendHoldsTheReplyUntilItIsDurable(t *testing.T) {
	j := &startingJournal{Memory: journal.NewMemory(), started: make(chan string, 4), release: make(chan struct{}, 4)}
	ts := newMemTestServer(t, Options{Journal: j})
	j.release <- struct{}{} // the answer
	r, c := ts.answered(t, `{"scenario":"live"}`)
	require.Equal(t, "a", <-j.started)
	c.until("line_end")

	c.send(map[string]any{"type": "say", "id": "s", "text": "   "})
	e := c.until("error")
	assert.Equal(t, "s", e.ID, "an empty say is refused")
	select {
	case id := <-j.started:
		t.Fatalf("the refused say %q was started", id)
	default:
	}

	c.send(map[string]any{"type": "say", "id": "s2", "text": "here is a refund"})
	require.Equal(t, "s2", <-j.started)
	assert.Empty(t, c.quiet(gateWait/2), "nothing of the reply before the append is durable")
	j.release <- struct{}{}
	tr := c.until("trainee")
	assert.Equal(t, "s2", tr.ID)
	assert.Equal(t, "Thank", c.until("word").Text)
	assert.False(t, j.timedOut.Load(), "the reply came once the wait was released")
	assert.Equal(t, []string{"a", "s2"}, journaledIDs(t, j, r.ID))
}

func TestAJournalThatStartsNothingIsAppendedAfterTheStep(t *testing.T) {
	synctest.Test(t, testAJournalThatStartsNothingIsAppendedAfterTheStep)
}

// testAJournalThatStartsNothingIsAppendedAfterTheStep: a journal.Starter whose Starts is
// false (the SQLite journal with its log on tmpfs) is never asked to start an append, and
// every input is journaled by Append after the engine's step, before its reply.
func testAJournalThatStartsNothingIsAppendedAfterTheStep(t *testing.T) {
	j := &startingJournal{Memory: journal.NewMemory(), started: make(chan string, 4), release: make(chan struct{}, 4), idle: true}
	ts := newMemTestServer(t, Options{Journal: j})
	r, c := ts.answered(t, `{"scenario":"live"}`)
	c.until("line_end")
	c.send(map[string]any{"type": "say", "id": "s2", "text": "here is a refund"})
	assert.Equal(t, "s2", c.until("trainee").ID)
	assert.Equal(t, "Thank", c.until("word").Text)
	select {
	case id := <-j.started:
		t.Fatalf("StartAppend was called for %q on a journal that starts nothing", id)
	default:
	}
	assert.Equal(t, []string{"a", "s2"}, journaledIDs(t, j, r.ID))
}

func TestAFailedStartedAppendShowsNothing(t *testing.T) {
	synctest.Test(t, testAFailedStartedAppendShowsNothing)
}

// testAFailedStartedAppendShowsNothing: when a started append fails, the input is refused
// with a storage error, nothing it caused is shown, and the same input retried goes
// through once the journal works again.
func testAFailedStartedAppendShowsNothing(t *testing.T) {
	j := &startingJournal{Memory: journal.NewMemory(), started: make(chan string, 4), release: make(chan struct{}, 4)}
	ts := newMemTestServer(t, Options{Journal: j})
	j.release <- struct{}{}
	r, c := ts.answered(t, `{"scenario":"live"}`)
	<-j.started
	c.until("line_end")

	j.failing.Store(true)
	j.release <- struct{}{}
	c.send(map[string]any{"type": "say", "id": "s", "text": "I'm sorry, here is a refund."})
	<-j.started
	e := c.until("error")
	assert.Equal(t, protocol.CodeStorage, e.Code)
	assert.Equal(t, "s", e.ID)
	assert.Empty(t, c.quiet(200*time.Millisecond), "nothing unrecorded is shown")

	j.failing.Store(false)
	j.release <- struct{}{}
	c.send(map[string]any{"type": "say", "id": "s", "text": "I'm sorry, here is a refund."})
	<-j.started
	assert.Equal(t, "s", c.until("trainee").ID)
	assert.Equal(t, "refunded", c.until("end").Ending)
	_, entries, _, err := j.Load(context.Background(), r.ID)
	require.NoError(t, err)
	assert.Len(t, entries, 2, "the answer and the say, once")
	c.checkSeqs(1)
}

// gatedJournal holds each Finish until released (or for gateWait at most, then noting
// that it was not released), telling finishing when one begins.
type gatedJournal struct {
	*journal.Memory
	finishing chan string
	release   chan struct{}
	timedOut  atomic.Bool
}

// gateWait bounds a gated Finish: less than any timer of the live test scenario, so that
// no call wakes (and waits for the call's lock, which synctest cannot see past) meanwhile.
const gateWait = 100 * time.Millisecond

func (j *gatedJournal) Finish(ctx context.Context, id string, r journal.Result) error {
	j.finishing <- id
	select {
	case <-j.release:
	case <-time.After(gateWait):
		j.timedOut.Store(true)
	}
	return j.Memory.Finish(ctx, id, r)
}

func TestTheEndingReplyIsNotHeldForTheResult(t *testing.T) {
	synctest.Test(t, testTheEndingReplyIsNotHeldForTheResult)
}

// testTheEndingReplyIsNotHeldForTheResult: the say that ends the call is committed, and
// the customer's reply to it (the closing line's first word) goes out while the result's
// own commit is still under way, not after it.
func testTheEndingReplyIsNotHeldForTheResult(t *testing.T) {
	j := &gatedJournal{Memory: journal.NewMemory(), finishing: make(chan string, 1), release: make(chan struct{})}
	ts := newMemTestServer(t, Options{Journal: j})
	r, c := ts.answered(t, `{"scenario":"live"}`)
	c.until("line_end")
	said := time.Now()
	c.send(map[string]any{"type": "say", "id": "s", "text": "here is a refund"})
	line := c.until("line_start")
	require.Equal(t, "refunded", line.Node)
	first := c.until("word")
	assert.Equal(t, "Thank", first.Text)
	assert.Zero(t, time.Since(said), "the reply came at once (synctest's clock)")
	select {
	case id := <-j.finishing:
		assert.Equal(t, r.ID, id)
	case <-time.After(waitFor):
		t.Fatal("the result was not recorded")
	}
	close(j.release)
	assert.False(t, j.timedOut.Load(), "the first word arrived while the result's commit was held")
	end := c.until("end")
	assert.Equal(t, "resolved", end.Outcome)
	_, _, res, err := j.Memory.Load(context.Background(), r.ID)
	require.NoError(t, err)
	require.NotNil(t, res, "the result is recorded")
	assert.Equal(t, "resolved", res.End.Outcome)
}
