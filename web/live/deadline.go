package live

import (
	"context"
	"sync"
	"time"
)

// lazyDeadline is the context of one journal write on a turn's path: it ends at a
// deadline, like context.WithTimeout(context.Background(), …), but its timer starts only
// when something waits on Done. Most writes never wait (the journal commits them on the
// caller's goroutine when no other commit runs) and only ask Err, so they cost one small
// allocation instead of a context, a runtime timer started and a timer stopped: in a CPU
// profile at 5,000 calls those were 6% of a say's step (docs/performance.md, "Where a turn
// waits, measured at both ends").
//
// Safe for concurrent use, as a context must be. release ends it (with context.Canceled)
// and stops its timer; call it once the write has returned.
type lazyDeadline struct {
	deadline time.Time

	mu    sync.Mutex
	done  chan struct{} // made by the first Done
	err   error
	timer *time.Timer // started by the first Done, if the deadline is ahead
}

// newLazyDeadline returns a context that ends after d.
func newLazyDeadline(d time.Duration) *lazyDeadline {
	return &lazyDeadline{deadline: time.Now().Add(d)}
}

// Deadline returns the deadline.
func (c *lazyDeadline) Deadline() (time.Time, bool) { return c.deadline, true }

// Value returns nil: the context carries no values.
func (c *lazyDeadline) Value(any) any { return nil }

// Done returns a channel closed when the context ends, starting the deadline's timer the
// first time.
func (c *lazyDeadline) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done != nil {
		return c.done
	}
	c.done = make(chan struct{})
	switch left := time.Until(c.deadline); {
	case c.err != nil:
		close(c.done)
	case left <= 0:
		c.endLocked(context.DeadlineExceeded)
	default:
		c.timer = time.AfterFunc(left, func() {
			c.mu.Lock()
			c.endLocked(context.DeadlineExceeded)
			c.mu.Unlock()
		})
	}
	return c.done
}

// Err returns nil until the context ends, then why: context.DeadlineExceeded once the
// deadline has passed (whether or not anything waited on Done), context.Canceled after
// release.
func (c *lazyDeadline) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil && !time.Now().Before(c.deadline) {
		c.endLocked(context.DeadlineExceeded)
	}
	return c.err
}

// release ends the context unless it has ended already (with context.Canceled, or
// context.DeadlineExceeded once the deadline has passed, as WithTimeout's cancel does),
// and stops its timer.
func (c *lazyDeadline) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timer != nil {
		c.timer.Stop()
	}
	if !time.Now().Before(c.deadline) {
		c.endLocked(context.DeadlineExceeded)
	}
	c.endLocked(context.Canceled)
}

// endLocked ends the context with err unless it has ended already. Under c.mu.
func (c *lazyDeadline) endLocked(err error) {
	if c.err != nil {
		return
	}
	c.err = err
	if c.done != nil {
		close(c.done)
	}
}
