package journal

// Backlogger is a journal whose writes wait in a queue for one writer (group commit):
// the live layer refuses new calls while the backlog is long, so that calls already
// running keep their journal's attention (admission control, web/live).
type Backlogger interface {
	// Backlog returns how many writes are waiting to join a commit.
	Backlog() int
}
