package journal

import "time"

// Backlogger is a journal whose writes wait in a queue for one writer (group commit):
// the live layer refuses new calls while the backlog would take too long to commit, so
// that calls already running keep their journal's attention (admission control, web/live).
type Backlogger interface {
	// Backlog returns how many writes are waiting to join a commit.
	Backlog() int
	// BacklogWait estimates how long the writes waiting now will take to be committed,
	// at the pace of the recent commits.
	BacklogWait() time.Duration
}
