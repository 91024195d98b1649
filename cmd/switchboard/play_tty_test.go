//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal: what is written to master is typed on slave.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal on this machine: %v", err)
	}
	fd := int(m.Fd())
	require.NoError(t, unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0))
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	require.NoError(t, err)
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close(); m.Close() })
	return m, s
}

// syncBuffer is a bytes.Buffer safe to read while play writes to it.
type syncBuffer struct {
	mu chan struct{}
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return s.b.String()
}

// TestPlayInATerminalSeesTheFirstKeystroke: in a terminal, play counts a reply from its
// first keystroke, as the browser does, so a trainee who starts typing at once and types
// slowly is not judged silent; what they type shows at a "> " prompt; the terminal is
// restored after the call. The same timing from a pipe (the line arrives whole when
// Enter is pressed) is silence.
func TestPlayInATerminalSeesTheFirstKeystroke(t *testing.T) {
	slow := strings.Replace(quickScenario, "start: ring", `rules:
  - {id: slow, when: 'event == "say" && silence > 1', feedback: You left Quinn waiting.}
start: ring`, 1)
	p := writeFile(t, t.TempDir(), "quick.yaml", slow)
	master, slave := openPTY(t)
	out := &syncBuffer{mu: make(chan struct{}, 1)}
	done := make(chan int)
	go func() {
		done <- run(&cliEnv{stdin: slave, stdout: out, stderr: out, getenv: func(string) string { return "" }},
			[]string{"play", "--coach", "--name", "Ann", p})
	}()
	waitFor := func(s string) {
		t.Helper()
		require.Eventually(t, func() bool { return strings.Contains(out.String(), s) }, 5*time.Second, 10*time.Millisecond, "waiting for %q in:\n%s", s, out.String())
	}
	waitFor("Ring ring")
	time.Sleep(100 * time.Millisecond) // play has put the terminal in keystroke mode
	master.Write([]byte("\r"))         // answer
	waitFor("Hi there.")               // 2 words at 400 wpm: 300 ms
	for _, c := range "sorry!" {       // starts at once, then 2.5 s of slow typing
		master.Write([]byte(string(c)))
		time.Sleep(500 * time.Millisecond)
	}
	waitFor("> sorry!")
	master.Write([]byte("\r"))
	select {
	case code := <-done:
		require.Equal(t, 0, code, out.String())
	case <-time.After(10 * time.Second):
		t.Fatalf("play did not end:\n%s", out.String())
	}
	text := out.String()
	assert.Contains(t, text, "Fine (resolved), PASSED")
	assert.NotContains(t, text, "⚑ You left Quinn waiting.", "typing began at once: no silence")
	assert.Contains(t, text, "Rules that fired\n  none")
	tio, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	require.NoError(t, err)
	assert.NotZero(t, tio.Lflag&unix.ICANON, "the terminal is restored")
	assert.NotZero(t, tio.Lflag&unix.ECHO, "the terminal is restored")

	// From a pipe, the same reply arrives whole after the same time: 3 s of silence.
	in := &slowReader{lines: []string{"", "sorry!"}, pause: 3 * time.Second}
	r := runCLI(t, in, "play", "--coach", "--name", "Ann", p)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "⚑ You left Quinn waiting.")
}
