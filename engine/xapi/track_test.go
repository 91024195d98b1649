package xapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/track"
	"github.com/switchboard-sim/switchboard/engine/xapi"
)

func testTrack(t *testing.T) *track.Track {
	var diags engine.Diagnostics
	tr := track.LoadBytes("tracks/t.yaml", []byte(`id: first-week
title: First week
description: Two calls.
steps:
  - {scenario: refund, repeat: until-passed}
  - {id: refund-again, scenario: refund, unlock: {after: [refund]}}
`), track.Catalog{"refund": {ID: "refund", Title: "Refund call", Pass: 0.5}}, &diags)
	require.Empty(t, diags, diags.Error())
	return tr
}

var at = time.Date(2026, 12, 4, 21, 0, 0, 0, time.UTC)

func TestTrackStatements(t *testing.T) {
	tr := testTrack(t)
	who := xapi.Learner{ID: "a_123", Name: "Ann"}

	p := track.Evaluate(tr, []track.Result{{Scenario: "refund", Step: "refund", Overall: 0.3}})
	sts := xapi.TrackStatements(tr, p, who, at, "https://calls.example.org/")
	require.Len(t, sts, 1, "the failed first step; the locked second says nothing")
	st := sts[0]
	assert.Equal(t, xapi.VerbFailed, st.Verb.ID)
	assert.Equal(t, "https://calls.example.org/tracks/first-week/steps/refund", st.Object.ID)
	assert.Equal(t, xapi.ActivityBlock, st.Object.Definition.Type)
	assert.Equal(t, "https://calls.example.org/tracks/first-week", st.Context.ContextActivities.Parent[0].ID)
	assert.Equal(t, xapi.ActivityCourse, st.Context.ContextActivities.Parent[0].Definition.Type)
	assert.Equal(t, xapi.Account{HomePage: "https://calls.example.org", Name: "a_123"}, st.Actor.Account)
	assert.False(t, *st.Result.Success)
	assert.False(t, *st.Result.Completion, "an until-passed step is not complete when failed")
	assert.Equal(t, 0.3, st.Result.Score.Scaled)

	all := []track.Result{{Scenario: "refund", Step: "refund", Overall: 0.3}, {Scenario: "refund", Step: "refund", Overall: 0.8},
		{Scenario: "refund", Step: "refund-again", Overall: 0.9}}
	p = track.Evaluate(tr, all)
	sts = xapi.TrackStatements(tr, p, who, at, "")
	require.Len(t, sts, 3)
	assert.Equal(t, []string{xapi.VerbPassed, xapi.VerbPassed, xapi.VerbSatisfied}, []string{sts[0].Verb.ID, sts[1].Verb.ID, sts[2].Verb.ID})
	assert.Equal(t, xapi.DefaultHomePage+"/tracks/first-week", sts[2].Object.ID)
	assert.Equal(t, 0.8, sts[0].Result.Score.Scaled)
	assert.Equal(t, 2, sts[0].Result.Extensions[xapi.DefaultHomePage+"/xapi/extensions/attempts"])

	again := xapi.TrackStatements(tr, p, who, at.Add(time.Hour), "")
	for i := range sts {
		assert.Equal(t, sts[i].ID, again[i].ID, "the same standing gives the same ids")
	}
	better := xapi.TrackStatements(tr, track.Evaluate(tr, append(all, track.Result{Scenario: "refund", Step: "refund", Overall: 1})), who, at, "")
	assert.NotEqual(t, sts[0].ID, better[0].ID, "a better best score is a new statement")
	assert.Equal(t, sts[0].Context.Registration, better[0].Context.Registration, "one registration per learner and track")
}

// TestStatementsPassAnOutsideValidator checks the call statements and the track
// statements with Learning Locker's xAPI validator (npm @learninglocker/xapi-validation,
// pinned in testdata/validator/package.json), run with Node.js. It installs the package
// with npm ci when it is missing; without Node.js it skips, saying so.
func TestStatementsPassAnOutsideValidator(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("SWITCHBOARD_REQUIRE_NODE") != "" {
			t.Fatal("Node.js is not installed and SWITCHBOARD_REQUIRE_NODE is set")
		}
		t.Skip("Node.js is not installed: the xAPI statements are not checked by the outside validator (apt-get install nodejs npm)")
	}
	dir := filepath.Join("testdata", "validator")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@learninglocker", "xapi-validation")); err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "npm ci in %s: %s", dir, out)
	}
	sts, err := xapi.Statements(record(t), "https://lms.example.org/")
	require.NoError(t, err)
	tr := testTrack(t)
	p := track.Evaluate(tr, []track.Result{{Scenario: "refund", Step: "refund", Overall: 0.3}, {Scenario: "refund", Overall: 0.7},
		{Scenario: "refund", Step: "refund-again", Overall: 0.2}})
	require.True(t, p.Complete)
	ts := xapi.TrackStatements(tr, p, xapi.Learner{ID: "a_1", Name: "Ann"}, at, "https://lms.example.org/")
	require.Len(t, ts, 3)
	sts = append(sts, ts...)
	body, err := json.Marshal(sts)
	require.NoError(t, err)

	cmd := exec.Command(node, "validate.js")
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the validator found problems:\n%s", out)
	assert.Equal(t, "ok "+itoa(len(sts)), strings.TrimSpace(string(out)))

	// The validator does catch a bad statement.
	bad := sts[0]
	bad.Verb.ID = "not a verb iri"
	body, _ = json.Marshal([]xapi.Statement{bad})
	cmd = exec.Command(node, "validate.js")
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(body)
	out, err = cmd.CombinedOutput()
	assert.Error(t, err)
	assert.Contains(t, string(out), "verb.id")
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
