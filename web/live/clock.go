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
	// NewTimer returns a timer that fires once after d, like time.NewTimer.
	NewTimer(d time.Duration) Timer
}

// Timer is a Clock's one-shot timer, like *time.Timer.
type Timer interface {
	// C delivers the time when the timer fires.
	C() <-chan time.Time
	// Reset makes the timer fire after d (see time.Timer.Reset).
	Reset(d time.Duration) bool
	// Stop stops the timer (see time.Timer.Stop).
	Stop() bool
}

// RealClock is the wall clock: time.Now and time.NewTimer. Inside a testing/synctest
// bubble these are the bubble's fake clock, so tests need no other Clock.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// NewTimer returns a time.Timer.
func (RealClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time        { return r.t.C }
func (r realTimer) Reset(d time.Duration) bool { return r.t.Reset(d) }
func (r realTimer) Stop() bool                 { return r.t.Stop() }
