package xapi_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/debrief"
	"github.com/switchboard-sim/switchboard/engine/xapi"
	"github.com/switchboard-sim/switchboard/engine/xapi/xapitest"
)

const callID = "6f1c0d2e-8a4b-4c3d-9e2f-0a1b2c3d4e5f"

func record(t *testing.T) *debrief.Record {
	c, entries, res := xapitest.FixtureCall(callID, time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC))
	r, err := debrief.Build(c, entries, res)
	require.NoError(t, err)
	return r
}

func TestStatementsOfAFinishedCall(t *testing.T) {
	sts, err := xapi.Statements(record(t), "https://lms.example.org/")
	require.NoError(t, err)
	require.Len(t, sts, 4, "completed, passed, and one per fired rule")
	assert.Equal(t, xapi.VerbCompleted, sts[0].Verb.ID)
	assert.Equal(t, xapi.VerbPassed, sts[1].Verb.ID)
	for _, s := range sts[2:] {
		assert.Equal(t, xapi.VerbExperienced, s.Verb.ID)
		assert.Equal(t, "https://lms.example.org/scenarios/refund", s.Context.ContextActivities.Parent[0].ID)
	}
	done := sts[0]
	assert.Equal(t, "https://lms.example.org/scenarios/refund", done.Object.ID)
	assert.Equal(t, xapi.ActivitySimulation, done.Object.Definition.Type)
	assert.Equal(t, xapi.Account{HomePage: "https://lms.example.org", Name: "Kim"}, done.Actor.Account)
	assert.Equal(t, callID, done.Context.Registration)
	assert.Equal(t, 1.0, done.Result.Score.Scaled)
	assert.True(t, *done.Result.Success)
	assert.Equal(t, "PT4.5S", done.Result.Duration)
	assert.Equal(t, map[string]float64{"care": 1}, done.Result.Extensions["https://lms.example.org/xapi/extensions/axis-scores"])
	assert.Equal(t, "2026-11-22T09:30:06Z", done.Timestamp)
	assert.Equal(t, "2026-11-22T09:30:01.7Z", sts[2].Timestamp, "a rule's statement is stamped when it fired")

	ids := map[string]bool{}
	for _, s := range sts {
		raw, err := json.Marshal(s)
		require.NoError(t, err)
		assert.Empty(t, xapitest.Check(raw), "%s", raw)
		assert.False(t, ids[s.ID], "statement ids are distinct")
		ids[s.ID] = true
	}
	again, err := xapi.Statements(record(t), "https://lms.example.org")
	require.NoError(t, err)
	assert.Equal(t, sts, again, "statements (and their ids) are stable")
}

func TestFailedAndOpenCalls(t *testing.T) {
	r := record(t)
	r.End.Passed = false
	sts, err := xapi.Statements(r, "")
	require.NoError(t, err)
	assert.Equal(t, xapi.VerbFailed, sts[1].Verb.ID)
	assert.Equal(t, xapi.DefaultHomePage+"/scenarios/refund", sts[1].Object.ID)
	assert.NotContains(t, sts[0].Result.Extensions, xapi.DefaultHomePage+"/xapi/extensions/note")
	// Why it failed whatever its scores travels with the result.
	r.End.Note = fmt.Sprintf(engine.NoteCritical, "dismissive")
	sts, err = xapi.Statements(r, "")
	require.NoError(t, err)
	assert.Equal(t, "A critical mistake (rule dismissive) fails the call, whatever its scores.", sts[0].Result.Extensions[xapi.DefaultHomePage+"/xapi/extensions/note"])
	raw, err := json.Marshal(sts[0])
	require.NoError(t, err)
	assert.Empty(t, xapitest.Check(raw), "%s", raw)
	r.End = nil
	_, err = xapi.Statements(r, "")
	assert.ErrorIs(t, err, xapi.ErrOpen)
}

func TestDuration(t *testing.T) {
	for ms, want := range map[int64]string{0: "PT0S", 1: "PT0.001S", 4500: "PT4.5S", 65250: "PT1M5.25S", 3_600_000: "PT1H", 3_723_000: "PT1H2M3S", -5: "PT0S"} {
		assert.Equal(t, want, xapi.Duration(ms), "%d ms", ms)
	}
}

func TestCheckCatchesBrokenStatements(t *testing.T) {
	for name, raw := range map[string]string{
		"two identifiers":  `{"id":"6f1c0d2e-8a4b-4c3d-9e2f-0a1b2c3d4e5f","actor":{"mbox":"mailto:a@b.c","account":{"homePage":"https://x","name":"a"}},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"https://x/a"}}`,
		"scaled too big":   `{"id":"6f1c0d2e-8a4b-4c3d-9e2f-0a1b2c3d4e5f","actor":{"mbox":"mailto:a@b.c"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"https://x/a"},"result":{"score":{"scaled":1.5}}}`,
		"bad duration":     `{"id":"6f1c0d2e-8a4b-4c3d-9e2f-0a1b2c3d4e5f","actor":{"mbox":"mailto:a@b.c"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"https://x/a"},"result":{"duration":"4.5 seconds"}}`,
		"bad registration": `{"id":"6f1c0d2e-8a4b-4c3d-9e2f-0a1b2c3d4e5f","actor":{"mbox":"mailto:a@b.c"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"https://x/a"},"context":{"registration":"call-1"}}`,
		"no verb":          `{"id":"6f1c0d2e-8a4b-4c3d-9e2f-0a1b2c3d4e5f","actor":{"mbox":"mailto:a@b.c"},"object":{"id":"https://x/a"}}`,
	} {
		assert.NotEmpty(t, xapitest.Check(json.RawMessage(raw)), name)
	}
}

func TestNotAssessedAxesAreLeftOut(t *testing.T) {
	r := record(t)
	r.End.Scores = append(r.End.Scores, engine.AxisScore{Axis: "ethics", Max: 2, Weight: 1})
	sts, err := xapi.Statements(r, "https://lms.example.org/")
	require.NoError(t, err)
	assert.Equal(t, map[string]float64{"care": 1}, sts[0].Result.Extensions["https://lms.example.org/xapi/extensions/axis-scores"],
		"ethics was never put to the test: not reported as 0")
}
