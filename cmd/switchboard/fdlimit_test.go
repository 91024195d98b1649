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

// A server whose open-file limit cannot hold --max-calls says so at start and refuses the
// calls past what it can hold as it refuses any past --max-calls, rather than running out
// of files (when every accept, reconnect and journal segment would fail).
func TestServeCapsCallsAtItsOpenFileLimit(t *testing.T) {
	p := startServeWithFiles(t, 300, "--max-calls", "1000")
	p.waitLog("calls are capped at 225")
	assert.Contains(t, p.logs(), "raise the limit (ulimit -n, or LimitNOFILE= under systemd) to 1256")

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
}
