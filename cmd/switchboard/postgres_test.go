package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/web/storage/pgjournal"
	"github.com/switchboard-sim/switchboard/web/storage/pgjournal/pgtest"
)

// TestServeOnPostgres: two `switchboard serve` processes share one PostgreSQL database
// (--database through its environment twin), each with its own data folder. A trainee
// takes a call on A over the documented protocol; B forwards a reconnect to A while A
// lives (TestServeForwardsToTheLiveOwner). A is killed with kill -9 right after the greeting; the trainee's
// reconnects to B are refused (503 owned_elsewhere: A's lease lives but A does not answer)
// and succeed once A's lease has expired, and the call is finished on B: the
// journal holds every input once. Then B is stopped with SIGTERM holding a call, and
// releases its lease (draining).
func TestServeOnPostgres(t *testing.T) {
	dbURL := pgtest.Schema(t)
	scen := liveScenarioDir(t)
	env := []string{"SWITCHBOARD_DATABASE=" + dbURL, "SWITCHBOARD_LEASE_TTL=2s"}
	a := startServe(t, env, "--data", t.TempDir(), "--scenarios", scen)
	b := startServe(t, env, "--data", t.TempDir(), "--scenarios", scen)
	a.waitLog("open_calls_recovered=0")
	assert.Contains(t, a.logs(), pgjournal.Redact(dbURL), "the log says where the journal is")
	assert.Contains(t, a.logs(), "call ownership")

	call := startCall(t, a.url, `{"scenario":"live","trainee":"Kim"}`)
	c := dialCall(t, a.url, call.WS, 0)
	c.until("ring", "")
	c.send(`{"type":"answer","id":"a1"}`)
	c.until("trainee", "")
	c.until("line_end", "greet")
	before := c.got
	status, body := tryDial(t, b.url, call.WS)
	assert.Equal(t, http.StatusSwitchingProtocols, status, "B forwards to A, which owns the call: %s", body)

	require.NoError(t, a.cmd.Process.Signal(syscall.SIGKILL))
	<-a.done
	killed := time.Now()
	for {
		status, body = tryDial(t, b.url, call.WS)
		if status == http.StatusSwitchingProtocols {
			break
		}
		require.Equal(t, http.StatusServiceUnavailable, status, body)
		require.Less(t, time.Since(killed), 20*time.Second, "B never took the call over")
		time.Sleep(100 * time.Millisecond) // a browser's reconnect backoff
	}
	t.Logf("B took the call over %v after A was killed (lease TTL 2s)", time.Since(killed).Round(time.Millisecond))
	c2 := dialCall(t, b.url, call.WS, before[len(before)-1].Seq)
	c2.until("line_start", "nudge")
	c2.send(`{"type":"say","id":"s1","text":"I am sorry, you will get a refund."}`)
	c2.send(`{"type":"say","id":"s1","text":"I am sorry, you will get a refund."}`) // a retry
	assert.Equal(t, "refunded", c2.until("end", "").Ending)
	assert.Equal(t, websocket.CloseNormalClosure, c2.closeCode())

	// The journal in PostgreSQL holds the whole call once: answer, say (the retry applied
	// once), and its result.
	db, err := pgjournal.Open(context.Background(), dbURL)
	require.NoError(t, err)
	defer db.Close()
	got, entries, res, err := db.Load(context.Background(), call.ID)
	require.NoError(t, err)
	assert.Equal(t, "Kim", got.Trainee)
	require.NotNil(t, res, "the call is finished in the database")
	assert.Equal(t, "refunded", res.End.Ending)
	ids := map[string]int{}
	for _, e := range entries {
		if e.ClientID != "" {
			ids[e.ClientID]++
		}
	}
	assert.Equal(t, map[string]int{"a1": 1, "s1": 1}, ids)

	// The records commands read the same database (--database through its environment
	// twin; no data folder needed).
	var out, errb strings.Builder
	code := run(&cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string {
		if k == "SWITCHBOARD_DATABASE" {
			return dbURL
		}
		return ""
	}}, []string{"report", "--data", t.TempDir(), call.ID})
	require.Equal(t, 0, code, errb.String())
	assert.Contains(t, out.String(), "refund", "switchboard report prints the call's debrief from PostgreSQL")

	// Draining: SIGTERM with a live call releases its lease.
	other := startCall(t, b.url, `{"scenario":"live"}`)
	c3 := dialCall(t, b.url, other.WS, 0)
	c3.until("ring", "")
	assert.Equal(t, 0, b.stop(syscall.SIGTERM), b.logs())
	assert.Equal(t, websocket.CloseGoingAway, c3.closeCode())
	assert.Contains(t, b.logs(), "released call leases")
	unowned, err := db.Unowned(context.Background(), time.Now(), 0)
	require.NoError(t, err)
	assert.Equal(t, []string{other.ID}, unowned, "the drained call is free for the others at once")
}

// tryDial opens a websocket to path and returns the HTTP status (101 when it opened) and
// the body of a refusal.
func tryDial(t *testing.T, base, path string) (int, string) {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+path+"&after=0", nil)
	if err == nil {
		ws.Close()
		return resp.StatusCode, ""
	}
	require.NotNil(t, resp, "dial: %v", err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestServeDatabaseErrors: a wrong or unreachable --database is a clear error, never a
// crash, and never shows the password.
func TestServeDatabaseErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		database string
		code     int
		want     string
	}{
		{"not postgres", "mysql://root:secret@localhost/db", 2, "want a PostgreSQL URL"},
		{"a file name", "switchboard.db", 2, "want a PostgreSQL URL"},
		{"unparsable", "postgres://u:secret@[::1", 2, "bad PostgreSQL URL"},
		{"bad option", "postgres://u:secret@127.0.0.1/db?sslmode=sometimes", 2, "bad PostgreSQL URL"},
		{"nobody listening", "postgres://u:secret@127.0.0.1:1/db?connect_timeout=5", 1, "cannot connect to PostgreSQL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb strings.Builder
			begin := time.Now()
			code := run(&cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb,
				getenv: func(k string) string {
					if k == "SWITCHBOARD_DATABASE" {
						return tc.database
					}
					return ""
				}}, []string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir()})
			assert.Equal(t, tc.code, code, errb.String())
			assert.Contains(t, errb.String(), "switchboard serve: --database")
			assert.Contains(t, errb.String(), tc.want)
			assert.NotContains(t, errb.String(), ":secret@", "the password never shows")
			assert.Less(t, time.Since(begin), 15*time.Second)
		})
	}
}
