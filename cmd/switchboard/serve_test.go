package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine/xapi/xapitest"
)

// Limits of the process tests.
const (
	readyWait = 20 * time.Second // a started server prints its URL within this (the race detector is slow)
	exitWait  = 20 * time.Second // a signalled server exits within this
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds the switchboard command once per test run (with -race when the tests run
// with it) and returns its path.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "switchboard-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "switchboard")
		args := []string{"build", "-o", binPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return binPath
}

// proc is a running `switchboard serve`.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	url    string
	studio chan string // the designer link serve printed
	mu     sync.Mutex
	stderr strings.Builder
	done   chan struct{}
	took   time.Duration // from start to the ready line
}

var (
	readyLine  = regexp.MustCompile(`ready on (http://[^/ ]+)/`)
	studioLine = regexp.MustCompile(`Designers' studio: (http://\S+)`)
)

// startServe runs the binary with serve, extra args and env, and waits for its URL.
func startServe(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	return startServeCmd(t, exec.Command(binary(t), append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...), env)
}

// startServeWithFiles is startServe in a process that may open at most files files.
func startServeWithFiles(t *testing.T, files int, args ...string) *proc {
	t.Helper()
	sh := append([]string{"-c", `ulimit -n "$0" && exec "$@"`, strconv.Itoa(files), binary(t), "serve", "--addr", "127.0.0.1:0"}, args...)
	return startServeCmd(t, exec.Command("sh", sh...), nil)
}

// startServeCmd runs cmd, a serve, with env added, and waits for its URL.
func startServeCmd(t *testing.T, cmd *exec.Cmd, env []string) *proc {
	t.Helper()
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = t.TempDir()
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	errPipe, err := cmd.StderrPipe()
	require.NoError(t, err)
	p := &proc{t: t, cmd: cmd, done: make(chan struct{})}
	begin := time.Now()
	require.NoError(t, cmd.Start())
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := errPipe.Read(buf)
			p.mu.Lock()
			p.stderr.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	urls := make(chan string, 1)
	p.studio = make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := readyLine.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
			if m := studioLine.FindStringSubmatch(sc.Text()); m != nil {
				p.studio <- m[1]
			}
		}
	}()
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	select {
	case p.url = <-urls:
		p.took = time.Since(begin)
	case <-p.done:
		t.Fatalf("serve exited before it was ready: %s", p.logs())
	case <-time.After(readyWait):
		t.Fatalf("serve printed no URL within %v: %s", readyWait, p.logs())
	}
	return p
}

// waitLog waits until the server has logged text.
func (p *proc) waitLog(text string) {
	p.t.Helper()
	deadline := time.Now().Add(readyWait)
	for !strings.Contains(p.logs(), text) {
		if time.Now().After(deadline) {
			p.t.Fatalf("the server did not log %q: %s", text, p.logs())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (p *proc) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// stop sends sig and returns the exit code.
func (p *proc) stop(sig os.Signal) int {
	p.t.Helper()
	require.NoError(p.t, p.cmd.Process.Signal(sig))
	select {
	case <-p.done:
	case <-time.After(exitWait):
		p.t.Fatalf("serve did not exit within %v of %v", exitWait, sig)
	}
	return p.cmd.ProcessState.ExitCode()
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	if v != nil {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
	}
	return resp.StatusCode
}

func TestServeWithNoSetupThenSIGTERM(t *testing.T) {
	p := startServe(t, nil)
	t.Logf("ready after %v (race detector on: %v)", p.took, raceEnabled)
	for _, path := range []string{"/livez", "/readyz", "/healthz"} {
		assert.Equal(t, http.StatusOK, getJSON(t, p.url+path, nil), path)
	}
	var list []struct{ ID, Title string }
	require.Equal(t, http.StatusOK, getJSON(t, p.url+"/api/scenarios", &list))
	assert.Len(t, list, 8, "the shipped library is served by default")
	resp, err := http.Get(p.url + "/")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(body), "<title>Switchboard")

	// The studio: refused without the secret; the printed designer link opens it.
	assert.Equal(t, http.StatusUnauthorized, getJSON(t, p.url+"/api/studio/me", nil))
	var link string
	select {
	case link = <-p.studio:
	case <-time.After(readyWait):
		t.Fatal("serve printed no designer link")
	}
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	browser := &http.Client{Jar: jar}
	resp, err = browser.Get(link)
	require.NoError(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), "<title>Switchboard studio")
	resp, err = browser.Get(p.url + "/api/studio/scenarios")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	assert.Equal(t, 0, p.stop(syscall.SIGTERM), p.logs())
	assert.Contains(t, p.logs(), "msg=stopped")
}

func TestServeTakesFlagsFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "quick.yaml", quickScenario)
	writeFile(t, dir, "broken.yaml", "id: broken\nnodes: {")
	p := startServe(t, []string{"SWITCHBOARD_SCENARIOS=" + dir, "SWITCHBOARD_LOG_LEVEL=debug",
		"SWITCHBOARD_DESIGNER_SECRET=designer-secret-from-the-environment"})
	req, _ := http.NewRequest("GET", p.url+"/api/studio/me", nil)
	req.Header.Set("Authorization", "Bearer designer-secret-from-the-environment")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the designer secret comes from the environment")
	var list []struct{ ID string }
	require.Equal(t, http.StatusOK, getJSON(t, p.url+"/api/scenarios", &list))
	require.Len(t, list, 1)
	assert.Equal(t, "quick", list[0].ID)
	assert.Equal(t, 0, p.stop(os.Interrupt))
	logs := p.logs()
	assert.Contains(t, logs, "scenario has errors", "a broken scenario is not offered, and its diagnostics are logged")
	assert.Contains(t, logs, "broken.yaml:")
}

func TestServeFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bad env number", nil, map[string]string{"SWITCHBOARD_MAX_CALLS": "lots"}, `SWITCHBOARD_MAX_CALLS="lots"`},
		{"bad level", []string{"--log-level", "loud"}, nil, "want debug, info, warn or error"},
		{"stray argument", []string{"cheese-shop"}, nil, "unexpected argument"},
		{"missing folder", []string{"--scenarios", "/no/such/folder"}, nil, "--scenarios"},
		{"busy address", []string{"--addr", "256.0.0.1:1"}, nil, "switchboard serve:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb strings.Builder
			code := run(&cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb,
				getenv: func(k string) string { return tc.env[k] }}, append([]string{"serve", "--data", t.TempDir()}, tc.args...))
			assert.NotEqual(t, 0, code)
			assert.Contains(t, errb.String(), tc.want)
		})
	}
}

func TestServeHelpListsEnvironmentTwins(t *testing.T) {
	r := runCLI(t, nil, "serve", "--help")
	assert.Equal(t, 0, r.code)
	for _, name := range []string{"SWITCHBOARD_ADDR", "SWITCHBOARD_SCENARIOS", "SWITCHBOARD_ORIGINS", "SWITCHBOARD_COACH", "SWITCHBOARD_MAX_CALLS", "SWITCHBOARD_LOG_LEVEL"} {
		assert.Contains(t, r.stdout+r.stderr, name)
	}
}

// wsMsg is a server message, decoded loosely.
type wsMsg struct {
	Seq     int64  `json:"seq"`
	Type    string `json:"type"`
	At      int64  `json:"at"`
	Node    string `json:"node"`
	ID      string `json:"id"`
	Event   string `json:"event"`
	Text    string `json:"text"`
	Ending  string `json:"ending"`
	Outcome string `json:"outcome"`
	raw     string
}

// wsClient reads a call's messages in the background.
type wsClient struct {
	t      *testing.T
	ws     *websocket.Conn
	msgs   chan wsMsg
	closed chan int
	got    []wsMsg
}

func dialCall(t *testing.T, base, path string, after int64) *wsClient {
	t.Helper()
	u := "ws" + strings.TrimPrefix(base, "http") + path + fmt.Sprintf("&after=%d", after)
	ws, resp, err := websocket.DefaultDialer.Dial(u, nil)
	require.NoError(t, err)
	resp.Body.Close()
	return readWS(t, ws)
}

// readWS reads ws's messages in the background.
func readWS(t *testing.T, ws *websocket.Conn) *wsClient {
	c := &wsClient{t: t, ws: ws, msgs: make(chan wsMsg, 1024), closed: make(chan int, 1)}
	go func() {
		defer close(c.msgs)
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				code := -1
				var ce *websocket.CloseError
				if errors.As(err, &ce) {
					code = ce.Code
				}
				c.closed <- code
				return
			}
			for _, line := range strings.Split(string(data), "\n") {
				var m wsMsg
				if json.Unmarshal([]byte(line), &m) == nil {
					m.raw = line
					c.msgs <- m
				}
			}
		}
	}()
	t.Cleanup(func() { ws.Close() })
	return c
}

func (c *wsClient) send(frame string) {
	c.t.Helper()
	require.NoError(c.t, c.ws.WriteMessage(websocket.TextMessage, []byte(frame)))
}

// until returns the next message of type typ (and node, when not empty).
func (c *wsClient) until(typ, node string) wsMsg {
	c.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case m, ok := <-c.msgs:
			if !ok {
				c.t.Fatalf("closed while waiting for %s %s", typ, node)
			}
			c.got = append(c.got, m)
			if m.Type == typ && (node == "" || m.Node == node) {
				return m
			}
		case <-deadline:
			c.t.Fatalf("no %s %s within 10s", typ, node)
		}
	}
}

// closeCode drains the connection and returns its close code.
func (c *wsClient) closeCode() int {
	c.t.Helper()
	for m := range c.msgs {
		c.got = append(c.got, m)
	}
	select {
	case code := <-c.closed:
		return code
	case <-time.After(10 * time.Second):
		c.t.Fatal("no close")
		return 0
	}
}

type started struct{ ID, Token, WS string }

func startCall(t *testing.T, base, body string) started {
	t.Helper()
	resp, err := http.Post(base+"/api/calls", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	var s started
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&s))
	return s
}

// liveScenarioDir is a scenario folder with the web tests' quick call (300 wpm, a nudge
// 800 ms after the greeting when the trainee says nothing).
func liveScenarioDir(t *testing.T) string {
	dir := t.TempDir()
	data, err := os.ReadFile("../../web/api/testdata/live.yaml")
	require.NoError(t, err)
	writeFile(t, dir, "live.yaml", string(data))
	return dir
}

func TestServeSurvivesKill9(t *testing.T) {
	data := t.TempDir()
	scen := liveScenarioDir(t)
	args := []string{"--data", data, "--scenarios", scen}
	p := startServe(t, nil, args...)
	call := startCall(t, p.url, `{"scenario":"live","trainee":"Kim"}`)
	c := dialCall(t, p.url, call.WS, 0)
	c.until("ring", "")
	c.send(`{"type":"answer","id":"a1"}`)
	c.until("trainee", "")
	end := c.until("line_end", "greet")
	before := c.got

	// kill -9 right after the greeting: the nudge timer (800 ms later) falls due while the
	// server is down.
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
	<-p.done
	time.Sleep(time.Second)

	p2 := startServe(t, nil, args...)
	p2.waitLog("open_calls_recovered=1")
	c2 := dialCall(t, p2.url, call.WS, before[len(before)-1].Seq)
	nudge := c2.until("line_start", "")
	assert.Equal(t, "nudge", nudge.Node, "the timer that fell due while the server was down fired on recovery")
	assert.Equal(t, end.At+800, nudge.At, "at its deadline on the call clock")
	assert.Equal(t, before[len(before)-1].Seq+1, c2.got[0].Seq, "the reconnect starts right after the last seq seen")

	c2.send(`{"type":"say","id":"s1","text":"I am sorry, you will get a refund."}`)
	c2.send(`{"type":"say","id":"s1","text":"I am sorry, you will get a refund."}`) // a retry
	fin := c2.until("end", "")
	assert.Equal(t, "refunded", fin.Ending)
	assert.Equal(t, websocket.CloseNormalClosure, c2.closeCode())

	// The whole call, replayed from the journal: nothing acknowledged before the kill is
	// missing or changed, nothing is doubled, the retry was applied once.
	all := dialCall(t, p2.url, call.WS, 0)
	assert.Equal(t, websocket.CloseNormalClosure, all.closeCode())
	for i, m := range before {
		require.Less(t, i, len(all.got))
		assert.Equal(t, m.raw, all.got[i].raw, "message %d as first sent", m.Seq)
	}
	acks := map[string]int{}
	for i, m := range all.got {
		assert.Equal(t, int64(i+1), m.Seq, "seqs have no gap and no repeat")
		if m.Type == "trainee" {
			acks[m.ID]++
		}
	}
	assert.Equal(t, map[string]int{"a1": 1, "s1": 1}, acks)
	assert.Equal(t, 0, p2.stop(syscall.SIGTERM))
}

func TestServeSIGTERMWithLiveCalls(t *testing.T) {
	data := t.TempDir()
	args := []string{"--data", data, "--scenarios", liveScenarioDir(t)}
	p := startServe(t, nil, args...)
	var clients []*wsClient
	var calls []started
	for range 3 {
		call := startCall(t, p.url, `{"scenario":"live"}`)
		c := dialCall(t, p.url, call.WS, 0)
		c.until("ring", "")
		c.send(`{"type":"answer","id":"a"}`)
		c.until("trainee", "")
		clients, calls = append(clients, c), append(calls, call)
	}
	begin := time.Now()
	assert.Equal(t, 0, p.stop(syscall.SIGTERM), p.logs())
	t.Logf("stopped %v after SIGTERM", time.Since(begin))
	for _, c := range clients {
		assert.Equal(t, websocket.CloseGoingAway, c.closeCode(), "every client is told the server is going away")
	}
	// The data is there: after a restart each call carries on from where it was.
	p2 := startServe(t, nil, args...)
	p2.waitLog("open_calls_recovered=3")
	for i, call := range calls {
		c := dialCall(t, p2.url, call.WS, 0)
		tr := c.until("trainee", "")
		assert.Equal(t, "a", tr.ID, "call %d: the answer was kept", i)
		c.send(`{"type":"hangup","id":"h"}`)
		assert.Equal(t, "hangup", c.until("end", "").Ending)
	}
	assert.Equal(t, 0, p2.stop(syscall.SIGTERM))
}

func TestServeRefusesADamagedJournal(t *testing.T) {
	data := t.TempDir()
	writeFile(t, data, journalFile, strings.Repeat("this is not a database\n", 200))
	var out, errb strings.Builder
	code := run(&cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }},
		[]string{"serve", "--addr", "127.0.0.1:0", "--data", data})
	assert.Equal(t, 1, code)
	assert.Contains(t, errb.String(), "--data "+data)
	assert.Contains(t, errb.String(), "damaged or not an SQLite database")
}

func TestRecordsOfAFinishedCall(t *testing.T) {
	lrs := xapitest.New("sb", "pw")
	lrsSrv := httptest.NewServer(lrs)
	defer lrsSrv.Close()
	data := t.TempDir()
	p := startServe(t, []string{"SWITCHBOARD_LRS_PASSWORD=pw"}, "--data", data, "--scenarios", liveScenarioDir(t),
		"--lrs-endpoint", lrsSrv.URL, "--lrs-user", "sb", "--base-url", "https://sb.example")
	call := startCall(t, p.url, `{"scenario":"live","trainee":"Kim"}`)
	c := dialCall(t, p.url, call.WS, 0)
	c.until("ring", "")
	c.send(`{"type":"answer","id":"a"}`)
	c.until("word", "")
	c.send(`{"type":"say","id":"s","text":"Sorry! A refund is on its way."}`)
	c.until("end", "")

	// Over HTTP, with the call's token.
	var rec struct {
		ID         string
		Open       bool
		Transcript []struct{ Who, Text string }
		Fired      []struct{ Rule string }
	}
	require.Equal(t, http.StatusOK, getJSON(t, p.url+"/api/calls/"+call.ID+"/debrief?token="+call.Token, &rec))
	assert.Equal(t, call.ID, rec.ID)
	assert.False(t, rec.Open)
	assert.NotEmpty(t, rec.Transcript)
	assert.Equal(t, http.StatusUnauthorized, getJSON(t, p.url+"/api/calls/"+call.ID+"/debrief?token=wrong", nil))
	assert.Equal(t, http.StatusNotFound, getJSON(t, p.url+"/api/calls/nope/debrief?token=x", nil))
	var sts []json.RawMessage
	require.Equal(t, http.StatusOK, getJSON(t, p.url+"/api/calls/"+call.ID+"/xapi?token="+call.Token, &sts))
	require.GreaterOrEqual(t, len(sts), 2)
	for _, s := range sts {
		assert.Empty(t, xapitest.Check(s), "%s", s)
	}

	// Sent to the LRS through the outbox.
	deadline := time.Now().Add(readyWait)
	for len(lrs.Stored()) < len(sts) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	assert.Len(t, lrs.Stored(), len(sts), "the LRS received the statements: %v", lrs.Rejections())
	assert.Empty(t, lrs.Rejections())
	assert.Equal(t, 0, p.stop(syscall.SIGTERM))

	// From the command line (the server may be running or not).
	r := runCLI(t, nil, "report", "--data", data, call.ID[:8])
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Debrief: Live test call (live)")
	assert.Contains(t, r.stdout, "Refunded (resolved), PASSED")
	assert.Contains(t, r.stdout, "You: Sorry! A refund is on its way. [interrupted]")
	assert.Contains(t, r.stdout, "slow_answer:", "rules that never fired are listed")
	r = runCLI(t, nil, "report", "--data", data, "--json", call.ID)
	assert.Equal(t, 0, r.code, r.stderr)
	var jrec struct{ ID string }
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &jrec))
	assert.Equal(t, call.ID, jrec.ID)
	r = runCLI(t, nil, "report", "--data", data, "--list")
	assert.Contains(t, r.stdout, call.ID)
	assert.Contains(t, r.stdout, "resolved, 100%, passed")

	r = runCLI(t, nil, "export", "--data", data, "--base-url", "https://sb.example", "xapi")
	assert.Equal(t, 0, r.code, r.stderr)
	var exported []json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &exported))
	assert.Len(t, exported, len(sts))
	for i := range exported {
		assert.JSONEq(t, string(sts[i]), string(exported[i]), "the export and the endpoint give the same statements")
	}

	r = runCLI(t, nil, "report", "--data", t.TempDir(), call.ID)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "no call journal at")
	r = runCLI(t, nil, "report", "--data", data, "ffffffff")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, `no call "ffffffff"`)
}

// metricValue reads an unlabelled series from the /metrics of the server at url.
func metricValue(t *testing.T, url, series string) float64 {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	for line := range strings.SplitSeq(string(body), "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			require.NoError(t, err, line)
			return v
		}
	}
	t.Fatalf("no %s in /metrics", series)
	return 0
}

// TestServeGCPercent: serve runs Go's collector at serveGCPercent unless GOGC is set, and
// then at what GOGC says.
// TestServeLogCommitMetrics: with the SQLite journal, /metrics reports the acknowledgement
// log's commits (which inputs wait for) beside SQLite's: starting a call is one.
func TestServeLogCommitMetrics(t *testing.T) {
	p := startServe(t, nil)
	commits := metricValue(t, p.url, "switchboard_journal_log_commit_seconds_count")
	writes := metricValue(t, p.url, "switchboard_journal_log_batch_writes_sum")
	startCall(t, p.url, `{"scenario":"cheese-shop","trainee":"Robin"}`)
	assert.Greater(t, metricValue(t, p.url, "switchboard_journal_log_commit_seconds_count"), commits)
	assert.GreaterOrEqual(t, metricValue(t, p.url, "switchboard_journal_log_batch_writes_sum"), writes+1)
}

func TestServeGCPercent(t *testing.T) {
	for _, tc := range []struct {
		gogc string
		want float64
	}{
		{"", serveGCPercent},
		{"80", 80},
	} {
		t.Run("GOGC="+tc.gogc, func(t *testing.T) {
			p := startServe(t, []string{"GOGC=" + tc.gogc})
			assert.Equal(t, tc.want, metricValue(t, p.url, "go_gc_gogc_percent"))
		})
	}
}

// TestServeStopsWithAFloorBoardOpen: an open floor board (an event stream) ends when the
// server stops; it held the shutdown for its whole 10-second timeout, which then failed.
func TestServeStopsWithAFloorBoardOpen(t *testing.T) {
	p := startServe(t, []string{"SWITCHBOARD_SUPERVISOR_SECRET=supervisor-secret-from-the-environment"})
	req, _ := http.NewRequest("GET", p.url+"/api/supervise/floor", nil)
	req.Header.Set("Authorization", "Bearer supervisor-secret-from-the-environment")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "event: floor\n", line)
	start := time.Now()
	assert.Equal(t, 0, p.stop(syscall.SIGTERM), p.logs())
	assert.Less(t, time.Since(start), 5*time.Second, "the stream does not hold the shutdown")
	assert.NotContains(t, p.logs(), "stopping the HTTP server")
}
