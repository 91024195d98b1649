package live

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/switchboard-sim/switchboard/engine/journal"
)

// Adoption of orphaned calls, for several instances sharing one journal (Ownership). An
// instance that dies (kill -9) stops renewing its leases; one that drains (SIGTERM)
// releases them. Either way its open calls are orphans: recorded, open, and held by no
// live lease. Every instance with ownership sweeps for orphans every TTL/3 (AdoptOrphans)
// and adopts them: it takes their leases in one step (journal.Leases.Adopt: the calls'
// row locks make exactly one instance get each call, and calls another instance is taking
// are skipped, not waited for) and recovers each into its floor, where its timers run as
// if it had never moved: the customer gives up, hangs up, the call ends with a result. So
// a call continues within about TTL + TTL/3 of its owner's death even when nobody
// reconnects to it; a trainee who does reconnect, to whichever instance, is served by the
// rules of ownership (ownership.go).

// recoverWorkers is how many calls Recover and an adoption sweep bring back at once: each
// costs a journal read (and, at start or on a reconnect, a lease transaction; the leases
// of many calls share one group commit).
const recoverWorkers = 16

// How a call came back into memory from the journal: the label "via" of
// switchboard_calls_recovered_total.
const (
	viaStart     = "start"     // Recover, at start
	viaSweep     = "sweep"     // the adoption sweep
	viaReconnect = "reconnect" // a trainee reconnected to a call not in memory
)

// AdoptOrphans runs the adoption sweep (adoptOnce) until ctx ends, every TTL/3 give or
// take a quarter at random, so that instances started together do not sweep in step. It
// does nothing without Options.Owned. Run it beside KeepLeases.
func (s *Floor) AdoptOrphans(ctx context.Context) {
	if s.own == nil {
		return
	}
	t := time.NewTimer(s.sweepPause())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := s.adoptOnce(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("looking for orphaned calls", "instance", s.own.owner, "err", err)
		}
		t.Reset(s.sweepPause())
	}
}

// sweepPause is the pause before the next adoption sweep: TTL/3 ± 25%.
func (s *Floor) sweepPause() time.Duration {
	p := s.own.ttl / 3
	return p*3/4 + rand.N(p/2+1)
}

// adoptOnce is one adoption sweep: it takes over, in one step (journal.Leases.Adopt), as
// many orphans as the floor has room for under MaxCalls — instances sweeping at the same
// moment get disjoint calls, without queueing behind each other's row locks — and
// recovers each of them. It returns how many calls it adopted.
func (s *Floor) adoptOnce(ctx context.Context) (int, error) {
	if s.own == nil || s.Stopping() {
		return 0, nil
	}
	room := s.room()
	if room <= 0 {
		return 0, nil
	}
	began := time.Now()
	ids, err := s.adopt(ctx, room)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	t := s.recoverAll(ctx, ids, viaSweep, nil)
	if t.fresh > 0 || t.failed > 0 {
		s.log.Info("adopted orphaned calls", "instance", s.own.owner, "adopted", t.fresh, "leased", len(ids),
			"failed", t.failed, "took", time.Since(began).Round(time.Millisecond))
	}
	if t.stop != nil {
		s.log.Warn("not adopting the remaining orphaned calls", "reason", t.stop, "left", t.left)
	}
	return t.fresh, nil
}

// adopt takes over up to limit orphans (journal.Leases.Adopt) and returns their ids, the
// leases held; those this floor could not rebuild before are released again at once.
func (s *Floor) adopt(ctx context.Context, limit int) ([]string, error) {
	lctx, cancel := context.WithTimeout(ctx, storageTimeout)
	leases, err := s.own.leases.Adopt(lctx, s.own.owner, s.own.now(), s.own.ttl, limit)
	cancel()
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(leases))
	s.own.mu.Lock()
	for _, l := range leases {
		s.own.held[l.CallID] = l
		ids = append(ids, l.CallID)
	}
	s.own.mu.Unlock()
	return s.releaseUnrecoverable(ctx, ids), nil
}

// room is how many more calls the floor may hold.
func (s *Floor) room() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxCalls - len(s.calls) - s.reserved
}

// releaseUnrecoverable gives back at once, without trying them again, the leases of the
// calls this floor failed to rebuild before (errBroken: a scenario that no longer
// compiles, entries that do not replay), and returns the other ids: a sweep would
// otherwise fail on them every TTL/3, logging the same error each time. They stay open in
// the journal, and a reconnect still tries them.
func (s *Floor) releaseUnrecoverable(ctx context.Context, ids []string) []string {
	s.mu.Lock()
	var broken []string
	out := ids[:0]
	for _, id := range ids {
		if s.unrecoverable[id] {
			broken = append(broken, id)
		} else {
			out = append(out, id)
		}
	}
	s.mu.Unlock()
	for _, id := range broken {
		s.own.release(ctx, id)
	}
	return out
}

// recoverTally counts what recoverAll did.
type recoverTally struct {
	done   int   // tried
	fresh  int   // recovered by this call of recoverAll
	taken  int   // another instance holds the call, or it ended meanwhile
	failed int   // could not be recovered (logged)
	stop   error // errFull or errStopping: the remaining calls were not tried
	left   int   // how many were not tried
}

// recoverAll brings the calls ids back into memory (recoverCall), recoverWorkers at a
// time, until they are done or the floor is full or stopping. progress, when set, is
// called (under a lock) after every recoverBatch calls with how many are done.
func (s *Floor) recoverAll(ctx context.Context, ids []string, via string, progress func(done int)) recoverTally {
	var (
		mu   sync.Mutex
		t    recoverTally
		next int
		wg   sync.WaitGroup
	)
	for range min(recoverWorkers, len(ids)) {
		wg.Go(func() {
			for {
				mu.Lock()
				if t.stop != nil || ctx.Err() != nil || next == len(ids) {
					mu.Unlock()
					return
				}
				id := ids[next]
				next++
				mu.Unlock()
				_, fresh, err := s.recoverCall(ctx, id, via)
				mu.Lock()
				switch {
				case errors.Is(err, errFull) || errors.Is(err, errStopping):
					if t.stop == nil {
						t.stop, t.left = err, len(ids)-next+1
					}
				case errors.Is(err, journal.ErrLeased) || errors.Is(err, journal.ErrFinished) || errors.Is(err, errCallEnded):
					t.taken++
					s.log.Debug("not recovering a call another instance took", "call", id, "err", err)
				case err != nil && ctx.Err() == nil:
					t.failed++
					s.log.Error("cannot recover an open call", "call", id, "via", via, "err", err)
					if errors.Is(err, errBroken) {
						s.markUnrecoverable(id)
					}
				case fresh:
					t.fresh++
				}
				t.done++
				if progress != nil && t.done%recoverBatch == 0 {
					progress(t.done)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if s.own != nil {
		// Calls not tried (the floor filled up or is stopping) whose leases the floor holds
		// already (adopt): give them back, or they would be renewed and never run.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storageTimeout)
		defer cancel()
		for _, id := range ids[next:] {
			s.mu.Lock()
			running := s.calls[id] != nil
			s.mu.Unlock()
			if !running && s.own.holds(id) {
				s.own.release(rctx, id)
			}
		}
	}
	return t
}

// maxUnrecoverable bounds the calls remembered as unrecoverable (releaseUnrecoverable).
const maxUnrecoverable = 10_000

func (s *Floor) markUnrecoverable(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unrecoverable == nil {
		s.unrecoverable = map[string]bool{}
	}
	if len(s.unrecoverable) < maxUnrecoverable {
		s.unrecoverable[id] = true
	}
}
