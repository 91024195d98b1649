// Package journaltest is a conformance suite for journal.Journal implementations. Every
// implementation runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		journaltest.Run(t, func(t *testing.T) journal.Journal { return open(t) })
//	}
//
// The suite pins down the semantics the interface leaves to prose: error values (checked
// with errors.Is), the order Append checks in (ErrNotFound, ErrDuplicate, ErrFinished,
// ErrSeqGap), listing order (newest Created first, then id ascending) and filters, exact
// round trips (including Call.TokenHash, which JSON never shows), no aliasing between the
// caller's values and the journal's, safety under concurrent use, and cancelled contexts.
//
// Times are compared with time.Time.Equal, never by location, and test times carry
// microseconds at most (PostgreSQL keeps no finer). Byte slices are compared by content:
// an implementation may return an empty slice for a nil one and the other way round.
package journaltest

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/journal"
)

// Run runs the conformance suite. open must return a new, empty journal each time it is
// called; the suite closes it when the subtest ends (the implementation may register its
// own cleanups, such as removing a temporary folder, on t).
func Run(t *testing.T, open func(t *testing.T) journal.Journal) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(*testing.T, journal.Journal)
	}{
		{"CreateLoad", testCreateLoad},
		{"CreateExists", testCreateExists},
		{"NotFound", testNotFound},
		{"AppendRoundTrip", testAppendRoundTrip},
		{"AppendSequence", testAppendSequence},
		{"AppendDuplicateClientID", testAppendDuplicate},
		{"Finish", testFinish},
		{"ResultRoundTrip", testResultRoundTrip},
		{"NoAliasing", testNoAliasing},
		{"ListOrderAndFilters", testList},
		{"ListDefaultLimit", testListDefaultLimit},
		{"ConcurrentCalls", testConcurrentCalls},
		{"ConcurrentSameCall", testConcurrentSameCall},
		{"CancelledContext", testCancelled},
		{"Outbox", testOutbox},
		{"OutboxClaims", testOutboxClaims},
		{"Notes", testNotes},
		{"Summaries", testSummaries},
		{"SharedSources", testSharedSources},
		{"LongText", testLongText},
		{"Leases", testLeases},
		{"LeaseTakeoverRace", testLeaseRace},
		{"CreateLeased", testCreateLeased},
		{"Adopt", testAdopt},
		{"AdoptRace", testAdoptRace},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := open(t)
			require.NotNil(t, j, "open returned nil")
			t.Cleanup(func() { assert.NoError(t, j.Close(), "Close") })
			tc.fn(t, j)
		})
	}
	t.Run("Close", func(t *testing.T) {
		j := open(t)
		ctx := context.Background()
		require.NoError(t, j.Create(ctx, newCall("c1", base)))
		require.NoError(t, j.Close())
		// After Close every method fails with an error; none panics or hangs.
		err := within(t, 10*time.Second, "Create after Close", func() error { return j.Create(ctx, newCall("c2", base)) })
		require.Error(t, err, "Create after Close")
		err = within(t, 10*time.Second, "Append after Close", func() error {
			return j.Append(ctx, "c1", journal.Entry{Seq: 1, Event: engine.Event{Type: engine.EventAnswer}})
		})
		require.Error(t, err, "Append after Close")
		err = within(t, 10*time.Second, "Finish after Close", func() error { return j.Finish(ctx, "c1", newResult()) })
		require.Error(t, err, "Finish after Close")
		err = within(t, 10*time.Second, "Load after Close", func() error { _, _, _, err := j.Load(ctx, "c1"); return err })
		require.Error(t, err, "Load after Close")
		_ = j.Close() // closing twice is harmless (its error, if any, is the implementation's)
	})
}

// base is the Created time of test calls: microsecond precision, in a zone that is not UTC.
var base = time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.FixedZone("UTC+1", 3600))

// newCall returns a call with every field set.
func newCall(id string, created time.Time) journal.Call {
	return journal.Call{
		ID:         id,
		ScenarioID: "angry-refund",
		Title:      "The angry refund — « ünïcödé »",
		Hash:       "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		Sources: []engine.SourceFile{
			{Path: "scenarios/angry-refund.yaml", Data: []byte("id: angry-refund\ntitle: \"x\"\n")},
			{Path: "rules/common.yaml", Data: []byte{0, 1, 2, 0xff, 0xfe, '\r', '\n', 0x80, 0}}, // not UTF-8
			{Path: "empty.yaml", Data: []byte{}},
		},
		Seed:        math.MaxUint64 - 1, // does not fit an int64
		Trainee:     "trainee-ada",
		Coach:       true,
		Suggestions: string(engine.SuggestOnRequest),
		Created:     created,
		TokenHash:   "th:" + id + ":2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
	}
}

// sameCall fails unless got is want, comparing times with Equal and bytes by content.
func sameCall(t *testing.T, want, got journal.Call, msgAndArgs ...any) {
	t.Helper()
	require.Truef(t, want.Created.Equal(got.Created), "Created: want %v, got %v %v", want.Created, got.Created, fmt.Sprint(msgAndArgs...))
	require.Len(t, got.Sources, len(want.Sources), msgAndArgs...)
	for i := range want.Sources {
		require.Equal(t, want.Sources[i].Path, got.Sources[i].Path, msgAndArgs...)
		require.Truef(t, bytes.Equal(want.Sources[i].Data, got.Sources[i].Data),
			"Sources[%d].Data: want %q, got %q %v", i, want.Sources[i].Data, got.Sources[i].Data, fmt.Sprint(msgAndArgs...))
	}
	want.Created, got.Created = time.Time{}, time.Time{}
	want.Sources, got.Sources = nil, nil
	require.Equal(t, want, got, msgAndArgs...) // includes TokenHash and Seed
}

// sameResult fails unless got is want, comparing times with Equal and empty slices as nil.
func sameResult(t *testing.T, want, got *journal.Result, msgAndArgs ...any) {
	t.Helper()
	if want == nil {
		require.Nil(t, got, msgAndArgs...)
		return
	}
	require.NotNil(t, got, msgAndArgs...)
	require.Truef(t, want.Ended.Equal(got.Ended), "Ended: want %v, got %v", want.Ended, got.Ended)
	norm := func(r journal.Result) journal.Result {
		r.Ended = time.Time{}
		if len(r.Fired) == 0 {
			r.Fired = nil
		}
		if len(r.End.Scores) == 0 {
			r.End.Scores = nil
		}
		return r
	}
	require.Equal(t, norm(*want), norm(*got), msgAndArgs...)
}

func newResult() journal.Result {
	return journal.Result{
		Ended: base.Add(3*time.Minute + 7*time.Microsecond),
		End: engine.EndInfo{
			Ending:  "refund-granted",
			Outcome: "success",
			Text:    "The customer thanks you — and hangs up.",
			Scores: []engine.AxisScore{
				{Axis: "empathy", Points: 7.5, Max: 10, Normalized: 0.75, Weight: 2},
				{Axis: "speed", Points: -1, Max: 5, Normalized: 0.1 + 0.2, Weight: 1.0 / 3}, // not exact in decimal
			},
			Overall: 0.6000000000000001,
			Passed:  true,
		},
		Fired:   []string{"sloth", "interrupt", "sloth"},
		Elapsed: 187_000,
	}
}

// entries returns n entries numbered from first, with every event type and field used.
func entries(first int64, n int, clientPrefix string) []journal.Entry {
	kinds := []engine.Event{
		{Type: engine.EventAnswer},
		{Type: engine.EventSay, Text: "Bonjour, je comprends — 🙂 \"quotes\" \\ <b>&amp;</b>"},
		{Type: engine.EventChoose, Index: 0},
		{Type: engine.EventChoose, Index: 3},
		{Type: engine.EventWhisper, Text: "offer the voucher"},
		{Type: engine.EventTimeout},
		{Type: engine.EventSay, Text: "line one\nline two\ttab\x00nul"},
		{Type: engine.EventHangup},
	}
	out := make([]journal.Entry, n)
	for i := range out {
		e := kinds[i%len(kinds)]
		e.At = int64(i)*1234 + 1<<40 // large values survive
		var cid string
		if clientPrefix != "" && i%3 != 2 { // some entries carry no client id
			cid = fmt.Sprintf("%s-%d", clientPrefix, i)
		}
		out[i] = journal.Entry{Seq: first + int64(i), ClientID: cid, Event: e}
	}
	return out
}

func appendAll(t *testing.T, j journal.Journal, id string, es []journal.Entry) {
	t.Helper()
	for _, e := range es {
		require.NoError(t, j.Append(context.Background(), id, e), "append seq %d", e.Seq)
	}
}

func requireEntries(t *testing.T, j journal.Journal, id string, want []journal.Entry) {
	t.Helper()
	_, got, _, err := j.Load(context.Background(), id)
	require.NoError(t, err)
	if len(want) == 0 {
		require.Empty(t, got)
		return
	}
	require.Equal(t, want, got)
}

func testCreateLoad(t *testing.T, j journal.Journal) {
	ctx := context.Background()
	want := newCall("call-1", base)
	require.NoError(t, j.Create(ctx, want))
	got, es, res, err := j.Load(ctx, "call-1")
	require.NoError(t, err)
	sameCall(t, want, got)
	require.NotEmpty(t, got.TokenHash, "TokenHash must be stored even though JSON hides it")
	require.Empty(t, es)
	require.Nil(t, res)

	// Other seeds that need all 64 bits, zero values and a call without sources.
	for i, seed := range []uint64{0, 1, math.MaxInt64, math.MaxInt64 + 1, math.MaxUint64} {
		c := journal.Call{ID: fmt.Sprintf("seed-%d", i), Seed: seed, Created: base}
		require.NoError(t, j.Create(ctx, c))
		got, _, _, err := j.Load(ctx, c.ID)
		require.NoError(t, err)
		sameCall(t, c, got)
	}
}

func testCreateExists(t *testing.T, j journal.Journal) {
	ctx := context.Background()
	first := newCall("dup", base)
	require.NoError(t, j.Create(ctx, first))
	appendAll(t, j, "dup", entries(1, 2, "c"))
	second := newCall("dup", base.Add(time.Hour))
	second.Title = "another"
	err := j.Create(ctx, second)
	require.ErrorIs(t, err, journal.ErrExists)
	got, es, _, err := j.Load(ctx, "dup")
	require.NoError(t, err)
	sameCall(t, first, got, "the first call is untouched")
	require.Len(t, es, 2, "the first call's entries are untouched")
}

func testNotFound(t *testing.T, j journal.Journal) {
	ctx := context.Background()
	require.NoError(t, j.Create(ctx, newCall("known", base)))
	err := j.Append(ctx, "unknown", journal.Entry{Seq: 1, Event: engine.Event{Type: engine.EventAnswer}})
	require.ErrorIs(t, err, journal.ErrNotFound)
	require.ErrorIs(t, j.Finish(ctx, "unknown", newResult()), journal.ErrNotFound)
	_, _, _, err = j.Load(ctx, "unknown")
	require.ErrorIs(t, err, journal.ErrNotFound)
	_, _, _, err = j.Load(ctx, "KNOWN")
	require.ErrorIs(t, err, journal.ErrNotFound, "ids are case-sensitive")
	list, err := j.List(ctx, journal.Filter{})
	require.NoError(t, err)
	require.Len(t, list, 1, "failed writes create nothing")
}

func testAppendRoundTrip(t *testing.T, j journal.Journal) {
	ctx := context.Background()
	require.NoError(t, j.Create(ctx, newCall("rt", base)))
	want := entries(1, 20, "msg")
	appendAll(t, j, "rt", want)
	requireEntries(t, j, "rt", want)
	// Loading does not change anything.
	requireEntries(t, j, "rt", want)
	got, _, res, err := j.Load(ctx, "rt")
	require.NoError(t, err)
	sameCall(t, newCall("rt", base), got)
	require.Nil(t, res)
}

func testAppendSequence(t *testing.T, j journal.Journal) {
	ctx := context.Background()
	require.NoError(t, j.Create(ctx, newCall("seq", base)))
	ev := engine.Event{Type: engine.EventAnswer}
	for _, seq := range []int64{0, 2, -1, math.MaxInt64} {
		err := j.Append(ctx, "seq", journal.Entry{Seq: seq, Event: ev})
		require.ErrorIs(t, err, journal.ErrSeqGap, "seq %d on an empty call", seq)
	}
	want := entries(1, 3, "")
	appendAll(t, j, "seq", want)
	for _, seq := range []int64{1, 3, 5, 0} {
		err := j.Append(ctx, "seq", journal.Entry{Seq: seq, ClientID: fmt.Sprint("late-", seq), Event: ev})
		require.ErrorIs(t, err, journal.ErrSeqGap, "seq %d after 3", seq)
	}
	requireEntries(t, j, "seq", want)
	// A client id refused with ErrSeqGap was not recorded: it can be used at the right seq.
	e := journal.Entry{Seq: 4, ClientID: "late-5", Event: ev}
	require.NoError(t, j.Append(ctx, "seq", e))
	requireEntries(t, j, "seq", append(want, e))
}

func testAppendDuplicate(t *testing.T, j journal.Journal) {
	ctx := context.Background()
	require.NoError(t, j.Create(ctx, newCall("a", base)))
	require.NoError(t, j.Create(ctx, newCall("b", base)))
	say := func(seq int64, cid, text string) journal.Entry {
		return journal.Entry{Seq: seq, ClientID: cid, Event: engine.Event{Type: engine.EventSay, At: seq * 10, Text: text}}
	}
	want := []journal.Entry{say(1, "m1", "hello"), say(2, "", "no id"), say(3, "", "no id again")}
	appendAll(t, j, "a", want) // empty client ids never collide
	// A retried message: same client id, at the next seq or at its old one.
	require.ErrorIs(t, j.Append(ctx, "a", say(4, "m1", "retry")), journal.ErrDuplicate)
	require.ErrorIs(t, j.Append(ctx, "a", say(1, "m1", "hello")), journal.ErrDuplicate)
	requireEntries(t, j, "a", want)
	// Client ids are per call, and case-sensitive.
	require.NoError(t, j.Append(ctx, "b", say(1, "m1", "other call")))
	e := say(4, "M1", "case differs")
	require.NoError(t, j.Append(ctx, "a", e))
	requireEntries(t, j, "a", append(want, e))
}

func testFinish(t *testing.T, j journal.Journal) {
	ctx := context.Background()
	require.NoError(t, j.Create(ctx, newCall("f", base)))
	es := entries(1, 4, "x")
	appendAll(t, j, "f", es)
	want := newResult()
	require.NoError(t, j.Finish(ctx, "f", want))

	c, got, res, err := j.Load(ctx, "f")
	require.NoError(t, err)
	sameCall(t, newCall("f", base), c)
	require.Equal(t, es, got)
	sameResult(t, &want, res)

	next := journal.Entry{Seq: 5, ClientID: "new", Event: engine.Event{Type: engine.EventHangup, At: 1 << 41}}
	require.ErrorIs(t, j.Append(ctx, "f", next), journal.ErrFinished)
	// A retry of an entry recorded before the end is recognised as such.
	require.ErrorIs(t, j.Append(ctx, "f", journal.Entry{Seq: 5, ClientID: es[0].ClientID, Event: es[0].Event}), journal.ErrDuplicate)

	other := newResult()
	other.End.Outcome = "failure"
	require.ErrorIs(t, j.Finish(ctx, "f", other), journal.ErrFinished)
	_, got, res, err = j.Load(ctx, "f")
	require.NoError(t, err)
	require.Equal(t, es, got, "nothing appended after the end")
	sameResult(t, &want, res, "the first result stays")
}

func testResultRoundTrip(t *testing.T, j journal.Journal) {
	ctx := context.Background()
	results := map[string]journal.Result{
		"full":  newResult(),
		"zero":  {},
		"empty": {Ended: base, End: engine.EndInfo{Scores: []engine.AxisScore{}}, Fired: []string{}},
		"tricky": {
			Ended: time.Date(2026, 1, 1, 0, 0, 0, 1000, time.UTC),
			End: engine.EndInfo{
				Ending: "hung-up", Outcome: "ignored", Text: "línea\n\"quoted\"",
				Scores:  []engine.AxisScore{{Axis: "a", Points: math.SmallestNonzeroFloat64, Max: math.MaxFloat64, Normalized: math.Copysign(0, -1), Weight: 1e-300}},
				Overall: 1.0 / 3,
			},
			Fired:   []string{""},
			Elapsed: math.MaxInt64,
		},
	}
	for id, r := range results {
		require.NoError(t, j.Create(ctx, newCall(id, base)))
		require.NoError(t, j.Finish(ctx, id, r))
		_, _, got, err := j.Load(ctx, id)
		require.NoError(t, err)
		sameResult(t, &r, got, id)
	}
	list, err := j.List(ctx, journal.Filter{})
	require.NoError(t, err)
	require.Len(t, list, len(results))
	for _, s := range list {
		r := results[s.ID]
		sameResult(t, &r, s.Result, "listed "+s.ID)
	}
}

func testNoAliasing(t *testing.T, j journal.Journal) {
	ctx := context.Background()
	c := newCall("alias", base)
	want := newCall("alias", base)
	require.NoError(t, j.Create(ctx, c))
	c.Sources[0].Data[0] = 'X'
	c.Sources[1].Path = "changed"
	c.Sources = append(c.Sources[:1], engine.SourceFile{Path: "new"})

	r := newResult()
	require.NoError(t, j.Finish(ctx, "alias", r))
	r.Fired[0] = "changed"
	r.End.Scores[0].Axis = "changed"

	got, _, res, err := j.Load(ctx, "alias")
	require.NoError(t, err)
	sameCall(t, want, got, "changing the caller's call after Create")
	sameResult(t, new(newResult()), res, "changing the caller's result after Finish")

	got.Sources[0].Data[0] = 'Y'
	got.Sources[2].Path = "changed"
	res.Fired[1] = "changed"
	res.End.Scores[1].Points = 99
	list, err := j.List(ctx, journal.Filter{})
	require.NoError(t, err)
	require.Len(t, list, 1)
	list[0].Sources[1].Data[0] = 'Z'
	list[0].Result.Fired[0] = "changed"

	got, _, res, err = j.Load(ctx, "alias")
	require.NoError(t, err)
	sameCall(t, want, got, "changing what Load and List returned")
	sameResult(t, new(newResult()), res, "changing what Load and List returned")
}

func testList(t *testing.T, j journal.Journal) {
	ctx := context.Background()
	whole := base.Truncate(time.Second).Add(6 * time.Minute).Sub(base)
	type spec struct {
		id, trainee, scenario string
		created               time.Duration // after base
		finished              bool
	}
	specs := []spec{
		{"c1", "ada", "refund", 1 * time.Minute, true},
		{"c2", "bob", "refund", 2 * time.Minute, false},
		{"c3", "ada", "upsell", 3 * time.Minute, false},
		{"c4", "ada", "refund", 4 * time.Minute, true},
		{"c5", "bob", "upsell", 5 * time.Minute, false},
		{"c0", "ada", "refund", -time.Hour, false},
		// Same Created as c3: ties sort by id ascending.
		{"c3b", "cyd", "refund", 3 * time.Minute, false},
		{"c3a", "cyd", "refund", 3 * time.Minute, true},
		// A whole second, and half a second later: order is by time, not by formatted text.
		{"d1", "dan", "upsell", whole, false},
		{"d2", "dan", "upsell", whole + 500*time.Millisecond, false},
	}
	// Create out of order, and with a time in another zone, to be sure order is by time.
	for _, i := range []int{3, 0, 8, 6, 5, 2, 7, 1, 9, 4} {
		s := specs[i]
		c := newCall(s.id, base.Add(s.created).In(time.UTC))
		if i%2 == 0 {
			c.Created = base.Add(s.created).In(time.FixedZone("UTC-7", -7*3600))
		}
		c.Trainee, c.ScenarioID = s.trainee, s.scenario
		require.NoError(t, j.Create(ctx, c))
		if s.finished {
			r := newResult()
			r.End.Ending = "end-" + s.id
			require.NoError(t, j.Finish(ctx, s.id, r))
		}
	}
	bySpec := map[string]spec{}
	for _, s := range specs {
		bySpec[s.id] = s
	}
	ids := func(f journal.Filter) []string {
		t.Helper()
		list, err := j.List(ctx, f)
		require.NoError(t, err)
		out := []string{}
		for _, s := range list {
			out = append(out, s.ID)
			sp := bySpec[s.ID]
			require.True(t, base.Add(sp.created).Equal(s.Created), "Created of %s", s.ID)
			require.Equal(t, sp.trainee, s.Trainee)
			require.Equal(t, sp.scenario, s.ScenarioID)
			require.Equal(t, newCall(s.ID, base).TokenHash, s.TokenHash, "listing keeps TokenHash")
			require.Equal(t, newCall(s.ID, base).Seed, s.Seed)
			if sp.finished {
				require.NotNil(t, s.Result, "result of finished %s", s.ID)
				require.Equal(t, "end-"+s.ID, s.Result.End.Ending)
			} else {
				require.Nil(t, s.Result, "result of open %s", s.ID)
			}
		}
		return out
	}
	yes, no := true, false
	assert.Equal(t, []string{"d2", "d1", "c5", "c4", "c3", "c3a", "c3b", "c2", "c1", "c0"}, ids(journal.Filter{}))
	assert.Equal(t, []string{"c4", "c3", "c1", "c0"}, ids(journal.Filter{Trainee: "ada"}))
	assert.Equal(t, []string{}, ids(journal.Filter{Trainee: "Ada"}), "trainee matches exactly")
	assert.Equal(t, []string{}, ids(journal.Filter{Trainee: "ad"}), "trainee matches exactly")
	assert.Equal(t, []string{"d2", "d1", "c5", "c3"}, ids(journal.Filter{ScenarioID: "upsell"}))
	assert.Equal(t, []string{"d2", "d1", "c5", "c3", "c3b", "c2", "c0"}, ids(journal.Filter{Open: &yes}))
	assert.Equal(t, []string{"c4", "c3a", "c1"}, ids(journal.Filter{Open: &no}))
	assert.Equal(t, []string{"c4", "c1"}, ids(journal.Filter{Trainee: "ada", ScenarioID: "refund", Open: &no}))
	assert.Equal(t, []string{"c3", "c0"}, ids(journal.Filter{Trainee: "ada", Open: &yes}))
	assert.Equal(t, []string{"d2", "d1", "c5"}, ids(journal.Filter{Limit: 3}))
	assert.Equal(t, []string{"c3b"}, ids(journal.Filter{Trainee: "cyd", Open: &yes, Limit: 1}))
	assert.Equal(t, []string{"d2", "d1", "c5", "c4", "c3", "c3a", "c3b", "c2", "c1", "c0"}, ids(journal.Filter{Limit: -1}), "a negative limit means the default")
	assert.Equal(t, []string{}, ids(journal.Filter{ScenarioID: "nope"}))
}

func testListDefaultLimit(t *testing.T, j journal.Journal) {
	ctx := context.Background()
	n := journal.DefaultLimit + 3
	for i := range n {
		require.NoError(t, j.Create(ctx, journal.Call{ID: fmt.Sprintf("call-%03d", i), Created: base.Add(time.Duration(i) * time.Second)}))
	}
	list, err := j.List(ctx, journal.Filter{})
	require.NoError(t, err)
	require.Len(t, list, journal.DefaultLimit)
	require.Equal(t, fmt.Sprintf("call-%03d", n-1), list[0].ID)
	require.Equal(t, fmt.Sprintf("call-%03d", n-journal.DefaultLimit), list[len(list)-1].ID)
	list, err = j.List(ctx, journal.Filter{Limit: n + 10})
	require.NoError(t, err)
	require.Len(t, list, n, "an explicit limit above the default is honoured")
}

func testConcurrentCalls(t *testing.T, j journal.Journal) {
	ctx := context.Background()
	const calls, per = 8, 20
	var wg sync.WaitGroup
	errs := make(chan error, calls*per+calls)
	for i := range calls {
		wg.Go(func() {
			id := fmt.Sprintf("conc-%d", i)
			if err := j.Create(ctx, newCall(id, base.Add(time.Duration(i)*time.Second))); err != nil {
				errs <- err
				return
			}
			for _, e := range entries(1, per, id) {
				if err := j.Append(ctx, id, e); err != nil {
					errs <- fmt.Errorf("%s seq %d: %w", id, e.Seq, err)
				}
			}
			// Readers run alongside the writers.
			if _, err := j.List(ctx, journal.Filter{}); err != nil {
				errs <- err
			}
			if _, _, _, err := j.Load(ctx, id); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	for i := range calls {
		id := fmt.Sprintf("conc-%d", i)
		requireEntries(t, j, id, entries(1, per, id))
	}
	list, err := j.List(ctx, journal.Filter{})
	require.NoError(t, err)
	require.Len(t, list, calls)
}

func testConcurrentSameCall(t *testing.T, j journal.Journal) {
	ctx := context.Background()
	require.NoError(t, j.Create(ctx, newCall("race", base)))
	const n = 8
	race := func(seq int64, clientID func(i int) string) []error {
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				errs[i] = j.Append(ctx, "race", journal.Entry{Seq: seq, ClientID: clientID(i),
					Event: engine.Event{Type: engine.EventSay, At: seq, Text: fmt.Sprint("writer ", i)}})
			})
		}
		wg.Wait()
		return errs
	}
	// Distinct client ids, same seq: one wins, the others are out of sequence.
	errs := race(1, func(i int) string { return fmt.Sprint("w", i) })
	won := slices.IndexFunc(errs, func(err error) bool { return err == nil })
	require.GreaterOrEqual(t, won, 0, "one writer must win: %v", errs)
	for i, err := range errs {
		if i != won {
			require.ErrorIs(t, err, journal.ErrSeqGap, "writer %d", i)
		}
	}
	// The same client id, same seq: one wins, the others are duplicates.
	errs = race(2, func(int) string { return "retried" })
	won = slices.IndexFunc(errs, func(err error) bool { return err == nil })
	require.GreaterOrEqual(t, won, 0, "one writer must win: %v", errs)
	for i, err := range errs {
		if i != won {
			require.ErrorIs(t, err, journal.ErrDuplicate, "writer %d", i)
		}
	}
	_, es, _, err := j.Load(ctx, "race")
	require.NoError(t, err)
	require.Len(t, es, 2)
	require.Equal(t, []int64{1, 2}, []int64{es[0].Seq, es[1].Seq})
	require.Equal(t, "retried", es[1].ClientID)
}

// within fails the test if fn does not return within d.
func within(t *testing.T, d time.Duration, what string, fn func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("%s hangs with a cancelled context", what)
		return nil
	}
}

func testCancelled(t *testing.T, j journal.Journal) {
	bg := context.Background()
	require.NoError(t, j.Create(bg, newCall("open", base)))
	appendAll(t, j, "open", entries(1, 1, "c"))
	require.NoError(t, j.Create(bg, newCall("to-finish", base)))

	ctx, cancel := context.WithCancel(bg)
	cancel()
	const d = 10 * time.Second
	check := func(what string, fn func() error) {
		t.Helper()
		err := within(t, d, what, fn)
		require.Error(t, err, what)
		require.ErrorIs(t, err, context.Canceled, what)
	}
	check("Create", func() error { return j.Create(ctx, newCall("new", base)) })
	check("Append", func() error {
		return j.Append(ctx, "open", journal.Entry{Seq: 2, Event: engine.Event{Type: engine.EventHangup}})
	})
	check("Finish", func() error { return j.Finish(ctx, "to-finish", newResult()) })
	check("Load", func() error { _, _, _, err := j.Load(ctx, "open"); return err })
	check("List", func() error { _, err := j.List(ctx, journal.Filter{}); return err })

	ctx, cancel = context.WithTimeout(bg, -time.Second) // already past its deadline
	defer cancel()
	err := within(t, d, "Append past deadline", func() error {
		return j.Append(ctx, "open", journal.Entry{Seq: 2, Event: engine.Event{Type: engine.EventHangup}})
	})
	require.ErrorIs(t, err, context.DeadlineExceeded)

	// A write refused for its context left nothing behind.
	_, _, _, err = j.Load(bg, "new")
	require.ErrorIs(t, err, journal.ErrNotFound)
	requireEntries(t, j, "open", entries(1, 1, "c"))
	_, _, res, err := j.Load(bg, "to-finish")
	require.NoError(t, err)
	require.Nil(t, res)
	// And the journal still works.
	require.NoError(t, j.Append(bg, "open", journal.Entry{Seq: 2, Event: engine.Event{Type: engine.EventHangup}}))
}

// testOutbox checks the journal's Outbox, when it has one: enqueue is idempotent, Due
// returns what is due oldest first and claims it (not due again until OutboxClaim has
// passed), Retry postpones, Sent removes for good.
func testOutbox(t *testing.T, j journal.Journal) {
	o := need[journal.Outbox](t, j, "outbox")
	ctx := context.Background()
	t0 := base.UTC()
	claim := journal.OutboxClaim
	require.NoError(t, o.Enqueue(ctx, "b", t0.Add(time.Second)))
	require.NoError(t, o.Enqueue(ctx, "a", t0))
	require.NoError(t, o.Enqueue(ctx, "a", t0.Add(time.Hour)), "enqueueing again changes nothing")
	ids := func(items []journal.OutboxItem) (out []string) {
		for _, it := range items {
			out = append(out, it.CallID)
		}
		return out
	}
	due, err := o.Due(ctx, t0, 10)
	require.NoError(t, err)
	require.Equal(t, []string{"a"}, ids(due), "b is not due yet")
	assert.True(t, due[0].Due.Equal(t0), "the due time before the claim: %v", due[0].Due)
	assert.Zero(t, due[0].Attempts)
	due, err = o.Due(ctx, t0.Add(time.Second), 10)
	require.NoError(t, err)
	assert.Equal(t, []string{"b"}, ids(due), "a is claimed")
	due, err = o.Due(ctx, t0.Add(time.Second), 10)
	require.NoError(t, err)
	assert.Empty(t, due, "both are claimed")

	require.NoError(t, o.Retry(ctx, "a", t0.Add(time.Minute), "LRS answered 503"))
	due, err = o.Due(ctx, t0.Add(time.Minute-time.Second), 10)
	require.NoError(t, err)
	assert.Empty(t, due, "a retried is due later")
	due, err = o.Due(ctx, t0.Add(time.Minute), 10)
	require.NoError(t, err)
	require.Equal(t, []string{"a"}, ids(due))
	assert.Equal(t, 1, due[0].Attempts)
	assert.Equal(t, "LRS answered 503", due[0].LastError)
	assert.True(t, due[0].Due.Equal(t0.Add(time.Minute)))

	require.NoError(t, o.Sent(ctx, "b", t0.Add(time.Minute)))
	due, err = o.Due(ctx, t0.Add(time.Hour), 10)
	require.NoError(t, err)
	require.Equal(t, []string{"a"}, ids(due), "a's claim lapsed (its sender died): due again; b was sent")
	assert.True(t, due[0].Due.Equal(t0.Add(time.Minute+claim)), "due when its claim lapsed: %v", due[0].Due)

	require.NoError(t, o.Enqueue(ctx, "c", t0))
	require.NoError(t, o.Enqueue(ctx, "d", t0))
	require.NoError(t, o.Enqueue(ctx, "b", t0), "enqueueing a sent call again changes nothing")
	late := t0.Add(2 * time.Hour)
	due, err = o.Due(ctx, late, 1)
	require.NoError(t, err)
	assert.Equal(t, []string{"c"}, ids(due), "limit")
	due, err = o.Due(ctx, late, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"d", "a"}, ids(due), "oldest first; a sent call is never due again; limit 0 means the default")
	assert.ErrorIs(t, o.Sent(ctx, "nope", t0), journal.ErrNotFound)
	assert.ErrorIs(t, o.Retry(ctx, "nope", t0, ""), journal.ErrNotFound)
}

// testOutboxClaims: senders claiming at the same time (instances sharing the outbox) get
// disjoint calls, together all of those due; a claimed call is due again, to anyone, once
// OutboxClaim has passed without Sent or Retry.
func testOutboxClaims(t *testing.T, j journal.Journal) {
	o := need[journal.Outbox](t, j, "outbox")
	ctx := context.Background()
	t0 := base.UTC()
	const n, senders, batch = 60, 4, 4
	for i := range n {
		require.NoError(t, o.Enqueue(ctx, fmt.Sprintf("call-%02d", i), t0.Add(time.Duration(i)*time.Millisecond)))
	}
	now := t0.Add(time.Second)
	got := make([][]string, senders)
	errs := make([]error, senders)
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for {
				due, err := o.Due(ctx, now, batch)
				if err != nil {
					errs[s] = err
					return
				}
				if len(due) == 0 {
					return
				}
				for _, it := range due {
					got[s] = append(got[s], it.CallID)
				}
			}
		})
	}
	wg.Wait()
	seen := map[string]int{}
	for s := range senders {
		require.NoError(t, errs[s], "sender %d", s)
		for _, id := range got[s] {
			seen[id]++
			assert.Equal(t, 1, seen[id], "%s claimed twice", id)
		}
	}
	assert.Len(t, seen, n, "every call due was claimed by one sender")
	due, err := o.Due(ctx, now, 0)
	require.NoError(t, err)
	assert.Empty(t, due, "all claimed")
	due, err = o.Due(ctx, now.Add(journal.OutboxClaim-time.Millisecond), 0)
	require.NoError(t, err)
	assert.Empty(t, due, "claimed until now+OutboxClaim")
	require.NoError(t, o.Sent(ctx, "call-00", now))
	require.NoError(t, o.Retry(ctx, "call-01", now.Add(time.Hour), "refused"))
	due, err = o.Due(ctx, now.Add(journal.OutboxClaim), 0)
	require.NoError(t, err)
	assert.Len(t, due, n-2, "unfinished claims lapse; the sent and the retried calls are not due")
}

func testSummaries(t *testing.T, j journal.Journal) {
	ctx := context.Background()
	ids := []string{"a", "b", "c"}
	for i, id := range ids {
		require.NoError(t, j.Create(ctx, newCall(id, base.Add(time.Duration(i)*time.Minute))))
	}
	res := journal.Result{Ended: base.Add(time.Hour), Fired: []string{"interrupting"}, End: engine.EndInfo{Ending: "ok", Overall: 0.75, Passed: true,
		Scores: []engine.AxisScore{{Axis: "care", Points: 1, Max: 2, Normalized: 0.5, Weight: 1, Assessed: true}}}}
	require.NoError(t, j.Finish(ctx, "b", res))
	check := func(got []journal.Summary) {
		t.Helper()
		byID := map[string]journal.Summary{}
		for _, s := range got {
			byID[s.ID] = s
		}
		require.Len(t, got, 2, "unknown ids left out, a repeated id once")
		require.Contains(t, byID, "a")
		require.Contains(t, byID, "b")
		sameCall(t, newCall("a", base), byID["a"].Call)
		assert.Nil(t, byID["a"].Result, "open")
		require.NotNil(t, byID["b"].Result)
		assert.Equal(t, res.End, byID["b"].Result.End)
		assert.Equal(t, res.Fired, byID["b"].Result.Fired)
	}
	got, err := journal.SummariesOf(ctx, j, []string{"a", "nope", "b", "a"})
	require.NoError(t, err)
	check(got)
	if _, ok := j.(journal.Summarizer); ok {
		got, err = journal.SummariesOf(ctx, loadOnly{j}, []string{"a", "nope", "b", "a"})
		require.NoError(t, err)
		check(got)
	}
	none, err := journal.SummariesOf(ctx, j, nil)
	require.NoError(t, err)
	assert.Empty(t, none)
}

// loadOnly hides a journal's Summarizer, to test SummariesOf's one-Load-per-call path.
type loadOnly struct{ journal.Journal }

func testNotes(t *testing.T, j journal.Journal) {
	n := need[journal.Notes](t, j, "notes")
	ctx := context.Background()
	require.NoError(t, j.Create(ctx, newCall("c", base)))
	none, err := n.Notes(ctx, "c")
	require.NoError(t, err)
	assert.Empty(t, none)
	first := journal.Note{At: 42_000, Text: "You apologised well here.", Author: "supervisor", Created: base.Add(time.Hour).UTC()}
	second := journal.Note{At: 1_000, Text: "Answer faster — ünïcode kept.", Author: "designer", Created: base.Add(2 * time.Hour).UTC()}
	require.NoError(t, n.AddNote(ctx, "c", first))
	require.NoError(t, n.AddNote(ctx, "c", second))
	got, err := n.Notes(ctx, "c")
	require.NoError(t, err)
	require.Len(t, got, 2)
	for i, want := range []journal.Note{first, second} {
		assert.Equal(t, want.At, got[i].At)
		assert.Equal(t, want.Text, got[i].Text)
		assert.Equal(t, want.Author, got[i].Author)
		assert.True(t, want.Created.Equal(got[i].Created), "created %v, got %v", want.Created, got[i].Created)
	}
	assert.ErrorIs(t, n.AddNote(ctx, "nope", first), journal.ErrNotFound)
	unknown, err := n.Notes(ctx, "nope")
	require.NoError(t, err, "an unknown call has no notes")
	assert.Empty(t, unknown)
	for _, bad := range []journal.Note{{At: 0, Text: ""}, {At: -1, Text: "x"}, {Text: string(make([]byte, journal.MaxNoteBytes+1))}, {Text: "\xff"}} {
		assert.ErrorIs(t, n.AddNote(ctx, "c", bad), journal.ErrBadNote, "%q", bad.Text)
	}
	for range journal.MaxNotesPerCall - 2 {
		require.NoError(t, n.AddNote(ctx, "c", first))
	}
	assert.ErrorIs(t, n.AddNote(ctx, "c", first), journal.ErrTooManyNotes)
}

// testSharedSources: calls that played the same sources (an implementation may store them
// once) and calls with other sources each load their own, and a call without sources loads
// none.
func testSharedSources(t *testing.T, j journal.Journal) {
	ctx := context.Background()
	a, b := newCall("same-a", base), newCall("same-b", base.Add(time.Second))
	other := newCall("other", base)
	other.Sources = []engine.SourceFile{{Path: "scenarios/angry-refund.yaml", Data: []byte("id: angry-refund\ntitle: \"y\"\n")}}
	none := newCall("none", base)
	none.Sources = nil
	for _, c := range []journal.Call{a, b, other, none} {
		require.NoError(t, j.Create(ctx, c))
	}
	require.NoError(t, j.Finish(ctx, "same-a", newResult()), "finishing one call leaves the shared sources alone")
	for _, c := range []journal.Call{a, b, other, none} {
		got, _, _, err := j.Load(ctx, c.ID)
		require.NoError(t, err)
		sameCall(t, c, got, c.ID)
	}
}

// testLongText: a long say (64 KiB, beyond any message limit the server allows) and a
// long title round-trip exactly.
func testLongText(t *testing.T, j journal.Journal) {
	ctx := context.Background()
	c := newCall("long", base)
	c.Title = strings.Repeat("é", 4096)
	require.NoError(t, j.Create(ctx, c))
	e := journal.Entry{Seq: 1, ClientID: strings.Repeat("k", 200), Event: engine.Event{Type: engine.EventSay, At: 1, Text: strings.Repeat("word ", 64<<10/5)}}
	require.NoError(t, j.Append(ctx, "long", e))
	got, es, _, err := j.Load(ctx, "long")
	require.NoError(t, err)
	sameCall(t, c, got)
	require.Equal(t, []journal.Entry{e}, es)
}

// testLeases checks call ownership, when the journal has it: acquire, renew, takeover
// after expiry with a new epoch, and above all that a stale owner's writes are refused
// (ErrFenced) and leave nothing behind.
func testLeases(t *testing.T, j journal.Journal) {
	ls := need[journal.Leases](t, j, "call ownership")
	ctx := context.Background()
	t0 := base.UTC()
	const ttl = 10 * time.Second
	require.NoError(t, j.Create(ctx, newCall("c", base)))
	require.NoError(t, j.Create(ctx, newCall("free", base.Add(-time.Minute))))
	say := func(seq int64, cid string) journal.Entry {
		return journal.Entry{Seq: seq, ClientID: cid, Event: engine.Event{Type: engine.EventSay, At: seq, Text: "x"}}
	}

	la, err := ls.Acquire(ctx, "c", "instance-a", t0, ttl)
	require.NoError(t, err)
	assert.Equal(t, "c", la.CallID)
	assert.Equal(t, "instance-a", la.Owner)
	assert.Equal(t, int64(1), la.Epoch)
	assert.True(t, la.Expires.Equal(t0.Add(ttl)), "expires %v", la.Expires)

	_, err = ls.Acquire(ctx, "c", "instance-b", t0.Add(5*time.Second), ttl)
	require.ErrorIs(t, err, journal.ErrLeased, "a live lease is not taken")
	again, err := ls.Acquire(ctx, "c", "instance-a", t0.Add(5*time.Second), ttl)
	require.NoError(t, err, "the owner renews")
	assert.Equal(t, int64(1), again.Epoch, "a renewal keeps the epoch")
	require.NoError(t, ls.AppendLeased(ctx, la, say(1, "m1")))

	unowned, err := ls.Unowned(ctx, t0.Add(5*time.Second), 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"free"}, unowned, "a call without a lease is unowned; a live lease is not")
	unowned, err = ls.Unowned(ctx, t0.Add(15*time.Second), 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"c", "free"}, unowned, "an expired lease is unowned, newest first")

	// instance-a stalls past its lease; instance-b takes the call over.
	lb, err := ls.Acquire(ctx, "c", "instance-b", t0.Add(15*time.Second), ttl)
	require.NoError(t, err, "an expired lease is taken over")
	assert.Equal(t, int64(2), lb.Epoch, "a takeover increments the epoch")

	// The stale owner can no longer write, whatever it tries.
	require.ErrorIs(t, ls.AppendLeased(ctx, la, say(2, "m2")), journal.ErrFenced, "stale owner's append")
	require.ErrorIs(t, ls.AppendLeased(ctx, la, say(2, "m1")), journal.ErrFenced, "stale owner's retry: fenced before the duplicate check")
	require.ErrorIs(t, ls.FinishLeased(ctx, la, newResult()), journal.ErrFenced, "stale owner's finish")
	n, err := ls.Renew(ctx, "instance-a", t0.Add(16*time.Second), ttl)
	require.NoError(t, err)
	assert.Equal(t, 0, n, "the stale owner has nothing to renew")
	_, err = ls.Acquire(ctx, "c", "instance-a", t0.Add(16*time.Second), ttl)
	require.ErrorIs(t, err, journal.ErrLeased, "nor can it take the call back while b's lease lives")
	require.NoError(t, ls.Release(ctx, la), "releasing a stale lease changes nothing")
	_, err = ls.Acquire(ctx, "c", "instance-a", t0.Add(16*time.Second), ttl)
	require.ErrorIs(t, err, journal.ErrLeased, "b still owns the call after a's stale release")
	_, es, res, err := j.Load(ctx, "c")
	require.NoError(t, err)
	require.Equal(t, []journal.Entry{say(1, "m1")}, es, "the stale owner wrote nothing")
	require.Nil(t, res)

	// The new owner writes and renews.
	require.NoError(t, ls.AppendLeased(ctx, lb, say(2, "m2")))
	require.ErrorIs(t, ls.AppendLeased(ctx, lb, say(3, "m1")), journal.ErrDuplicate, "the usual checks run after the fence")
	require.ErrorIs(t, ls.AppendLeased(ctx, lb, say(5, "m5")), journal.ErrSeqGap)
	n, err = ls.Renew(ctx, "instance-b", t0.Add(20*time.Second), ttl)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	unowned, err = ls.Unowned(ctx, t0.Add(29*time.Second), 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"free"}, unowned, "renewed until t0+30s")

	// Releasing hands the call over at once (a draining instance), with a new epoch; the
	// releasing owner's renewals do not bring it back.
	require.NoError(t, ls.Release(ctx, lb))
	n, err = ls.Renew(ctx, "instance-b", t0.Add(21*time.Second), ttl)
	require.NoError(t, err)
	assert.Equal(t, 0, n, "a released lease is not renewed")
	la3, err := ls.Acquire(ctx, "c", "instance-a", t0.Add(21*time.Second), ttl)
	require.NoError(t, err, "a released lease is free")
	assert.Equal(t, int64(3), la3.Epoch)
	require.ErrorIs(t, ls.FinishLeased(ctx, lb, newResult()), journal.ErrFenced, "b released it")
	want := newResult()
	require.NoError(t, ls.FinishLeased(ctx, la3, want))
	_, es, res, err = j.Load(ctx, "c")
	require.NoError(t, err)
	require.Len(t, es, 2)
	sameResult(t, &want, res)
	_, err = ls.Acquire(ctx, "c", "instance-b", t0.Add(time.Hour), ttl)
	require.ErrorIs(t, err, journal.ErrFinished, "a finished call has no owner to take")
	n, err = ls.Renew(ctx, "instance-a", t0.Add(22*time.Second), ttl)
	require.NoError(t, err)
	assert.Equal(t, 0, n, "finished calls are not renewed")
	unowned, err = ls.Unowned(ctx, t0.Add(time.Hour), 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"free"}, unowned, "finished calls are never unowned")

	// Unknown calls.
	_, err = ls.Acquire(ctx, "nope", "instance-a", t0, ttl)
	require.ErrorIs(t, err, journal.ErrNotFound)
	require.ErrorIs(t, ls.AppendLeased(ctx, journal.Lease{CallID: "nope", Owner: "instance-a", Epoch: 1}, say(1, "")), journal.ErrNotFound)
	// A lease never taken fences too.
	require.ErrorIs(t, ls.AppendLeased(ctx, journal.Lease{CallID: "free", Owner: "instance-a", Epoch: 1}, say(1, "")), journal.ErrFenced)
}

// testLeaseRace: instances racing to take over one expired lease: exactly one wins, and
// only the winner can write.
func testLeaseRace(t *testing.T, j journal.Journal) {
	ls := need[journal.Leases](t, j, "call ownership")
	ctx := context.Background()
	t0 := base.UTC()
	require.NoError(t, j.Create(ctx, newCall("c", base)))
	_, err := ls.Acquire(ctx, "c", "dead", t0, time.Second)
	require.NoError(t, err)
	const n = 8
	leases := make([]journal.Lease, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			leases[i], errs[i] = ls.Acquire(ctx, "c", fmt.Sprint("instance-", i), t0.Add(time.Minute), 10*time.Second)
		})
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		if err == nil {
			require.Equal(t, -1, won, "two winners: %d and %d", won, i)
			won = i
			continue
		}
		require.ErrorIs(t, err, journal.ErrLeased, "instance %d", i)
	}
	require.GreaterOrEqual(t, won, 0, "one instance must win: %v", errs)
	assert.Equal(t, int64(2), leases[won].Epoch)
	for i := range n {
		e := journal.Entry{Seq: 1, Event: engine.Event{Type: engine.EventAnswer}}
		l := journal.Lease{CallID: "c", Owner: fmt.Sprint("instance-", i), Epoch: 2}
		err := ls.AppendLeased(ctx, l, e)
		if i == won {
			require.NoError(t, err)
		} else {
			require.ErrorIs(t, err, journal.ErrFenced, "instance %d", i)
		}
	}
}

// testCreateLeased: a call created with its lease is never unowned, not even for a
// moment; it round-trips like a created call; an id taken is ErrExists and changes nothing.
func testCreateLeased(t *testing.T, j journal.Journal) {
	ls := need[journal.Leases](t, j, "call ownership")
	ctx := context.Background()
	t0 := base.UTC()
	const ttl = 10 * time.Second
	c := newCall("c", base)
	l, err := ls.CreateLeased(ctx, c, "instance-a", t0, ttl)
	require.NoError(t, err)
	assert.Equal(t, journal.Lease{CallID: "c", Owner: "instance-a", Epoch: 1, Expires: l.Expires}, l)
	assert.True(t, l.Expires.Equal(t0.Add(ttl)), "expires %v", l.Expires)
	got, es, res, err := j.Load(ctx, "c")
	require.NoError(t, err)
	sameCall(t, c, got)
	assert.Empty(t, es)
	assert.Nil(t, res)
	unowned, err := ls.Unowned(ctx, t0.Add(ttl-time.Microsecond), 0)
	require.NoError(t, err)
	assert.Empty(t, unowned, "owned from its creation")
	_, err = ls.Acquire(ctx, "c", "instance-b", t0.Add(time.Second), ttl)
	require.ErrorIs(t, err, journal.ErrLeased)
	require.NoError(t, ls.AppendLeased(ctx, l, journal.Entry{Seq: 1, Event: engine.Event{Type: engine.EventAnswer, At: 5}}),
		"the lease fences writes like an acquired one")

	other := newCall("c", base.Add(time.Hour))
	other.Trainee = "someone else"
	_, err = ls.CreateLeased(ctx, other, "instance-b", t0.Add(time.Hour), ttl)
	require.ErrorIs(t, err, journal.ErrExists)
	got, _, _, err = j.Load(ctx, "c")
	require.NoError(t, err)
	sameCall(t, c, got, "unchanged")
	require.NoError(t, ls.AppendLeased(ctx, l, journal.Entry{Seq: 2, Event: engine.Event{Type: engine.EventHangup, At: 6}}),
		"the first owner's lease is unchanged")
	unowned, err = ls.Unowned(ctx, t0.Add(ttl), 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"c"}, unowned, "it expires like any lease")
}

// testAdopt: Adopt takes over, in one step, exactly the calls Unowned lists: expired
// leases (epoch + 1, the adopter's own expired lease too), calls without a lease (epoch
// 1); never a live lease or a finished call. The leases it returns fence like acquired
// ones, and the previous owners' are refused.
func testAdopt(t *testing.T, j journal.Journal) {
	ls := need[journal.Leases](t, j, "call ownership")
	ctx := context.Background()
	t0 := base.UTC()
	const ttl = 10 * time.Second
	later := t0.Add(time.Minute)
	for i, id := range []string{"expired", "none", "own", "live", "done"} {
		require.NoError(t, j.Create(ctx, newCall(id, base.Add(time.Duration(i)*time.Second))))
	}
	dead, err := ls.Acquire(ctx, "expired", "dead", t0, ttl)
	require.NoError(t, err)
	ownOld, err := ls.Acquire(ctx, "own", "adopter", t0, ttl)
	require.NoError(t, err)
	_, err = ls.Acquire(ctx, "live", "other", later, ttl)
	require.NoError(t, err)
	require.NoError(t, j.Finish(ctx, "done", newResult()))

	got, err := ls.Adopt(ctx, "adopter", later, ttl, 0)
	require.NoError(t, err)
	byID := map[string]journal.Lease{}
	for _, l := range got {
		byID[l.CallID] = l
		assert.Equal(t, "adopter", l.Owner)
		assert.True(t, l.Expires.Equal(later.Add(ttl)), "expires %v", l.Expires)
	}
	require.Len(t, byID, 3, "%v", got)
	assert.Equal(t, int64(2), byID["expired"].Epoch, "a takeover")
	assert.Equal(t, int64(1), byID["none"].Epoch, "a first lease")
	assert.Equal(t, int64(2), byID["own"].Epoch, "its own expired lease is taken over too")

	e := journal.Entry{Seq: 1, ClientID: "x", Event: engine.Event{Type: engine.EventAnswer, At: 1}}
	require.ErrorIs(t, ls.AppendLeased(ctx, dead, e), journal.ErrFenced, "the dead owner is fenced")
	require.ErrorIs(t, ls.AppendLeased(ctx, ownOld, e), journal.ErrFenced, "so is the adopter's own stale lease")
	for _, id := range []string{"expired", "none", "own"} {
		require.NoError(t, ls.AppendLeased(ctx, byID[id], e), id)
	}
	_, err = ls.Acquire(ctx, "expired", "dead", later, ttl)
	require.ErrorIs(t, err, journal.ErrLeased)
	unowned, err := ls.Unowned(ctx, later, 0)
	require.NoError(t, err)
	assert.Empty(t, unowned)
	again, err := ls.Adopt(ctx, "someone", later, ttl, 0)
	require.NoError(t, err)
	assert.Empty(t, again, "nothing left to adopt")
	n, err := ls.Renew(ctx, "adopter", later.Add(time.Second), ttl)
	require.NoError(t, err)
	assert.Equal(t, 3, n, "the adopter renews what it adopted")

	// Once they expire, a limit bounds the next adoption; newest first.
	got, err = ls.Adopt(ctx, "next", later.Add(time.Hour), ttl, 2)
	require.NoError(t, err)
	var ids []string
	for _, l := range got {
		ids = append(ids, l.CallID)
	}
	slices.Sort(ids)
	assert.Equal(t, []string{"live", "own"}, ids, "the two newest")
}

// testAdoptRace: instances adopting at the same moment get disjoint calls, together every
// orphan once.
func testAdoptRace(t *testing.T, j journal.Journal) {
	ls := need[journal.Leases](t, j, "call ownership")
	ctx := context.Background()
	t0 := base.UTC()
	const n, adopters = 40, 4
	for i := range n {
		id := fmt.Sprintf("c%02d", i)
		require.NoError(t, j.Create(ctx, newCall(id, base.Add(time.Duration(i)*time.Millisecond))))
		_, err := ls.Acquire(ctx, id, "dead", t0, time.Second)
		require.NoError(t, err)
	}
	got := make([][]journal.Lease, adopters)
	errs := make([]error, adopters)
	var wg sync.WaitGroup
	for a := range adopters {
		wg.Go(func() {
			for {
				taken, err := ls.Adopt(ctx, fmt.Sprint("instance-", a), t0.Add(time.Minute), 10*time.Second, 3)
				if err != nil {
					errs[a] = err
					return
				}
				if len(taken) == 0 {
					return
				}
				got[a] = append(got[a], taken...)
			}
		})
	}
	wg.Wait()
	seen := map[string]int{}
	for a := range adopters {
		require.NoError(t, errs[a], "adopter %d", a)
		for _, l := range got[a] {
			seen[l.CallID]++
			assert.Equal(t, 1, seen[l.CallID], "%s adopted twice", l.CallID)
			assert.Equal(t, int64(2), l.Epoch)
			require.NoError(t, ls.AppendLeased(ctx, l, journal.Entry{Seq: 1, Event: engine.Event{Type: engine.EventAnswer, At: 1}}),
				"%s: the adopter's lease holds", l.CallID)
		}
	}
	assert.Len(t, seen, n, "every orphan adopted")
}

// need returns j as the capability C, or skips the test (a journal may lack an optional
// capability: the memory journal has no outbox, and only some have call ownership).
func need[C any](t *testing.T, j journal.Journal, what string) C {
	t.Helper()
	c, ok := j.(C)
	if !ok {
		t.Skipf("this journal has no %s", what)
	}
	return c
}
