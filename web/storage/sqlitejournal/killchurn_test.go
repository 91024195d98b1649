package sqlitejournal

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/journal"
)

// Churn of TestKillDuringChurn's child: churnWorkers goroutines, each playing short
// calls one after another (a Create, churnInputs appends, a Finish), as a floor of short
// calls does. The parent kills it once churnAcks writes have been acknowledged.
const (
	churnWorkers = 16
	churnInputs  = 3
	churnAcks    = 3000
)

// TestKillDuringChurn kills (SIGKILL) a process whose calls start, take inputs and end as
// fast as they can, from many goroutines, and checks that every write it saw acknowledged
// is in the journal after a restart: each call created, each of its entries, each result.
// New calls and ends go through the acknowledgement log like inputs, and SQLite applies
// them behind it, so a kill finds every kind of write both applied and not yet applied.
func TestKillDuringChurn(t *testing.T) {
	if path := os.Getenv("SQLITEJOURNAL_CHURN_CHILD"); path != "" {
		childChurn(path)
		return
	}
	if testing.Short() {
		t.Skip("starts a process")
	}
	path, cmd, sc := startChild(t, "TestKillDuringChurn", "SQLITEJOURNAL_CHURN_CHILD")

	// What the child acknowledged: calls created, their last acknowledged seq, and the
	// calls whose result was recorded.
	created := map[string]bool{}
	lastSeq := map[string]int64{}
	finished := map[string]bool{}
	acks := 0
	for acks < churnAcks && sc.Scan() {
		f := strings.Fields(sc.Text())
		require.Len(t, f, 3, "child line %q", sc.Text())
		switch id := f[1]; f[0] {
		case "created":
			created[id] = true
		case "appended":
			seq, err := strconv.ParseInt(f[2], 10, 64)
			require.NoError(t, err)
			lastSeq[id] = max(lastSeq[id], seq)
		case "finished":
			finished[id] = true
		default:
			t.Fatalf("child line %q", sc.Text())
		}
		acks++
	}
	require.NoError(t, cmd.Process.Kill()) // SIGKILL on Unix: no cleanup runs
	_ = cmd.Wait()
	require.Equal(t, churnAcks, acks, "the child stopped early")
	require.NotEmpty(t, finished, "some calls ended before the kill")

	d, err := Open(ctx, path)
	require.NoError(t, err, "a killed journal opens")
	defer d.Close()
	for id := range created {
		c, es, res, err := d.Load(ctx, id)
		if !assert.NoError(t, err, "call %s was acknowledged as created", id) {
			continue
		}
		assert.Equal(t, "churn", c.Trainee, id)
		assert.GreaterOrEqual(t, int64(len(es)), lastSeq[id], "call %s: every acknowledged entry survives", id)
		for i, e := range es {
			assert.Equal(t, int64(i+1), e.Seq, "call %s: no gap", id)
			assert.Equal(t, fmt.Sprint(id, "/", e.Seq), e.ClientID, id)
		}
		if finished[id] {
			if assert.NotNil(t, res, "call %s: its acknowledged result survives", id) {
				assert.Equal(t, "walked", res.End.Ending, id)
				assert.Len(t, es, churnInputs, "call %s: ended after its inputs", id)
			}
		}
	}
	for id := range lastSeq {
		assert.True(t, created[id], "an entry of %s was acknowledged before its call was", id)
	}
	t.Logf("%d calls created, %d ended, before the kill; all recovered", len(created), len(finished))
}

// childChurn is TestKillDuringChurn's child: it writes and prints each acknowledged write
// ("created ID -", "appended ID SEQ", "finished ID -") until it is killed.
func childChurn(path string) {
	d, err := Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var mu sync.Mutex // one line at a time on stdout
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Printf(format+"\n", args...)
	}
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var wg sync.WaitGroup
	for w := range churnWorkers {
		wg.Go(func() {
			for n := 0; ; n++ {
				id := fmt.Sprintf("w%d-c%d", w, n)
				if err := d.Create(ctx, journal.Call{ID: id, Trainee: "churn", Created: time.Now()}); err != nil {
					fail(err)
				}
				say("created %s -", id)
				for seq := int64(1); seq <= churnInputs; seq++ {
					e := journal.Entry{Seq: seq, ClientID: fmt.Sprint(id, "/", seq), Event: engine.Event{Type: engine.EventSay, At: seq, Text: "one moment"}}
					if err := d.Append(ctx, id, e); err != nil {
						fail(err)
					}
					say("appended %s %d", id, seq)
				}
				r := journal.Result{Ended: time.Now(), End: engine.EndInfo{Ending: "walked", Outcome: "lost"}, Elapsed: churnInputs}
				if err := d.Finish(ctx, id, r); err != nil {
					fail(err)
				}
				say("finished %s -", id)
			}
		})
	}
	wg.Wait()
}
