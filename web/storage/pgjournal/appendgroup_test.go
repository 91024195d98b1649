package pgjournal

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/journal"
)

// TestAppendGroupMatchesSerial: one batch of appends with every kind of refusal, run by
// the writer as a group and, on a second database, one by one (the code before groups):
// each append gets the same outcome, and the journals hold the same entries. A statement
// that fails inside a group (a NUL in a text column) costs only its own append.
func TestAppendGroupMatchesSerial(t *testing.T) {
	t.Parallel()
	say := func(seq int64, client, text string) journal.Entry {
		return journal.Entry{Seq: seq, ClientID: client, Event: engine.Event{Type: engine.EventSay, At: seq * 10, Text: text, Index: int(seq)}}
	}
	run := func(t *testing.T, serial, withBad bool) ([]error, map[string][]journal.Entry) {
		d, _ := openSchema(t)
		defer d.Close()
		for _, id := range []string{"a", "b", "c", "done", "leased"} {
			require.NoError(t, d.Create(ctx, journal.Call{ID: id, Created: time.Now()}))
		}
		require.NoError(t, d.Append(ctx, "b", say(1, "m1", "already here")))
		require.NoError(t, d.Finish(ctx, "done", journal.Result{Ended: time.Now()}))
		l, err := d.Acquire(ctx, "leased", "inst-1", time.Now(), time.Minute)
		require.NoError(t, err)
		stale := l
		stale.Epoch++
		bad := say(1, "", "x")
		bad.Event.Type = "say\x00" // PostgreSQL text cannot hold NUL: the INSERT fails
		ops := []*appendOp{
			{callID: "a", entry: say(1, "m1", "hello")},
			{callID: "a", entry: say(2, "m2", "second in the same batch")},
			{callID: "a", entry: say(3, "m2", "duplicate of the one before it")},
			{callID: "a", entry: say(5, "m5", "a gap")},
			{callID: "b", entry: say(2, "m1", "duplicate of a committed one")},
			{callID: "b", entry: say(2, "m2", "fine")},
			{callID: "nope", entry: say(1, "m1", "no such call")},
			{callID: "done", entry: say(1, "m1", "call ended")},
			{callID: "leased", lease: &l, entry: say(1, "m1", "holds the lease")},
			{callID: "leased", lease: &stale, entry: say(2, "m2", "stale epoch")},
			{callID: "c", entry: bad},
			{callID: "c", entry: say(1, "", "after the bad one")},
		}
		if !withBad {
			ops[10].entry = say(1, "", "not bad after all")
			ops[11].entry = say(2, "", "after it")
		}
		batch := make([]op, len(ops))
		for i, a := range ops {
			batch[i] = op{app: a}
		}
		d.wr.serialAppends = serial
		errs := make([]error, len(batch))
		d.wr.commit(batch, errs)
		if !serial {
			want := int64(0)
			if withBad {
				want = 1
			}
			assert.Equal(t, want, d.wr.fallbacks.Load(), "fallbacks to one by one")
		}
		got := map[string][]journal.Entry{}
		for _, id := range []string{"a", "b", "c", "leased"} {
			_, es, _, err := d.Load(ctx, id)
			require.NoError(t, err)
			got[id] = es
		}
		return errs, got
	}
	for _, withBad := range []bool{false, true} {
		t.Run(fmt.Sprint("bad=", withBad), func(t *testing.T) {
			compare(t, withBad, run)
		})
	}
}

func compare(t *testing.T, withBad bool, run func(t *testing.T, serial, withBad bool) ([]error, map[string][]journal.Entry)) {
	groupErrs, groupEntries := run(t, false, withBad)
	serialErrs, serialEntries := run(t, true, withBad)
	kinds := []error{nil, nil, journal.ErrDuplicate, journal.ErrSeqGap, journal.ErrDuplicate, nil,
		journal.ErrNotFound, journal.ErrFinished, nil, journal.ErrFenced, errors.New("statement"), nil}
	cLen := 1
	if !withBad {
		kinds[10] = nil
		cLen = 2
	}
	for i, want := range kinds {
		for mode, errs := range map[string][]error{"group": groupErrs, "serial": serialErrs} {
			switch {
			case want == nil:
				assert.NoError(t, errs[i], "%s: append %d", mode, i)
			case want.Error() == "statement":
				assert.Error(t, errs[i], "%s: append %d", mode, i)
			default:
				assert.ErrorIs(t, errs[i], want, "%s: append %d", mode, i)
			}
		}
		assert.Equal(t, fmt.Sprint(serialErrs[i]), fmt.Sprint(groupErrs[i]), "append %d: same message", i)
	}
	assert.Equal(t, serialEntries, groupEntries)
	assert.Len(t, groupEntries["a"], 2)
	assert.Len(t, groupEntries["b"], 2)
	assert.Len(t, groupEntries["c"], cLen)
	assert.Len(t, groupEntries["leased"], 1)
}
