package sqlitejournal

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/engine/journal/journaltest"
)

// TestConformanceDirect runs the journal's contract on writes that go to SQLite directly
// (a process that cannot take the acknowledgement log).
func TestConformanceDirect(t *testing.T) {
	journaltest.Run(t, func(t *testing.T) journal.Journal {
		o := defaultOptions
		o.direct = true
		d, err := open(ctx, filepath.Join(t.TempDir(), "journal.db"), o)
		require.NoError(t, err)
		return d
	})
}

func sampleRecords() []record {
	created := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	return []record{
		{LSN: 7, Op: opCreate, CallID: "a", Call: &journal.Call{ID: "a", ScenarioID: "s", Created: created},
			TokenHash: "th", SourcesKey: "k", SourcesData: []byte(`[{"path":"a.yaml"}]`)},
		{LSN: 8, Op: opAppend, CallID: "a", Entry: &journal.Entry{Seq: 1, ClientID: "c1",
			Event: engine.Event{Type: engine.EventSay, At: 1200, Text: "hello, \"quoted\" ☎"}}},
		{LSN: 9, Op: opFinish, CallID: "a", Result: json.RawMessage(`{"elapsed":3}`), Ended: formatTime(created)},
	}
}

// TestRecordsRoundTrip: records decode as encoded, and a log cut at any byte, or damaged
// in any byte, yields exactly the whole, intact records before the cut.
func TestRecordsRoundTrip(t *testing.T) {
	recs := sampleRecords()
	var buf []byte
	var ends []int
	for i := range recs {
		var err error
		buf, err = appendRecord(buf, &recs[i])
		require.NoError(t, err)
		ends = append(ends, len(buf))
	}
	var got []record
	n, err := decodeRecords(buf, func(r record) error { got = append(got, r); return nil })
	require.NoError(t, err)
	require.Equal(t, len(buf), n)
	require.Len(t, got, len(recs))
	for i := range recs {
		assert.Equal(t, recs[i].LSN, got[i].LSN)
		assert.Equal(t, recs[i].Op, got[i].Op)
	}
	assert.Equal(t, *recs[1].Entry, *got[1].Entry)
	assert.Equal(t, recs[0].SourcesData, got[0].SourcesData)
	assert.JSONEq(t, string(recs[2].Result), string(got[2].Result))

	whole := func(cut int) int {
		k := 0
		for _, e := range ends {
			if e <= cut {
				k++
			}
		}
		return k
	}
	for cut := range len(buf) {
		k := 0
		n, err := decodeRecords(buf[:cut], func(record) error { k++; return nil })
		want := whole(cut)
		require.Equal(t, want, k, "cut at %d", cut)
		if want > 0 {
			require.Equal(t, ends[want-1], n)
		}
		if cut != 0 && (want == 0 || ends[want-1] != cut) {
			require.ErrorIs(t, err, errTorn, "cut at %d", cut)
		}
	}
	for at := range len(buf) {
		bad := append([]byte(nil), buf...)
		bad[at] ^= 0x20
		k := 0
		_, _ = decodeRecords(bad, func(record) error { k++; return nil })
		first := 0
		for first < len(ends) && ends[first] <= at {
			first++
		}
		require.LessOrEqual(t, k, first, "a damaged byte at %d: no record from there on is taken", at)
	}
}

// FuzzDecodeRecords: any bytes decode without panicking, into records that were whole.
func FuzzDecodeRecords(f *testing.F) {
	var buf []byte
	for _, r := range sampleRecords() {
		buf, _ = appendRecord(buf, &r)
	}
	f.Add(buf)
	f.Add(buf[:len(buf)/2])
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Add(append(slices.Clip(buf), make([]byte, 40)...))
	f.Add(append(append(slices.Clip(buf), make([]byte, 20)...), 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := decodeRecords(data, func(r record) error {
			if r.LSN == 0 {
				t.Fatal("a record without an LSN was taken")
			}
			return nil
		})
		if n < 0 || n > len(data) {
			t.Fatalf("consumed %d of %d bytes", n, len(data))
		}
		if err == nil && n != len(data) {
			t.Fatalf("no error, but %d of %d bytes consumed", n, len(data))
		}
	})
}

// TestZerosAfterTheRecords: the zeros a segment is filled with ahead of its records end
// them cleanly, and anything else after them is a write cut short: a record cut short
// over the zeros, or bytes after a stretch of zeros.
func TestZerosAfterTheRecords(t *testing.T) {
	recs := sampleRecords()
	var buf []byte
	for i := range recs {
		var err error
		buf, err = appendRecord(buf, &recs[i])
		require.NoError(t, err)
	}
	last, err := appendRecord(nil, &record{LSN: 10, Op: opAppend, CallID: "a", Entry: &journal.Entry{Seq: 2}})
	require.NoError(t, err)
	withTail := func(tail ...[]byte) []byte {
		return slices.Concat(append([][]byte{buf}, tail...)...)
	}
	for _, c := range []struct {
		name  string
		data  []byte
		n     int
		torn  bool
		taken int
	}{
		{"records then zeros", withTail(make([]byte, 4096)), len(buf) + 4096, false, 3},
		{"zeros shorter than a header", withTail(make([]byte, 3)), len(buf) + 3, false, 3},
		{"only zeros", make([]byte, 100), 100, false, 0},
		{"a record cut short over the zeros", withTail(last[:len(last)-5], make([]byte, 100)), len(buf), true, 3},
		{"a record's body over zeros, its header lost", withTail(make([]byte, recordHeader), last[recordHeader:], make([]byte, 10)), len(buf), true, 3},
		{"a byte after the zeros", withTail(make([]byte, 50), []byte{7}, make([]byte, 50)), len(buf), true, 3},
		{"a whole record after zeros", withTail(make([]byte, 16), last), len(buf), true, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			taken := 0
			n, err := decodeRecords(c.data, func(record) error { taken++; return nil })
			assert.Equal(t, c.n, n, "bytes consumed")
			assert.Equal(t, c.taken, taken, "records taken")
			if c.torn {
				assert.ErrorIs(t, err, errTorn)
			} else {
				assert.NoError(t, err)
			}
		})
	}

	// Reading a segment, the bytes reported cut short are those of the torn record, not
	// the zeros after it.
	base := filepath.Join(t.TempDir(), "journal.db")
	writeSegment(t, base, 7, recs, slices.Concat(last[:len(last)-5], make([]byte, 5000)))
	taken := 0
	torn, err := readSegment(segmentPath(base, 7), func(record) error { taken++; return nil })
	require.NoError(t, err)
	assert.Equal(t, 3, taken)
	assert.Equal(t, len(last)-5, torn)
}

// TestSegmentsAreFilledAhead: a segment is written full of zeros ahead of its records, so
// that most writes overwrite it in place instead of making the file longer; a write past
// the zeros writes the next chunk of them first. Reading it back gives every record and no
// write cut short.
func TestSegmentsAreFilledAhead(t *testing.T) {
	base := filepath.Join(t.TempDir(), "journal.db")
	l := &ackLog{base: base}
	require.NoError(t, l.startSegment(1))
	fileSize := func() int64 {
		st, err := os.Stat(l.cur.path)
		require.NoError(t, err)
		return st.Size()
	}
	start := int64(len(ackLogMagic)) + zeroChunk
	require.Equal(t, start, fileSize(), "the magic, then the first chunk of zeros")

	var lsn uint64
	writeRecords := func(k int) {
		var buf []byte
		for range k {
			lsn++
			var err error
			buf, err = appendRecord(buf, &record{LSN: lsn, Op: opAppend, CallID: "a",
				Entry: &journal.Entry{Seq: int64(lsn), Event: engine.Event{Type: engine.EventSay, At: int64(lsn), Text: strings.Repeat("x", 600)}}})
			require.NoError(t, err)
		}
		writeLog(t, l, buf)
	}
	writeRecords(10)
	assert.Equal(t, start, fileSize(), "written over the zeros: the file is no longer")
	for l.size <= start {
		writeRecords(50)
	}
	assert.Greater(t, fileSize(), l.size, "zeros ahead of the records again")
	assert.LessOrEqual(t, fileSize(), l.size+zeroChunk)

	var got []uint64
	torn, err := readSegment(l.cur.path, func(r record) error { got = append(got, r.LSN); return nil })
	require.NoError(t, err)
	assert.Zero(t, torn, "zeros after the records are not a write cut short")
	require.Len(t, got, int(lsn))
	assert.Equal(t, lsn, got[len(got)-1])
	require.NoError(t, l.close(true))
}

// writeSegment writes records as the segment of base starting at first, then tail bytes
// (a record cut short).
func writeSegment(t *testing.T, base string, first uint64, recs []record, tail []byte) {
	t.Helper()
	buf := []byte(ackLogMagic)
	for i := range recs {
		var err error
		buf, err = appendRecord(buf, &recs[i])
		require.NoError(t, err)
	}
	require.NoError(t, os.WriteFile(segmentPath(base, first), append(buf, tail...), 0o600))
}

// TestRecordsAfterRefusesAGap: the log's records follow each other; one missing (a
// segment deleted by hand) is an error that names it, not writes skipped in silence.
func TestRecordsAfterRefusesAGap(t *testing.T) {
	base := filepath.Join(t.TempDir(), "journal.db")
	rec := func(lsn uint64) record {
		return record{LSN: lsn, Op: opAppend, CallID: "a", Entry: &journal.Entry{Seq: int64(lsn)}}
	}
	writeSegment(t, base, 1, []record{rec(1), rec(2)}, nil)
	writeSegment(t, base, 4, []record{rec(4)}, nil)
	var got []uint64
	err := recordsAfter(base, 0, math.MaxUint64, func(r record) error {
		got = append(got, r.LSN)
		return nil
	})
	require.ErrorContains(t, err, "record 4 follows 2")
	assert.Equal(t, []uint64{1, 2}, got)

	got = nil
	require.NoError(t, recordsAfter(base, 0, 2, func(r record) error {
		got = append(got, r.LSN)
		return nil
	}), "none past upto is read")
	assert.Equal(t, []uint64{1, 2}, got)
}

// TestOpenAppliesTheLog: the writes a crash left in the log, after the file's position,
// are applied at the next Open, in order; those before it are not applied twice; a record
// cut short is ignored; and the log's segments are gone once applied.
func TestOpenAppliesTheLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	d, err := Open(ctx, path)
	require.NoError(t, err)
	require.NotNil(t, d.fr, "the journal writes through its acknowledgement log")
	say := func(seq int64) journal.Entry {
		return journal.Entry{Seq: seq, ClientID: fmt.Sprint("c", seq), Event: engine.Event{Type: engine.EventSay, At: seq * 1000, Text: "hi"}}
	}
	src := []engine.SourceFile{{Path: "a.yaml", Data: []byte("id: a\n")}}
	require.NoError(t, d.Create(ctx, journal.Call{ID: "a", Sources: src, Created: time.Now()}))
	require.NoError(t, d.Append(ctx, "a", say(1)))
	require.NoError(t, d.Close())
	segs, err := listSegments(path)
	require.NoError(t, err)
	require.Empty(t, segs, "a journal closed cleanly leaves no log")

	// What a run killed before SQLite applied its last writes leaves behind.
	var applied int64
	var key string
	d, err = Open(ctx, path)
	require.NoError(t, err)
	require.NoError(t, d.r.QueryRowContext(ctx, `SELECT applied FROM ack_log`).Scan(&applied))
	require.NoError(t, d.r.QueryRowContext(ctx, `SELECT sources_key FROM calls WHERE id = 'a'`).Scan(&key))
	require.NoError(t, d.Close())
	require.Positive(t, applied)
	lsn := uint64(applied)
	e2, e3 := say(2), say(3)
	old := say(1)
	writeSegment(t, path, lsn, []record{
		{LSN: lsn, Op: opAppend, CallID: "a", Entry: &old}, // applied already: skipped
		{LSN: lsn + 1, Op: opAppend, CallID: "a", Entry: &e2},
		{LSN: lsn + 2, Op: opCreate, CallID: "b", Call: &journal.Call{ID: "b", Created: time.Now()}, TokenHash: "tb", SourcesKey: key},
	}, nil)
	writeSegment(t, path, lsn+3, []record{
		{LSN: lsn + 3, Op: opAppend, CallID: "a", Entry: &e3},
		{LSN: lsn + 4, Op: opFinish, CallID: "a", Result: json.RawMessage(`{"ended":"2026-12-05T09:00:00Z","end":{},"fired":null,"elapsed":3000}`), Ended: formatTime(time.Now())},
	}, []byte{40, 0, 0, 0, 1, 2}) // a record cut short

	d, err = Open(ctx, path)
	require.NoError(t, err)
	defer d.Close()
	_, es, res, err := d.Load(ctx, "a")
	require.NoError(t, err)
	require.Equal(t, []journal.Entry{say(1), e2, e3}, es)
	require.NotNil(t, res, "the call's end was applied")
	b, _, _, err := d.Load(ctx, "b")
	require.NoError(t, err)
	assert.Equal(t, src, b.Sources, "a call created from the log shares the stored sources")
	var tokenHash string
	require.NoError(t, d.r.QueryRowContext(ctx, `SELECT token_hash FROM calls WHERE id = 'b'`).Scan(&tokenHash))
	assert.Equal(t, "tb", tokenHash)
	require.NoError(t, d.Append(ctx, "b", say(1)), "the front knows the calls the log made")
	require.ErrorIs(t, d.Append(ctx, "a", say(4)), journal.ErrFinished)
	segs, err = listSegments(path)
	require.NoError(t, err)
	require.Len(t, segs, 1, "the applied segments are removed; the new one is open")
	assert.Greater(t, segs[0].first, lsn+4, "new records never reuse a position")
}

// TestOpenRefusesAForeignLog: a file named like a segment that is not one stops Open with
// its path, rather than being taken for a log or removed.
func TestOpenRefusesAForeignLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	d, err := Open(ctx, path)
	require.NoError(t, err)
	require.NoError(t, d.Close())
	seg := segmentPath(path, 1)
	require.NoError(t, os.WriteFile(seg, []byte("not a log at all"), 0o600))
	_, err = Open(ctx, path)
	require.ErrorContains(t, err, seg)
	require.ErrorContains(t, err, "not a Switchboard acknowledgement log")
	_, err = os.Stat(seg)
	require.NoError(t, err, "the file is left as it was")
}

// TestAcknowledgedWhileSQLiteIsBusy: with SQLite's write lock held by another connection
// (another process, a long checkpoint), writes are still acknowledged from the log at
// once; reads wait until SQLite has them, and then see them all.
func TestAcknowledgedWhileSQLiteIsBusy(t *testing.T) {
	d := openTemp(t)
	defer d.Close()
	require.NoError(t, d.Create(ctx, journal.Call{ID: "a"}))
	settle(t, d)

	release := holdWriteLock(t, d.path)

	start := time.Now()
	for seq := int64(1); seq <= 20; seq++ {
		require.NoError(t, d.Append(ctx, "a", journal.Entry{Seq: seq, Event: engine.Event{Type: engine.EventTimeout, At: seq}}))
	}
	require.Less(t, time.Since(start), 5*time.Second, "acknowledged without SQLite's lock")
	assert.Equal(t, 20, d.ApplyLag())
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, _, _, err := d.Load(short, "a")
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded, "a read waits for SQLite to have the call's writes")

	release()
	_, es, _, err := d.Load(ctx, "a")
	require.NoError(t, err)
	require.Len(t, es, 20)
	assert.Zero(t, d.ApplyLag())
}

// TestLogSegmentsRotate: a segment past its size is closed and the next one started at
// the next position; a closed segment is removed once every record in it is applied.
func TestLogSegmentsRotate(t *testing.T) {
	base := filepath.Join(t.TempDir(), "journal.db")
	l := &ackLog{base: base}
	require.NoError(t, l.startSegment(1))
	buf, err := appendRecord(nil, &record{LSN: 1, Op: opAppend, CallID: "a", Entry: &journal.Entry{Seq: 1}})
	require.NoError(t, err)
	writeLog(t, l, buf)
	require.NoError(t, l.rotate(1, 0))
	segs, _ := listSegments(base)
	require.Len(t, segs, 1, "under the size: no new segment")

	l.size = segmentBytes + 1
	require.NoError(t, l.rotate(1, 0))
	segs, _ = listSegments(base)
	require.Len(t, segs, 2)
	assert.Equal(t, uint64(2), segs[1].first)
	require.NoError(t, l.rotate(1, 0))
	segs, _ = listSegments(base)
	require.Len(t, segs, 2, "not applied yet: kept")
	require.NoError(t, l.rotate(1, 1))
	segs, _ = listSegments(base)
	require.Len(t, segs, 1, "applied: removed")
	assert.Equal(t, uint64(2), segs[0].first)
	require.NoError(t, l.close(true))
	segs, _ = listSegments(base)
	require.Empty(t, segs)
}

// TestAFullDiskKeepsTheRecordInTheLog: SQLite cannot apply a record of the log because
// its file may not grow (max_page_count on the writer's connection, as a full disk does).
// The batch is rolled back and the writer stops, instead of moving the log's position past
// the record; the segment stays, and the next start applies the record.
func TestAFullDiskKeepsTheRecordInTheLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	d, err := Open(ctx, path)
	require.NoError(t, err)
	require.NoError(t, d.Create(ctx, journal.Call{ID: "a"}))
	small := journal.Entry{Seq: 1, Event: engine.Event{Type: engine.EventTimeout, At: 1}}
	require.NoError(t, d.Append(ctx, "a", small))
	settle(t, d)
	fillDisk(t, d)

	big := journal.Entry{Seq: 2, ClientID: "m2", Event: engine.Event{Type: engine.EventSay, At: 2, Text: strings.Repeat("cheese ", 40_000)}}
	require.NoError(t, d.Append(ctx, "a", big), "acknowledged from the log")
	require.Eventually(t, func() bool { return d.wr.brokenErr() != nil }, 10*time.Second, 5*time.Millisecond,
		"the writer stops at the failed batch")
	assert.ErrorContains(t, d.wr.brokenErr(), "full")
	assert.Less(t, d.wr.appliedLSN(), d.fr.acked(), "the log's position did not move past the record")
	_ = d.Close()

	d, err = Open(ctx, path)
	require.NoError(t, err)
	defer d.Close()
	_, es, _, err := d.Load(ctx, "a")
	require.NoError(t, err)
	require.Equal(t, []journal.Entry{small, big}, es, "applied at the next start")
}

// TestAStoppedWriterHeals: SQLite's file cannot grow (max_page_count stands in for a full
// disk), so the writer stops at the batch that needs a new page, with acknowledged writes
// in the log behind it, and the journal refuses writes meanwhile. Once the file may grow
// again the writer applies them from the log by itself, each once and in order, and the
// journal takes writes again; a restart then finds nothing left to apply twice.
func TestAStoppedWriterHeals(t *testing.T) {
	d, path := openHealing(t)
	require.NoError(t, d.Create(ctx, journal.Call{ID: "a"}))
	want := []journal.Entry{{Seq: 1, Event: engine.Event{Type: engine.EventTimeout, At: 1}}}
	require.NoError(t, d.Append(ctx, "a", want[0]))
	settle(t, d)
	fillDisk(t, d)

	// Writes are acknowledged from the log until the front sees the writer stopped.
	seq := int64(2)
	for ; ; seq++ {
		e := journal.Entry{Seq: seq, ClientID: fmt.Sprintf("m%d", seq),
			Event: engine.Event{Type: engine.EventSay, At: seq, Text: strings.Repeat("cheese ", 2_000)}}
		if err := d.Append(ctx, "a", e); err != nil {
			assert.ErrorContains(t, err, "full", "refused while the writer is stopped")
			break
		}
		want = append(want, e)
		require.Less(t, seq, int64(10_000), "the writer never stopped")
	}
	require.Error(t, d.wr.brokenErr())
	assert.ErrorContains(t, d.WritesRefused(), "full", "/healthz says so")
	require.Greater(t, len(want), 2, "writes were acknowledged into the log past the failure")
	_, _, _, err := d.Load(ctx, "a")
	require.Error(t, err, "a read that waits for SQLite says it is stopped")
	require.Eventually(t, func() bool { return d.wr.healTries.Load() >= 2 }, 10*time.Second, 5*time.Millisecond,
		"it tries again, and fails while the disk is full")
	require.Error(t, d.wr.brokenErr())

	// The disk has room again.
	_, err = d.wr.conn.ExecContext(ctx, "PRAGMA max_page_count = 1073741823")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return d.wr.brokenErr() == nil }, 10*time.Second, 5*time.Millisecond,
		"the writer heals on its own")
	assert.NoError(t, d.WritesRefused())
	e := journal.Entry{Seq: seq, ClientID: "after", Event: engine.Event{Type: engine.EventSay, At: seq, Text: "back"}}
	require.NoError(t, d.Append(ctx, "a", e), "writes are taken again")
	want = append(want, e)
	settle(t, d)
	_, es, _, err := d.Load(ctx, "a")
	require.NoError(t, err)
	require.Equal(t, want, es, "every acknowledged write, once, in order")
	assert.Zero(t, d.ApplyLag())
	require.NoError(t, d.Close())

	d, err = Open(ctx, path)
	require.NoError(t, err)
	defer d.Close()
	_, es, _, err = d.Load(ctx, "a")
	require.NoError(t, err)
	require.Equal(t, want, es, "the position moved past the records applied while healing")
}

// TestAFullLogHeals: the acknowledgement log cannot be written (the disk is full). The
// batch is cut back and refused, and so is every write while the disk stays full; once it
// has room, the log is written again with no restart, and the front's checks still hold:
// what the refused writes would have changed (a seq, a client id, a call, its sources) is
// as if they never came.
func TestAFullLogHeals(t *testing.T) {
	d, _ := openHealing(t)
	defer d.Close()
	var full atomic.Bool
	var tries atomic.Int64
	d.fr.log.fault = func() error {
		if full.Load() {
			tries.Add(1)
			return &os.PathError{Op: "write", Path: "segment", Err: syscall.ENOSPC}
		}
		return nil
	}
	say := func(seq int64, id string) journal.Entry {
		return journal.Entry{Seq: seq, ClientID: id, Event: engine.Event{Type: engine.EventSay, At: seq, Text: "hello " + id}}
	}
	src := []engine.SourceFile{{Path: "a.yaml", Data: []byte("id: a\n")}}
	require.NoError(t, d.Create(ctx, journal.Call{ID: "a", Sources: src}))
	want := []journal.Entry{say(1, "m1")}
	require.NoError(t, d.Append(ctx, "a", want[0]))

	require.NoError(t, d.WritesRefused())
	full.Store(true)
	err := d.Append(ctx, "a", say(2, "m2"))
	require.ErrorContains(t, err, "no space left on device")
	assert.ErrorContains(t, d.WritesRefused(), "no space left on device", "/healthz says so")
	require.ErrorContains(t, d.Create(ctx, journal.Call{ID: "b", Sources: src}), "no space left on device")
	require.Eventually(t, func() bool {
		_ = d.Append(ctx, "a", say(2, "m2"))
		return tries.Load() >= 3
	}, 10*time.Second, 5*time.Millisecond, "it tries the log again while the disk is full, and fails")

	full.Store(false)
	require.Eventually(t, func() bool { return d.Append(ctx, "a", say(2, "m2")) == nil }, 10*time.Second, 5*time.Millisecond,
		"writes are taken again once the disk has room")
	want = append(want, say(2, "m2"))
	assert.NoError(t, d.WritesRefused())
	assert.ErrorIs(t, d.Append(ctx, "a", say(3, "m2")), journal.ErrDuplicate, "the front still knows the call's client ids")
	assert.ErrorIs(t, d.Append(ctx, "a", say(4, "m4")), journal.ErrSeqGap, "and its last seq")
	require.NoError(t, d.Create(ctx, journal.Call{ID: "b", Sources: src}), "the refused Create left nothing behind")
	settle(t, d)
	_, es, _, err := d.Load(ctx, "a")
	require.NoError(t, err)
	require.Equal(t, want, es)
	b, _, _, err := d.Load(ctx, "b")
	require.NoError(t, err)
	assert.Equal(t, src, b.Sources, "its sources were stored: the refused Create's record did not count as logging them")
}

// TestHealingUnderConcurrentWrites: calls write concurrently while the log's disk and
// SQLite's fill and free again and again. Every write the journal acknowledged is there
// once, in order, and none it refused: a retry of a refused write (same seq, another
// client id) is always taken once the disk has room, never ErrSeqGap or ErrDuplicate;
// and a restart finds the same.
func TestHealingUnderConcurrentWrites(t *testing.T) {
	o := defaultOptions
	o.heal = 2 * time.Millisecond
	path := filepath.Join(t.TempDir(), "journal.db")
	d, err := open(ctx, path, o)
	require.NoError(t, err)
	var logFull atomic.Bool
	d.fr.log.fault = func() error {
		if logFull.Load() {
			return &os.PathError{Op: "write", Path: "segment", Err: syscall.ENOSPC}
		}
		return nil
	}
	setSQLiteFull := func(full bool) {
		n := int64(1073741823)
		if full {
			require.NoError(t, d.r.QueryRowContext(ctx, "PRAGMA page_count").Scan(&n))
		}
		_, err := d.wr.conn.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", n))
		require.NoError(t, err)
	}

	const calls, perCall = 6, 20
	acked := make([][]journal.Entry, calls) // each call's own goroutine's, until wg.Wait
	var finished atomic.Int32               // calls done
	var logRefused, sqliteRefused atomic.Int32
	stopped := func(c chan struct{}) bool {
		select {
		case <-c:
			return true
		default:
			return false
		}
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for c := range calls {
		id := fmt.Sprint("call-", c)
		require.NoError(t, d.Create(ctx, journal.Call{ID: id}))
		wg.Go(func() {
			defer finished.Add(1)
			for attempt := 0; len(acked[c]) < perCall || !stopped(stop); attempt++ {
				seq := int64(len(acked[c]) + 1)
				e := journal.Entry{Seq: seq, ClientID: fmt.Sprint(id, "-", attempt),
					Event: engine.Event{Type: engine.EventSay, At: seq, Text: strings.Repeat("word ", 50+attempt%200)}}
				err := d.Append(ctx, id, e)
				switch {
				case err == nil:
					acked[c] = append(acked[c], e)
				case errors.Is(err, journal.ErrSeqGap) || errors.Is(err, journal.ErrDuplicate):
					t.Errorf("call %s: a refused write was kept: %v", id, err)
					return
				default:
					switch {
					case strings.Contains(err.Error(), "no space left on device"):
						logRefused.Add(1)
					case strings.Contains(err.Error(), "full"):
						sqliteRefused.Add(1)
					default:
						t.Errorf("call %s: %v", id, err)
						return
					}
					time.Sleep(time.Millisecond) // refused while the disk is full: try again
				}
			}
		})
	}
	go func() {
		defer close(stop)
		// Until both have refused writes a few times (at most ~10 s). The two faults come
		// and go together for the first 100 rounds; after that, once SQLite has refused a
		// few writes, it is no longer filled until the log has too: while SQLite's writer
		// is stopped every write is refused before it reaches the log, and on a loaded
		// machine (CI, under -race) its stops could cover every moment the log was full.
		sqliteFull := false
		for i := 0; i < 100 || logRefused.Load() < 5 || sqliteRefused.Load() < 5; i++ {
			if i > 3000 {
				t.Error("the disk filled and freed 3,000 times, and the log or SQLite never refused")
				return
			}
			logFull.Store(i%7 == 3)
			logsTurn := i >= 100 && sqliteRefused.Load() >= 5 && logRefused.Load() < 5
			switch {
			case i%20 == 5 && !logsTurn:
				setSQLiteFull(true)
				sqliteFull = true
			case i%20 == 15 && sqliteFull:
				setSQLiteFull(false)
				sqliteFull = false
			}
			time.Sleep(3 * time.Millisecond)
		}
	}()
	<-stop
	logFull.Store(false)
	setSQLiteFull(false)
	wg.Wait()
	require.Eventually(t, func() bool { return d.WritesRefused() == nil }, 10*time.Second, 5*time.Millisecond)
	t.Logf("writes refused: %d by the log, %d while SQLite's writer was stopped", logRefused.Load(), sqliteRefused.Load())
	assert.Positive(t, logRefused.Load(), "the log refused writes")
	assert.Positive(t, sqliteRefused.Load(), "SQLite's writer stopped")
	settle(t, d)
	check := func(d *DB) {
		for c := range calls {
			_, es, _, err := d.Load(ctx, fmt.Sprint("call-", c))
			require.NoError(t, err)
			require.Equal(t, acked[c], es, "call-%d: what was acknowledged, once, in order", c)
		}
	}
	check(d)
	require.NoError(t, d.Close())
	d, err = Open(ctx, path)
	require.NoError(t, err)
	defer d.Close()
	check(d)
}

// openHealing opens a journal in a new folder whose stopped writer and log try again
// every 20 ms; it returns the journal's path too.
func openHealing(t *testing.T) (*DB, string) {
	t.Helper()
	o := defaultOptions
	o.heal = 20 * time.Millisecond
	path := filepath.Join(t.TempDir(), "journal.db")
	d, err := open(ctx, path, o)
	require.NoError(t, err)
	return d, path
}

// fillDisk stands in for a full disk under d's SQLite file: the file may not grow past
// the pages it has (max_page_count, a setting of the writer's connection).
func fillDisk(t *testing.T, d *DB) {
	t.Helper()
	require.NoError(t, d.wr.do(ctx, func(w *writer) error {
		var pages int64
		if err := w.conn.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
			return err
		}
		_, err := w.conn.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages))
		return err
	}))
}

// TestWriterWaitsOutALongLock: another process holds the file's write lock past
// busy_timeout (here 100 ms) several times over. The writer does not give up (which would
// fail every later write until a restart): writes are still acknowledged from the log
// meanwhile, and once the lock is released SQLite applies them all, in order, and the
// journal goes on as before.
func TestWriterWaitsOutALongLock(t *testing.T) {
	o := defaultOptions
	o.busy = 100 * time.Millisecond
	d, err := open(ctx, filepath.Join(t.TempDir(), "journal.db"), o)
	require.NoError(t, err)
	defer d.Close()
	require.NoError(t, d.Create(ctx, journal.Call{ID: "a"}))
	settle(t, d)

	release := holdWriteLock(t, d.path)

	for seq := int64(1); seq <= 5; seq++ {
		require.NoError(t, d.Append(ctx, "a", journal.Entry{Seq: seq, Event: engine.Event{Type: engine.EventTimeout, At: seq}}))
		time.Sleep(150 * time.Millisecond) // past busy_timeout each time
	}
	require.NoError(t, d.wr.brokenErr(), "the writer waits for the lock; it does not stop")
	assert.Equal(t, 5, d.ApplyLag())

	release()
	settle(t, d)
	require.NoError(t, d.Append(ctx, "a", journal.Entry{Seq: 6, Event: engine.Event{Type: engine.EventTimeout, At: 6}}))
	_, es, _, err := d.Load(ctx, "a")
	require.NoError(t, err)
	require.Len(t, es, 6)
	for i, e := range es {
		assert.Equal(t, int64(i+1), e.Seq)
	}
	assert.Zero(t, d.ApplyLag())
}

// holdWriteLock takes the write lock of the SQLite file at path on a connection of its own,
// as another process would, until release is called.
func holdWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	db, err := sql.Open("sqlite", dsn(path, url.Values{"_pragma": {"busy_timeout(10000)"}}))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	other, err := db.Conn(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { other.Close() })
	_, err = other.ExecContext(ctx, "BEGIN IMMEDIATE")
	require.NoError(t, err)
	return func() {
		_, err := other.ExecContext(ctx, "ROLLBACK")
		require.NoError(t, err)
	}
}

// TestLogCommitObserver: the observer is told about each batch the log commits, with the
// writes it acknowledged; nil stops it.
func TestLogCommitObserver(t *testing.T) {
	d := openTemp(t)
	defer d.Close()
	var mu sync.Mutex
	var writes []int
	d.SetLogCommitObserver(func(n int, took time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		writes = append(writes, n)
		assert.Positive(t, took)
	})
	require.NoError(t, d.Create(ctx, journal.Call{ID: "a"}))
	require.NoError(t, d.Append(ctx, "a", journal.Entry{Seq: 1, Event: engine.Event{Type: engine.EventTimeout, At: 1}}))
	d.SetLogCommitObserver(nil)
	require.NoError(t, d.Append(ctx, "a", journal.Entry{Seq: 2, Event: engine.Event{Type: engine.EventTimeout, At: 2}}))
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []int{1, 1}, writes, "one batch each, acknowledged one after the other")
}

// startingDB appends through StartAppend, as the live server does on a disk that writes
// back.
type startingDB struct{ *DB }

func (s startingDB) Append(ctx context.Context, callID string, e journal.Entry) error {
	wait := s.StartAppend(ctx, callID, e)
	if wait == nil {
		return errors.New("StartAppend did not start on a log that writes back")
	}
	return wait()
}

// openStarting opens a journal whose log starts writing back before it syncs, whatever
// the test folder's file system (tmpfs does not write back).
func openStarting(t *testing.T) *DB { return openWritingBack(t, true) }

// openWritingBack opens a journal whose log writes back (starts writing back before it
// syncs) or not (as on tmpfs: no write-back, no fsync), whatever the test folder's file
// system.
func openWritingBack(t *testing.T, writeback bool) *DB {
	d := openTemp(t)
	require.NotNil(t, d.fr)
	d.fr.log.writeback, d.fr.log.inMemory = writeback, !writeback
	return d
}

// TestALogOnDiskIsSyncedWithoutWriteback: a log that cannot start write-back (a build
// for another system than Linux) is still on a disk, and finish syncs it: a sync that
// fails fails the batch. Only a log in memory (tmpfs) skips the sync.
func TestALogOnDiskIsSyncedWithoutWriteback(t *testing.T) {
	for _, c := range []struct {
		name     string
		inMemory bool
		synced   bool
	}{{"on a disk", false, true}, {"in memory", true, false}} {
		t.Run(c.name, func(t *testing.T) {
			l := &ackLog{base: filepath.Join(t.TempDir(), "journal.db"), inMemory: c.inMemory}
			require.NoError(t, l.startSegment(1))
			require.NoError(t, l.start([]byte("record")))
			require.NoError(t, l.f.Close()) // a sync of the file now fails
			if err := l.finish(); c.synced {
				assert.Error(t, err, "finish did not sync the log")
			} else {
				assert.NoError(t, err)
			}
		})
	}
}

// TestConformanceStarted runs the journal conformance suite with every append started
// before it is waited for.
func TestConformanceStarted(t *testing.T) {
	journaltest.Run(t, func(t *testing.T) journal.Journal { return startingDB{openStarting(t)} })
}

// TestConformanceTmpfsLog runs the journal conformance suite with the log as on tmpfs.
func TestConformanceTmpfsLog(t *testing.T) {
	journaltest.Run(t, func(t *testing.T) journal.Journal { return openWritingBack(t, false) })
}

// TestATmpfsLogHoldsWhatItAcknowledges: without an fsync (tmpfs, where it does nothing)
// an acknowledged append is in the log's file when Append returns, for a run killed
// before SQLite applies it, and the journal starts nothing early (Starts is false).
func TestATmpfsLogHoldsWhatItAcknowledges(t *testing.T) {
	d := openWritingBack(t, false)
	defer d.Close()
	assert.False(t, d.Starts())
	assert.Nil(t, d.StartAppend(ctx, "a", journal.Entry{Seq: 1}))
	require.NoError(t, d.Create(ctx, journal.Call{ID: "a"}))
	var want []journal.Entry
	for seq := int64(1); seq <= 3; seq++ {
		e := journal.Entry{Seq: seq, ClientID: fmt.Sprint("m", seq), Event: engine.Event{Type: engine.EventSay, At: seq * 1000, Text: "hello"}}
		require.NoError(t, d.Append(ctx, "a", e))
		want = append(want, e)
	}
	var got []journal.Entry
	require.NoError(t, recordsAfter(d.fr.log.base, 0, d.fr.acked(), func(r record) error {
		if r.Op == opAppend {
			got = append(got, *r.Entry)
		}
		return nil
	}))
	assert.Equal(t, want, got)
}

// TestStartAppendWritesFirstAndAcknowledgesOnWait: on an idle journal StartAppend writes
// the entry's record to the log at once and acknowledges it only in wait; another write
// made in between waits for the next batch; a refused entry and a failed log write are
// wait's outcome, and the failed one leaves nothing in the log.
func TestStartAppendWritesFirstAndAcknowledgesOnWait(t *testing.T) {
	d := openStarting(t)
	defer d.Close()
	say := func(seq int64, id string) journal.Entry {
		return journal.Entry{Seq: seq, ClientID: id, Event: engine.Event{Type: engine.EventSay, At: seq, Text: "hello " + id}}
	}
	logged := func(text string) bool {
		b, err := os.ReadFile(d.fr.log.cur.path)
		require.NoError(t, err)
		return strings.Contains(string(b), text)
	}
	for _, id := range []string{"a", "b"} {
		require.NoError(t, d.Create(ctx, journal.Call{ID: id, Created: time.Now()}))
	}
	acked := d.fr.acked()
	// The Creates were committed on this goroutine (nothing else writes): the front is
	// idle, and the start writes at once.
	wait := d.StartAppend(ctx, "a", say(1, "m1"))
	assert.True(t, logged("hello m1"), "the record is in the log before wait")
	assert.Equal(t, acked, d.fr.acked(), "and not acknowledged")
	other := make(chan error, 1)
	go func() { other <- d.Append(ctx, "b", say(1, "n1")) }()
	require.Eventually(t, func() bool { return d.fr.q.Backlog() == 1 }, 5*time.Second, time.Millisecond)
	assert.False(t, logged("hello n1"), "a write made meanwhile waits")
	require.NoError(t, wait())
	assert.Equal(t, acked+1, d.fr.acked(), "acknowledged by wait")
	require.NoError(t, <-other)

	// Whether the front is idle again yet or not (its goroutine lets go of the commit just
	// after answering), a start's outcome is the append's.
	assert.ErrorIs(t, d.StartAppend(ctx, "a", say(2, "m1"))(), journal.ErrDuplicate)

	d.fr.log.fault = func() error { return &os.PathError{Op: "write", Path: "segment", Err: syscall.EIO} }
	err := d.StartAppend(ctx, "a", say(2, "m2"))()
	require.ErrorContains(t, err, "input/output error")
	assert.False(t, logged("hello m2"), "the failed write left nothing in the log")

	settle(t, d)
	_, es, _, err := d.Load(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, []journal.Entry{say(1, "m1")}, es)
}

// writeLog writes buf to l and syncs it, as the front's begin and end do.
func writeLog(t *testing.T, l *ackLog, buf []byte) {
	t.Helper()
	require.NoError(t, l.start(buf))
	require.NoError(t, l.finish())
}

// TestALongCallsClientIDsStayChecked: a call with more client ids than the front keeps in a
// slice (idsInline) still refuses each one again, in the slice and in the set alike, after a
// refused write (whose id is taken back, so its retry is taken) and after a restart (the
// front reads the ids from SQLite).
func TestALongCallsClientIDsStayChecked(t *testing.T) {
	d, path := openHealing(t)
	var full atomic.Bool
	d.fr.log.fault = func() error {
		if full.Load() {
			return &os.PathError{Op: "write", Path: "segment", Err: syscall.ENOSPC}
		}
		return nil
	}
	say := func(seq int64, id string) journal.Entry {
		return journal.Entry{Seq: seq, ClientID: id, Event: engine.Event{Type: engine.EventSay, At: seq, Text: "hello " + id}}
	}
	require.NoError(t, d.Create(ctx, journal.Call{ID: "a"}))
	seq := int64(0)
	// refusedThenTaken has the log refuse the next write, then retries it until it is
	// taken: its id must have been taken back.
	refusedThenTaken := func(id, why string) {
		t.Helper()
		full.Store(true)
		require.Error(t, d.Append(ctx, "a", say(seq+1, id)))
		full.Store(false)
		require.Eventually(t, func() bool { return d.Append(ctx, "a", say(seq+1, id)) == nil },
			10*time.Second, 5*time.Millisecond, why)
		seq++
	}
	const n = 3 * idsInline
	for i := range n {
		seq++
		require.NoError(t, d.Append(ctx, "a", say(seq, fmt.Sprint("m", i))))
		if i == idsInline-1 {
			refusedThenTaken("refused-in-slice", "a refused write that would have turned the full slice into a set")
		}
	}
	refusedThenTaken("refused-in-set", "a refused write once the ids are a set")

	check := func(d *DB, when string) {
		t.Helper()
		for _, id := range []string{"m0", fmt.Sprint("m", idsInline-1), "refused-in-slice", fmt.Sprint("m", n-1), "refused-in-set"} {
			assert.ErrorIs(t, d.Append(ctx, "a", say(seq+1, id)), journal.ErrDuplicate, "%s: %s", when, id)
		}
		seq++
		require.NoError(t, d.Append(ctx, "a", say(seq, "new-"+when)), when)
	}
	check(d, "live")
	settle(t, d)
	require.NoError(t, d.Close())
	d2, err := open(ctx, path, defaultOptions)
	require.NoError(t, err)
	defer d2.Close()
	check(d2, "restarted")
	assert.ErrorIs(t, d2.Append(ctx, "a", say(seq+1, "new-live")), journal.ErrDuplicate)
}
