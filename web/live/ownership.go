package live

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/switchboard-sim/switchboard/engine/journal"
)

// Call ownership, for several instances sharing one journal (PostgreSQL). With
// Options.Owned set (see NewOwned), the floor owns each call it runs through a lease in
// the journal (journal.Leases): it records a new call with its lease (CreateLeased) and
// takes the lease when it recovers a call, renews its leases every TTL/3 (KeepLeases), and
// writes to its calls only through fenced appends and finishes, which the journal refuses
// once another instance has taken the call over. A call whose write is refused that way
// leaves this instance at once: its trainee is disconnected with 1001 and reconnects. At
// start (Recover) an instance recovers only the open calls whose lease has expired, and
// then adopts, every TTL/3, the calls of instances that died or drained (AdoptOrphans, in
// adopt.go), whether or not anybody reconnects to them. A trainee who reconnects to an
// instance that does not own their call is found OwnedElsewhere while the owner's lease
// lives (the API forwards them to the owner, web/peers, or answers 503 owned_elsewhere when
// it cannot be reached); once it has expired (the owner died) that instance takes the
// call over. See docs/deploy.md.

// DefaultLeaseTTL is a call lease's time to live when Ownership.TTL is 0. An instance
// renews its leases every TTL/3, so it keeps its calls through a stall (of itself or of
// the database) of up to 2/3 of it, 4 s. An instance killed with kill -9 has its calls
// adopted by the others about 4 to 8.5 s after its death, whether or not their trainees
// reconnect: its leases run out 2/3 to 3/3 of the TTL after the death (it last renewed
// them up to TTL/3 before), and the next sweep (TTL/3 ± 25% later) takes them. Renewing costs one UPDATE per
// instance every 2 s, sweeping one indexed query per instance every 2 s.
const DefaultLeaseTTL = 6 * time.Second

// Ownership configures call leases.
type Ownership struct {
	// Instance names this instance, unique among the instances sharing the journal.
	Instance string
	// TTL is the leases' time to live (0 means DefaultLeaseTTL); they are renewed every
	// TTL/3.
	TTL time.Duration
	// Now is the wall clock leases are reckoned by (nil means time.Now; tests move it).
	Now func() time.Time
}

// Owned is the floor's journal when it owns its calls through leases: a journal.Journal
// whose writes are fenced by the leases this instance holds. Make one with NewOwned and
// give it to the floor in Options.Owned.
type Owned struct {
	journal.Journal
	leases journal.Leases
	owner  string
	ttl    time.Duration
	now    func() time.Time

	mu   sync.Mutex
	held map[string]journal.Lease
}

// NewOwned wraps j, which must implement journal.Leases.
func NewOwned(j journal.Journal, o Ownership) (*Owned, error) {
	ls, ok := j.(journal.Leases)
	if !ok {
		return nil, fmt.Errorf("call ownership: the journal (%T) has no leases: several instances need PostgreSQL", j)
	}
	if o.Instance == "" {
		return nil, errors.New("call ownership: empty instance name")
	}
	if o.TTL <= 0 {
		o.TTL = DefaultLeaseTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Owned{Journal: j, leases: ls, owner: o.Instance, ttl: o.TTL, now: o.Now, held: map[string]journal.Lease{}}, nil
}

// claim takes (or renews) callID's lease: journal.ErrLeased while another instance's
// lease is live.
func (o *Owned) claim(ctx context.Context, callID string) error {
	l, err := o.leases.Acquire(ctx, callID, o.owner, o.now(), o.ttl)
	if err != nil {
		return err
	}
	o.mu.Lock()
	o.held[callID] = l
	o.mu.Unlock()
	return nil
}

// holds reports whether this instance holds a lease on callID.
func (o *Owned) holds(callID string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	_, ok := o.held[callID]
	return ok
}

// lease returns the lease held on callID, claiming it when none is held.
func (o *Owned) lease(ctx context.Context, callID string) (journal.Lease, error) {
	o.mu.Lock()
	l, ok := o.held[callID]
	o.mu.Unlock()
	if ok {
		return l, nil
	}
	if err := o.claim(ctx, callID); err != nil {
		return journal.Lease{}, err
	}
	return o.lease(ctx, callID)
}

// release gives up callID's lease, if held: the instance claimed the call but will not
// run it (it could not be recovered here), and must not keep renewing the lease.
func (o *Owned) release(ctx context.Context, callID string) {
	o.mu.Lock()
	l, ok := o.held[callID]
	delete(o.held, callID)
	o.mu.Unlock()
	if ok {
		_ = o.leases.Release(ctx, l) // on failure it is renewed until this instance stops
	}
}

// drop forgets callID's lease (after it was fenced, or the call finished).
func (o *Owned) drop(callID string) {
	o.mu.Lock()
	delete(o.held, callID)
	o.mu.Unlock()
}

// Create records the call with its lease, in one step: no other instance's adoption sweep
// can see the call unowned while it is being started.
func (o *Owned) Create(ctx context.Context, c journal.Call) error {
	l, err := o.leases.CreateLeased(ctx, c, o.owner, o.now(), o.ttl)
	if err != nil {
		return err
	}
	o.mu.Lock()
	o.held[c.ID] = l
	o.mu.Unlock()
	return nil
}

// Append is a fenced append.
func (o *Owned) Append(ctx context.Context, callID string, e journal.Entry) error {
	l, err := o.lease(ctx, callID)
	if err == nil {
		err = o.leases.AppendLeased(ctx, l, e)
	}
	if errors.Is(err, journal.ErrFenced) || errors.Is(err, journal.ErrLeased) {
		o.drop(callID)
	}
	return err
}

// Finish is a fenced finish.
func (o *Owned) Finish(ctx context.Context, callID string, r journal.Result) error {
	l, err := o.lease(ctx, callID)
	if err == nil {
		err = o.leases.FinishLeased(ctx, l, r)
	}
	if err == nil || errors.Is(err, journal.ErrFenced) || errors.Is(err, journal.ErrLeased) || errors.Is(err, journal.ErrFinished) {
		o.drop(callID)
	}
	return err
}

// AddNote and Notes pass notes through to the journal, when it keeps them.
func (o *Owned) AddNote(ctx context.Context, callID string, n journal.Note) error {
	if ns, ok := o.Journal.(journal.Notes); ok {
		return ns.AddNote(ctx, callID, n)
	}
	return errors.New("this journal keeps no notes")
}

// Notes implements journal.Notes.
func (o *Owned) Notes(ctx context.Context, callID string) ([]journal.Note, error) {
	return journal.NotesOf(ctx, o.Journal, callID)
}

// releaseAll gives up every lease held, so that other instances take the calls over at
// once (after Shutdown: nothing writes any more).
func (o *Owned) releaseAll(ctx context.Context) (int, error) {
	o.mu.Lock()
	held := make([]journal.Lease, 0, len(o.held))
	for _, l := range o.held {
		held = append(held, l)
	}
	clear(o.held)
	o.mu.Unlock()
	var errs []error
	for _, l := range held {
		errs = append(errs, o.leases.Release(ctx, l))
	}
	return len(held), errors.Join(errs...)
}

// KeepLeases renews this instance's leases every TTL/3 until ctx ends. It does nothing
// without Options.Owned. A renewal that fails is logged and retried at the next tick;
// the fenced writes keep the journal safe meanwhile.
func (s *Floor) KeepLeases(ctx context.Context) {
	if s.own == nil {
		return
	}
	t := time.NewTicker(s.own.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, s.own.ttl/3)
		n, err := s.own.leases.Renew(rctx, s.own.owner, s.own.now(), s.own.ttl)
		cancel()
		if err != nil && ctx.Err() == nil {
			s.log.Error("renewing call leases", "instance", s.own.owner, "err", err)
			continue
		}
		s.log.Debug("renewed call leases", "instance", s.own.owner, "leases", n)
	}
}

// ReleaseLeases gives up this instance's call leases, so that the other instances take
// its calls over as soon as their trainees reconnect; call it after Shutdown (draining).
func (s *Floor) ReleaseLeases(ctx context.Context) (int, error) {
	if s.own == nil {
		return 0, nil
	}
	return s.own.releaseAll(ctx)
}

// openToRecover lists the open calls Recover brings back: all of them, or with ownership
// those whose lease expired, which it takes over at once (adopt: in one step, skipping
// calls another instance is taking at the same moment).
func (s *Floor) openToRecover(ctx context.Context) ([]string, error) {
	if s.own != nil {
		return s.adopt(ctx, s.maxCalls)
	}
	open := true
	sums, err := s.journal.List(ctx, journal.Filter{Open: &open, Limit: s.maxCalls})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(sums))
	for i, sum := range sums {
		ids[i] = sum.ID
	}
	return ids, nil
}
