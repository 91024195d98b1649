package journal

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Leases give each live call one owner among several instances sharing a journal
// (PostgreSQL). An instance takes a call's lease before it runs the call, renews its
// leases while it lives, and writes to the call only through AppendLeased and
// FinishLeased, which are fenced: they are refused with ErrFenced unless the lease the
// writer holds is still the call's (same owner, same epoch). A takeover after expiry
// increments the epoch, so an owner that stalled past its lease (a long pause, a network
// partition, a kill -9 that was not quite one) can never write to the call again, whatever
// the clocks say: clocks decide only when a takeover may happen, never whether two owners
// can both write.
//
// Times come from the caller (an instance's wall clock), as with the Outbox; instances'
// clocks should agree to well within the lease's time to live, or calls are taken over
// early (never unsafely). Every method is safe for concurrent use.
type Leases interface {
	// CreateLeased is Create and Acquire in one step: the call is recorded with owner's
	// lease (epoch 1, until now+ttl), so that no other instance ever sees it open without
	// an owner (Unowned would list it, and an adoption sweep take it, while its creator
	// was still setting it up). ErrExists when the id is taken; nothing changes then.
	CreateLeased(ctx context.Context, c Call, owner string, now time.Time, ttl time.Duration) (Lease, error)
	// Acquire takes callID's lease for owner until now+ttl: when the call has no lease,
	// when owner holds it already (a renewal: same epoch), or when the lease expired at or
	// before now (a takeover: the epoch goes up by one). ErrLeased when another owner's
	// lease is live, ErrNotFound without such a call, ErrFinished when the call ended.
	Acquire(ctx context.Context, callID, owner string, now time.Time, ttl time.Duration) (Lease, error)
	// Renew extends every lease of owner on open calls to now+ttl and returns how many,
	// even those that expired, as long as nobody took them over (same epoch).
	Renew(ctx context.Context, owner string, now time.Time, ttl time.Duration) (int, error)
	// Release gives up l (it expires at once and has no owner any more, so the owner's
	// Renew does not bring it back), so that another instance may take the call without
	// waiting; nothing happens when l is no longer the call's lease.
	Release(ctx context.Context, l Lease) error
	// AppendLeased is Append fenced by l. The checks run in this order: ErrNotFound,
	// ErrFenced, then Append's (ErrDuplicate, ErrFinished, ErrSeqGap).
	AppendLeased(ctx context.Context, l Lease, e Entry) error
	// FinishLeased is Finish fenced by l: ErrNotFound, ErrFenced, ErrFinished.
	FinishLeased(ctx context.Context, l Lease, r Result) error
	// Unowned returns up to limit (0: DefaultLimit) open calls that no live lease holds at
	// now, newest first: the calls an instance may recover.
	Unowned(ctx context.Context, now time.Time, limit int) ([]string, error)
	// Adopt takes over, for owner until now+ttl, up to limit (0: DefaultLimit) of the calls
	// Unowned would list, in one step, and returns their leases: each one's epoch goes up
	// by one (1 for a call that never had a lease), as with Acquire. A call another
	// instance is taking or writing at that moment is skipped, not waited for, so instances
	// adopting at the same time get disjoint calls without queueing behind each other.
	Adopt(ctx context.Context, owner string, now time.Time, ttl time.Duration, limit int) ([]Lease, error)
}

// Lease is an owner's claim on a call, valid until Expires unless renewed.
type Lease struct {
	CallID  string    `json:"call_id"`
	Owner   string    `json:"owner"`   // the instance's id
	Epoch   int64     `json:"epoch"`   // 1 for the first owner, +1 at every takeover
	Expires time.Time `json:"expires"` // wall clock of the owner that took or renewed it
}

// Errors of leases.
var (
	ErrLeased = errors.New("another instance owns the call")
	ErrFenced = errors.New("the call's lease was taken over: this instance no longer owns it")
)

// DecideAcquire is the rule every implementation of Acquire follows, given the call's
// current lease (nil for none): the lease to store, or ErrLeased.
func DecideAcquire(cur *Lease, callID, owner string, now time.Time, ttl time.Duration) (Lease, error) {
	next := Lease{CallID: callID, Owner: owner, Epoch: 1, Expires: now.Add(ttl)}
	switch {
	case cur == nil:
	case cur.Owner == owner:
		next.Epoch = cur.Epoch
	case cur.Expires.After(now):
		return Lease{}, fmt.Errorf("%w (%s until %s)", ErrLeased, cur.Owner, cur.Expires.UTC().Format(time.RFC3339Nano))
	default:
		next.Epoch = cur.Epoch + 1
	}
	return next, nil
}

var _ Leases = (*Memory)(nil)

// CreateLeased implements Leases.
func (m *Memory) CreateLeased(ctx context.Context, c Call, owner string, now time.Time, ttl time.Duration) (Lease, error) {
	if err := m.lock(ctx); err != nil {
		return Lease{}, fmt.Errorf("journal: create call %q: %w", c.ID, err)
	}
	defer m.mu.Unlock()
	if _, ok := m.calls[c.ID]; ok {
		return Lease{}, fmt.Errorf("journal: create call %q: %w", c.ID, ErrExists)
	}
	l, err := DecideAcquire(nil, c.ID, owner, now, ttl)
	if err != nil { // cannot happen: nobody holds a call that did not exist
		return Lease{}, fmt.Errorf("journal: create call %q: %w", c.ID, err)
	}
	m.calls[c.ID] = &memCall{call: cloneCall(c), clients: make(map[string]struct{}), lease: &l}
	return l, nil
}

// Acquire implements Leases.
func (m *Memory) Acquire(ctx context.Context, callID, owner string, now time.Time, ttl time.Duration) (Lease, error) {
	if err := m.lock(ctx); err != nil {
		return Lease{}, fmt.Errorf("journal: lease call %q: %w", callID, err)
	}
	defer m.mu.Unlock()
	mc, ok := m.calls[callID]
	switch {
	case !ok:
		return Lease{}, fmt.Errorf("journal: lease call %q: %w", callID, ErrNotFound)
	case mc.result != nil:
		return Lease{}, fmt.Errorf("journal: lease call %q: %w", callID, ErrFinished)
	}
	l, err := DecideAcquire(mc.lease, callID, owner, now, ttl)
	if err != nil {
		return Lease{}, fmt.Errorf("journal: lease call %q: %w", callID, err)
	}
	mc.lease = &l
	return l, nil
}

// Renew implements Leases.
func (m *Memory) Renew(ctx context.Context, owner string, now time.Time, ttl time.Duration) (int, error) {
	if err := m.lock(ctx); err != nil {
		return 0, fmt.Errorf("journal: renew leases of %q: %w", owner, err)
	}
	defer m.mu.Unlock()
	n := 0
	for _, mc := range m.calls {
		if mc.lease != nil && mc.lease.Owner == owner && mc.result == nil {
			mc.lease.Expires = now.Add(ttl)
			n++
		}
	}
	return n, nil
}

// Release implements Leases.
func (m *Memory) Release(ctx context.Context, l Lease) error {
	if err := m.lock(ctx); err != nil {
		return fmt.Errorf("journal: release lease on call %q: %w", l.CallID, err)
	}
	defer m.mu.Unlock()
	if mc, ok := m.calls[l.CallID]; ok && mc.lease != nil && mc.lease.Owner == l.Owner && mc.lease.Epoch == l.Epoch {
		mc.lease.Owner, mc.lease.Expires = "", time.Time{}
	}
	return nil
}

// fenced checks l against the call's lease; the caller holds the lock.
func (m *Memory) fenced(l Lease) error {
	mc, ok := m.calls[l.CallID]
	switch {
	case !ok:
		return ErrNotFound
	case mc.lease == nil || mc.lease.Owner != l.Owner || mc.lease.Epoch != l.Epoch:
		return ErrFenced
	}
	return nil
}

// AppendLeased implements Leases.
func (m *Memory) AppendLeased(ctx context.Context, l Lease, e Entry) error {
	if err := m.lock(ctx); err != nil {
		return fmt.Errorf("journal: append to call %q: %w", l.CallID, err)
	}
	defer m.mu.Unlock()
	if err := m.fenced(l); err != nil {
		return fmt.Errorf("journal: append to call %q: %w", l.CallID, err)
	}
	return m.appendLocked(l.CallID, e)
}

// FinishLeased implements Leases.
func (m *Memory) FinishLeased(ctx context.Context, l Lease, r Result) error {
	if err := m.lock(ctx); err != nil {
		return fmt.Errorf("journal: finish call %q: %w", l.CallID, err)
	}
	defer m.mu.Unlock()
	if err := m.fenced(l); err != nil {
		return fmt.Errorf("journal: finish call %q: %w", l.CallID, err)
	}
	return m.finishLocked(l.CallID, r)
}

// Unowned implements Leases.
func (m *Memory) Unowned(ctx context.Context, now time.Time, limit int) ([]string, error) {
	open := true
	sums, err := m.List(ctx, Filter{Open: &open, Limit: 1 << 30})
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = DefaultLimit
	}
	if err := m.lock(ctx); err != nil {
		return nil, fmt.Errorf("journal: unowned calls: %w", err)
	}
	defer m.mu.Unlock()
	var out []string
	for _, s := range sums {
		mc, ok := m.calls[s.ID]
		if !ok || (mc.lease != nil && mc.lease.Expires.After(now)) {
			continue
		}
		out = append(out, s.ID)
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

// Adopt implements Leases.
func (m *Memory) Adopt(ctx context.Context, owner string, now time.Time, ttl time.Duration, limit int) ([]Lease, error) {
	ids, err := m.Unowned(ctx, now, limit)
	if err != nil {
		return nil, err
	}
	if err := m.lock(ctx); err != nil {
		return nil, fmt.Errorf("journal: adopt calls: %w", err)
	}
	defer m.mu.Unlock()
	var out []Lease
	for _, id := range ids {
		mc, ok := m.calls[id]
		if !ok || mc.result != nil || (mc.lease != nil && mc.lease.Expires.After(now)) {
			continue // finished or taken meanwhile
		}
		l := Lease{CallID: id, Owner: owner, Epoch: 1, Expires: now.Add(ttl)}
		if mc.lease != nil { // even owner's own expired lease: a takeover all the same
			l.Epoch = mc.lease.Epoch + 1
		}
		mc.lease = &l
		out = append(out, l)
	}
	return out, nil
}
