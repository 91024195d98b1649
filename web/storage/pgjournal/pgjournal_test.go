package pgjournal

import (
	"context"
	"errors"
	"fmt"
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
	"github.com/switchboard-sim/switchboard/web/accounts"
	"github.com/switchboard-sim/switchboard/web/accounts/accountstest"
	"github.com/switchboard-sim/switchboard/web/storage/pgjournal/pgtest"
)

var ctx = context.Background()

// openSchema opens a journal in a fresh schema of the test server.
func openSchema(t testing.TB) (*DB, string) {
	t.Helper()
	u := pgtest.Schema(t)
	d, err := Open(ctx, u)
	require.NoError(t, err)
	return d, u
}

func TestConformance(t *testing.T) {
	t.Parallel()
	journaltest.Run(t, func(t *testing.T) journal.Journal { d, _ := openSchema(t); return d })
}

func TestMigrations(t *testing.T) {
	t.Parallel()
	d, u := openSchema(t)
	var versions []int
	rows, err := d.pool.Query(ctx, `SELECT version FROM schema_version ORDER BY version`)
	require.NoError(t, err)
	for rows.Next() {
		var v int
		require.NoError(t, rows.Scan(&v))
		versions = append(versions, v)
	}
	require.NoError(t, rows.Err())
	want := []int{}
	for v := 1; v <= SchemaVersion; v++ {
		want = append(want, v)
	}
	assert.Equal(t, want, versions, "one row per migration")
	require.NoError(t, d.Create(ctx, journal.Call{ID: "kept", Created: time.Now()}))
	require.NoError(t, d.Close())

	// Opening again migrates nothing and keeps the data; instances opening together
	// migrate once (the advisory lock) and all succeed.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			d, err := Open(ctx, u)
			if err == nil {
				_, _, _, err = d.Load(ctx, "kept")
				d.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
}

func TestConcurrentFirstOpen(t *testing.T) {
	t.Parallel()
	u := pgtest.Schema(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			d, err := Open(ctx, u)
			if err == nil {
				err = d.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err, "instances migrating an empty schema together")
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	t.Parallel()
	d, u := openSchema(t)
	require.NoError(t, d.Close())
	pgtest.Exec(t, u, fmt.Sprintf(`INSERT INTO schema_version (version) VALUES (%d)`, SchemaVersion+1))
	_, err := Open(ctx, u)
	require.ErrorIs(t, err, ErrTooNew)
	assert.Contains(t, err.Error(), fmt.Sprintf("schema version is %d", SchemaVersion+1))
}

func TestForeignSchemaRefused(t *testing.T) {
	t.Parallel()
	u := pgtest.Schema(t)
	pgtest.Exec(t, u, `CREATE TABLE invoices (id int)`)
	_, err := Open(ctx, u)
	require.ErrorIs(t, err, ErrForeign)
	assert.Contains(t, err.Error(), "invoices")
}

func TestBadURLs(t *testing.T) {
	t.Parallel()
	pgtest.URL(t) // the unreachable case below needs a working loopback, not a server; keep it with the others
	for _, tc := range []struct {
		url  string
		want error
	}{
		{"mysql://root@localhost/db", ErrBadURL},
		{"postgres://u:secret@[::1", ErrBadURL},
		{"postgres://u:secret@host:port/db", ErrBadURL},
		{"postgres://u:secret@127.0.0.1:1/db?connect_timeout=2", ErrUnreachable},
		{"postgres://u:secret@127.0.0.1:1/db?sslmode=nonsense", ErrBadURL},
	} {
		t.Run(tc.url, func(t *testing.T) {
			_, err := Open(ctx, tc.url)
			require.ErrorIs(t, err, tc.want)
			assert.NotContains(t, err.Error(), "secret", "the password never shows")
		})
	}
	// A database that does not exist on a server that does.
	u := strings.Replace(pgtest.URL(t), "/switchboard_test", "/no_such_database", 1)
	if u != pgtest.URL(t) {
		_, err := Open(ctx, u)
		require.ErrorIs(t, err, ErrUnreachable)
		assert.Contains(t, err.Error(), "no_such_database")
	}
}

func TestRedact(t *testing.T) {
	assert.Equal(t, "postgres://u:xxxxx@h/db", Redact("postgres://u:pw@h/db"))
	assert.Equal(t, "postgres://u@h/db", Redact("postgres://u@h/db"))
}

// TestEntryBytes keeps event text exactly, NUL and invalid UTF-8 included (bytea).
func TestEntryBytes(t *testing.T) {
	t.Parallel()
	d, _ := openSchema(t)
	defer d.Close()
	require.NoError(t, d.Create(ctx, journal.Call{ID: "b", Created: time.Now()}))
	e := journal.Entry{Seq: 1, Event: engine.Event{Type: engine.EventSay, Text: "a\x00b\xff\xfe"}}
	require.NoError(t, d.Append(ctx, "b", e))
	_, es, _, err := d.Load(ctx, "b")
	require.NoError(t, err)
	require.Equal(t, []journal.Entry{e}, es)
}

// TestBadWriteDoesNotFailItsBatch: a write whose statement fails (here a NUL in a text
// column, which PostgreSQL refuses) gets its error; the writes committed with it do not.
func TestBadWriteDoesNotFailItsBatch(t *testing.T) {
	t.Parallel()
	d, _ := openSchema(t)
	defer d.Close()
	const n = 40
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			c := journal.Call{ID: fmt.Sprintf("c%02d", i), Created: time.Now()}
			if i%10 == 3 {
				c.Title = "bad\x00title"
			}
			errs[i] = d.Create(ctx, c)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if i%10 == 3 {
			require.Error(t, err, "call %d", i)
			continue
		}
		require.NoError(t, err, "call %d", i)
	}
	list, err := d.List(ctx, journal.Filter{})
	require.NoError(t, err)
	assert.Len(t, list, n-n/10)
}

// TestGroupCommitBatches: concurrent appends share commits.
func TestGroupCommitBatches(t *testing.T) {
	t.Parallel()
	d, _ := openSchema(t)
	defer d.Close()
	var mu sync.Mutex
	commits, writes := 0, 0
	d.SetCommitObserver(func(n int, _ time.Duration) {
		mu.Lock()
		commits++
		writes += n
		mu.Unlock()
	})
	const calls, per = 32, 10
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			id := fmt.Sprint("g", i)
			if err := d.Create(ctx, journal.Call{ID: id, Created: time.Now()}); err != nil {
				t.Error(err)
				return
			}
			for s := int64(1); s <= per; s++ {
				if err := d.Append(ctx, id, journal.Entry{Seq: s, Event: engine.Event{Type: engine.EventSay, Text: "x"}}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, calls*(per+1), writes)
	assert.Less(t, commits, writes, "some writes shared a commit")
	t.Logf("%d writes in %d commits", writes, commits)
}

// TestTwoInstancesSameCall: two DBs (two instances) appending to one call at the same
// seq: exactly one wins, the other is told ErrSeqGap; nothing is doubled.
func TestTwoInstancesSameCall(t *testing.T) {
	t.Parallel()
	a, u := openSchema(t)
	defer a.Close()
	b, err := Open(ctx, u)
	require.NoError(t, err)
	defer b.Close()
	require.NoError(t, a.Create(ctx, journal.Call{ID: "shared", Created: time.Now()}))
	for seq := int64(1); seq <= 20; seq++ {
		var wg sync.WaitGroup
		var ea, eb error
		e := journal.Entry{Seq: seq, Event: engine.Event{Type: engine.EventSay, Text: "x"}}
		wg.Go(func() { ea = a.Append(ctx, "shared", e) })
		wg.Go(func() { eb = b.Append(ctx, "shared", e) })
		wg.Wait()
		if (ea == nil) == (eb == nil) {
			t.Fatalf("seq %d: want one winner, got %v and %v", seq, ea, eb)
		}
		lost := ea
		if lost == nil {
			lost = eb
		}
		require.True(t, errors.Is(lost, journal.ErrSeqGap), "seq %d: %v", seq, lost)
	}
	_, es, _, err := b.Load(ctx, "shared")
	require.NoError(t, err)
	require.Len(t, es, 20)
}

// TestStaleOwnerFencedAcrossInstances: two instances (two DBs on one schema). Instance A
// owns a call and stalls past its lease while it has appends in flight; B takes the call
// over. A's appends racing B's takeover either commit before it or are refused with
// ErrFenced; after the takeover nothing of A's lands, and the entries have no gap.
func TestStaleOwnerFencedAcrossInstances(t *testing.T) {
	t.Parallel()
	a, u := openSchema(t)
	defer a.Close()
	b, err := Open(ctx, u)
	require.NoError(t, err)
	defer b.Close()
	t0 := time.Date(2026, 12, 4, 21, 0, 0, 0, time.UTC)
	require.NoError(t, a.Create(ctx, journal.Call{ID: "c", Created: t0}))
	la, err := a.Acquire(ctx, "c", "a", t0, time.Second)
	require.NoError(t, err)

	// A appends as fast as it can while B takes over at t0+2s.
	var wg sync.WaitGroup
	var aWrote []int64
	var aErr error
	wrote3 := make(chan struct{})
	var once sync.Once
	wg.Go(func() {
		defer once.Do(func() { close(wrote3) }) // also when A fails early
		for seq := int64(1); ; seq++ {
			err := a.AppendLeased(ctx, la, journal.Entry{Seq: seq, ClientID: fmt.Sprint("a", seq), Event: engine.Event{Type: engine.EventSay, At: seq}})
			if err != nil {
				aErr = err
				return
			}
			aWrote = append(aWrote, seq)
			if seq == 3 {
				once.Do(func() { close(wrote3) })
			}
		}
	})
	<-wrote3 // A is writing
	lb, err := b.Acquire(ctx, "c", "b", t0.Add(2*time.Second), time.Second)
	require.NoError(t, err)
	wg.Wait()
	require.ErrorIs(t, aErr, journal.ErrFenced, "A stops at the fence")

	_, es, _, err := b.Load(ctx, "c")
	require.NoError(t, err)
	require.Len(t, es, len(aWrote), "every append A was told succeeded is there, nothing else")
	next := int64(len(es)) + 1
	require.NoError(t, b.AppendLeased(ctx, lb, journal.Entry{Seq: next, ClientID: "b1", Event: engine.Event{Type: engine.EventSay, At: next}}))
	require.ErrorIs(t, a.AppendLeased(ctx, la, journal.Entry{Seq: next + 1, Event: engine.Event{Type: engine.EventHangup}}), journal.ErrFenced)
	t.Logf("A wrote %d entries before B took over", len(aWrote))
}

func TestAccountsStore(t *testing.T) {
	t.Parallel()
	accountstest.Run(t, func(t *testing.T) accounts.Store {
		d, _ := openSchema(t)
		t.Cleanup(func() { d.Close() })
		return d
	})
}

// BenchmarkGroupCommit: concurrent calls each appending in turn, every append returning
// after the commit that holds it; one-per-tx commits each write alone, group is the
// journal as shipped. See docs/performance.md.
func BenchmarkGroupCommit(b *testing.B) {
	ev := engine.Event{Type: engine.EventSay, Text: "I understand, let me check the refund for you."}
	for _, mode := range []struct {
		name     string
		maxBatch int
		serial   bool
	}{{"one-per-tx", 1, true}, {"group-serial", MaxBatch, true}, {"group", MaxBatch, false}} {
		for _, calls := range []int{16, 256, 2048} {
			b.Run(fmt.Sprintf("%s/calls=%d", mode.name, calls), func(b *testing.B) {
				d, err := open(ctx, pgtest.Schema(b), mode.maxBatch)
				require.NoError(b, err)
				defer d.Close()
				d.wr.serialAppends = mode.serial
				var batches, writes atomic.Int64
				d.SetCommitObserver(func(n int, _ time.Duration) { batches.Add(1); writes.Add(int64(n)) })
				for c := range calls {
					require.NoError(b, d.Create(ctx, journal.Call{ID: fmt.Sprint("bench-", c), Created: time.Now()}))
				}
				batches.Store(0)
				writes.Store(0)
				var next atomic.Int64 // total appends handed out
				b.ResetTimer()
				var wg sync.WaitGroup
				for c := range calls {
					wg.Go(func() {
						id := fmt.Sprint("bench-", c)
						for seq := int64(1); next.Add(1) <= int64(b.N); seq++ {
							e := ev
							e.At = seq
							if err := d.Append(ctx, id, journal.Entry{Seq: seq, ClientID: fmt.Sprint(seq), Event: e}); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
				if n := batches.Load(); n > 0 {
					b.ReportMetric(float64(writes.Load())/float64(n), "events/commit")
				}
			})
		}
	}
}
