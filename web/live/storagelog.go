package live

import (
	"log/slog"
	"sync"
	"time"
)

// storageLogEvery is the most often a failed journal write is logged as an error: through
// a storage outage (a full disk refuses every call's writes, and their timers retry each
// second) the server's log gets one line per storageLogEvery, with how many failures it
// left out, instead of one per failure.
const storageLogEvery = 10 * time.Second

// storageErrors paces the error lines of failed journal writes across the floor (the
// first at once, then at most one every storageLogEvery; the rest at Debug). Safe for
// concurrent use.
type storageErrors struct {
	mu      sync.Mutex
	last    time.Time
	skipped int
}

// log logs msg with args on l, as an error when one is due at now, else at Debug.
func (s *storageErrors) log(l *slog.Logger, now time.Time, msg string, args ...any) {
	s.mu.Lock()
	due := s.last.IsZero() || now.Sub(s.last) >= storageLogEvery
	skipped := s.skipped
	if due {
		s.last, s.skipped = now, 0
	} else {
		s.skipped++
	}
	s.mu.Unlock()
	if !due {
		l.Debug(msg, args...)
		return
	}
	if skipped > 0 {
		args = append(args, "similar_failures_not_logged", skipped)
	}
	l.Error(msg, args...)
}
