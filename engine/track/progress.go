package track

// Result is one finished call of a trainee, as progress needs it.
type Result struct {
	// Scenario is the id of the scenario played.
	Scenario string `json:"scenario"`
	// Step is the id of the step the call was taken as, or "" for a call taken outside
	// the track (free practice): such a call counts for every step of its scenario.
	Step string `json:"step,omitempty"`
	// Overall is the call's overall score, 0..1 (engine.EndInfo.Overall).
	Overall float64 `json:"overall"`
	// Void is set when the call could not pass whatever its scores: never answered or
	// nothing said (engine.EndInfo.Note), or a lost outcome (the trainee or the customer
	// hung up, the customer walked away), as for the call's own verdict.
	Void bool `json:"void,omitempty"`
	// Started and Ended are when the call started and ended (Unix milliseconds; 0 when
	// unknown: the call then counts whenever it was made). A call started before its
	// step opened (the end of the call that opened it) completes nothing.
	Started int64 `json:"started,omitempty"`
	Ended   int64 `json:"ended,omitempty"`
}

// State is where a trainee stands on one step.
type State string

// States of a step, from a trainee's results.
const (
	// StateLocked: the step's unlock rule is not met yet. Calls of its scenario made
	// before it opened are counted in Attempts but complete nothing.
	StateLocked State = "locked"
	// StateOpen: unlocked, no call yet.
	StateOpen State = "open"
	// StateFailed: unlocked, called, never passed, and (repeat: until-passed) not
	// complete.
	StateFailed State = "failed"
	// StateDone: a repeat: once step called without a pass: complete, but steps whose
	// unlock rule waits for it to be passed stay locked.
	StateDone State = "done"
	// StatePassed: a call reached the step's pass mark.
	StatePassed State = "passed"
)

// StepProgress is a trainee's standing on one step.
type StepProgress struct {
	ID       string  `json:"id"`
	State    State   `json:"state"`
	Attempts int     `json:"attempts"`
	Best     float64 `json:"best"` // the best overall score, 0 without attempts
	// Complete: passed, or a repeat: once step called at least once (while unlocked).
	Complete bool `json:"complete"`
	// WaitingFor lists the ids of the steps a locked step still waits for.
	WaitingFor []string `json:"waiting_for,omitempty"`
}

// Progress is a trainee's standing on a whole track.
type Progress struct {
	Steps []StepProgress `json:"steps"`
	// Next is the index of the step to take next, or -1 when the track is complete.
	Next int `json:"next"`
	// Complete: every step is complete.
	Complete bool `json:"complete"`
	// Passed counts the passed steps.
	Passed int `json:"passed"`
}

// Evaluate works out a trainee's progress on t from their finished calls, in any order.
// It is a pure function: the same results always give the same progress.
//
// A call counts for a step when it was taken as that step, or outside the track with the
// step's scenario. A step is passed when one such call's overall score reaches the
// step's pass mark and the call was not void. Unlock rules are checked in step order
// (they only name earlier steps): start is always open, previous opens once the step
// before is complete, after opens once each named step is passed. A step's calls only
// complete it once it is unlocked: one started before the call that opened the step
// ended counts in Attempts and Best, and completes nothing.
func Evaluate(t *Track, results []Result) Progress {
	p := Progress{Steps: make([]StepProgress, len(t.Steps)), Next: -1}
	// When each step was completed and passed (the end of the first call that did it;
	// 0 when that call's time is unknown); -1 while it is not.
	completedAt := make([]int64, len(t.Steps))
	passedAt := make([]int64, len(t.Steps))
	for i, s := range t.Steps {
		sp := StepProgress{ID: s.ID}
		var waiting []string
		opened := int64(0) // when the step opened
		switch s.Unlock.Kind {
		case UnlockPrevious:
			if i > 0 {
				if !p.Steps[i-1].Complete {
					waiting = append(waiting, t.Steps[i-1].ID)
				}
				opened = completedAt[i-1]
			}
		case UnlockAfter:
			for _, j := range s.Unlock.After {
				if p.Steps[j].State != StatePassed {
					waiting = append(waiting, t.Steps[j].ID)
				}
				opened = max(opened, passedAt[j])
			}
		}
		completedAt[i], passedAt[i] = -1, -1
		counted := 0 // calls made once the step was open
		for _, r := range results {
			if r.Scenario != s.Scenario || (r.Step != "" && r.Step != s.ID) {
				continue
			}
			sp.Attempts++
			if r.Overall > sp.Best {
				sp.Best = r.Overall
			}
			if len(waiting) > 0 || r.Started != 0 && r.Started < opened {
				continue // made while the step was locked
			}
			counted++
			done := max(r.Ended, r.Started)
			if completedAt[i] < 0 || done < completedAt[i] {
				completedAt[i] = done
			}
			if !r.Void && r.Overall >= s.Pass && (passedAt[i] < 0 || done < passedAt[i]) {
				passedAt[i] = done
			}
		}
		switch {
		case len(waiting) > 0:
			sp.State, sp.WaitingFor = StateLocked, waiting
		case passedAt[i] >= 0:
			sp.State, sp.Complete = StatePassed, true
			if s.Repeat == RepeatUntilPassed {
				completedAt[i] = passedAt[i] // only a pass completes it
			}
			p.Passed++
		case counted == 0:
			sp.State = StateOpen
		case s.Repeat == RepeatUntilPassed:
			sp.State = StateFailed
		default:
			sp.State, sp.Complete = StateDone, true
		}
		if !sp.Complete {
			completedAt[i] = -1
		}
		p.Steps[i] = sp
	}
	p.Complete = true
	for i, sp := range p.Steps {
		if !sp.Complete {
			p.Complete = false
			if p.Next < 0 && sp.State != StateLocked {
				p.Next = i
			}
		}
	}
	if p.Next < 0 && !p.Complete {
		// Every open step is complete, but a locked one waits for a step that was only
		// called, not passed: that step is the one to retake.
		for _, sp := range p.Steps {
			if sp.State != StateLocked {
				continue
			}
			for _, id := range sp.WaitingFor {
				if j, ok := t.Step(id); ok && p.Steps[j].State == StateDone {
					p.Next = j
					return p
				}
			}
		}
	}
	return p
}
