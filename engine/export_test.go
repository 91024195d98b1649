package engine

// ForgetReplies empties sc's memo of replies read (readReply), for benchmarks that time a
// reply read for the first time. Not safe while sessions of sc run.
func ForgetReplies(sc *Scenario) {
	if sc.memo != nil {
		for i := range sc.memo.slots {
			sc.memo.slots[i].Store(nil)
		}
	}
}
