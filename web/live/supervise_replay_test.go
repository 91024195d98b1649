package live

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/scenarios"
)

// whisperTexts are the random supervisors' whispers.
var whisperTexts = []string{"apologise first", "offer the refund", "let them finish", "slow down", "ask for the order number"}

// TestReplayWithWhispersIsExact plays seeded random calls of every shipped scenario with
// supervisors whispering and joining at random moments, then rebuilds each call from its
// journal: the trainee's view and the supervisors' view (what a supervisor who listened
// from the middle saw, backlog then live) are the same, byte for byte, as the rebuilt ones.
func TestReplayWithWhispersIsExact(t *testing.T) {
	paths, err := engine.FindScenarios(scenarios.FS, scenarios.Root)
	require.NoError(t, err)
	var scs []*engine.Scenario
	for _, p := range paths {
		sc, diags := engine.Load(scenarios.FS, p)
		require.False(t, diags.HasErrors(), diags.Error())
		scs = append(scs, sc)
	}
	j := journal.NewMemory()
	srv := New(Options{Journal: j, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx := context.Background()
	created := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	whispers, shown := 0, 0
	const plays = 10
	for _, sc := range scs {
		for play := range plays {
			id := fmt.Sprintf("%s-w%d", sc.ID, play)
			info := journal.Call{ID: id, ScenarioID: sc.ID, Title: sc.Title, Hash: sc.Hash, Sources: sc.Sources,
				Seed: uint64(play), Trainee: "Robin", Coach: play%2 == 0, Created: created}
			require.NoError(t, j.Create(ctx, info))
			var liveFrames, againFrames []string
			live := newCall(srv, info, sc, created, srv.journal, nil)
			live.tap = func(_ int64, f []byte) { liveFrames = append(liveFrames, string(f)) }
			live.sent = 0
			live.reset() // the start's messages again, through the tap
			rnd := rand.New(rand.NewPCG(uint64(play), 11))
			var supSeen []string // what a supervisor joining at a random moment saw
			joinAt := rnd.IntN(20)
			var now int64
			for step := 0; step < 60 && !live.sess.Ended(); step++ {
				if step == joinAt && live.sup == nil {
					frames, st := live.supProjection()
					for _, f := range frames {
						supSeen = append(supSeen, string(f))
					}
					st.emit = func(_ int64, f []byte) { supSeen = append(supSeen, string(f)) }
					live.sup = st
				}
				now += rnd.Int64N(4000)
				live.clock = now
				live.tick(now)
				if live.sess.Ended() {
					break
				}
				var ev engine.Event
				cid := fmt.Sprintf("m%d", step)
				switch k := rnd.IntN(20); {
				case k < 3:
					ev = engine.Event{Type: engine.EventAnswer, At: now}
				case k < 6:
					ev = engine.Event{Type: engine.EventChoose, At: now, Index: rnd.IntN(4)}
				case k < 9:
					ev = engine.Event{Type: engine.EventWhisper, At: now, Text: whisperTexts[rnd.IntN(len(whisperTexts))]}
					cid = whisperIDPrefix + cid
				case k < 11:
					continue
				default:
					ev = engine.Event{Type: engine.EventSay, At: now, Text: replyTexts[rnd.IntN(len(replyTexts))]}
				}
				if live.step(ev, cid) == nil && ev.Type == engine.EventWhisper {
					whispers++
				}
			}
			now += 60_000
			live.clock = now
			live.tick(now)

			got, entries, _, err := j.Load(ctx, id)
			require.NoError(t, err)
			rsc, diags := engine.LoadSources(got.Sources)
			require.False(t, diags.HasErrors(), diags.Error())
			again := newCall(srv, got, rsc, created, srv.journal, nil)
			again.tap = func(_ int64, f []byte) { againFrames = append(againFrames, string(f)) }
			again.sent = 0
			again.reset()
			require.NoError(t, again.replay(entries))
			again.clock = now
			again.advance(now)
			require.Equal(t, len(liveFrames), len(againFrames), "%s: number of trainee messages", id)
			for i := range liveFrames {
				require.Equal(t, liveFrames[i], againFrames[i], "%s: trainee message %d", id, i+1)
				if strings.Contains(liveFrames[i], `"type":"whisper"`) {
					shown++
					require.NotContains(t, liveFrames[i], `"id"`, "%s: the trainee never sees a whisper's id", id)
				}
			}
			// What a reconnecting trainee is sent: the same messages re-derived from the entries.
			re := live.framesBetween(0, live.sent)
			require.Equal(t, len(liveFrames), len(re), "%s: re-derived messages", id)
			for i := range re {
				require.Equal(t, liveFrames[i], string(re[i]), "%s: re-derived message %d", id, i+1)
			}
			if live.sup != nil {
				rebuilt, _ := again.supProjection()
				require.Equal(t, len(rebuilt), len(supSeen), "%s: number of supervisor messages", id)
				for i := range rebuilt {
					require.Equal(t, string(rebuilt[i]), supSeen[i], "%s: supervisor message %d", id, i+1)
				}
			}
		}
	}
	t.Logf("%d calls, %d whispers journaled, %d shown to trainees", len(scs)*plays, whispers, shown)
	require.Greater(t, whispers, len(scs)*plays, "the calls have whispers")
	require.Equal(t, whispers, shown, "every whisper journaled reached the trainee's view")
}
