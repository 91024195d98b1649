package sqlitejournal

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/engine/journal/journaltest"
)

var ctx = context.Background()

func openTemp(t testing.TB) *DB {
	t.Helper()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "journal.db"))
	require.NoError(t, err)
	return d
}

func TestConformance(t *testing.T) {
	journaltest.Run(t, func(t *testing.T) journal.Journal { return openTemp(t) })
}

func TestOpenSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "journal.db") // folders are created
	d, err := Open(ctx, path)
	require.NoError(t, err)
	defer d.Close()
	require.Equal(t, path, d.Path())

	var mode string
	var sync, fk, version, appID, temp int
	wc := d.wr.conn // the writer's connection, idle between batches
	require.NoError(t, wc.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode))
	require.NoError(t, wc.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync))
	require.NoError(t, wc.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk))
	require.NoError(t, wc.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version))
	require.NoError(t, wc.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID))
	require.NoError(t, wc.QueryRowContext(ctx, "PRAGMA temp_store").Scan(&temp))
	assert.Equal(t, "wal", mode)
	assert.Equal(t, 2, temp, "temp_store=MEMORY: statement journals never spill to a file")
	assert.Equal(t, 2, sync, "synchronous=FULL")
	assert.Equal(t, 1, fk, "foreign_keys=ON")
	assert.Equal(t, SchemaVersion, version)
	assert.Equal(t, applicationID, appID)

	// The read pool cannot write.
	_, err = d.r.ExecContext(ctx, "DELETE FROM calls")
	require.Error(t, err)

	// A second handle cannot take the acknowledgement log: it writes to SQLite directly.
	d2, err := Open(ctx, path)
	require.NoError(t, err)
	defer d2.Close()
	require.NotNil(t, d.fr)
	require.Nil(t, d2.fr)
}

func TestPersistence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	d, err := Open(ctx, path)
	require.NoError(t, err)
	c := journal.Call{ID: "p", ScenarioID: "s", Title: "t", Hash: "h", Seed: 1<<64 - 1, TokenHash: "secret-hash",
		Created: time.Date(2026, 5, 1, 12, 0, 0, 123456789, time.UTC),
		Sources: []engine.SourceFile{{Path: "x.yaml", Data: []byte{0, 0xff, 'a'}}}}
	require.NoError(t, d.Create(ctx, c))
	es := []journal.Entry{
		{Seq: 1, ClientID: "a", Event: engine.Event{Type: engine.EventAnswer, At: 5}},
		{Seq: 2, Event: engine.Event{Type: engine.EventSay, At: 900, Text: "hi"}},
	}
	for _, e := range es {
		require.NoError(t, d.Append(ctx, "p", e))
	}
	require.NoError(t, d.Create(ctx, journal.Call{ID: "done", Created: c.Created.Add(time.Second)}))
	r := journal.Result{Ended: c.Created.Add(time.Minute), End: engine.EndInfo{Ending: "e", Passed: true}, Fired: []string{"x"}, Elapsed: 60000}
	require.NoError(t, d.Finish(ctx, "done", r))
	require.NoError(t, d.Close())
	require.NoError(t, d.Close(), "closing twice")
	_, err = os.Stat(path + "-wal")
	require.True(t, os.IsNotExist(err), "Close checkpoints and removes the WAL")

	d, err = Open(ctx, path)
	require.NoError(t, err)
	defer d.Close()
	got, gotEs, res, err := d.Load(ctx, "p")
	require.NoError(t, err)
	require.True(t, c.Created.Equal(got.Created), "nanoseconds are kept")
	got.Created = c.Created
	require.Equal(t, c, got)
	require.Equal(t, es, gotEs)
	require.Nil(t, res)
	_, _, res, err = d.Load(ctx, "done")
	require.NoError(t, err)
	require.NotNil(t, res)
	require.True(t, r.Ended.Equal(res.Ended))
	// The call carries on where it was.
	require.ErrorIs(t, d.Append(ctx, "p", journal.Entry{Seq: 2, Event: engine.Event{Type: engine.EventHangup}}), journal.ErrSeqGap)
	require.NoError(t, d.Append(ctx, "p", journal.Entry{Seq: 3, Event: engine.Event{Type: engine.EventHangup, At: 1000}}))
	yes := true
	open, err := d.List(ctx, journal.Filter{Open: &yes})
	require.NoError(t, err)
	require.Len(t, open, 1)
	require.Equal(t, "p", open[0].ID)
}

// TestKillDuringAppends kills (SIGKILL) a process that appends as fast as it can, and checks
// that every append it saw succeed is in the file.
func TestKillDuringAppends(t *testing.T) {
	if path := os.Getenv("SQLITEJOURNAL_CHILD"); path != "" {
		childAppends(path)
		return
	}
	if testing.Short() {
		t.Skip("starts a process")
	}
	path, cmd, sc := startChild(t, "TestKillDuringAppends", "SQLITEJOURNAL_CHILD")
	acked := int64(0)
	var err error
	for sc.Scan() && acked < 200 {
		if n, ok := strings.CutPrefix(sc.Text(), "acked "); ok {
			acked, err = strconv.ParseInt(n, 10, 64)
			require.NoError(t, err)
		}
	}
	require.NoError(t, cmd.Process.Kill()) // SIGKILL on Unix: no cleanup runs
	_ = cmd.Wait()
	require.Equal(t, int64(200), acked, "the child stopped early")

	d, err := Open(ctx, path)
	require.NoError(t, err, "a killed writer leaves a usable journal")
	defer d.Close()
	_, es, _, err := d.Load(ctx, "killed")
	require.NoError(t, err)
	require.GreaterOrEqual(t, int64(len(es)), acked, "every acknowledged append survives")
	for i, e := range es {
		require.Equal(t, int64(i+1), e.Seq)
		require.Equal(t, fmt.Sprint("c", e.Seq), e.ClientID)
	}
}

// startChild runs this test binary's test (a kill test) as a child process, with envVar
// set to the path of a new journal, and returns that path, the child and its output.
func startChild(t *testing.T, test, envVar string) (string, *exec.Cmd, *bufio.Scanner) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "journal.db")
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), envVar+"="+path)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	return path, cmd, bufio.NewScanner(out)
}

func childAppends(path string) {
	d, err := Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := d.Create(ctx, journal.Call{ID: "killed", Created: time.Now()}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for seq := int64(1); ; seq++ {
		e := journal.Entry{Seq: seq, ClientID: fmt.Sprint("c", seq), Event: engine.Event{Type: engine.EventSay, At: seq, Text: "hello"}}
		if err := d.Append(ctx, "killed", e); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("acked %d\n", seq)
	}
}

// twoHandles opens two DBs on one new file, as two processes would, closed at the end of
// the test: a takes the acknowledgement log, b (which cannot) writes to SQLite directly.
func twoHandles(t *testing.T) (a, b *DB) {
	return twoHandlesWith(t, defaultOptions)
}

// twoHandlesWith is twoHandles with options o.
func twoHandlesWith(t *testing.T, o options) (a, b *DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "journal.db")
	a, err := open(ctx, path, o)
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	b, err = open(ctx, path, o)
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	return a, b
}

// TestTwoHandles writes through two DBs on the same file, as two processes would.
func TestTwoHandles(t *testing.T) {
	a, b := twoHandles(t)
	var wg sync.WaitGroup
	for i, d := range []*DB{a, b, a, b} {
		wg.Go(func() {
			id := fmt.Sprint("h", i)
			assert.NoError(t, d.Create(ctx, journal.Call{ID: id}))
			for seq := int64(1); seq <= 20; seq++ {
				assert.NoError(t, d.Append(ctx, id, journal.Entry{Seq: seq, Event: engine.Event{Type: engine.EventTimeout}}))
			}
		})
	}
	wg.Wait()
	require.Nil(t, b.fr, "the second handle cannot take the log")
	settle(t, a) // b sees what a acknowledged once SQLite has it
	for i := range 4 {
		_, es, _, err := b.Load(ctx, fmt.Sprint("h", i))
		require.NoError(t, err)
		require.Len(t, es, 20)
	}
}

// TestWriterMemoryNeverStale: the writer remembers open calls to skip Append's checks
// (writer.go), so another handle's writes to the same file must make it check again:
// here b finishes and appends to calls that a remembers as open at a known seq. (Both
// write to SQLite directly: with the acknowledgement log, one process writes calls.)
func TestWriterMemoryNeverStale(t *testing.T) {
	o := defaultOptions
	o.direct = true
	a, b := twoHandlesWith(t, o)
	say := func(seq int64, client string) journal.Entry {
		return journal.Entry{Seq: seq, ClientID: client, Event: engine.Event{Type: engine.EventSay, At: seq, Text: "hello"}}
	}
	for _, id := range []string{"finished-elsewhere", "appended-elsewhere"} {
		require.NoError(t, a.Create(ctx, journal.Call{ID: id}))
		require.NoError(t, a.Append(ctx, id, say(1, "c1")))
		require.NoError(t, a.Append(ctx, id, say(2, "c2"))) // a remembers: open, last 2
	}

	require.NoError(t, b.Finish(ctx, "finished-elsewhere", journal.Result{Ended: time.Now()}))
	require.ErrorIs(t, a.Append(ctx, "finished-elsewhere", say(3, "c3")), journal.ErrFinished)
	require.ErrorIs(t, a.Append(ctx, "finished-elsewhere", say(3, "c2")), journal.ErrDuplicate,
		"a retry of a recorded input is a duplicate even once the call is finished")

	require.NoError(t, b.Append(ctx, "appended-elsewhere", say(3, "c3")))
	require.ErrorIs(t, a.Append(ctx, "appended-elsewhere", say(3, "c3")), journal.ErrDuplicate)
	require.ErrorIs(t, a.Append(ctx, "appended-elsewhere", say(3, "other")), journal.ErrSeqGap)
	require.NoError(t, a.Append(ctx, "appended-elsewhere", say(4, "c4")))
	require.ErrorIs(t, a.Append(ctx, "appended-elsewhere", say(5, "c4")), journal.ErrDuplicate,
		"the memory's shortcut still refuses a duplicate client id")
	require.ErrorIs(t, a.Append(ctx, "appended-elsewhere", say(7, "c7")), journal.ErrSeqGap)

	require.NoError(t, a.Finish(ctx, "appended-elsewhere", journal.Result{Ended: time.Now()}))
	require.ErrorIs(t, a.Append(ctx, "appended-elsewhere", say(5, "c5")), journal.ErrFinished)
	_, es, _, err := b.Load(ctx, "appended-elsewhere")
	require.NoError(t, err)
	require.Len(t, es, 4)
}

// filledFile returns the path of a closed journal holding enough data to span many pages.
func filledFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "journal.db")
	d, err := Open(ctx, path)
	require.NoError(t, err)
	for i := range 20 {
		big := make([]byte, 64<<10) // different sources per call: each is stored
		_, _ = rand.Read(big)
		id := fmt.Sprint("call-", i)
		require.NoError(t, d.Create(ctx, journal.Call{ID: id, Created: time.Now(), Sources: []engine.SourceFile{{Path: "s", Data: big}}}))
		for seq := int64(1); seq <= 30; seq++ {
			require.NoError(t, d.Append(ctx, id, journal.Entry{Seq: seq, Event: engine.Event{Type: engine.EventSay, Text: strings.Repeat("words ", 40)}}))
		}
	}
	require.NoError(t, d.Close())
	return path
}

func requireOpenFails(t *testing.T, path string, target error) error {
	t.Helper()
	var d *DB
	var err error
	require.NotPanics(t, func() { d, err = Open(ctx, path) })
	if err == nil {
		d.Close()
		t.Fatalf("Open(%s) succeeded", path)
	}
	if target != nil {
		require.ErrorIs(t, err, target)
	}
	require.Contains(t, err.Error(), path, "the error names the file")
	t.Logf("Open: %v", err)
	return err
}

func TestCorruptFiles(t *testing.T) {
	for _, size := range []int{10, 100, 4096, 100_000} {
		t.Run(fmt.Sprint("random-", size), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "journal.db")
			data := make([]byte, size)
			_, _ = rand.Read(data)
			require.NoError(t, os.WriteFile(path, data, 0o600))
			requireOpenFails(t, path, ErrCorrupt)
			after, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, data, after, "a file that is not a journal is left alone")
		})
	}
	t.Run("text", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "notes.txt")
		require.NoError(t, os.WriteFile(path, []byte(strings.Repeat("not a database\n", 200)), 0o600))
		requireOpenFails(t, path, ErrCorrupt)
	})
	t.Run("truncated-half", func(t *testing.T) {
		path := filledFile(t)
		fi, err := os.Stat(path)
		require.NoError(t, err)
		require.Greater(t, fi.Size(), int64(1<<20))
		require.NoError(t, os.Truncate(path, fi.Size()/2))
		requireOpenFails(t, path, ErrCorrupt)
	})
	t.Run("truncated-header", func(t *testing.T) {
		path := filledFile(t)
		require.NoError(t, os.Truncate(path, 50))
		requireOpenFails(t, path, ErrCorrupt)
	})
	t.Run("overwritten-page", func(t *testing.T) {
		path := filledFile(t)
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		require.NoError(t, err)
		junk := make([]byte, 4096)
		_, _ = rand.Read(junk)
		_, err = f.WriteAt(junk, 4096) // page 2: the first b-tree page after the schema
		require.NoError(t, err)
		require.NoError(t, f.Close())
		requireOpenFails(t, path, ErrCorrupt)
	})
}

func TestForeignDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
	require.NoError(t, err)
	require.NoError(t, db.Close())
	requireOpenFails(t, path, ErrForeign)

	db, err = sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec("PRAGMA application_id = 1234")
	require.NoError(t, err)
	require.NoError(t, db.Close())
	requireOpenFails(t, path, ErrForeign)
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	d, err := Open(ctx, path)
	require.NoError(t, err)
	require.NoError(t, d.Create(ctx, journal.Call{ID: "kept"}))
	require.NoError(t, d.Close())

	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec(fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion+1))
	require.NoError(t, err)
	require.NoError(t, db.Close())

	err = requireOpenFails(t, path, ErrTooNew)
	require.Contains(t, err.Error(), fmt.Sprintf("schema version is %d", SchemaVersion+1))
	require.Contains(t, err.Error(), fmt.Sprintf("up to %d", SchemaVersion))

	// The file was not touched: an older binary refusing it does not damage it.
	db, err = sql.Open("sqlite", path)
	require.NoError(t, err)
	defer db.Close()
	var v int
	require.NoError(t, db.QueryRow("PRAGMA user_version").Scan(&v))
	require.Equal(t, SchemaVersion+1, v)
}

func TestMigrationIsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	for range 3 {
		d, err := Open(ctx, path)
		require.NoError(t, err)
		require.NoError(t, d.Close())
	}
	// An empty file (e.g. created by touch) is a new database.
	empty := filepath.Join(t.TempDir(), "empty.db")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	d, err := Open(ctx, empty)
	require.NoError(t, err)
	require.NoError(t, d.Close())
}

func TestWriteErrors(t *testing.T) {
	t.Run("path-is-directory", func(t *testing.T) {
		dir := t.TempDir()
		err := requireOpenFails(t, dir, nil)
		require.Contains(t, err.Error(), "directory")
	})
	t.Run("parent-is-file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		require.NoError(t, os.WriteFile(file, []byte("x"), 0o600))
		err := requireOpenFails(t, filepath.Join(file, "journal.db"), nil)
		require.Contains(t, err.Error(), "create its folder")
	})
	t.Run("wal-path-blocked", func(t *testing.T) {
		// SQLite cannot create its write-ahead log: a directory is in the way. (This works
		// as root too, unlike permissions.)
		path := filepath.Join(t.TempDir(), "journal.db")
		require.NoError(t, os.Mkdir(path+"-wal", 0o700))
		requireOpenFails(t, path, nil)
	})
	t.Run("empty-path", func(t *testing.T) {
		_, err := Open(ctx, "")
		require.Error(t, err)
	})
	t.Run("read-only-directory", func(t *testing.T) {
		if runtime.GOOS == "windows" || os.Geteuid() == 0 {
			t.Skip("permissions do not apply (Windows or root)")
		}
		dir := t.TempDir()
		require.NoError(t, os.Chmod(dir, 0o500))
		t.Cleanup(func() { os.Chmod(dir, 0o700) })
		requireOpenFails(t, filepath.Join(dir, "journal.db"), nil)
	})
	t.Run("after-close", func(t *testing.T) {
		d := openTemp(t)
		require.NoError(t, d.Create(ctx, journal.Call{ID: "x"}))
		require.NoError(t, d.Close())
		require.NotPanics(t, func() {
			require.Error(t, d.Create(ctx, journal.Call{ID: "y"}))
			require.Error(t, d.Append(ctx, "x", journal.Entry{Seq: 1}))
			require.Error(t, d.Finish(ctx, "x", journal.Result{}))
			_, _, _, err := d.Load(ctx, "x")
			require.Error(t, err)
			_, err = d.List(ctx, journal.Filter{})
			require.Error(t, err)
		})
	})
	t.Run("bad-values", func(t *testing.T) {
		d := openTemp(t)
		defer d.Close()
		err := d.Create(ctx, journal.Call{ID: "y", Created: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
		require.ErrorContains(t, err, "out of range")
		require.NoError(t, d.Create(ctx, journal.Call{ID: "z"}))
		nan := journal.Result{End: engine.EndInfo{Overall: zero / zero}}
		require.ErrorContains(t, d.Finish(ctx, "z", nan), "encode result")
		_, _, res, err := d.Load(ctx, "z")
		require.NoError(t, err)
		require.Nil(t, res, "a refused result is not recorded")
	})
}

var zero float64 // for NaN

// benchDir is where benchmarks put their file: SWITCHBOARD_BENCH_DIR, to measure a given
// disk, or a temporary folder.
func benchDir(b *testing.B) string {
	if dir := os.Getenv("SWITCHBOARD_BENCH_DIR"); dir != "" {
		dir, err := os.MkdirTemp(dir, "bench")
		require.NoError(b, err)
		b.Cleanup(func() { os.RemoveAll(dir) })
		return dir
	}
	return b.TempDir()
}

// BenchmarkAppend measures durable appends (synchronous=FULL: one fsync per commit):
// sequentially to one call, and from several goroutines each appending to its own call.
func BenchmarkAppend(b *testing.B) {
	ev := engine.Event{Type: engine.EventSay, Text: "I understand, let me check the refund for you."}
	b.Run("sequential", func(b *testing.B) {
		d, err := Open(ctx, filepath.Join(benchDir(b), "journal.db"))
		require.NoError(b, err)
		defer d.Close()
		require.NoError(b, d.Create(ctx, journal.Call{ID: "bench"}))
		b.ResetTimer()
		for i := range b.N {
			seq := int64(i) + 1
			ev.At = seq
			if err := d.Append(ctx, "bench", journal.Entry{Seq: seq, ClientID: strconv.FormatInt(seq, 10), Event: ev}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	for _, calls := range []int{4, 16} {
		b.Run(fmt.Sprintf("parallel-calls=%d", calls), func(b *testing.B) {
			d, err := Open(ctx, filepath.Join(benchDir(b), "journal.db"))
			require.NoError(b, err)
			defer d.Close()
			for c := range calls {
				require.NoError(b, d.Create(ctx, journal.Call{ID: fmt.Sprint("bench-", c)}))
			}
			b.ResetTimer()
			appendFromEach(b, d, calls)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkGroupCommit measures committed events/s with many calls appending at once, as a
// live server does: each of `calls` goroutines appends to its own call, and an append
// returns only after its commit (synchronous=FULL). Writers compared in the same run:
// "one-per-tx" limits the writer to one write per transaction (the journal before group
// commit, with prepared statements); "group-inline-ckpt" is group commit with SQLite's
// default checkpointing (wal_autocheckpoint = 1,000 pages, run inside the COMMIT that
// crosses it: the journal before checkpoint.go); "group" is the journal as shipped. The
// ratios are what matter on a shared machine. BenchmarkFsync, run alongside, gives the
// disk's fsync latency. "group-direct" is the shipped writer without the acknowledgement
// log (each append acknowledged after SQLite's commit), "group" the journal as shipped.
func BenchmarkGroupCommit(b *testing.B) {
	for _, mode := range []struct {
		name string
		o    options
	}{
		{"one-per-tx", options{maxBatch: 1, autoCheckpoint: 1000, direct: true}},
		{"group-inline-ckpt", options{maxBatch: MaxBatch, autoCheckpoint: 1000, direct: true}},
		{"group-direct", withDirect(defaultOptions)},
		{"group", defaultOptions},
	} {
		for _, calls := range []int{16, 256, 2048, 10000} {
			b.Run(fmt.Sprintf("%s/calls=%d", mode.name, calls), func(b *testing.B) {
				d, err := open(ctx, filepath.Join(benchDir(b), "journal.db"), mode.o)
				require.NoError(b, err)
				defer d.Close()
				var batches, writes atomic.Int64
				d.SetCommitObserver(func(n int, _ time.Duration) { batches.Add(1); writes.Add(int64(n)) })
				createCalls(b, d, calls)
				batches.Store(0)
				writes.Store(0)
				wchar := writtenBytes()
				b.ResetTimer()
				appendFromEach(b, d, calls)
				reportApplied(b, d)
				if n := batches.Load(); n > 0 {
					b.ReportMetric(float64(writes.Load())/float64(n), "events/commit")
				}
				if wchar >= 0 { // noise-free: what the disk has to take per event
					b.ReportMetric(float64(writtenBytes()-wchar)/float64(b.N), "written-B/event")
				}
			})
		}
	}
}

// BenchmarkGroupCommitBusyCPU is BenchmarkGroupCommit/group with 10,000 appenders on a
// saturated CPU, as the journal's writer is at 19,000 live calls (docs/performance.md,
// "Why 19,000 calls vary"): busy=N adds N goroutines that each, again and again, sleep
// 5–15 ms and then compute for busyWork (like a call's word timer firing), asking
// N·busyWork/10 ms of CPU in all: busy=0 is the quiet machine, busy=750 about 1.5 cores
// of work more than GOMAXPROCS=2 can give. The writer competes with them for Go's run
// queues; events/s and wall-µs/event show what that costs it. direct=true is the writer
// alone (each append acknowledged after SQLite's commit), direct=false the journal as
// shipped (acknowledged from the log).
func BenchmarkGroupCommitBusyCPU(b *testing.B) {
	const calls = 10000
	for _, busy := range []int{0, 750} {
		for _, direct := range []bool{true, false} {
			b.Run(fmt.Sprintf("busy=%d/direct=%t", busy, direct), func(b *testing.B) {
				o := defaultOptions
				o.direct = direct
				d, err := open(ctx, filepath.Join(benchDir(b), "journal.db"), o)
				require.NoError(b, err)
				defer d.Close()
				var batches, writes atomic.Int64
				d.SetCommitObserver(func(n int, _ time.Duration) { batches.Add(1); writes.Add(int64(n)) })
				createCalls(b, d, calls)
				stop := make(chan struct{})
				var noise sync.WaitGroup
				var sink atomic.Uint64
				for i := range busy {
					noise.Go(func() {
						rnd := mrand.New(mrand.NewPCG(uint64(i), 1))
						for {
							select {
							case <-stop:
								return
							case <-time.After(5*time.Millisecond + time.Duration(rnd.Int64N(int64(10*time.Millisecond)))):
							}
							sink.Add(burn(busyWork))
						}
					})
				}
				batches.Store(0)
				writes.Store(0)
				b.ResetTimer()
				appendFromEach(b, d, calls)
				reportApplied(b, d)
				b.StopTimer()
				close(stop)
				noise.Wait()
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "wall-µs/event")
				if n := batches.Load(); n > 0 {
					b.ReportMetric(float64(writes.Load())/float64(n), "events/commit")
				}
			})
		}
	}
}

// createCalls creates the calls bench-0 … bench-(calls-1), concurrently (they share
// commits).
func createCalls(b *testing.B, d *DB, calls int) {
	var wg sync.WaitGroup
	for c := range calls {
		wg.Go(func() {
			require.NoError(b, d.Create(ctx, journal.Call{ID: fmt.Sprint("bench-", c)}))
		})
	}
	wg.Wait()
}

// appendFromEach appends b.N entries to the calls bench-0 … bench-(calls-1), each call's
// from a goroutine of its own, one after another, as the calls of a floor do; they share
// commits.
func appendFromEach(b *testing.B, d *DB, calls int) {
	ev := engine.Event{Type: engine.EventSay, Text: "I understand, let me check the refund for you."}
	var next atomic.Int64 // total appends handed out
	var wg sync.WaitGroup
	for c := range calls {
		wg.Go(func() {
			id := fmt.Sprint("bench-", c)
			for seq := int64(1); next.Add(1) <= int64(b.N); seq++ {
				e := ev
				e.At = seq
				if err := d.Append(ctx, id, journal.Entry{Seq: seq, ClientID: strconv.FormatInt(seq, 10), Event: e}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// busyWork is the CPU one wake-up of BenchmarkGroupCommitBusyCPU's noise asks for.
const busyWork = 40 * time.Microsecond

// burn computes for about d and returns a value the compiler cannot drop.
func burn(d time.Duration) uint64 {
	x := uint64(1)
	for end := time.Now().Add(d); time.Now().Before(end); {
		for range 200 {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	return x
}

// BenchmarkCreate measures recording new calls of one scenario from 64 goroutines, as a
// busy floor does (calls end and are replaced): every call hands over the same sources
// slice (~20 KB, as the embedded scenarios), which is stored once.
func BenchmarkCreate(b *testing.B) {
	d, err := Open(ctx, filepath.Join(benchDir(b), "journal.db"))
	require.NoError(b, err)
	defer d.Close()
	src := []engine.SourceFile{{Path: "scenario.yaml", Data: []byte(strings.Repeat("dialogue: a line the customer says\n", 560))}}
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				c := journal.Call{ID: fmt.Sprint("call-", i), Sources: src, Created: time.Now()}
				if err := d.Create(ctx, c); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

// writtenBytes is the bytes this process has written so far (wchar of /proc/self/io:
// write and pwrite calls, WAL and checkpoints included), or -1 where there is no such file.
func writtenBytes() int64 {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return -1
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "wchar: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// BenchmarkFsync measures the disk under the benchmarks: one 4 KiB write and fsync per
// op, in the folder the journal benchmarks use (SWITCHBOARD_BENCH_DIR).
func BenchmarkFsync(b *testing.B) {
	f, err := os.Create(filepath.Join(benchDir(b), "fsync"))
	require.NoError(b, err)
	defer f.Close()
	buf := make([]byte, 4096)
	b.ResetTimer()
	for i := range b.N {
		if _, err := f.WriteAt(buf, int64(i%256)*4096); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/fsync")
}

// TestBackgroundCheckpoint: after commits the checkpointer copies the WAL into the main
// file (only a checkpoint grows it: the writer's own bound, WALCheckpointPages, is far
// away), without any write waiting for it.
func TestBackgroundCheckpoint(t *testing.T) {
	d := openTemp(t)
	defer d.Close()
	require.NotNil(t, d.ck)
	var pages int
	require.NoError(t, d.wr.conn.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&pages))
	assert.Equal(t, WALCheckpointPages, pages)
	size := func() int64 {
		fi, err := os.Stat(d.Path())
		require.NoError(t, err)
		return fi.Size()
	}
	before := size()
	require.NoError(t, d.Create(ctx, journal.Call{ID: "ck"}))
	text := strings.Repeat("a long enough line ", 50) // ~1 KB an entry: ~200 KB in all
	for seq := int64(1); seq <= 200; seq++ {
		require.NoError(t, d.Append(ctx, "ck", journal.Entry{Seq: seq, Event: engine.Event{Type: engine.EventSay, At: seq, Text: text}}))
	}
	require.Eventually(t, func() bool { return size() > before+150_000 }, 10*time.Second, 10*time.Millisecond,
		"the entries reach the main file without a checkpoint on the commit path")
	assert.Positive(t, d.ck.runs.Load())
	_, es, _, err := d.Load(ctx, "ck")
	require.NoError(t, err)
	assert.Len(t, es, 200)
}

// TestGroupCommitBatches checks that concurrent appends share transactions, and that each
// append is durable when it returns (read back through another connection).
func TestGroupCommitBatches(t *testing.T) {
	d := openTemp(t)
	defer d.Close()
	var batches, writes atomic.Int64
	const calls, per = 64, 10
	for c := range calls {
		require.NoError(t, d.Create(ctx, journal.Call{ID: fmt.Sprint("g", c)}))
	}
	settle(t, d)
	d.SetCommitObserver(func(n int, _ time.Duration) { batches.Add(1); writes.Add(int64(n)) })
	var wg sync.WaitGroup
	for c := range calls {
		wg.Go(func() {
			id := fmt.Sprint("g", c)
			for seq := int64(1); seq <= per; seq++ {
				if !assert.NoError(t, d.Append(ctx, id, journal.Entry{Seq: seq, ClientID: fmt.Sprint(seq),
					Event: engine.Event{Type: engine.EventSay, At: seq, Text: "x"}})) {
					return
				}
				_, es, _, err := d.Load(ctx, id) // the read pool sees it: committed
				if assert.NoError(t, err) {
					assert.Len(t, es, int(seq))
				}
			}
		})
	}
	wg.Wait()
	require.Equal(t, int64(calls*per), writes.Load())
	require.Less(t, batches.Load(), int64(calls*per), "no two appends shared a commit")
	t.Logf("%d appends in %d commits", writes.Load(), batches.Load())

	// A refused write in a batch does not spoil the others.
	d.SetCommitObserver(nil)
	var gap, okErr error
	wg.Go(func() {
		gap = d.Append(ctx, "g0", journal.Entry{Seq: 99, Event: engine.Event{Type: engine.EventTimeout}})
	})
	wg.Go(func() {
		okErr = d.Append(ctx, "g1", journal.Entry{Seq: per + 1, Event: engine.Event{Type: engine.EventTimeout}})
	})
	wg.Wait()
	require.ErrorIs(t, gap, journal.ErrSeqGap)
	require.NoError(t, okErr)
}

// TestSourcesStoredOnce: calls that played the same sources share one stored copy, calls
// with other sources get theirs, and both load exactly; a call recorded before schema 4
// (sources inline) still loads.
func TestSourcesStoredOnce(t *testing.T) {
	d := openTemp(t)
	defer d.Close()
	a := []engine.SourceFile{{Path: "a.yaml", Data: []byte("id: a\n")}}
	b := []engine.SourceFile{{Path: "b.yaml", Data: []byte{0, 0xff}}}
	for i, src := range [][]engine.SourceFile{a, a, b, a} {
		require.NoError(t, d.Create(ctx, journal.Call{ID: fmt.Sprint("c", i), Sources: src}))
	}
	var n int
	settle(t, d)
	require.NoError(t, d.r.QueryRowContext(ctx, "SELECT count(*) FROM sources").Scan(&n))
	assert.Equal(t, 2, n)
	for i, want := range [][]engine.SourceFile{a, a, b, a} {
		c, _, _, err := d.Load(ctx, fmt.Sprint("c", i))
		require.NoError(t, err)
		assert.Equal(t, want, c.Sources)
	}
	// A row written by schema 3: sources inline, no key.
	_, err := d.wr.conn.ExecContext(ctx, `INSERT INTO calls (id, scenario_id, title, hash, sources, seed, trainee, coach, created, token_hash, n)
		VALUES ('old', 's', 't', 'h', '[{"path":"o.yaml","data":"aWQ6IG8K"}]', 1, 'x', 0, '2026-01-01T00:00:00.000000000Z', '', 1000)`)
	require.NoError(t, err)
	c, _, _, err := d.Load(ctx, "old")
	require.NoError(t, err)
	assert.Equal(t, []engine.SourceFile{{Path: "o.yaml", Data: []byte("id: o\n")}}, c.Sources)
	list, err := d.List(ctx, journal.Filter{})
	require.NoError(t, err)
	require.Len(t, list, 5)
}

// TestMigrateEntriesToAppendOrder builds a file at schema 7 (entries keyed by the call's
// text id) with the released migration steps, fills it the way that schema's journal did,
// and opens it: every call loads with the same entries in order, appends carry on after
// each call's last seq with the duplicate, gap and finished checks intact, and new calls
// get numbers after the old ones.
func TestMigrateEntriesToAppendOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v7.db")
	old, err := sql.Open("sqlite", dsn(path, nil))
	require.NoError(t, err)
	for v := range 7 {
		_, err := old.Exec(migrations[v])
		require.NoError(t, err, "step %d", v+1)
	}
	_, err = old.Exec(fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = 7", applicationID))
	require.NoError(t, err)
	_, err = old.Exec(`INSERT INTO sources (key, data) VALUES ('k', '[{"path":"a.yaml","data":"aWQ6IGEK"}]')`)
	require.NoError(t, err)
	ids := []string{"zeta", "alpha", "mid", "empty", "done"}
	for i, id := range ids {
		var result any
		if id == "done" {
			result = `{"ending":"x","outcome":"won","ended":"2026-01-01T00:01:00Z"}`
		}
		_, err := old.Exec(`INSERT INTO calls (id, scenario_id, title, hash, sources, sources_key, seed, trainee, coach, created, token_hash, result)
			VALUES (?, 's', 't', 'h', '', 'k', ?, 'x', 0, ?, '', ?)`, id, i, fmt.Sprintf("2026-01-01T00:00:0%d.000000000Z", i), result)
		require.NoError(t, err)
	}
	want := map[string][]journal.Entry{}
	// Interleaved, as live calls write them; some entries have no client id.
	for seq := int64(1); seq <= 40; seq++ {
		for _, id := range []string{"zeta", "alpha", "mid", "done"} {
			if id == "mid" && seq > 7 {
				continue
			}
			e := journal.Entry{Seq: seq, ClientID: fmt.Sprint("c", seq), Event: engine.Event{Type: engine.EventSay, At: seq * 100, Text: id + " says " + strconv.FormatInt(seq, 10), Index: int(seq % 3)}}
			if seq%5 == 0 {
				e.ClientID = ""
				e.Event = engine.Event{Type: engine.EventTimeout, At: seq * 100}
			}
			var cid any
			if e.ClientID != "" {
				cid = e.ClientID
			}
			_, err := old.Exec(`INSERT INTO entries (call_id, seq, client_id, type, at, text, idx) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				id, e.Seq, cid, string(e.Event.Type), e.Event.At, e.Event.Text, e.Event.Index)
			require.NoError(t, err)
			want[id] = append(want[id], e)
		}
	}
	require.NoError(t, old.Close())

	d, err := Open(ctx, path)
	require.NoError(t, err)
	defer d.Close()
	var v int
	require.NoError(t, d.r.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v))
	require.Equal(t, SchemaVersion, v)
	for _, id := range ids {
		c, es, r, err := d.Load(ctx, id)
		require.NoError(t, err, id)
		assert.Equal(t, id, c.ID)
		assert.Equal(t, []engine.SourceFile{{Path: "a.yaml", Data: []byte("id: a\n")}}, c.Sources)
		assert.Equal(t, want[id], es, id)
		assert.Equal(t, id == "done", r != nil, id)
	}
	// Appends carry on from each call's last seq.
	next := func(seq int64, client string) journal.Entry {
		return journal.Entry{Seq: seq, ClientID: client, Event: engine.Event{Type: engine.EventSay, At: seq * 100, Text: "more"}}
	}
	require.NoError(t, d.Append(ctx, "zeta", next(41, "new")))
	require.NoError(t, d.Append(ctx, "mid", next(8, "c9")))
	require.NoError(t, d.Append(ctx, "empty", next(1, "c1")))
	require.ErrorIs(t, d.Append(ctx, "alpha", next(41, "c3")), journal.ErrDuplicate, "a client id recorded before the migration")
	require.ErrorIs(t, d.Append(ctx, "alpha", next(40, "other")), journal.ErrSeqGap)
	require.ErrorIs(t, d.Append(ctx, "alpha", next(42, "other")), journal.ErrSeqGap)
	require.ErrorIs(t, d.Append(ctx, "done", next(41, "other")), journal.ErrFinished)
	require.ErrorIs(t, d.Append(ctx, "nobody", next(1, "other")), journal.ErrNotFound)
	_, es, _, err := d.Load(ctx, "zeta")
	require.NoError(t, err)
	assert.Equal(t, append(want["zeta"], next(41, "new")), es)

	// A new call is numbered after the old ones and works like them.
	require.NoError(t, d.Create(ctx, journal.Call{ID: "new", Created: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)}))
	require.NoError(t, d.Append(ctx, "new", next(1, "c1")))
	var n, maxOld int64
	settle(t, d)
	require.NoError(t, d.r.QueryRowContext(ctx, "SELECT n FROM calls WHERE id = 'new'").Scan(&n))
	require.NoError(t, d.r.QueryRowContext(ctx, "SELECT max(n) FROM calls WHERE id != 'new'").Scan(&maxOld))
	assert.Equal(t, maxOld+1, n)

	// The file is consistent: no dangling reference, no damaged index.
	var check string
	require.NoError(t, d.r.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check))
	assert.Equal(t, "ok", check)
	rows, err := d.r.QueryContext(ctx, "PRAGMA foreign_key_check")
	require.NoError(t, err)
	assert.False(t, rows.Next(), "foreign_key_check finds nothing")
	require.NoError(t, rows.Close())
}

// TestEntriesSafetyNets: the schema itself refuses what appendEntry's checks refuse, so a
// bug there cannot record a gap or a duplicate client id.
func TestEntriesSafetyNets(t *testing.T) {
	d := openTemp(t)
	defer d.Close()
	require.NoError(t, d.Create(ctx, journal.Call{ID: "a"}))
	require.NoError(t, d.Append(ctx, "a", journal.Entry{Seq: 1, ClientID: "c1", Event: engine.Event{Type: engine.EventAnswer}}))
	var n int64
	settle(t, d)
	require.NoError(t, d.r.QueryRowContext(ctx, "SELECT n FROM calls WHERE id = 'a'").Scan(&n))
	ins := func(seq int64, client any) error {
		_, err := d.wr.conn.ExecContext(ctx, `INSERT INTO entries (call, seq, client_id, type, at, text, idx) VALUES (?, ?, ?, 'say', 0, '', 0)`, n, seq, client)
		return err
	}
	assert.ErrorContains(t, ins(3, "c3"), "not one more than the call's last", "a gap")
	assert.ErrorContains(t, ins(1, "c9"), "not one more than the call's last", "a repeated seq")
	assert.ErrorContains(t, ins(2, "c1"), "UNIQUE", "a repeated client id")
	require.NoError(t, ins(2, nil))
	require.NoError(t, ins(3, nil), "entries without a client id may repeat NULL")
	var head int64
	require.NoError(t, d.r.QueryRowContext(ctx, "SELECT seq FROM heads WHERE call = ?", n).Scan(&head))
	assert.Equal(t, int64(3), head)
}

// TestSourcesAfterARolledBackCreate: a Create refused after it stored its sources (the id
// is taken) in a batch where nothing else succeeded is rolled back with them, so the
// writer must not remember those sources as stored: the next call of the scenario gets
// them back on Load.
func TestSourcesAfterARolledBackCreate(t *testing.T) {
	d, err := Open(ctx, filepath.Join(t.TempDir(), "journal.db"))
	require.NoError(t, err)
	defer d.Close()
	require.NoError(t, d.Create(ctx, journal.Call{ID: "a", Created: time.Now()}))
	src := []engine.SourceFile{{Path: "s.yaml", Data: []byte("id: s\n")}}
	require.ErrorIs(t, d.Create(ctx, journal.Call{ID: "a", Created: time.Now(), Sources: src}), journal.ErrExists)
	require.NoError(t, d.Create(ctx, journal.Call{ID: "b", Created: time.Now(), Sources: src}))
	c, _, _, err := d.Load(ctx, "b")
	require.NoError(t, err)
	assert.Equal(t, src, c.Sources)
}

// settle waits until SQLite has applied every write d acknowledged (through the
// acknowledgement log), for tests that read the file with SQL of their own.
func settle(t *testing.T, d *DB) {
	t.Helper()
	require.NoError(t, d.caughtUp(ctx))
}

// withDirect returns o with the acknowledgement log off.
func withDirect(o options) options {
	o.direct = true
	return o
}

// reportApplied reports acked-events/s (b.N appends, each returned once acknowledged)
// and events/s (until SQLite has applied all of them: the same figure without the
// acknowledgement log).
func reportApplied(b *testing.B, d *DB) {
	b.Helper()
	acked := b.Elapsed()
	require.NoError(b, d.caughtUp(ctx))
	b.ReportMetric(float64(b.N)/acked.Seconds(), "acked-events/s")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
