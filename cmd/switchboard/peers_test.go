package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/web/peers"
	"github.com/switchboard-sim/switchboard/web/storage/pgjournal"
	"github.com/switchboard-sim/switchboard/web/storage/pgjournal/pgtest"
)

// floorCall and floorEvent are what the test reads of GET /api/supervise/floor.
type floorCall struct {
	ID       string `json:"id"`
	Trainee  string `json:"trainee"`
	Instance string `json:"instance"`
	Node     string `json:"node"`
}

type floorEvent struct {
	Instance  string      `json:"instance"`
	Calls     []floorCall `json:"calls"`
	Instances []struct {
		Name  string `json:"name"`
		Calls int    `json:"calls"`
		Error string `json:"error"`
	} `json:"instances"`
}

// readFloor reads base's floor board stream as auth until ok accepts an event (10 s at most).
func readFloor(t *testing.T, base, auth string, ok func(floorEvent) bool) floorEvent {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/api/supervise/floor", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", auth)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	events := make(chan floorEvent)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if d, found := strings.CutPrefix(sc.Text(), "data: "); found {
				var ev floorEvent
				if json.Unmarshal([]byte(d), &ev) == nil {
					events <- ev
				}
			}
		}
	}()
	deadline := time.After(10 * time.Second)
	var last floorEvent
	for {
		select {
		case ev, open := <-events:
			require.True(t, open, "the floor stream closed")
			if ok(ev) {
				return ev
			}
			last = ev
		case <-deadline:
			t.Fatalf("no floor event as expected within 10s; the last: %+v", last)
		}
	}
}

// TestServeForwardsToTheLiveOwner: two `switchboard serve` processes on one PostgreSQL
// database, with the same supervisor secret. A call started on A is taken by a trainee
// whose websocket reaches B: B forwards it to A (the live owner) and the call runs end to
// end. A supervisor signed in on A sees a call B runs on A's board (marked with B's
// instance), listens to it through A, and whispers to its trainee, connected to B, who
// receives the whisper. Requests that claim to come from a peer without the token are
// refused.
func TestServeForwardsToTheLiveOwner(t *testing.T) {
	dbURL := pgtest.Schema(t)
	scen := liveScenarioDir(t)
	const secret = "one-supervisor-secret-for-every-instance"
	env := []string{"SWITCHBOARD_DATABASE=" + dbURL, "SWITCHBOARD_LEASE_TTL=3s", "SWITCHBOARD_SUPERVISOR_SECRET=" + secret}
	a := startServe(t, env, "--data", t.TempDir(), "--scenarios", scen)
	b := startServe(t, env, "--data", t.TempDir(), "--scenarios", scen)
	a.waitLog("advertise_url=" + a.url)
	b.waitLog("advertise_url=" + b.url)
	auth := "Bearer " + secret
	began := time.Now()

	// A trainee of A's call, connected to B.
	call := startCall(t, a.url, `{"scenario":"live","trainee":"Kim"}`)
	c := dialCall(t, b.url, call.WS, 0)
	c.until("ring", "")
	c.send(`{"type":"answer","id":"a1"}`)
	c.until("trainee", "")
	c.until("line_end", "greet")
	c.send(`{"type":"say","id":"s1","text":"I am sorry, here is a refund."}`)
	assert.Equal(t, "refunded", c.until("end", "").Ending)
	assert.Equal(t, websocket.CloseNormalClosure, c.closeCode())
	assert.Contains(t, a.logs(), "call="+call.ID, "A ran the call")
	assert.NotContains(t, b.logs(), "took the call over")
	status, body := tryDial(t, b.url, strings.Replace(call.WS, "token=", "token=x", 1))
	assert.Equal(t, http.StatusUnauthorized, status, "B checks the call's token before forwarding: %s", body)

	// A call B runs, on A's board.
	call2 := startCall(t, b.url, `{"scenario":"live","trainee":"Lee"}`)
	tr := dialCall(t, b.url, call2.WS, 0)
	tr.until("ring", "")
	ev := readFloor(t, a.url, auth, func(ev floorEvent) bool {
		for _, fc := range ev.Calls {
			if fc.ID == call2.ID {
				return true
			}
		}
		return false
	})
	require.Len(t, ev.Instances, 2, "%+v", ev)
	assert.Equal(t, ev.Instance, ev.Instances[0].Name, "A lists itself first")
	bName := ev.Instances[1].Name
	assert.Empty(t, ev.Instances[1].Error)
	for _, fc := range ev.Calls {
		if fc.ID == call2.ID {
			assert.Equal(t, "Lee", fc.Trainee)
			assert.Equal(t, bName, fc.Instance, "marked with B's instance")
		}
	}
	assert.Contains(t, b.logs(), bName)

	// Listening through A, whispering to the trainee on B.
	h := http.Header{"Authorization": {auth}}
	ws, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(a.url, "http")+"/ws/supervise/"+call2.ID, h)
	require.NoError(t, err, "listening through A")
	resp.Body.Close()
	sup := readWS(t, ws)
	sup.until("ring", "")
	tr.send(`{"type":"answer","id":"a1"}`)
	sup.until("trainee", "")
	sup.send(`{"type":"whisper","id":"w-1","text":"Apologise first."}`)
	assert.Equal(t, "Apologise first.", tr.until("whisper", "").Text, "the trainee on B hears the whisper from A")
	assert.Equal(t, "w-1", sup.until("whisper", "").ID, "the supervisor's acknowledgement")
	tr.send(`{"type":"say","id":"s1","text":"So sorry, a refund is on its way."}`)
	assert.Equal(t, "refunded", tr.until("end", "").Ending)
	assert.Equal(t, "refunded", sup.until("end", "").Ending)
	assert.Equal(t, websocket.CloseNormalClosure, sup.closeCode())
	t.Logf("forwarded call, board across instances, listen and whisper: %v", time.Since(began).Round(time.Millisecond))

	// Without the secret, A does not forward a supervisor.
	_, resp, err = websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(a.url, "http")+"/ws/supervise/"+call2.ID, nil)
	require.Error(t, err)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	// A request that claims to come from a peer needs the peers' token; the peers'
	// endpoint is not for people.
	for _, hd := range []http.Header{
		{peers.HeaderForwarded: {"mallory"}, peers.HeaderRole: {"designer"}},
		{peers.HeaderForwarded: {"mallory"}, peers.HeaderToken: {"guessed-token-0123456789"}},
		{},
	} {
		req, _ := http.NewRequest(http.MethodGet, b.url+"/api/peer/board", nil)
		req.Header = hd
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%v", hd)
	}
	// A third instance advertising A's URL (the default on several hosts) is warned about
	// and left out of the board, instead of doubling A's calls there.
	third := startServe(t, env, "--data", t.TempDir(), "--scenarios", scen, "--advertise-url", a.url)
	third.waitLog("another live instance advertises the same URL")
	ev = readFloor(t, a.url, auth, func(floorEvent) bool { return true })
	assert.Len(t, ev.Instances, 2, "C is not asked: %+v", ev.Instances)
	assert.Equal(t, 0, third.stop(syscall.SIGTERM))

	db, err := pgjournal.Open(context.Background(), dbURL)
	require.NoError(t, err)
	defer db.Close()
	insts, err := db.Instances(context.Background(), time.Time{})
	require.NoError(t, err)
	assert.Len(t, insts, 2, "the third instance removed its row when it stopped: %+v", insts)
	token, err := db.Setting(context.Background(), peers.TokenSetting, func() (string, error) { return "", errors.New("no token was made") })
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(token), 32)
	assert.NotContains(t, a.logs()+b.logs(), token, "the token is never logged")
}
