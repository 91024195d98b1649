package live

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/scenarios"
)

// replayPlays is how many random calls of each shipped scenario the replay test plays.
const replayPlays = 40

// replyTexts are the random trainee messages: some match common intents, some do not.
var replyTexts = []string{"Hello, how can I help you?", "I'm so sorry about that.", "Let me check that for you.",
	"No.", "Would you like our premium plan as well?", "Thank you for calling.", "Please hold.",
	"I understand, that must be frustrating.", "We can refund you today.", "hmm"}

// shippedScenarios loads every scenario shipped with the binary.
func shippedScenarios(t *testing.T) []*engine.Scenario {
	t.Helper()
	paths, err := engine.FindScenarios(scenarios.FS, scenarios.Root)
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	var scs []*engine.Scenario
	for _, p := range paths {
		sc, diags := engine.Load(scenarios.FS, p)
		require.False(t, diags.HasErrors(), diags.Error())
		scs = append(scs, sc)
	}
	return scs
}

// TestReplayFromJournalIsByteForByte plays seeded random calls of every shipped scenario
// through the call goroutine's code (session, stream, journal) and checks that a call
// rebuilt from its journal entries sends exactly the same messages, byte for byte.
func TestReplayFromJournalIsByteForByte(t *testing.T) {
	scs := shippedScenarios(t)
	j := journal.NewMemory()
	srv := New(Options{Journal: j, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx := context.Background()
	created := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	ended, inputs, messages := 0, 0, 0
	for _, sc := range scs {
		for play := range replayPlays {
			id := fmt.Sprintf("%s-%d", sc.ID, play)
			info := journal.Call{ID: id, ScenarioID: sc.ID, Title: sc.Title, Hash: sc.Hash, Sources: sc.Sources,
				Seed: uint64(play), Trainee: "Robin", Coach: play%2 == 0, Created: created}
			require.NoError(t, j.Create(ctx, info))
			live := newCall(srv, info, sc, created, srv.journal, nil)
			var liveFrames, againFrames [][]byte
			live.tap = func(_ int64, f []byte) { liveFrames = append(liveFrames, f) }
			live.sent = 0
			live.reset() // the start's messages again, through the tap
			end := playRandom(t, live, rand.New(rand.NewPCG(uint64(play), 7)))

			got, entries, _, err := j.Load(ctx, id)
			require.NoError(t, err)
			rsc, diags := engine.LoadSources(got.Sources)
			require.False(t, diags.HasErrors(), diags.Error())
			again := newCall(srv, got, rsc, created, srv.journal, nil)
			again.tap = func(_ int64, f []byte) { againFrames = append(againFrames, f) }
			again.sent = 0
			again.reset()
			require.NoError(t, again.replay(entries))
			again.st.advance(end)
			require.Equal(t, len(liveFrames), len(againFrames), "%s: number of messages", id)
			for i := range liveFrames {
				require.Equal(t, string(liveFrames[i]), string(againFrames[i]), "%s: message %d", id, i+1)
			}
			// What a reconnect is sent: the same messages re-derived from the entries.
			live.clock = end
			re := live.framesBetween(0, live.sent)
			require.Equal(t, len(liveFrames), len(re), "%s: messages replayed to a reconnect", id)
			for i := range re {
				require.Equal(t, string(liveFrames[i]), string(re[i]), "%s: replayed message %d", id, i+1)
			}
			if live.st.ended() {
				ended++
			}
			inputs += len(entries)
			messages += len(liveFrames)
		}
	}
	total := len(scs) * replayPlays
	t.Logf("%d calls: %d ended, %d inputs journaled, %d messages compared", total, ended, inputs, messages)
	require.Greater(t, ended, total/2, "most random calls reach an ending")
	require.Greater(t, inputs, total*3, "the calls are not trivial")
}

// playRandom drives c with random inputs on a simulated clock until the call ends (or a
// step limit), as the call goroutine would, and returns the clock at the end.
func playRandom(t *testing.T, c *call, rnd *rand.Rand) int64 {
	var now int64
	for step := 0; step < 60 && !c.sess.Ended(); step++ {
		now += rnd.Int64N(4000)
		c.tick(now)
		if c.sess.Ended() {
			break
		}
		id := fmt.Sprintf("m%d", step)
		var ev engine.Event
		switch k := rnd.IntN(20); {
		case k < 3:
			ev = engine.Event{Type: engine.EventAnswer, At: now}
		case k < 6:
			ev = engine.Event{Type: engine.EventChoose, At: now, Index: rnd.IntN(4)}
		case k == 6 && step > 10:
			ev = engine.Event{Type: engine.EventHangup, At: now}
		case k < 9:
			continue // silence: only timers
		default:
			ev = engine.Event{Type: engine.EventSay, At: now, Text: replyTexts[rnd.IntN(len(replyTexts))]}
		}
		_ = c.step(ev, id) // an input the session refuses (e.g. answering twice) changes nothing
	}
	now += 60_000 // let the last line finish and any end be sent
	c.tick(now)
	return now
}
