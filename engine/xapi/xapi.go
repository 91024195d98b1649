// Package xapi turns a finished call's debrief into xAPI 1.0.3 statements for a learning
// record store: a "completed" and a "passed" or "failed" statement for the simulation
// activity, and one "experienced" statement per rule that fired.
//
// Statement ids are name-based UUIDs (version 5) of the call id and the statement's role,
// so building the statements again gives the same ids and sending them twice is harmless.
// Everything here is a pure function, safe for concurrent use.
package xapi

import (
	"crypto/sha1"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-sim/switchboard/engine/debrief"
)

// Version is the xAPI version of the statements (the X-Experience-API-Version header).
const Version = "1.0.3"

// Verb ids (ADL vocabulary).
const (
	VerbCompleted   = "http://adlnet.gov/expapi/verbs/completed"
	VerbPassed      = "http://adlnet.gov/expapi/verbs/passed"
	VerbFailed      = "http://adlnet.gov/expapi/verbs/failed"
	VerbExperienced = "http://adlnet.gov/expapi/verbs/experienced"
	// ActivitySimulation is the activity type of a scenario.
	ActivitySimulation = "http://adlnet.gov/expapi/activities/simulation"
)

// DefaultHomePage identifies Switchboard's trainee accounts and activities when no base URL
// is configured.
const DefaultHomePage = "https://switchboard.invalid"

// Statement is an xAPI statement (the fields Switchboard uses).
type Statement struct {
	ID        string   `json:"id"`
	Actor     Agent    `json:"actor"`
	Verb      Verb     `json:"verb"`
	Object    Activity `json:"object"`
	Result    *Result  `json:"result,omitempty"`
	Context   Context  `json:"context"`
	Timestamp string   `json:"timestamp"`
}

// Agent is the trainee, identified by an account on the Switchboard server.
type Agent struct {
	ObjectType string  `json:"objectType"`
	Name       string  `json:"name,omitempty"`
	Account    Account `json:"account"`
}

// Account is an agent's account identifier.
type Account struct {
	HomePage string `json:"homePage"`
	Name     string `json:"name"`
}

// Verb is what the trainee did.
type Verb struct {
	ID      string            `json:"id"`
	Display map[string]string `json:"display"`
}

// Activity is the scenario (or one of its rules).
type Activity struct {
	ObjectType string     `json:"objectType"`
	ID         string     `json:"id"`
	Definition Definition `json:"definition"`
}

// Definition describes an activity.
type Definition struct {
	Type        string            `json:"type,omitempty"`
	Name        map[string]string `json:"name,omitempty"`
	Description map[string]string `json:"description,omitempty"`
}

// Result is the outcome of the call.
type Result struct {
	Score      *Score         `json:"score,omitempty"`
	Success    *bool          `json:"success,omitempty"`
	Completion *bool          `json:"completion,omitempty"`
	Duration   string         `json:"duration,omitempty"`
	Response   string         `json:"response,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

// Score is the call's overall score.
type Score struct {
	Scaled float64 `json:"scaled"`
	Raw    float64 `json:"raw"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// Context ties the statements of one call together.
type Context struct {
	Registration      string          `json:"registration"`
	Platform          string          `json:"platform"`
	Language          string          `json:"language,omitempty"`
	ContextActivities *ContextParents `json:"contextActivities,omitempty"`
	Extensions        map[string]any  `json:"extensions,omitempty"`
}

// ContextParents lists the parent activity of a rule statement.
type ContextParents struct {
	Parent []Activity `json:"parent"`
}

// Extension keys, under the home page.
const (
	extAxisScores = "/xapi/extensions/axis-scores"
	extOutcome    = "/xapi/extensions/outcome"
	extScenario   = "/xapi/extensions/scenario-hash"
	// extNote is why a call could not pass whatever its scores (engine.EndInfo.Note).
	extNote = "/xapi/extensions/note"
)

// ErrOpen is returned for a call that has not ended: it has no result to report yet.
var ErrOpen = errors.New("the call has not ended")

// Statements returns the statements of a finished call. homePage is the server's base URL
// (DefaultHomePage when empty); it prefixes activity ids and identifies trainee accounts.
func Statements(r *debrief.Record, homePage string) ([]Statement, error) {
	if r.End == nil || r.Ended == nil {
		return nil, ErrOpen
	}
	home := strings.TrimRight(homePage, "/")
	if home == "" {
		home = DefaultHomePage
	}
	actor := Agent{ObjectType: "Agent", Name: r.Trainee, Account: Account{HomePage: home, Name: accountName(r.Trainee)}}
	scenario := Activity{ObjectType: "Activity", ID: home + "/scenarios/" + pathEscape(r.ScenarioID), Definition: Definition{
		Type: ActivitySimulation, Name: map[string]string{"en-US": r.Title},
	}}
	if r.Lesson != "" {
		scenario.Definition.Description = map[string]string{"en-US": r.Lesson}
	}
	ctx := Context{Registration: r.ID, Platform: "Switchboard", Language: "en-US",
		Extensions: map[string]any{home + extScenario: r.Hash}}
	axes := map[string]float64{}
	for _, s := range r.End.Scores {
		if s.Assessed { // an axis the call gave no chance to show is no 0
			axes[s.Axis] = s.Normalized
		}
	}
	yes, passed := true, r.End.Passed
	scaled := clamp(r.End.Overall)
	result := &Result{
		Score:      &Score{Scaled: scaled, Raw: round(scaled * 100), Min: 0, Max: 100},
		Success:    &passed,
		Completion: &yes,
		Duration:   Duration(r.Elapsed),
		Extensions: map[string]any{home + extAxisScores: axes, home + extOutcome: r.End.Outcome},
	}
	if r.End.Note != "" {
		result.Extensions[home+extNote] = r.End.Note // "A critical mistake … fails the call"
	}
	stamp := r.Ended.UTC().Format(time.RFC3339Nano)
	verdict, verdictName := VerbFailed, "failed"
	if passed {
		verdict, verdictName = VerbPassed, "passed"
	}
	out := []Statement{
		{ID: StatementID(r.ID, "completed"), Actor: actor, Verb: verb(VerbCompleted, "completed"), Object: scenario, Result: result, Context: ctx, Timestamp: stamp},
		{ID: StatementID(r.ID, verdictName), Actor: actor, Verb: verb(verdict, verdictName), Object: scenario, Result: result, Context: ctx, Timestamp: stamp},
	}
	for i, f := range r.Fired {
		if f.Rule == "" {
			continue
		}
		rc := ctx
		rc.ContextActivities = &ContextParents{Parent: []Activity{scenario}}
		rule := Activity{ObjectType: "Activity", ID: scenario.ID + "/rules/" + pathEscape(f.Rule),
			Definition: Definition{Type: "http://adlnet.gov/expapi/activities/interaction", Name: map[string]string{"en-US": f.Rule}}}
		started := r.Started.Add(time.Duration(f.At) * time.Millisecond)
		st := Statement{ID: StatementID(r.ID, fmt.Sprintf("rule/%d/%s", i, f.Rule)), Actor: actor, Verb: verb(VerbExperienced, "experienced"),
			Object: rule, Context: rc, Timestamp: started.UTC().Format(time.RFC3339Nano)}
		if f.Text != "" {
			st.Result = &Result{Response: f.Text}
		}
		out = append(out, st)
	}
	return out, nil
}

func verb(id, name string) Verb { return Verb{ID: id, Display: map[string]string{"en-US": name}} }

// accountName is the trainee's account name: the name they gave, or "anonymous".
func accountName(trainee string) string {
	if strings.TrimSpace(trainee) == "" {
		return "anonymous"
	}
	return trainee
}

func pathEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func clamp(x float64) float64 {
	if math.IsNaN(x) {
		return 0
	}
	return min(max(x, -1), 1)
}

func round(x float64) float64 { return math.Round(x*100) / 100 }

// Duration formats milliseconds as an ISO 8601 duration, e.g. PT1M5.25S.
func Duration(ms int64) string {
	ms = max(ms, 0)
	h, m := ms/3_600_000, ms/60_000%60
	s := float64(ms%60_000) / 1000
	var b strings.Builder
	b.WriteString("PT")
	if h > 0 {
		fmt.Fprintf(&b, "%dH", h)
	}
	if m > 0 {
		fmt.Fprintf(&b, "%dM", m)
	}
	if s > 0 || (h == 0 && m == 0) {
		b.WriteString(strconv.FormatFloat(s, 'f', -1, 64))
		b.WriteByte('S')
	}
	return b.String()
}

// namespace is the UUID namespace of Switchboard's statement ids.
var namespace = [16]byte{0x6b, 0x1c, 0x2a, 0x53, 0x0e, 0x4f, 0x4b, 0x8e, 0x9d, 0x3a, 0x57, 0x49, 0x54, 0x43, 0x48, 0x42}

// StatementID is the stable id of a call's statement with the given role.
func StatementID(callID, role string) string {
	h := sha1.New()
	h.Write(namespace[:])
	h.Write([]byte(callID + "/" + role))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return FormatUUID(u)
}

// FormatUUID formats 16 bytes as a UUID string.
func FormatUUID(u [16]byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// IsUUID reports whether s is a lower-case RFC 4122 UUID string.
func IsUUID(s string) bool { return uuidRE.MatchString(s) }
