package api

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/web/protocol"
)

// slowJournal takes a while to create a call, like a busy disk: it widens the window
// between the live-call check and the insert.
type slowJournal struct {
	*journal.Memory
}

func (j slowJournal) Create(ctx context.Context, c journal.Call) error {
	time.Sleep(20 * time.Millisecond)
	return j.Memory.Create(ctx, c)
}

// TestMaxCallsUnderConcurrency: 150 concurrent starts against a real (loopback) server
// with --max-calls 5 create exactly 5 calls; the others get 503 too_many_calls.
func TestMaxCallsUnderConcurrency(t *testing.T) {
	const limit, tries = 5, 150
	j := slowJournal{journal.NewMemory()}
	ts := newTestServer(t, Options{MaxCalls: limit, Journal: j})
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	codes := map[string]int{}
	start := make(chan struct{})
	for range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, err := ts.client.Post(ts.url+"/api/calls", "application/json", strings.NewReader(`{"scenario":"live"}`))
			if !assert.NoError(t, err) {
				return
			}
			defer resp.Body.Close()
			var e APIError
			_ = json.NewDecoder(resp.Body).Decode(&e)
			mu.Lock()
			statuses[resp.StatusCode]++
			codes[e.Error.Code]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	assert.Equal(t, limit, statuses[http.StatusCreated], "exactly max calls are created: %v", statuses)
	assert.Equal(t, tries-limit, statuses[http.StatusServiceUnavailable], "%v", statuses)
	assert.Equal(t, tries-limit, codes[protocol.CodeTooManyCalls])
	assert.Equal(t, limit, ts.LiveCalls())
	sums, err := j.List(context.Background(), journal.Filter{})
	require.NoError(t, err)
	assert.Equal(t, limit, len(sums), "the journal holds only the calls that were started")
}

// TestInvalidUTF8TraineeIsRefused: encoding/json would turn invalid bytes (and lone
// surrogate escapes) into U+FFFD; the protocol says 400 bad_json.
func TestInvalidUTF8TraineeIsRefused(t *testing.T) {
	ts := newTestServer(t, Options{})
	for name, body := range map[string]string{
		"raw bytes":      "{\"scenario\":\"live\",\"trainee\":\"Ad\xff\xfea\"}",
		"truncated rune": "{\"scenario\":\"live\",\"trainee\":\"Ad\xc3\"}",
		"lone surrogate": `{"scenario":"live","trainee":"Ad\ud800a"}`,
		"NUL":            `{"scenario":"live","trainee":"Ad\u0000a"}`,
		"newline":        `{"scenario":"live","trainee":"Ad\na"}`,
		"RLO":            `{"scenario":"live","trainee":"\u202eAda"}`,
	} {
		resp, err := ts.client.Post(ts.url+"/api/calls", "application/json", strings.NewReader(body))
		require.NoError(t, err)
		var e APIError
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&e))
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, name)
		assert.Equal(t, protocol.CodeBadJSON, e.Error.Code, name)
	}
	assert.Zero(t, ts.LiveCalls())
	ts.start(t, `{"scenario":"live","trainee":"Zoë 🎧"}`) // valid UTF-8 still starts
}

// TestSlowBodyIsTimedOut: a client that sends its headers and then trickles (or never
// sends) the body is answered 408 once the body timeout passes, and the connection closes.
func TestSlowBodyIsTimedOut(t *testing.T) {
	const timeout = 300 * time.Millisecond
	ts := newTestServer(t, Options{BodyTimeout: timeout})
	conn, err := net.Dial("tcp", ts.http.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.Write([]byte("POST /api/calls HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"scen"))
	require.NoError(t, err)
	began := time.Now()
	// Trickle a byte now and then, as a slowloris client does, for longer than the timeout.
	go func() {
		for range 10 {
			time.Sleep(100 * time.Millisecond)
			if _, err := conn.Write([]byte(" ")); err != nil {
				return
			}
		}
	}()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err, "the server answers instead of waiting for the body forever")
	defer resp.Body.Close()
	assert.Equal(t, http.StatusRequestTimeout, resp.StatusCode)
	var e APIError
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&e))
	assert.Equal(t, protocol.CodeTimeout, e.Error.Code)
	assert.Less(t, time.Since(began), 3*time.Second)
}

// TestMetricsEndpoint scrapes /metrics after a call and checks the series move.
func TestMetricsEndpoint(t *testing.T) {
	ts := newTestServer(t, Options{})
	_, c := ts.answered(t, `{"scenario":"live"}`)
	c.until("word")
	c.send(map[string]any{"type": "answer", "id": "again"}) // refused: not ringing
	c.until("error")
	ts.ObserveCommit(3, 2*time.Millisecond)
	ts.ObserveLogCommit(2, 300*time.Microsecond)
	ts.ObserveLogCommit(5, 400*time.Microsecond)

	resp, err := ts.client.Get(ts.url + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	text := string(body)
	value := func(series string) float64 {
		t.Helper()
		for _, line := range strings.Split(text, "\n") {
			if rest, ok := strings.CutPrefix(line, series+" "); ok {
				v, err := strconv.ParseFloat(rest, 64)
				require.NoError(t, err, line)
				return v
			}
		}
		t.Fatalf("no series %s in:\n%s", series, text)
		return 0
	}
	assert.Equal(t, 1.0, value("switchboard_live_calls"))
	assert.Equal(t, 2.0, value("switchboard_messages_in_total"))
	assert.GreaterOrEqual(t, value("switchboard_messages_out_total"), 4.0, "ring, trainee, line_start, word")
	assert.Equal(t, 1.0, value(`switchboard_errors_total{code="not_allowed"}`))
	assert.Equal(t, 1.0, value("switchboard_turn_seconds_count"), "the answer's turn")
	assert.Equal(t, 1.0, value("switchboard_journal_commit_seconds_count"))
	assert.Equal(t, 3.0, value("switchboard_journal_batch_writes_sum"))
	assert.Equal(t, 2.0, value("switchboard_journal_log_commit_seconds_count"))
	assert.InDelta(t, 0.0007, value("switchboard_journal_log_commit_seconds_sum"), 1e-9)
	assert.Equal(t, 7.0, value("switchboard_journal_log_batch_writes_sum"))
	assert.Zero(t, value("switchboard_journal_backlog_writes"), "nothing waits for the journal")
	assert.Zero(t, value("switchboard_journal_apply_lag_writes"), "an in-memory journal has no log")
	assert.Greater(t, value("go_goroutines"), 3.0)
	assert.Contains(t, text, "process_resident_memory_bytes")
}

// TestDefaultOriginCheckComparesSchemeHostAndPort: without --origins, a browser request
// must come from the server's own scheme, host and port (or its public base URL).
func TestDefaultOriginCheckComparesSchemeHostAndPort(t *testing.T) {
	ts := newTestServer(t, Options{HomePage: "https://training.example"})
	u, err := url.Parse(ts.http.URL)
	require.NoError(t, err)
	for origin, want := range map[string]int{
		ts.http.URL:                          http.StatusCreated,
		"https://training.example":           http.StatusCreated,
		"https://" + u.Host:                  http.StatusForbidden, // same host, other scheme
		"http://" + u.Hostname() + ":1":      http.StatusForbidden, // same host, other port
		"http://training.example":            http.StatusForbidden,
		"https://training.example.evil.test": http.StatusForbidden,
	} {
		req, _ := http.NewRequest(http.MethodPost, ts.url+"/api/calls", strings.NewReader(`{"scenario":"live"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", origin)
		resp, err := ts.client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, want, resp.StatusCode, origin)
	}
}

// FuzzStartRequest: the body of POST /api/calls is either refused or yields a trainee name
// that is valid UTF-8, holds no replacement character (what invalid bytes and lone
// surrogates decode to), no control or direction character, and is at most 64 characters. The corpus
// (testdata/fuzz/FuzzStartRequest) holds the hostile bodies of issue 13.
func FuzzStartRequest(f *testing.F) {
	f.Add([]byte(`{"scenario":"live","trainee":"Zoë 🎧","coach":true}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := parseStartRequest(body)
		if err != nil {
			return
		}
		if !utf8.ValidString(req.Trainee) || strings.ContainsRune(req.Trainee, utf8.RuneError) || utf8.RuneCountInString(req.Trainee) > maxTraineeRunes ||
			strings.ContainsFunc(req.Trainee, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) }) {
			t.Fatalf("accepted trainee %q from %q", req.Trainee, body)
		}
	})
}
