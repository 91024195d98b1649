package xapisend

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/engine/xapi/xapitest"
	"github.com/switchboard-sim/switchboard/web/storage/sqlitejournal"
)

func TestOutboxSurvivesAnLRSThatIsDown(t *testing.T) {
	ctx := context.Background()
	db, err := sqlitejournal.Open(ctx, filepath.Join(t.TempDir(), "j.db"))
	require.NoError(t, err)
	defer db.Close()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	const id = "6f1c0d2e-8a4b-4c3d-9e2f-0a1b2c3d4e5f"
	c, entries, res := xapitest.FixtureCall(id, now.Add(-time.Minute))
	require.NoError(t, db.Create(ctx, c))
	for _, e := range entries {
		require.NoError(t, db.Append(ctx, id, e))
	}
	require.NoError(t, db.Finish(ctx, id, *res))

	lrs := xapitest.New("switchboard", "s3cret")
	srv := httptest.NewServer(lrs)
	defer srv.Close()
	s, err := New(Config{Endpoint: srv.URL + "/xapi/", User: "switchboard", Password: "s3cret", HomePage: "https://sb.example",
		Journal: db, Outbox: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)

	lrs.SetDown(true)
	s.Notify(id)
	assert.Equal(t, 0, s.Round(ctx, now), "the LRS is down: nothing is reported")
	assert.Equal(t, 0, s.Round(ctx, now.Add(time.Second)), "not due again before its pause")
	assert.Equal(t, 1, lrs.Posts())
	// Another sender (here the test) claims it when it is due again.
	due, err := db.Due(ctx, now.Add(firstRetry), 10)
	require.NoError(t, err)
	require.Len(t, due, 1, "the report waits in the outbox")
	assert.Equal(t, 1, due[0].Attempts)
	assert.Contains(t, due[0].LastError, "503")
	assert.Equal(t, 0, s.Round(ctx, now.Add(firstRetry)), "claimed by the other sender")

	lrs.SetDown(false)
	assert.Equal(t, 1, s.Round(ctx, now.Add(firstRetry+journal.OutboxClaim)), "sent once the LRS is back and the other's claim lapsed")
	assert.Empty(t, lrs.Rejections())
	stored := lrs.Stored()
	require.Len(t, stored, 4)
	for _, st := range stored {
		raw, _ := json.Marshal(st)
		assert.Empty(t, xapitest.Check(raw))
	}
	assert.Equal(t, id, stored[0]["context"].(map[string]any)["registration"])

	assert.Equal(t, 0, s.Round(ctx, now.Add(time.Hour)), "a sent report is not sent again")
	// Sending again anyway (e.g. the process died before marking it sent) is harmless:
	// the same statement ids with the same content.
	require.NoError(t, s.send(ctx, id))
	assert.Empty(t, lrs.Rejections())
	assert.Len(t, lrs.Stored(), 4)
}

func TestWrongCredentialsAreRetried(t *testing.T) {
	ctx := context.Background()
	db, err := sqlitejournal.Open(ctx, filepath.Join(t.TempDir(), "j.db"))
	require.NoError(t, err)
	defer db.Close()
	now := time.Now().UTC()
	c, entries, res := xapitest.FixtureCall("6f1c0d2e-8a4b-4c3d-9e2f-0a1b2c3d4e5f", now)
	require.NoError(t, db.Create(ctx, c))
	for _, e := range entries {
		require.NoError(t, db.Append(ctx, c.ID, e))
	}
	require.NoError(t, db.Finish(ctx, c.ID, *res))
	lrs := xapitest.New("switchboard", "s3cret")
	srv := httptest.NewServer(lrs)
	defer srv.Close()
	s, err := New(Config{Endpoint: srv.URL, User: "switchboard", Password: "wrong", Journal: db, Outbox: db,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	s.Notify(c.ID)
	assert.Equal(t, 0, s.Round(ctx, now))
	due, err := db.Due(ctx, now.Add(time.Hour), 10)
	require.NoError(t, err)
	require.Len(t, due, 1)
	assert.Contains(t, due[0].LastError, "401")
}

func TestConfigErrors(t *testing.T) {
	_, err := New(Config{Endpoint: "lrs.example.org"})
	assert.ErrorContains(t, err, "want an http:// or https:// URL")
	_, err = New(Config{Endpoint: "https://lrs.example.org"})
	assert.ErrorContains(t, err, "outbox is required")
}

// finishedCalls records n finished calls in a new SQLite journal.
func finishedCalls(t *testing.T, n int, ended time.Time) (*sqlitejournal.DB, []string) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlitejournal.Open(ctx, filepath.Join(t.TempDir(), "j.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	var ids []string
	for i := range n {
		id := fmt.Sprintf("6f1c0d2e-8a4b-4c3d-9e2f-0a1b2c3d4e%02d", i)
		c, entries, res := xapitest.FixtureCall(id, ended)
		require.NoError(t, db.Create(ctx, c))
		for _, e := range entries {
			require.NoError(t, db.Append(ctx, id, e))
		}
		require.NoError(t, db.Finish(ctx, id, *res))
		require.NoError(t, db.Enqueue(ctx, id, ended))
		ids = append(ids, id)
	}
	return db, ids
}

// TestSendersSharingAnOutboxSendEachReportOnce: the senders of several instances sharing
// one outbox, running their rounds at the same moment, send each report once.
func TestSendersSharingAnOutboxSendEachReportOnce(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	const calls, senders = 30, 3
	db, _ := finishedCalls(t, calls, now.Add(-time.Minute))
	lrs := xapitest.New("switchboard", "s3cret")
	srv := httptest.NewServer(lrs)
	defer srv.Close()
	var wg sync.WaitGroup
	var total atomic.Int64
	for range senders {
		s, err := New(Config{Endpoint: srv.URL, User: "switchboard", Password: "s3cret", Journal: db, Outbox: db,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		require.NoError(t, err)
		wg.Go(func() {
			for {
				n := s.Round(ctx, now)
				if n == 0 {
					return
				}
				total.Add(int64(n))
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(calls), total.Load(), "every report sent")
	assert.Equal(t, calls, lrs.Posts(), "each once")
	assert.Empty(t, lrs.Rejections())
}

// TestRoundLeavesReportsWhoseClaimWouldLapse: a sender does not start a send that could
// outlast its claim; those reports come due again, to any sender, when the claim lapses.
func TestRoundLeavesReportsWhoseClaimWouldLapse(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	db, ids := finishedCalls(t, 3, now.Add(-time.Minute))
	lrs := xapitest.New("switchboard", "s3cret")
	srv := httptest.NewServer(lrs)
	defer srv.Close()
	s, err := New(Config{Endpoint: srv.URL, User: "switchboard", Password: "s3cret", Journal: db, Outbox: db,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	assert.Equal(t, journal.OutboxClaim-requestTimeout-loadAllowance, s.budget)
	s.budget = -time.Nanosecond // as if the claim were about to lapse
	assert.Equal(t, 0, s.Round(ctx, now))
	assert.Zero(t, lrs.Posts())
	due, err := db.Due(ctx, now.Add(journal.OutboxClaim-time.Second), 10)
	require.NoError(t, err)
	assert.Empty(t, due, "still claimed")
	due, err = db.Due(ctx, now.Add(journal.OutboxClaim), 10)
	require.NoError(t, err)
	assert.Len(t, due, len(ids), "due again once the claim lapsed")
}
