package journal

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/switchboard-sim/switchboard/engine"
)

// errClosed is returned by a Memory journal after Close.
var errClosed = errors.New("journal is closed")

// Memory is a Journal kept in memory, for tests and for runs that need no records. It is
// safe for concurrent use. Everything is copied in and out: a caller never shares a slice
// with the journal. Nothing survives the process, so "durable" means "recorded".
type Memory struct {
	mu     sync.Mutex
	calls  map[string]*memCall
	outbox map[string]*memOutbox
	closed bool
}

type memCall struct {
	call    Call
	entries []Entry
	clients map[string]struct{} // client ids recorded for this call
	result  *Result
	notes   []Note // supervisors' notes (Notes)
	lease   *Lease // the call's owner (Leases), nil until one takes it
}

// NewMemory returns an empty in-memory journal.
func NewMemory() *Memory {
	return &Memory{calls: make(map[string]*memCall)}
}

var _ Journal = (*Memory)(nil)

// lock checks ctx, then takes the lock; the caller must unlock when it returns nil.
func (m *Memory) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return errClosed
	}
	return nil
}

// Create records a new call. ErrExists if the id is taken.
func (m *Memory) Create(ctx context.Context, c Call) error {
	if err := m.lock(ctx); err != nil {
		return fmt.Errorf("journal: create call %q: %w", c.ID, err)
	}
	defer m.mu.Unlock()
	if _, ok := m.calls[c.ID]; ok {
		return fmt.Errorf("journal: create call %q: %w", c.ID, ErrExists)
	}
	m.calls[c.ID] = &memCall{call: cloneCall(c), clients: make(map[string]struct{})}
	return nil
}

// Append records the next entry of an open call. The checks run in this order, and the
// first that fails decides the error: ErrNotFound, ErrDuplicate (e.ClientID already
// recorded for the call), ErrFinished, ErrSeqGap (e.Seq is not one more than the last).
func (m *Memory) Append(ctx context.Context, callID string, e Entry) error {
	if err := m.lock(ctx); err != nil {
		return fmt.Errorf("journal: append to call %q: %w", callID, err)
	}
	defer m.mu.Unlock()
	return m.appendLocked(callID, e)
}

// appendLocked is Append with the lock held.
func (m *Memory) appendLocked(callID string, e Entry) error {
	mc, ok := m.calls[callID]
	if !ok {
		return fmt.Errorf("journal: append to call %q: %w", callID, ErrNotFound)
	}
	if e.ClientID != "" {
		if _, dup := mc.clients[e.ClientID]; dup {
			return fmt.Errorf("journal: append to call %q: client id %q: %w", callID, e.ClientID, ErrDuplicate)
		}
	}
	if mc.result != nil {
		return fmt.Errorf("journal: append to call %q: %w", callID, ErrFinished)
	}
	if last := int64(len(mc.entries)); e.Seq != last+1 {
		return fmt.Errorf("journal: append to call %q: seq %d after %d: %w", callID, e.Seq, last, ErrSeqGap)
	}
	mc.entries = append(mc.entries, e) // Entry holds no slices: a value copy is a deep copy
	if e.ClientID != "" {
		mc.clients[e.ClientID] = struct{}{}
	}
	return nil
}

// Finish marks a call as ended with its result: ErrNotFound or ErrFinished.
func (m *Memory) Finish(ctx context.Context, callID string, r Result) error {
	if err := m.lock(ctx); err != nil {
		return fmt.Errorf("journal: finish call %q: %w", callID, err)
	}
	defer m.mu.Unlock()
	return m.finishLocked(callID, r)
}

// finishLocked is Finish with the lock held.
func (m *Memory) finishLocked(callID string, r Result) error {
	mc, ok := m.calls[callID]
	if !ok {
		return fmt.Errorf("journal: finish call %q: %w", callID, ErrNotFound)
	}
	if mc.result != nil {
		return fmt.Errorf("journal: finish call %q: %w", callID, ErrFinished)
	}
	mc.result = cloneResult(&r)
	return nil
}

// Load returns copies of a call, its entries in order and its result (nil while open).
func (m *Memory) Load(ctx context.Context, callID string) (Call, []Entry, *Result, error) {
	if err := m.lock(ctx); err != nil {
		return Call{}, nil, nil, fmt.Errorf("journal: load call %q: %w", callID, err)
	}
	defer m.mu.Unlock()
	mc, ok := m.calls[callID]
	if !ok {
		return Call{}, nil, nil, fmt.Errorf("journal: load call %q: %w", callID, ErrNotFound)
	}
	return cloneCall(mc.call), slices.Clone(mc.entries), cloneResult(mc.result), nil
}

// List returns copies of the calls f selects: newest Created first, then by id.
func (m *Memory) List(ctx context.Context, f Filter) ([]Summary, error) {
	if err := m.lock(ctx); err != nil {
		return nil, fmt.Errorf("journal: list calls: %w", err)
	}
	defer m.mu.Unlock()
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	var hits []*memCall
	for _, mc := range m.calls {
		if f.Trainee != "" && mc.call.Trainee != f.Trainee ||
			f.ScenarioID != "" && mc.call.ScenarioID != f.ScenarioID ||
			f.Open != nil && *f.Open != (mc.result == nil) {
			continue
		}
		hits = append(hits, mc)
	}
	slices.SortFunc(hits, func(a, b *memCall) int {
		if c := b.call.Created.Compare(a.call.Created); c != 0 {
			return c
		}
		return cmp.Compare(a.call.ID, b.call.ID)
	})
	if len(hits) > limit {
		hits = hits[:limit]
	}
	out := make([]Summary, len(hits))
	for i, mc := range hits {
		out[i] = Summary{Call: cloneCall(mc.call), Result: cloneResult(mc.result)}
	}
	return out, nil
}

// Close releases the journal's contents; later calls fail. Closing twice is harmless.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	m.calls = nil
	return nil
}

// cloneCall returns a deep copy of c. Nil and empty slices stay nil and empty.
func cloneCall(c Call) Call {
	if c.Sources != nil {
		src := make([]engine.SourceFile, len(c.Sources))
		for i, f := range c.Sources {
			f.Data = cloneBytes(f.Data)
			src[i] = f
		}
		c.Sources = src
	}
	return c
}

// cloneResult returns a deep copy of r, or nil.
func cloneResult(r *Result) *Result {
	if r == nil {
		return nil
	}
	c := *r
	c.Fired = slices.Clone(r.Fired)
	c.End.Scores = slices.Clone(r.End.Scores)
	return &c
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}
