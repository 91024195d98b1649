package main

import (
	"context"
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

// TestServeOnPostgres takes a call over the documented protocol on a server whose journal
// is in PostgreSQL (--database through its environment twin), kills the server with
// kill -9 mid-call, and finishes the call on a new server that shares nothing with the
// first but the database (another data folder): the call's record lives in PostgreSQL.
func TestServeOnPostgres(t *testing.T) {
	dbURL := pgtest.Schema(t)
	scen := liveScenarioDir(t)
	env := []string{"SWITCHBOARD_DATABASE=" + dbURL}
	p := startServe(t, env, "--data", t.TempDir(), "--scenarios", scen)
	call := startCall(t, p.url, `{"scenario":"live","trainee":"Kim"}`)
	c := dialCall(t, p.url, call.WS, 0)
	c.until("ring", "")
	c.send(`{"type":"answer","id":"a1"}`)
	c.until("trainee", "")
	c.until("line_end", "greet")
	before := c.got
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
	<-p.done

	p2 := startServe(t, env, "--data", t.TempDir(), "--scenarios", scen)
	p2.waitLog("open_calls_recovered=1")
	assert.Contains(t, p2.logs(), pgjournal.Redact(dbURL), "the log says where the journal is")
	c2 := dialCall(t, p2.url, call.WS, before[len(before)-1].Seq)
	c2.until("line_start", "nudge")
	c2.send(`{"type":"say","id":"s1","text":"I am sorry, you will get a refund."}`)
	c2.send(`{"type":"say","id":"s1","text":"I am sorry, you will get a refund."}`) // a retry
	assert.Equal(t, "refunded", c2.until("end", "").Ending)
	assert.Equal(t, websocket.CloseNormalClosure, c2.closeCode())
	assert.Equal(t, 0, p2.stop(syscall.SIGTERM), p2.logs())

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
