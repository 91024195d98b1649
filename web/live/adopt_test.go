package live

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/journal"
)

// testTTL is the lease TTL of the adoption tests: sweeps every 1 s ± 25%.
const testTTL = 3 * time.Second

// testScenario loads one of the web tests' scenarios (web/api/testdata).
func testScenario(t *testing.T, name string) *engine.Scenario {
	t.Helper()
	sc, diags := engine.Load(os.DirFS("../api/testdata"), name+".yaml")
	require.False(t, diags.HasErrors(), diags.Error())
	return sc
}

// logBuf is a concurrency-safe log sink.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// instance is a floor owning its calls in a shared journal, with its lease renewal and
// adoption sweep running until stop (or kill, which stops them without releasing
// anything, like kill -9).
type instance struct {
	t      *testing.T
	floor  *Floor
	cancel context.CancelFunc
	done   sync.WaitGroup
	logs   *logBuf
}

func newInstance(t *testing.T, j journal.Journal, name string, maxCalls int) *instance {
	t.Helper()
	return newInstanceTTL(t, j, name, maxCalls, testTTL)
}

func newInstanceTTL(t *testing.T, j journal.Journal, name string, maxCalls int, ttl time.Duration) *instance {
	t.Helper()
	own, err := NewOwned(j, Ownership{Instance: name, TTL: ttl})
	require.NoError(t, err)
	in := &instance{t: t, logs: &logBuf{}}
	in.floor = New(Options{Journal: j, Owned: own, MaxCalls: maxCalls,
		Logger: slog.New(slog.NewTextHandler(in.logs, &slog.HandlerOptions{Level: slog.LevelDebug})).With("instance", name)})
	ctx, cancel := context.WithCancel(context.Background())
	in.cancel = cancel
	in.done.Go(func() { in.floor.KeepLeases(ctx) })
	in.done.Go(func() { in.floor.AdoptOrphans(ctx) })
	t.Cleanup(in.kill)
	return in
}

// kill stops the instance without releasing its leases (its calls stop writing).
func (in *instance) kill() {
	in.cancel()
	in.done.Wait()
	require.NoError(in.t, in.floor.Shutdown(context.Background()))
}

// holds reports whether the instance has call id in memory.
func (in *instance) holds(id string) bool {
	in.floor.mu.Lock()
	defer in.floor.mu.Unlock()
	return in.floor.calls[id] != nil
}

func (in *instance) recovered(via string) float64 {
	var m dto.Metric
	require.NoError(in.t, in.floor.metrics.Recovered.WithLabelValues(via).Write(&m))
	return m.GetCounter().GetValue()
}

// startCalls starts n calls of sc on in.
func startCalls(t *testing.T, in *instance, sc *engine.Scenario, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		info := journal.Call{ID: NewCallID(), ScenarioID: sc.ID, Title: sc.Title, Hash: sc.Hash, Sources: sc.Sources,
			Seed: uint64(i), Trainee: "Robin", Created: time.Now().UTC()}
		_, err := in.floor.Start(context.Background(), info, sc)
		require.NoError(t, err)
		ids = append(ids, info.ID)
	}
	return ids
}

// TestAdoptOrphansOfADeadInstance: three instances share a journal. While A lives, the
// others' sweeps leave its calls alone. A dies without a word (its goroutines stop, its
// leases are not renewed): within TTL + a sweep, B and C adopt every one of its calls,
// each exactly once, with nobody reconnecting; the calls' timers run there (the customer
// gives up at 20 s of ringing) and the results are recorded.
func TestAdoptOrphansOfADeadInstance(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := testScenario(t, "live")
		j := journal.NewMemory()
		a := newInstance(t, j, "a", 0)
		b := newInstance(t, j, "b", 0)
		c := newInstance(t, j, "c", 0)
		const n = 12
		ids := startCalls(t, a, sc, n)

		time.Sleep(3 * testTTL) // many sweeps while A renews
		assert.Equal(t, n, a.floor.LiveCalls())
		assert.Zero(t, b.floor.LiveCalls()+c.floor.LiveCalls(), "nobody adopts the calls of a live instance")

		a.kill()
		killed := time.Now()
		for b.floor.LiveCalls()+c.floor.LiveCalls() < n {
			require.Less(t, time.Since(killed), 2*testTTL, "adopted in time")
			time.Sleep(50 * time.Millisecond)
		}
		took := time.Since(killed)
		t.Logf("adopted %d calls %v after the kill (TTL %v): B %d, C %d", n, took, testTTL, b.floor.LiveCalls(), c.floor.LiveCalls())
		assert.GreaterOrEqual(t, took, testTTL*2/3, "not before A's leases ran out")
		assert.LessOrEqual(t, took, testTTL+testTTL/3*5/4+100*time.Millisecond, "by the first sweep after they ran out")
		for _, id := range ids {
			assert.NotEqual(t, b.holds(id), c.holds(id), "call %s is held by exactly one instance", id)
		}
		assert.Equal(t, float64(n), b.recovered(viaSweep)+c.recovered(viaSweep), "counted as adopted by the sweep")
		unowned, err := j.Unowned(context.Background(), time.Now().Add(testTTL/2), 0)
		require.NoError(t, err)
		assert.Empty(t, unowned, "the adopters renew the leases")

		// Nobody ever answered: the ring timer (20 s) fires on the adopters.
		time.Sleep(20 * time.Second)
		synctest.Wait()
		for _, id := range ids {
			_, es, res, err := j.Load(context.Background(), id)
			require.NoError(t, err)
			require.NotNil(t, res, "call %s has its result", id)
			assert.Equal(t, "missed", res.End.Ending)
			require.Len(t, es, 1)
			assert.Equal(t, engine.EventTimeout, es[0].Event.Type)
			assert.Equal(t, int64(20_000), es[0].Event.At, "at its deadline on the call clock")
		}
		assert.Zero(t, b.floor.LiveCalls()+c.floor.LiveCalls(), "ended calls leave memory")
	})
}

// TestAdoptDrainedCallsAtOnce: an instance that drains releases its leases; the next sweep
// of another instance adopts its calls, without waiting for the TTL.
func TestAdoptDrainedCallsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := testScenario(t, "live")
		j := journal.NewMemory()
		a := newInstance(t, j, "a", 0)
		b := newInstance(t, j, "b", 0)
		startCalls(t, a, sc, 3)
		time.Sleep(testTTL / 2)
		a.kill()
		released, err := a.floor.ReleaseLeases(context.Background())
		require.NoError(t, err)
		require.Equal(t, 3, released)
		drained := time.Now()
		for b.floor.LiveCalls() < 3 {
			require.Less(t, time.Since(drained), testTTL/3*5/4+100*time.Millisecond, "adopted by the next sweep")
			time.Sleep(10 * time.Millisecond)
		}
		t.Logf("adopted %v after the drain", time.Since(drained))
		assert.Contains(t, b.logs.String(), "adopted orphaned calls")
	})
}

// TestAdoptRespectsMaxCalls: an instance adopts no more calls than --max-calls allows, and
// leaves the rest (with no lease of its) to the others.
func TestAdoptRespectsMaxCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := testScenario(t, "live")
		j := journal.NewMemory()
		a := newInstance(t, j, "a", 0)
		startCalls(t, a, sc, 5)
		a.kill()
		_, err := a.floor.ReleaseLeases(context.Background())
		require.NoError(t, err)

		b := newInstance(t, j, "b", 2)
		time.Sleep(testTTL)
		assert.Equal(t, 2, b.floor.LiveCalls(), "B is full")
		unowned, err := j.Unowned(context.Background(), time.Now(), 0)
		require.NoError(t, err)
		assert.Len(t, unowned, 3, "the others are free")
		n, err := j.Renew(context.Background(), "b", time.Now(), testTTL)
		require.NoError(t, err)
		assert.Equal(t, 2, n, "B holds leases only on the calls it runs")

		c := newInstance(t, j, "c", 0)
		time.Sleep(testTTL)
		assert.Equal(t, 3, c.floor.LiveCalls(), "C adopts the rest")
	})
}

// TestAdoptSkipsACallItCannotRebuild: a call whose recorded scenario no longer compiles is
// tried once per instance, logged, and its lease released; later sweeps leave it alone
// rather than logging the same error every TTL/3.
func TestAdoptSkipsACallItCannotRebuild(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := journal.NewMemory()
		ctx := context.Background()
		bad := journal.Call{ID: "broken", ScenarioID: "x", Hash: "h", Created: time.Now().UTC(),
			Sources: []engine.SourceFile{{Path: "x.yaml", Data: []byte("id: x\nnodes: {")}}}
		_, err := j.CreateLeased(ctx, bad, "dead", time.Now(), time.Second)
		require.NoError(t, err)
		b := newInstance(t, j, "b", 0)
		time.Sleep(5 * testTTL)
		assert.Equal(t, 1, strings.Count(b.logs.String(), "cannot recover an open call"), b.logs.String())
		assert.Zero(t, b.floor.LiveCalls())
		unowned, err := j.Unowned(ctx, time.Now(), 0)
		require.NoError(t, err)
		assert.Equal(t, []string{"broken"}, unowned, "its lease was given back")
	})
}

// TestAdoptedCallIsNotHungUpAtOnce: a call that started more than callIdleTimeout ago and
// is adopted waits callIdleTimeout from its adoption for its trainee, not from its start.
func TestAdoptedCallIsNotHungUpAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := testScenario(t, "echo") // rings without a timer
		j := journal.NewMemory()
		ctx := context.Background()
		old := journal.Call{ID: "old", ScenarioID: sc.ID, Title: sc.Title, Hash: sc.Hash, Sources: sc.Sources,
			Created: time.Now().Add(-callIdleTimeout - time.Minute).UTC()}
		_, err := j.CreateLeased(ctx, old, "dead", time.Now(), time.Second)
		require.NoError(t, err)
		b := newInstance(t, j, "b", 0)
		time.Sleep(2 * testTTL)
		require.True(t, b.holds("old"), "adopted")
		_, _, res, err := j.Load(ctx, "old")
		require.NoError(t, err)
		assert.Nil(t, res, "still open: its trainee may reconnect")

		time.Sleep(callIdleTimeout)
		synctest.Wait()
		_, es, res, err := j.Load(ctx, "old")
		require.NoError(t, err)
		require.NotNil(t, res, "hung up once nobody connected for callIdleTimeout")
		assert.Equal(t, "hangup", res.End.Ending)
		require.Len(t, es, 1)
		assert.Equal(t, engine.EventHangup, es[0].Event.Type)
	})
}

// TestCreatedCallIsNeverUnowned: a call an instance is starting is recorded with its
// lease, so a sweep running at that moment can never adopt it.
func TestCreatedCallIsNeverUnowned(t *testing.T) {
	j := journal.NewMemory()
	own, err := NewOwned(j, Ownership{Instance: "a", TTL: time.Minute})
	require.NoError(t, err)
	for i := range 20 {
		require.NoError(t, own.Create(context.Background(), journal.Call{ID: fmt.Sprint("c", i), Created: time.Now()}))
		unowned, err := j.Unowned(context.Background(), time.Now(), 0)
		require.NoError(t, err)
		require.Empty(t, unowned)
	}
}

// TestRecoverAdoptsNoMoreThanItRuns: at start, an instance with room for fewer calls than
// there are orphans keeps the leases only of the calls it runs; the others are free for
// another instance at once (not renewed by this one for ever).
func TestRecoverAdoptsNoMoreThanItRuns(t *testing.T) {
	sc := testScenario(t, "echo")
	j := journal.NewMemory()
	ctx := context.Background()
	const orphans = 40
	for i := range orphans {
		info := journal.Call{ID: fmt.Sprintf("o%02d", i), ScenarioID: sc.ID, Title: sc.Title, Hash: sc.Hash, Sources: sc.Sources,
			Created: time.Now().Add(time.Duration(i) * time.Millisecond).UTC()}
		_, err := j.CreateLeased(ctx, info, "dead", time.Now().Add(-time.Minute), time.Second)
		require.NoError(t, err)
	}
	own, err := NewOwned(j, Ownership{Instance: "b", TTL: time.Minute})
	require.NoError(t, err)
	f := New(Options{Journal: j, Owned: own, MaxCalls: 30, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer func() { require.NoError(t, f.Shutdown(ctx)) }()
	info := journal.Call{ID: NewCallID(), ScenarioID: sc.ID, Title: sc.Title, Hash: sc.Hash, Sources: sc.Sources, Created: time.Now().UTC()}
	for range 10 {
		info.ID = NewCallID()
		_, err := f.Start(ctx, info, sc)
		require.NoError(t, err)
	}
	n, err := f.Recover(ctx)
	require.NoError(t, err)
	assert.Equal(t, 20, n, "room for 20 more")
	assert.Equal(t, 30, f.LiveCalls())
	unowned, err := j.Unowned(ctx, time.Now(), 0)
	require.NoError(t, err)
	assert.Len(t, unowned, orphans-20, "the orphans it could not run are free")
	renewed, err := j.Renew(ctx, "b", time.Now(), time.Minute)
	require.NoError(t, err)
	assert.Equal(t, 30, renewed, "it holds leases only on the calls it runs")
}

// TestAdoptionWindowWithTheDefaultTTL: with DefaultLeaseTTL (6 s), a killed instance's
// call is adopted 4 to 8.5 s after the kill, wherever the kill falls between two of its
// renewals (docs/deploy.md).
func TestAdoptionWindowWithTheDefaultTTL(t *testing.T) {
	sc := testScenario(t, "echo")
	var lo, hi time.Duration
	for _, offset := range []time.Duration{0, 500 * time.Millisecond, time.Second, 1500 * time.Millisecond, 1900 * time.Millisecond} {
		synctest.Test(t, func(t *testing.T) {
			j := journal.NewMemory()
			a := newInstanceTTL(t, j, "a", 0, DefaultLeaseTTL)
			b := newInstanceTTL(t, j, "b", 0, DefaultLeaseTTL)
			startCalls(t, a, sc, 1)
			time.Sleep(5*DefaultLeaseTTL/3 + offset) // a few renewals, then offset after the last
			a.kill()
			killed := time.Now()
			for b.floor.LiveCalls() == 0 {
				require.Less(t, time.Since(killed), 2*DefaultLeaseTTL)
				time.Sleep(10 * time.Millisecond)
			}
			took := time.Since(killed)
			if lo == 0 || took < lo {
				lo = took
			}
			hi = max(hi, took)
			assert.GreaterOrEqual(t, took, 4*time.Second, "offset %v", offset)
			assert.LessOrEqual(t, took, 8500*time.Millisecond+10*time.Millisecond, "offset %v", offset)
		})
	}
	t.Logf("with the default TTL (%v), adopted %v to %v after the kill", DefaultLeaseTTL, lo, hi)
}
