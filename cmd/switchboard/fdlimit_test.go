package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCallsWithinFiles(t *testing.T) {
	for _, c := range []struct {
		limit uint64
		calls int
	}{
		{0, 0},
		{4, 3},
		{300, 225},       // a quarter kept
		{1024, 768},      // the quarter is the whole reserve
		{1025, 769},      // from here on, 256 kept
		{20_000, 19_744}, // this project's machines and CI
		{1 << 20, 1<<20 - 256},
		{1 << 40, 1<<31 - 1},
	} {
		assert.Equal(t, c.calls, callsWithinFiles(c.limit), "limit %d", c.limit)
	}
}

// filesForCalls is the inverse the warning suggests: the smallest limit that holds the
// calls asked for.
func TestFilesForCallsIsTheSmallestLimitThatHoldsThem(t *testing.T) {
	for _, calls := range []int{0, 1, 2, 3, 100, 224, 225, 226, 767, 768, 769, 1000, 19_000, 20_000} {
		t.Run(fmt.Sprint(calls), func(t *testing.T) {
			l := filesForCalls(calls)
			assert.GreaterOrEqual(t, callsWithinFiles(l), calls, "the limit %d holds them", l)
			if l > 0 {
				assert.Less(t, callsWithinFiles(l-1), calls, "and no smaller limit does")
			}
		})
	}
}

// maxCallsFor: the default is 20,000 calls or what the open-file limit holds, with a note
// when the limit holds fewer; a --max-calls past the limit is capped with a warning.
func TestMaxCallsFor(t *testing.T) {
	for _, c := range []struct {
		asked         int
		limit         uint64
		known         bool
		calls         int
		warning, note string
	}{
		{0, 20_000, true, 19_744, "", "live calls are capped at 19744 by this process's open-file limit (20000: one file per call, 256 kept for the server); raise the limit (ulimit -n, or LimitNOFILE= under systemd) to 20256 for the default 20000"},
		{0, 1 << 20, true, defaultMaxCalls, "", ""},
		{0, 0, false, defaultMaxCalls, "", ""},
		{0, 1024, true, 768, "", "live calls are capped at 768"},
		{500, 1024, true, 500, "", ""},
		{768, 1024, true, 768, "", ""},
		{769, 1024, true, 768, "--max-calls 769 is more than this process's open files allow: each live call holds one (its websocket) and the server keeps 256 for itself, so calls are capped at 768; raise the limit (ulimit -n, or LimitNOFILE= under systemd) to 1025 to allow them all", ""},
		{50_000, 0, false, 50_000, "", ""},
	} {
		calls, warning, note := maxCallsFor(c.asked, c.limit, c.known)
		assert.Equal(t, c.calls, calls, "%+v", c)
		if c.warning == "" {
			assert.Empty(t, warning, "%+v", c)
		} else {
			assert.Equal(t, c.warning, warning)
		}
		if c.note == "" {
			assert.Empty(t, note, "%+v", c)
		} else {
			assert.Contains(t, note, c.note)
		}
	}
}

// A server whose open-file limit cannot hold its calls refuses the calls past what it can
// hold as it refuses any past --max-calls, rather than running out of files (when every
// accept, reconnect and journal segment would fail); it warns when --max-calls asked for
// more, and notes it when the default was held down.
func TestServeCapsCallsAtItsOpenFileLimit(t *testing.T) {
	for _, c := range []struct {
		name    string
		args    []string
		log     string
		warning bool
	}{
		{"asked for more", []string{"--max-calls", "1000"}, "raise the limit (ulimit -n, or LimitNOFILE= under systemd) to 1256 to allow them all", true},
		{"the default", nil, "raise the limit (ulimit -n, or LimitNOFILE= under systemd) to 20256 for the default 20000", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := startServeWithFiles(t, 300, c.args...)
			p.waitLog("calls are capped at 225")
			assert.Contains(t, p.logs(), c.log)
			if c.warning {
				assert.Contains(t, p.logs(), "level=WARN msg=\"--max-calls 1000")
			} else {
				assert.NotContains(t, p.logs(), "level=WARN", "the default held down is no warning")
			}

			start := func() (int, string) {
				resp, err := http.Post(p.url+"/api/calls", "application/json", strings.NewReader(`{"scenario":"cheese-shop"}`))
				require.NoError(t, err)
				defer resp.Body.Close()
				var body struct{ Error struct{ Code string } }
				_ = json.NewDecoder(resp.Body).Decode(&body)
				return resp.StatusCode, body.Error.Code
			}
			for i := range 225 {
				code, _ := start()
				require.Equal(t, http.StatusCreated, code, "call %d of 225", i+1)
			}
			code, errCode := start()
			assert.Equal(t, http.StatusServiceUnavailable, code)
			assert.Equal(t, "too_many_calls", errCode)
			assert.Equal(t, http.StatusOK, getJSON(t, p.url+"/healthz", nil), "the server still answers")
		})
	}
}
