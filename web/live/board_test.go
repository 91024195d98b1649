package live

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/journal"
)

// TestBoardSnapshotIsRemadeOnlyWhenWhatItShowsChanges plays seeded random calls of every
// shipped scenario in small steps of the call clock (so most steps only send a word) and
// checks after each that the published board snapshot shows what a snapshot made afresh
// would (boardKey covers everything the board shows), and that a step sending only words
// makes no new snapshot.
func TestBoardSnapshotIsRemadeOnlyWhenWhatItShowsChanges(t *testing.T) {
	j := journal.NewMemory()
	srv := New(Options{Journal: j, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	created := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	steps, wordOnly, remade := 0, 0, 0
	for _, sc := range shippedScenarios(t) {
		for play := range 6 {
			id := fmt.Sprintf("%s-%d", sc.ID, play)
			info := journal.Call{ID: id, ScenarioID: sc.ID, Title: sc.Title, Hash: sc.Hash, Sources: sc.Sources,
				Seed: uint64(play), Trainee: "Robin", Created: created}
			require.NoError(t, j.Create(context.Background(), info))
			c := newCall(srv, info, sc, created, srv.journal, nil)
			rnd := rand.New(rand.NewPCG(uint64(play), 11))
			c.publish()
			var now int64
			for step := 0; step < 400 && !c.sess.Ended(); step++ {
				now += 50 + rnd.Int64N(300)
				words := c.st.seq
				entries := len(c.entries)
				c.tick(now)
				if k := rnd.IntN(40); k < 3 {
					_ = c.step(engine.Event{Type: engine.EventAnswer, At: now}, fmt.Sprintf("m%d", step))
				} else if k < 6 {
					_ = c.step(engine.Event{Type: engine.EventSay, At: now, Text: replyTexts[rnd.IntN(len(replyTexts))]}, fmt.Sprintf("m%d", step))
				}
				before := c.floor.snap.Load()
				c.publish()
				got := c.floor.snap.Load()
				steps++
				if got != before {
					remade++
				}
				// A snapshot made afresh from the call as it is now.
				c.floor.key = boardKey{}
				c.floor.snap.Store(nil)
				c.publish()
				fresh := c.floor.snap.Load()
				assert.Equal(t, fresh.FloorCall, got.FloorCall, "%s, step %d at %d ms: the board shows the call as it is", id, step, now)
				assert.Equal(t, fresh.spoke, got.spoke, "%s, step %d", id, step)
				assert.Equal(t, fresh.deadline, got.deadline, "%s, step %d", id, step)
				c.floor.snap.Store(got)

				onlyWords := len(c.entries) == entries && c.st.seq > words && c.st.line.active && before != nil &&
					before.Speaking && len(c.st.feedback) == len(before.Fired) && c.sess.Node() == before.Node &&
					c.sess.Mood() == before.Mood
				if onlyWords {
					wordOnly++
					assert.Same(t, before, got, "%s, step %d: words alone make no new snapshot", id, step)
				}
			}
		}
	}
	t.Logf("%d steps, %d sending only words, %d new snapshots", steps, wordOnly, remade)
	require.Greater(t, wordOnly, steps/10, "the plays must include steps that only send words")
	require.Greater(t, remade, 0)
}
