package main

import (
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/web/storage/pgjournal/pgtest"
)

func TestLoadgenFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--levels", "0"}, "not a number from 1 to 19500"},
		{[]string{"--levels", "20000"}, "not a number from 1 to 19500"},
		{[]string{"--levels", "1,2,3,4,5,6,7,8,9"}, "at most 8 levels"},
		{[]string{"--steady", "11m"}, "--ramp and --steady"},
		{[]string{"--url", "http://127.0.0.1:1"}, "--url and --pid go together"},
		{[]string{"--url", "http://example.org", "--pid", "1"}, "loopback"},
		{[]string{"extra"}, "no arguments expected"},
		{[]string{"--reply-min", "2s", "--reply-max", "1s"}, "--reply-min <= --reply-max"},
		{[]string{"--instances", "2"}, "give --database"},
		{[]string{"--instances", "9", "--database", "postgres://x"}, "--instances must be from 1 to 8"},
		{[]string{"--url", "http://127.0.0.1:1,http://127.0.0.1:2", "--pid", "1"}, "2 --url but 1 --pid"},
		{[]string{"--url", "http://127.0.0.1:1", "--pid", "one"}, `"one" is not a process id`},
		{[]string{"--url", "http://127.0.0.1:1", "--pid", "1", "--database", "postgres://x"}, "not with --url"},
	} {
		r := runCLI(t, nil, append([]string{"loadgen"}, tc.args...)...)
		assert.Equal(t, 2, r.code, "%v", tc.args)
		assert.Contains(t, r.stderr, tc.want, "%v", tc.args)
	}
}

// TestLoadgenSmallRun runs the real generator at 2 then 3 trainees against the servers
// and the echo it starts, and checks the table: everyone held, turns measured, no errors;
// each level on a fresh server with its journal in a folder of its own under --data, which
// a second run then refuses to reuse.
func TestLoadgenSmallRun(t *testing.T) {
	bin := binary(t)
	data := filepath.Join(t.TempDir(), "data") // loadgen makes it
	out, err := exec.Command(bin, "loadgen", "--levels", "2,3", "--ramp", "1s", "--steady", "6s",
		"--reply-min", "1s", "--reply-max", "2s", "--data", data).CombinedOutput()
	require.NoError(t, err, "%s", out)
	text := string(out)
	for _, n := range []string{"2", "3"} {
		for _, kind := range []string{"ours", "echo"} {
			row := regexp.MustCompile(`(?m)^\| ` + kind + ` \| ` + n + ` \| (\d+) \| \d+ \| (\d+) \| ([\d.]+) ms \|.*\| ([^|]*) \|$`).FindStringSubmatch(text)
			require.NotNil(t, row, "no %s row at %s in:\n%s", kind, n, text)
			assert.Equal(t, n, row[1], "%s: all %s held", kind, n)
			assert.NotEqual(t, "0", row[2], "%s at %s: turns measured", kind, n)
			assert.Equal(t, "none", strings.TrimSpace(row[4]), "%s at %s: errors", kind, n)
		}
	}
	assert.Contains(t, text, "steady", "progress lines")

	servers := regexp.MustCompile(`(?m)^loadgen: level (\d+): servers \[(\S+)\] \(pids \[(\d+)\]\)$`).FindAllStringSubmatch(text, -1)
	require.Len(t, servers, 2, "a server line per level in:\n%s", text)
	assert.Equal(t, []string{"2", "3"}, []string{servers[0][1], servers[1][1]})
	assert.NotEqual(t, servers[0][3], servers[1][3], "a fresh server for each level")
	for _, dir := range []string{"level-1-2", "level-2-3"} {
		entries, err := os.ReadDir(filepath.Join(data, dir))
		require.NoError(t, err, "the level's journal folder")
		assert.NotEmpty(t, entries, "%s holds the level's journal", dir)
	}
	again := runCLI(t, nil, "loadgen", "--levels", "2,3", "--data", data)
	assert.Equal(t, 2, again.code, again.stderr)
	assert.Contains(t, again.stderr, filepath.Join(data, "level-1-2")+" holds a journal from an earlier run")

	fsyncs := regexp.MustCompile(`(?m)^loadgen: fsync in \S+: ([\d.]+) µs \(a 700-byte append, then fsync; median of 200\)$`).FindAllStringSubmatch(text, -1)
	require.Len(t, fsyncs, 2, "the journal folder's fsync, before and after the levels, in:\n%s", text)
	goals := regexp.MustCompile(`(?m)^\| 3 \| ([\d.]+) ms \| ([\d.]+) ms \| ([\d.]+)× \| ([\d.]+) ms \| -?[\d.]+ KiB \| -?[\d.]+ KiB \|$`).FindStringSubmatch(text)
	require.NotNil(t, goals, "the level beside the echo's, in:\n%s", text)
	num := func(s string) float64 {
		f, err := strconv.ParseFloat(s, 64)
		require.NoError(t, err)
		return f
	}
	ours, echo, ratio, withFsync := num(goals[1]), num(goals[2]), num(goals[3]), num(goals[4])
	// The times are printed to the microsecond and the ratio to the hundredth.
	lo, hi := (ours-0.0005)/(echo+0.0005)-0.005, (ours+0.0005)/max(echo-0.0005, 0.0001)+0.005
	assert.True(t, lo <= ratio && ratio <= hi, "the ratio %v is ours over the echo's (%v to %v)", ratio, lo, hi)
	fastest := min(num(fsyncs[0][1]), num(fsyncs[1][1])) / 1000
	assert.InDelta(t, echo+fastest, withFsync, 0.0015, "echo + the faster fsync")
}

// TestLoadgenInstancesOnPostgres: loadgen starts two servers sharing one PostgreSQL
// database and spreads its trainees over both; all are held, turns are measured, and the
// servers' resources are summed.
func TestLoadgenInstancesOnPostgres(t *testing.T) {
	db := pgtest.Schema(t)
	bin := binary(t)
	out, err := exec.Command(bin, "loadgen", "--instances", "2", "--database", db, "--levels", "4",
		"--ramp", "1s", "--steady", "6s", "--reply-min", "1s", "--reply-max", "2s", "--echo=false").CombinedOutput()
	require.NoError(t, err, "%s", out)
	text := string(out)
	servers := regexp.MustCompile(`loadgen: level 4: servers \[(\S+) (\S+)\] \(pids \[(\d+) (\d+)\]\)`).FindStringSubmatch(text)
	require.NotNil(t, servers, "two servers in:\n%s", text)
	assert.NotEqual(t, servers[1], servers[2])
	row := regexp.MustCompile(`(?m)^\| ours \| 4 \| (\d+) \| \d+ \| (\d+) \|.*\| ([^|]*) \|$`).FindStringSubmatch(text)
	require.NotNil(t, row, "no row in:\n%s", text)
	assert.Equal(t, "4", row[1], "all 4 held")
	assert.NotEqual(t, "0", row[2], "turns measured")
	assert.Equal(t, "none", strings.TrimSpace(row[3]), "errors")
	assert.NotContains(t, text, "| echo |", "no echo rows with --echo=false")
}

func TestLoadgenFrameType(t *testing.T) {
	for _, tc := range []struct {
		frame string
		want  int
	}{
		{`{"seq":3,"type":"word","at":1200,"index":0,"text":"Hello"}`, frameWord},
		{`{"seq":9,"type":"error","at":0,"code":"not_allowed","message":"the call has ended"}`, frameError},
		{`{"seq":40,"type":"end","at":90000,"feedback":[]}`, frameEnd},
		{`{"seq":4,"type":"line_start","at":1200,"text":"a \"type\":\"word\" inside"}`, frameOther},
		{`{"seq":5,"type":"word_count"}`, frameOther},
		{`{"seq":5,"type":"wor`, frameOther},
		{`not json`, frameOther},
		{``, frameOther},
	} {
		if got := frameType([]byte(tc.frame)); got != tc.want {
			t.Errorf("frameType(%s) = %d, want %d", tc.frame, got, tc.want)
		}
	}
}

// TestLoadgenTurns: the trainee's frames make its turns. A word ends the turn of the say
// waiting for one; a say refused because it crossed the call's end measures no turn, even
// when the customer's last line goes on (before, the next word of that line closed it:
// the 0.37-0.40 s maxima of docs/performance.md's tables); other errors count.
func TestLoadgenTurns(t *testing.T) {
	said := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	const (
		word    = `{"seq":76,"type":"word","at":47986,"index":14,"text":"word."}`
		refused = `{"seq":0,"type":"error","at":47619,"code":"not_allowed","message":"the call has ended","id":"m6"}`
		other   = `{"seq":0,"type":"error","at":0,"code":"not_allowed","message":"the call is ringing","id":"m2"}`
		bad     = `{"seq":0,"type":"error","at":0,"code":"bad_request","message":"unknown type","id":"m3"}`
		end     = `{"seq":80,"type":"end","at":49000,"feedback":[]}`
	)
	for _, tc := range []struct {
		name    string
		ended   bool // the call's end arrived before the frames
		frames  []string
		turns   []time.Duration // measured, each frame 100 ms after the last
		crossed int64
		errs    map[string]int
	}{
		{"answered", false, []string{word, word}, []time.Duration{100 * time.Millisecond}, 0, map[string]int{}},
		{"refused as the call ends, then the last line's words", false, []string{refused, word, word}, nil, 1, map[string]int{}},
		{"refused after the end", true, []string{other, word}, nil, 1, map[string]int{}},
		{"refused otherwise", false, []string{other, word}, []time.Duration{200 * time.Millisecond}, 0, map[string]int{"server error: not_allowed": 1}},
		{"another error", false, []string{bad, word}, []time.Duration{200 * time.Millisecond}, 0, map[string]int{"server error: bad_request": 1}},
		{"the end", false, []string{end, word}, nil, 0, map[string]int{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &levelStats{errs: map[string]int{}}
			st.measuring.Store(true)
			tr := &callTrainee{st: st}
			p := &playing{saidAt: said, ended: tc.ended}
			for i, f := range tc.frames {
				tr.frame(p, []byte(f), said.Add(time.Duration(i+1)*100*time.Millisecond))
			}
			assert.Equal(t, tc.turns, st.lat, "turns")
			assert.Equal(t, tc.crossed, st.crossed.Load(), "says crossing the end")
			assert.Equal(t, tc.errs, st.errs, "errors")
		})
	}
}

// slowTrainee connects after delay and stays connected until the level ends.
type slowTrainee struct {
	st    *levelStats
	delay time.Duration
}

func (t *slowTrainee) run(ctx context.Context) {
	select {
	case <-time.After(t.delay):
	case <-ctx.Done():
		return
	}
	t.st.connected.Add(1)
	<-ctx.Done()
	t.st.connected.Add(-1)
}

// TestLoadgenSteadyWindowWaitsForTheRampsLastTrainees: trainees that take 2.5 s to
// connect are all held in the steady window, because it starts once they have connected
// (within loadSettle) and not at the ramp's end, where its first progress tick (2 s after
// the start) would have found none connected.
func TestLoadgenSteadyWindowWaitsForTheRampsLastTrainees(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 6 s")
	}
	const n = 20
	var out strings.Builder
	r := runLevel(context.Background(), &out, "fake", n, 100*time.Millisecond, 3*time.Second, nil,
		func(_ int, _ *rand.Rand, st *levelStats) trainee {
			return &slowTrainee{st: st, delay: 2500 * time.Millisecond}
		})
	assert.Equal(t, int64(n), r.held, "held in the steady window:\n%s", out.String())
	assert.Contains(t, out.String(), "settle", "the wait shows on the progress line")
}

// TestLoadgenGoalsAddTheSmallerFsync: the goals table adds the smaller of the fsync
// probes to the echo's median, so that one slow probe does not stretch the disk goal.
func TestLoadgenGoalsAddTheSmallerFsync(t *testing.T) {
	rows := []levelResult{
		{kind: "ours", level: 5000, held: 5000, p50: 491 * time.Microsecond, rss: 145 << 20, rssIdle: 65 << 20},
		{kind: "echo", level: 5000, held: 5000, p50: 115 * time.Microsecond, rss: 117 << 20, rssIdle: 17 << 20},
	}
	var out strings.Builder
	printGoals(&out, rows, []time.Duration{452 * time.Microsecond, 174 * time.Microsecond})
	assert.Contains(t, out.String(), "| 5000 | 0.491 ms | 0.115 ms | 4.27× | 0.289 ms |", out.String())
}
