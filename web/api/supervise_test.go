package api

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/debrief"
	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/web/live"
	"github.com/switchboard-sim/switchboard/web/protocol"
)

// superviseServer is a test server that also serves supervisors at /ws/supervise/{id}
// without any access check (the studio checks roles; see web/studio).
func superviseServer(t *testing.T, opts Options) *testServer {
	t.Helper()
	return withSupervisors(newTestServer(t, opts))
}

// withSupervisors makes ts also serve supervisors at /ws/supervise/{id}.
func withSupervisors(ts *testServer) *testServer {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws/supervise/{id}", func(w http.ResponseWriter, r *http.Request) {
		ts.ServeSupervisor(w, r, r.PathValue("id"), "supervisor")
	})
	mux.Handle("/", ts.Handler())
	ts.serve.set(mux)
	return ts
}

// msgsOf returns the recorded messages of type typ.
func (c *client) msgsOf(typ string) []srvMsg {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []srvMsg
	for _, m := range c.all {
		if m.Type == typ {
			out = append(out, m)
		}
	}
	return out
}

// raws returns the raw recorded messages with a seq (errors excluded).
func (c *client) raws() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, m := range c.all {
		if m.Seq > 0 {
			out = append(out, string(m.Raw))
		}
	}
	return out
}

func TestTraineeAndTwoSupervisorsOnOneCall(t *testing.T) {
	synctest.Test(t, testTraineeAndTwoSupervisorsOnOneCall)
}

func testTraineeAndTwoSupervisorsOnOneCall(t *testing.T) {
	jr := journal.NewMemory()
	ts := superviseMemServer(t, Options{Journal: jr})
	// Coach off: the trainee sees no feedback live; supervisors see it all the same.
	r := ts.start(t, `{"scenario":"live","trainee":"Ada","coach":false}`)
	trainee := ts.dial(t, r.WS, nil)
	trainee.until("ring")

	sup1 := ts.dial(t, "/ws/supervise/"+r.ID, nil)
	sup1.until("ring")

	// A supervisor cannot act for the trainee: answering is refused, the call still rings.
	sup1.send(map[string]any{"type": "answer", "id": "s-a"})
	refused := sup1.until("error")
	assert.Equal(t, protocol.CodeNotAllowed, refused.Code)
	assert.Equal(t, "s-a", refused.ID)
	assert.Contains(t, refused.Message, "only the trainee's connection")
	for _, typ := range []string{"say", "choose", "hangup", "typing", "hint"} {
		sup1.send(map[string]any{"type": typ, "id": "s-" + typ, "text": "refund", "index": 0})
		e := sup1.until("error")
		assert.Equal(t, protocol.CodeNotAllowed, e.Code, "a supervisor's %s is refused", typ)
	}

	trainee.send(map[string]any{"type": "answer", "id": "a1"})
	ack := trainee.until("trainee")
	assert.Equal(t, "a1", ack.ID, "the trainee's connection still acts: it was never replaced")
	sup1.until("line_end")
	trainee.until("line_end")

	// A trainee cannot whisper.
	trainee.send(map[string]any{"type": "whisper", "id": "t-w", "text": "hello me"})
	tw := trainee.until("error")
	assert.Equal(t, protocol.CodeNotAllowed, tw.Code)

	sup1.send(map[string]any{"type": "whisper", "id": "w1", "text": "offer the refund"})
	w1 := sup1.until("whisper")
	assert.Equal(t, "w1", w1.ID, "the whisperer sees its id on its whisper")
	assert.Equal(t, "offer the refund", w1.Text)
	tw1 := trainee.until("whisper")
	assert.Equal(t, "offer the refund", tw1.Text)
	assert.Empty(t, tw1.ID, "the trainee does not see the supervisor's ids")
	// A retried whisper (same id) is recorded once.
	sup1.send(map[string]any{"type": "whisper", "id": "w1", "text": "offer the refund"})

	// A second supervisor joins late and catches up with exactly what the first saw.
	sup2 := ts.dial(t, "/ws/supervise/"+r.ID, nil)
	late := sup2.until("whisper")
	assert.Equal(t, "w1", late.ID)
	sup2.send(map[string]any{"type": "whisper", "id": "w2", "text": "smile"})
	assert.Equal(t, "w2", sup1.until("whisper").ID, "other supervisors see a whisper")
	assert.Equal(t, "smile", trainee.until("whisper").Text)

	trainee.send(map[string]any{"type": "choose", "id": "c1", "index": 0})
	for _, s := range []*client{sup1, sup2} {
		fb := s.until("feedback")
		assert.Equal(t, "apology", fb.Rule, "supervisors see rules fire whatever the coach setting")
		s.until("score")
		s.until("end")
		assert.Equal(t, websocket.CloseNormalClosure, s.closeCode())
		s.checkSeqs(1)
	}
	trainee.until("end")
	assert.Equal(t, websocket.CloseNormalClosure, trainee.closeCode(), "closed by the end, not replaced")
	trainee.checkSeqs(1)
	assert.Empty(t, trainee.msgsOf("feedback"), "the coach filter still applies to the trainee")
	assert.Empty(t, trainee.msgsOf("score"))
	assert.Len(t, trainee.msgsOf("whisper"), 2)
	assert.Equal(t, sup1.raws(), sup2.raws(), "both supervisors saw the same projection")
	assert.Len(t, sup1.msgsOf("whisper"), 2, "the retried whisper was applied once")

	// The record has the whispers (client ids kept apart from the trainee's).
	_, entries, res, err := jr.Load(context.Background(), r.ID)
	require.NoError(t, err)
	require.NotNil(t, res)
	var whispers []journal.Entry
	for _, e := range entries {
		if e.Event.Type == engine.EventWhisper {
			whispers = append(whispers, e)
		}
	}
	require.Len(t, whispers, 2)
	assert.Equal(t, "whisper:w1", whispers[0].ClientID)
	assert.Equal(t, "offer the refund", whispers[0].Event.Text)

	// The debrief shows them as coaching.
	resp, err := ts.client.Get(ts.url + "/api/calls/" + r.ID + "/debrief?token=" + r.Token)
	require.NoError(t, err)
	defer resp.Body.Close()
	var rec debrief.Record
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&rec))
	require.Len(t, rec.Coached, 2)
	assert.Equal(t, "offer the refund", rec.Coached[0].Text)

	// The token may come in an Authorization header instead, kept out of the URL; a
	// wrong one is refused either way.
	for _, c := range []struct {
		auth string
		want int
	}{{"Bearer " + r.Token, http.StatusOK}, {"bearer " + r.Token, http.StatusOK}, {"Bearer wrong", http.StatusUnauthorized}, {"", http.StatusUnauthorized}} {
		req, err := http.NewRequest("GET", ts.url+"/api/calls/"+r.ID+"/debrief", nil)
		require.NoError(t, err)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := ts.client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, c.want, resp.StatusCode, c.auth)
	}
}

func TestSupervisorRefusals(t *testing.T) { synctest.Test(t, testSupervisorRefusals) }

func testSupervisorRefusals(t *testing.T) {
	ts := superviseMemServer(t, Options{})
	r := ts.start(t, `{"scenario":"live"}`)
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/ws/supervise/nope", http.StatusNotFound},
		{"/ws/supervise/" + r.ID + "?after=-1", http.StatusBadRequest},
	} {
		_, resp, err := ts.dialer.Dial(ts.wsURL(tc.path), nil)
		require.Error(t, err, tc.path)
		require.NotNil(t, resp, tc.path)
		assert.Equal(t, tc.status, resp.StatusCode, tc.path)
		resp.Body.Close()
	}
	// The trainee's token does not make a supervisor, nor a supervisor a trainee: the
	// trainee's endpoint still wants the call token.
	_, resp, err := ts.dialer.Dial(ts.wsURL("/ws/calls/"+r.ID), nil)
	require.Error(t, err)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	resp.Body.Close()
}

func TestTheTraineeIsReplacedOnlyByTheTrainee(t *testing.T) {
	synctest.Test(t, testTheTraineeIsReplacedOnlyByTheTrainee)
}

func testTheTraineeIsReplacedOnlyByTheTrainee(t *testing.T) {
	ts := superviseMemServer(t, Options{})
	r := ts.start(t, `{"scenario":"live"}`)
	trainee := ts.dial(t, r.WS, nil)
	trainee.until("ring")
	sup := ts.dial(t, "/ws/supervise/"+r.ID, nil)
	sup.until("ring")
	again := ts.dial(t, r.WS, nil)
	assert.Equal(t, protocol.CloseReplaced, trainee.closeCode(), "the trainee's own reconnect replaces")
	again.until("ring")
	again.send(map[string]any{"type": "answer", "id": "a"})
	again.until("trainee")
	ack := sup.until("trainee")
	assert.Equal(t, "answer", ack.Event, "the supervisor kept listening through the reconnect")
}

func TestFloorListsLiveCallsWithAlerts(t *testing.T) {
	synctest.Test(t, testFloorListsLiveCallsWithAlerts)
}

func testFloorListsLiveCallsWithAlerts(t *testing.T) {
	ts := superviseMemServer(t, Options{})
	r := ts.start(t, `{"scenario":"live","trainee":"Ada"}`)
	trainee := ts.dial(t, r.WS, nil)
	trainee.until("ring")
	var fc live.FloorCall
	require.Eventually(t, func() bool {
		fl := ts.Floor().Board(time.Now(), nil)
		if len(fl) != 1 || !fl[0].Connected {
			return false
		}
		fc = fl[0]
		return true
	}, waitFor, 10*time.Millisecond)
	assert.Equal(t, r.ID, fc.ID)
	assert.Equal(t, "Ada", fc.Trainee)
	assert.Equal(t, "live", fc.ScenarioID)
	assert.Equal(t, "ring", fc.Node)
	require.NotNil(t, fc.TimerIn, "the ringing phone's 20 s timer")
	assert.Equal(t, []string{}, fc.Alerts)

	// Seen later (a fake "now"), the same call is silent, its timer is close.
	later := fc.Started.Add(live.FloorSilence + 2*time.Second)
	fl := ts.Floor().Board(later, nil)
	require.Len(t, fl, 1)
	assert.Contains(t, fl[0].Alerts, "silence")
	assert.Contains(t, fl[0].Alerts, "timer")
	assert.GreaterOrEqual(t, fl[0].Elapsed, (live.FloorSilence + 2*time.Second).Milliseconds())

	trainee.send(map[string]any{"type": "answer", "id": "a"})
	trainee.until("line_end")
	trainee.send(map[string]any{"type": "choose", "id": "c", "index": 0})
	// The customer says a last line before the end: the board shows the watched rule then.
	require.Eventually(t, func() bool {
		fl := ts.Floor().Board(time.Now(), []string{"apology"})
		return len(fl) == 1 && len(fl[0].Fired) > 0
	}, waitFor, 5*time.Millisecond)
	fl = ts.Floor().Board(time.Now(), []string{"apology"})
	assert.Equal(t, []string{"rule:apology"}, fl[0].Alerts, "a watched rule fired")
	assert.Equal(t, []string{"apology"}, fl[0].Fired)
	assert.Equal(t, []string{}, ts.Floor().Board(time.Now(), []string{"other"})[0].Alerts, "an unwatched rule raises nothing")
	trainee.until("end")
	// A trainee's ended call leaves memory once its result is recorded; the board shows
	// it ended, with its outcome, for FloorEndedKeep, then no more.
	require.Eventually(t, func() bool { return ts.LiveCalls() == 0 }, waitFor, 10*time.Millisecond)
	fl = ts.Floor().Board(time.Now(), nil)
	require.Len(t, fl, 1, "the ended call is still on the board")
	assert.True(t, fl[0].Ended)
	assert.Equal(t, "resolved", fl[0].Outcome)
	require.NotNil(t, fl[0].EndedAt)
	assert.Equal(t, []string{}, fl[0].Alerts, "an ended call raises no alert")
	assert.Len(t, ts.Floor().Board(fl[0].EndedAt.Add(live.FloorEndedKeep-time.Second), nil), 1)
	assert.Empty(t, ts.Floor().Board(fl[0].EndedAt.Add(live.FloorEndedKeep), nil), "gone FloorEndedKeep after its end")
	assert.Empty(t, ts.Floor().Board(time.Now(), nil), "and it stays gone")
}

func TestDebugCallsAreOnTheBoardAndCanBeListenedTo(t *testing.T) {
	synctest.Test(t, testDebugCallsAreOnTheBoardAndCanBeListenedTo)
}

func testDebugCallsAreOnTheBoardAndCanBeListenedTo(t *testing.T) {
	ts := superviseMemServer(t, Options{})
	started, err := ts.Floor().StartDebugCall(context.Background(), live.DebugCall{Scenario: loadLive(t)})
	require.NoError(t, err)
	var fc live.FloorCall
	require.Eventually(t, func() bool {
		fl := ts.Floor().Board(time.Now(), nil)
		if len(fl) != 1 {
			return false
		}
		fc = fl[0]
		return true
	}, waitFor, 10*time.Millisecond)
	assert.True(t, fc.Debug, "marked as a debug call")
	assert.Equal(t, started.ID, fc.ID)
	assert.Equal(t, engine.TestTrainee, fc.Trainee)

	designer := ts.dial(t, started.WS, nil)
	designer.until("ring")
	sup := ts.dial(t, "/ws/supervise/"+started.ID, nil)
	sup.until("ring")
	designer.send(map[string]any{"type": "answer", "id": "a"})
	assert.Equal(t, "answer", sup.until("trainee").Event, "the supervisor follows the debug call")
	sup.send(map[string]any{"type": "answer", "id": "x"})
	assert.Equal(t, protocol.CodeNotAllowed, sup.until("error").Code, "and cannot act for the designer")
	designer.send(map[string]any{"type": "hangup", "id": "h"})
	designer.until("end")
	sup.until("end")
	require.Eventually(t, func() bool {
		fl := ts.Floor().Board(time.Now(), nil)
		return len(fl) == 1 && fl[0].Ended && fl[0].EndedAt != nil
	}, waitFor, 10*time.Millisecond)
	fl := ts.Floor().Board(time.Now(), nil)
	assert.Empty(t, ts.Floor().Board(fl[0].EndedAt.Add(live.FloorEndedKeep), nil),
		"an ended debug call leaves the board after FloorEndedKeep though the studio keeps it longer")
}

func TestParseWatch(t *testing.T) {
	assert.Equal(t, []string{"a", "b"}, live.ParseWatch(" a, ,b,"))
	assert.Nil(t, live.ParseWatch(""))
	long := ""
	for range live.MaxWatchRules + 5 {
		long += "r,"
	}
	assert.Len(t, live.ParseWatch(long), live.MaxWatchRules)
}

// A whisper the journal could not save is refused and shown to nobody; the call is rebuilt
// from what was saved, and neither the trainee nor the supervisors get a message twice.
func TestAWhisperThatCannotBeSavedIsShownToNobody(t *testing.T) {
	synctest.Test(t, testAWhisperThatCannotBeSavedIsShownToNobody)
}

func testAWhisperThatCannotBeSavedIsShownToNobody(t *testing.T) {
	j := &failingJournal{Memory: journal.NewMemory()}
	ts := superviseMemServer(t, Options{Journal: j})
	r := ts.start(t, `{"scenario":"live"}`)
	trainee := ts.dial(t, r.WS, nil)
	trainee.until("ring")
	trainee.send(map[string]any{"type": "answer", "id": "a"})
	trainee.until("line_end")
	sup := ts.dial(t, "/ws/supervise/"+r.ID, nil)
	other := ts.dial(t, "/ws/supervise/"+r.ID, nil)
	sup.until("line_end")
	other.until("line_end")

	j.setFailing(true)
	sup.send(map[string]any{"type": "whisper", "id": "w", "text": "apologise"})
	e := sup.until("error")
	assert.Equal(t, protocol.CodeStorage, e.Code)
	assert.Equal(t, "w", e.ID)
	for _, m := range trainee.quiet(200 * time.Millisecond) {
		assert.NotEqual(t, "whisper", m.Type, "the trainee sees nothing unrecorded")
	}
	for _, m := range other.quiet(50 * time.Millisecond) {
		assert.NotEqual(t, "whisper", m.Type, "nor do other supervisors")
	}

	j.setFailing(false)
	sup.send(map[string]any{"type": "whisper", "id": "w", "text": "apologise"})
	assert.Equal(t, "w", sup.until("whisper").ID)
	assert.Equal(t, "apologise", trainee.until("whisper").Text)
	assert.Equal(t, "w", other.until("whisper").ID)
	// Whether or not the greeting's 800 ms timer fired meanwhile, this ends the call.
	trainee.send(map[string]any{"type": "say", "id": "c", "text": "I'm sorry, here is a refund."})
	trainee.until("end")
	for _, c := range []*client{trainee, sup, other} {
		assert.Equal(t, websocket.CloseNormalClosure, c.closeCode())
		c.checkSeqs(1)
	}
	assert.Equal(t, sup.raws(), other.raws())
	_, entries, _, err := j.Load(context.Background(), r.ID)
	require.NoError(t, err)
	var ids []string
	for _, en := range entries {
		if en.ClientID != "" { // not a timer
			ids = append(ids, en.ClientID)
		}
	}
	assert.Equal(t, []string{"a", "whisper:w", "c"}, ids)
}

// TestFloorCountsNoSilenceWhileTheTraineeTypes: typing is talking on the board too (an
// outside supervisor saw every trainee typing a long reply flagged "silence").
func TestFloorCountsNoSilenceWhileTheTraineeTypes(t *testing.T) {
	synctest.Test(t, testFloorCountsNoSilenceWhileTheTraineeTypes)
}

func testFloorCountsNoSilenceWhileTheTraineeTypes(t *testing.T) {
	ts := superviseMemServer(t, Options{})
	r := ts.start(t, `{"scenario":"live","trainee":"Ada"}`)
	trainee := ts.dial(t, r.WS, nil)
	trainee.until("ring")
	trainee.send(map[string]any{"type": "answer", "id": "a"})
	trainee.until("line_end")
	time.Sleep(2 * time.Second)
	trainee.send(map[string]any{"type": "typing", "id": "t"})
	trainee.until("trainee")
	var fc live.FloorCall
	require.Eventually(t, func() bool {
		fl := ts.Floor().Board(time.Now(), nil)
		if len(fl) != 1 || !fl[0].Typing {
			return false
		}
		fc = fl[0]
		return true
	}, waitFor, 10*time.Millisecond)
	assert.False(t, fc.Speaking)
	// Long after the first keystroke, still typing: the silence stopped when typing began.
	fl := ts.Floor().Board(time.Now().Add(live.FloorSilence+5*time.Second), nil)
	require.Len(t, fl, 1)
	assert.True(t, fl[0].Typing)
	assert.NotContains(t, fl[0].Alerts, "silence")
	assert.Positive(t, fl[0].Silence, "the silence from the line's end to the first keystroke")
	assert.LessOrEqual(t, fl[0].Silence, int64(2000))
	later := ts.Floor().Board(time.Now().Add(time.Minute), nil)
	assert.Equal(t, fl[0].Silence, later[0].Silence, "it stops growing while the trainee types")
}
