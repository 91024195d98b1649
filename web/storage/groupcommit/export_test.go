package groupcommit

// Sent returns how many writes q has handed to its lanes: a write counts in Backlog just
// before its send, and in Sent once it is in the lane, where the next batch will find it.
func Sent[Op any](q *Queue[Op]) int { return int(q.sent.Load()) }
