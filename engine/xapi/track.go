package xapi

import (
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-sim/switchboard/engine/track"
)

// cmi5 vocabulary used for tracks: a track is a cmi5 course, each step a block. The
// statements are not a full cmi5 launch session (Switchboard is not launched by an LMS):
// they use cmi5's verbs and activity types where they fit, and satisfied for a track
// whose every step is complete, as a cmi5 LMS reports a course whose move-on criteria are
// met.
const (
	// VerbSatisfied (ADL, used by cmi5) marks a completed track.
	VerbSatisfied = "https://w3id.org/xapi/adl/verbs/satisfied"
	// ActivityCourse and ActivityBlock are cmi5's activity types of a course and a block.
	ActivityCourse = "https://w3id.org/xapi/cmi5/activitytype/course"
	ActivityBlock  = "https://w3id.org/xapi/cmi5/activitytype/block"
	extStepState   = "/xapi/extensions/step-state"
	extAttempts    = "/xapi/extensions/attempts"
)

// Learner is the trainee's account on the Switchboard server.
type Learner struct {
	ID   string // the account id: stable, unlike the name
	Name string
}

// TrackStatements returns the statements of a trainee's standing on a track at a moment:
// for each step with at least one finished call, "passed" (with the best score) or
// "failed" (best score so far); and "satisfied" for the track when every step is
// complete. Ids are name-based on the learner, the track and the statement's role, so
// sending them again after nothing changed is harmless; a changed standing (a better
// best score) gets a new id from the score it reports.
func TrackStatements(t *track.Track, p track.Progress, who Learner, at time.Time, homePage string) []Statement {
	home := strings.TrimRight(homePage, "/")
	if home == "" {
		home = DefaultHomePage
	}
	actor := Agent{ObjectType: "Agent", Name: who.Name, Account: Account{HomePage: home, Name: who.ID}}
	course := Activity{ObjectType: "Activity", ID: home + "/tracks/" + pathEscape(t.ID), Definition: Definition{
		Type: ActivityCourse, Name: map[string]string{"en-US": t.Title}}}
	if t.Description != "" {
		course.Definition.Description = map[string]string{"en-US": t.Description}
	}
	reg := StatementID("learner/"+who.ID, "track/"+t.ID) // a UUID: one registration per learner and track
	ctx := Context{Registration: reg, Platform: "Switchboard", Language: "en-US",
		ContextActivities: &ContextParents{Parent: []Activity{course}}}
	stamp := at.UTC().Format(time.RFC3339Nano)
	var out []Statement
	for i, sp := range p.Steps {
		if sp.Attempts == 0 || sp.State == track.StateLocked {
			continue
		}
		s := t.Steps[i]
		block := Activity{ObjectType: "Activity", ID: course.ID + "/steps/" + pathEscape(s.ID), Definition: Definition{
			Type: ActivityBlock, Name: map[string]string{"en-US": s.Title}}}
		passed := sp.State == track.StatePassed
		complete := sp.Complete
		best := clamp(sp.Best)
		res := &Result{Score: &Score{Scaled: best, Raw: round(best * 100), Min: 0, Max: 100}, Success: &passed, Completion: &complete,
			Extensions: map[string]any{home + extStepState: string(sp.State), home + extAttempts: sp.Attempts}}
		v, name := VerbFailed, "failed"
		if passed {
			v, name = VerbPassed, "passed"
		}
		out = append(out, Statement{ID: StatementID(reg, "step/"+s.ID+"/"+name+"/"+formatScore(best)), Actor: actor, Verb: verb(v, name),
			Object: block, Result: res, Context: ctx, Timestamp: stamp})
	}
	if p.Complete {
		yes := true
		tc := ctx
		tc.ContextActivities = nil
		out = append(out, Statement{ID: StatementID(reg, "satisfied"), Actor: actor, Verb: verb(VerbSatisfied, "satisfied"),
			Object: course, Result: &Result{Completion: &yes}, Context: tc, Timestamp: stamp})
	}
	return out
}

func formatScore(x float64) string { return strconv.FormatFloat(x, 'f', 4, 64) }
