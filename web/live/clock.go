package live

import "time"

// Clock is the live calls' time source: when client messages arrive, when each call's
// timers and paced words fall due, how long a call has been idle or ended. The default is
// the wall clock (RealClock); a load generator or a test may pass another, e.g. one that
// runs faster than real time. Socket deadlines (websocket writes, pings) always use the
// wall clock: they guard real connections. A Clock must be safe for concurrent use.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// AfterFunc calls f on a goroutine of its own after d, like time.AfterFunc.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a Clock's timer made by AfterFunc, like the *time.Timer of time.AfterFunc.
type Timer interface {
	// Reset makes the timer call its function after d (see time.Timer.Reset).
	Reset(d time.Duration) bool
	// Stop stops the timer (see time.Timer.Stop).
	Stop() bool
}

// RealClock is the wall clock: time.Now and time.AfterFunc. Inside a testing/synctest
// bubble these are the bubble's fake clock, so tests need no other Clock.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// AfterFunc returns time.AfterFunc(d, f).
func (RealClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
