package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	mu     sync.Mutex
	stderr strings.Builder
	done   chan struct{}
	took   time.Duration // from start to the ready line
}

var readyLine = regexp.MustCompile(`ready on (http://[^/ ]+)/`)

// startServe runs the binary with serve, extra args and env, and waits for its URL.
func startServe(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
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
		b, _ := io.ReadAll(errPipe)
		p.mu.Lock()
		p.stderr.Write(b)
		p.mu.Unlock()
	}()
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := readyLine.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
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

	assert.Equal(t, 0, p.stop(syscall.SIGTERM), p.logs())
	assert.Contains(t, p.logs(), "msg=stopped")
}

func TestServeTakesFlagsFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "quick.yaml", quickScenario)
	writeFile(t, dir, "broken.yaml", "id: broken\nnodes: {")
	p := startServe(t, []string{"SWITCHBOARD_SCENARIOS=" + dir, "SWITCHBOARD_LOG_LEVEL=debug"})
	var list []struct{ ID string }
	require.Equal(t, http.StatusOK, getJSON(t, p.url+"/api/scenarios", &list))
	require.Len(t, list, 1)
	assert.Equal(t, "quick", list[0].ID)
	assert.Equal(t, 0, p.stop(os.Interrupt))
	logs := p.logs()
	assert.Contains(t, logs, "scenario not offered", "a broken scenario is skipped with its diagnostics")
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
				getenv: func(k string) string { return tc.env[k] }}, append([]string{"serve"}, tc.args...))
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
