package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// Limits of the load generator: it is bounded in count and time, and talks to loopback only.
const (
	// loadMaxCalls bounds a level: the generator holds a websocket per trainee, and an
	// HTTP connection for each call being started, within a process's 20,000 open files
	// here (at 19,900 trainees it ran out of its own: docs/performance.md).
	loadMaxCalls   = 19_500
	loadHTTPConns  = 128              // the connections starting calls, per server (loadHTTP)
	loadMaxLevels  = 8                // levels in one run
	loadMaxWindow  = 10 * time.Minute // ramp or steady window
	loadTurnWait   = 10 * time.Second // a turn whose first word takes longer counts as an error
	loadAnswerMin  = time.Second      // and answers after 1–3 s of ringing
	loadAnswerSpan = 2 * time.Second
	loadProgress   = 2 * time.Second // progress line period
	// loadSettle is the longest the generator waits after a ramp for its trainees to
	// connect before the steady window starts (runLevel); it checks every loadSettlePoll.
	loadSettle     = 5 * time.Second
	loadSettlePoll = 50 * time.Millisecond
	// loadMaxInstances bounds --instances: servers loadgen starts on one PostgreSQL.
	loadMaxInstances = 8
	// The journal folder's fsync, measured before and after the levels: fsyncProbeWrites
	// appends of fsyncProbeBytes (about one logged input), each followed by fsync.
	fsyncProbeWrites = 200
	fsyncProbeBytes  = 700
)

// loadEndedRefusal is the message of the not_allowed error that answers a message sent
// after the call ended (web/live: notAllowedText of engine.ErrEnded).
const loadEndedRefusal = "the call has ended"

// loadReplies are the simulated trainees' messages.
var loadReplies = []string{
	"Hello, thanks for calling, how can I help you today?",
	"I'm so sorry about that, let me check for you.",
	"I understand, that must be frustrating.",
	"We're out of stock at the moment, but I could offer you something similar instead.",
	"Could you give me your order number please?",
	"Let me see what I can do for you.",
	"Thank you for your patience.",
	"Would you like me to set that aside for you?",
}

func cmdLoadgen(env *cliEnv, args []string) int {
	fs := newFlags(env, "loadgen", "", `Plays simulated trainees against a Switchboard server over the public protocol, side by side
with a bare gorilla websocket echo server driven the same way, and prints a table by level.

Each trainee starts a call, answers after 1-3 s of ringing, then says something every 5-15 s
(--reply-min, --reply-max); a call that ends is replaced by a new one. A level ramps up to N
trainees, waits up to 5 s for the last of them to connect, holds them for the steady window,
and reports: calls held, errors by kind (a say refused because its call had just ended, as
the customer's last line streams, is counted apart: a person typing then gets the same),
turn latency (say sent -> first word of the answer; for the echo, message sent -> echoed),
the server's RSS, CPU and open files (read from /proc; with several servers, summed), then
the same for the echo. A last table sets each level beside the echo's: the turn's median
and their ratio, the echo's median plus the fsync of the journal's folder (a 700-byte append
then fsync, median of 200, measured before and after the levels: the smaller; not with
--database), and memory per call. Loopback only. Without --url it starts 'switchboard
serve' (this binary) itself: a fresh server for each level, with that level's journal in a
folder of its own under --data (level-K-N, the Kth level of N trainees), so that each
level's memory per call is measured from an idle server; or --instances servers sharing
the PostgreSQL database --database, started once for every level; trainee i plays on
server i mod N. The echo server is started fresh for each level too. Calls are started
over at most 128 HTTP connections per server, as through a proxy; each trainee holds its
own websocket.`)
	levelsFlag := fs.String("levels", "100,1000", "comma-separated numbers of simultaneous trainees (at most 19,500 each, 8 levels)")
	ramp := fs.Duration("ramp", 10*time.Second, "time to connect a level's trainees")
	steady := fs.Duration("steady", 30*time.Second, "measured window once a level is connected")
	target := fs.String("url", "", "running servers (loopback), comma-separated, e.g. http://127.0.0.1:8080; needs --pid for their RSS and CPU")
	pidFlag := fs.String("pid", "", "the running servers' process ids, comma-separated, in --url's order")
	instances := fs.Int("instances", 1, "servers to start (without --url); more than one needs --database")
	database := fs.String("database", "", "PostgreSQL URL for the servers loadgen starts (default: SQLite in --data)")
	scenario := fs.String("scenario", "cheese-shop", "the scenario the trainees play")
	data := fs.String("data", "", "folder for the journals of the servers loadgen starts, one folder per level (default: a temporary folder, removed after); with --url, the folder whose fsync to measure")
	echo := fs.Bool("echo", true, "also run the echo baseline at each level")
	replyMin := fs.Duration("reply-min", 5*time.Second, "shortest time between two messages of a trainee")
	replyMax := fs.Duration("reply-max", 15*time.Second, "longest time between two messages of a trainee")
	echoServe := fs.String("echo-serve", "", "internal: run the echo server on this address and print its URL")
	if code, ok := parseFlags(fs, env, args); !ok || fs.NArg() > 0 {
		if ok {
			fmt.Fprintln(env.stderr, "switchboard loadgen: no arguments expected")
			return 2
		}
		return code
	}
	if *echoServe != "" {
		return runEchoServer(env, *echoServe)
	}
	var levels []int
	for _, f := range strings.Split(*levelsFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(strings.ReplaceAll(f, "_", "")))
		if err != nil || n < 1 || n > loadMaxCalls {
			fmt.Fprintf(env.stderr, "switchboard loadgen: --levels: %q is not a number from 1 to %d\n", f, loadMaxCalls)
			return 2
		}
		levels = append(levels, n)
	}
	switch {
	case len(levels) > loadMaxLevels:
		fmt.Fprintf(env.stderr, "switchboard loadgen: --levels: at most %d levels\n", loadMaxLevels)
		return 2
	case *ramp <= 0 || *ramp > loadMaxWindow || *steady <= 0 || *steady > loadMaxWindow:
		fmt.Fprintf(env.stderr, "switchboard loadgen: --ramp and --steady must be between 0 and %v\n", loadMaxWindow)
		return 2
	case *replyMin < 100*time.Millisecond || *replyMax < *replyMin:
		fmt.Fprintln(env.stderr, "switchboard loadgen: want 100ms <= --reply-min <= --reply-max")
		return 2
	case (*target == "") != (*pidFlag == ""):
		fmt.Fprintln(env.stderr, "switchboard loadgen: --url and --pid go together")
		return 2
	case *instances < 1 || *instances > loadMaxInstances:
		fmt.Fprintf(env.stderr, "switchboard loadgen: --instances must be from 1 to %d\n", loadMaxInstances)
		return 2
	case *instances > 1 && *database == "":
		fmt.Fprintln(env.stderr, "switchboard loadgen: several --instances share a journal only on PostgreSQL: give --database")
		return 2
	case *target != "" && (*instances > 1 || *database != ""):
		fmt.Fprintln(env.stderr, "switchboard loadgen: --instances and --database are for the servers loadgen starts, not with --url")
		return 2
	}
	var targets []string
	var pids []int
	if *target != "" {
		targets = strings.Split(*target, ",")
		for _, f := range strings.Split(*pidFlag, ",") {
			p, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || p < 1 {
				fmt.Fprintf(env.stderr, "switchboard loadgen: --pid: %q is not a process id\n", f)
				return 2
			}
			pids = append(pids, p)
		}
		if len(pids) != len(targets) {
			fmt.Fprintf(env.stderr, "switchboard loadgen: %d --url but %d --pid\n", len(targets), len(pids))
			return 2
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	fsyncDir := *data // where the journal's commits go: its fsync is what a disk turn waits for
	var fleet *loadFleet
	if targets == nil {
		dir := *data
		if dir == "" {
			tmp, err := os.MkdirTemp("", "switchboard-loadgen")
			if err != nil {
				fmt.Fprintf(env.stderr, "switchboard loadgen: %v\n", err)
				return 1
			}
			defer os.RemoveAll(tmp)
			dir = tmp
		}
		fleet = &loadFleet{dir: dir, temporary: *data == "", instances: *instances, database: *database, maxLevel: slices.Max(levels)}
		if *database == "" {
			fsyncDir = dir
			if err := fleet.checkFolders(levels); err != nil {
				fmt.Fprintf(env.stderr, "switchboard loadgen: %v\n", err)
				return 2
			}
			// The servers make their own folders; the fsync is measured before them.
			if err := os.MkdirAll(dir, 0o755); err != nil {
				fmt.Fprintf(env.stderr, "switchboard loadgen: --data: %v\n", err)
				return 1
			}
		} else {
			fsyncDir = "" // the journal is PostgreSQL's
		}
	} else {
		fleet = &loadFleet{given: true, pids: pids}
		for _, t := range targets {
			base, err := url.Parse(strings.TrimSuffix(strings.TrimSpace(t), "/"))
			if err != nil || base.Scheme != "http" || !isLoopback(base.Hostname()) {
				fmt.Fprintf(env.stderr, "switchboard loadgen: --url must be http:// on a loopback address, got %q\n", t)
				return 2
			}
			fleet.bases = append(fleet.bases, base)
		}
	}
	defer fleet.stop()

	fmt.Fprintf(env.stdout, "loadgen: scenario %s, levels %v, ramp %v, steady %v\n", *scenario, levels, *ramp, *steady)
	var fsyncs []time.Duration
	probeFsync := func() {
		if fsyncDir == "" {
			return
		}
		d, err := measureFsync(fsyncDir)
		if err != nil {
			fmt.Fprintf(env.stderr, "switchboard loadgen: measuring fsync in %s: %v\n", fsyncDir, err)
			fsyncDir = ""
			return
		}
		fmt.Fprintf(env.stdout, "loadgen: fsync in %s: %s (a %d-byte append, then fsync; median of %d)\n", fsyncDir, us(d), fsyncProbeBytes, fsyncProbeWrites)
		fsyncs = append(fsyncs, d)
	}
	probeFsync()
	var rows []levelResult
	for k, n := range levels {
		if ctx.Err() != nil {
			break
		}
		if err := fleet.start(ctx, k, n); err != nil {
			fmt.Fprintf(env.stderr, "switchboard loadgen: %v\n", err)
			return 1
		}
		fmt.Fprintf(env.stdout, "loadgen: level %d: servers %v (pids %v)\n", n, fleet.bases, fleet.pids)
		bases := fleet.bases
		r := runLevel(ctx, env.stdout, "ours", n, *ramp, *steady, fleet.pids, func(i int, rnd *rand.Rand, st *levelStats) trainee {
			return &callTrainee{base: bases[i%len(bases)], scenario: *scenario, rnd: rnd, st: st, pace: pace{*replyMin, *replyMax}}
		})
		rows = append(rows, r)
		fleet.finish(k, n)
		if *echo && ctx.Err() == nil {
			// A fresh echo server each level, like ours: its memory per connection is
			// measured from an idle process.
			echoChild, err := startChild(ctx, "echo on ", "loadgen", "--echo-serve", "127.0.0.1:0")
			if err != nil {
				fmt.Fprintf(env.stderr, "switchboard loadgen: starting the echo server: %v\n", err)
				return 1
			}
			eu, _ := url.Parse(echoChild.url)
			rows = append(rows, runLevel(ctx, env.stdout, "echo", n, *ramp, *steady, []int{echoChild.pid}, func(_ int, rnd *rand.Rand, st *levelStats) trainee {
				return &echoTrainee{base: eu, rnd: rnd, st: st, pace: pace{*replyMin, *replyMax}}
			}))
			echoChild.stop()
		}
	}
	probeFsync()
	printTable(env.stdout, rows)
	printGoals(env.stdout, rows, fsyncs)
	if ctx.Err() != nil {
		return 1
	}
	return 0
}

// measureFsync returns the median time of a small durable write in dir: fsyncProbeWrites
// appends of fsyncProbeBytes to a new file, each followed by fsync (the file is removed).
func measureFsync(dir string) (time.Duration, error) {
	f, err := os.CreateTemp(dir, ".loadgen-fsync-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	rec := make([]byte, fsyncProbeBytes)
	took := make([]time.Duration, 0, fsyncProbeWrites)
	for range fsyncProbeWrites {
		t := time.Now()
		if _, err := f.Write(rec); err != nil {
			return 0, err
		}
		if err := f.Sync(); err != nil {
			return 0, err
		}
		took = append(took, time.Since(t))
	}
	slices.Sort(took)
	return took[len(took)/2], nil
}

// printGoals sets each level's row beside the echo's at the same level, as issue 18's
// goals compare them (docs/performance.md): the turn's median and their ratio, the echo's
// median plus the journal folder's fsync (the slower of the two measurements), and the
// memory per call.
func printGoals(w io.Writer, rows []levelResult, fsyncs []time.Duration) {
	echo := map[int]levelResult{}
	for _, r := range rows {
		if r.kind == "echo" {
			echo[r.level] = r
		}
	}
	// The smaller of the probes: a moment of a slow disk (one probe read 452 µs where the
	// other read 174, and the log measured ~210 µs under the load) must not stretch the
	// goal the server's turn is held to.
	var fsync time.Duration
	if len(fsyncs) > 0 {
		fsync = slices.Min(fsyncs)
	}
	header := false
	for _, r := range rows {
		e, ok := echo[r.level]
		if r.kind != "ours" || !ok || e.p50 <= 0 || r.held == 0 || e.held == 0 {
			continue
		}
		if !header {
			fmt.Fprintln(w)
			fmt.Fprintln(w, "| level | turn p50 ours | echo | ours / echo | echo + fsync | bytes/conn ours | echo |")
			fmt.Fprintln(w, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
			header = true
		}
		withFsync := "—"
		if fsync > 0 {
			withFsync = msFine(e.p50 + fsync)
		}
		perConn := func(x levelResult) float64 { return float64(x.rss-x.rssIdle) / float64(x.held) / 1024 }
		fmt.Fprintf(w, "| %d | %s | %s | %.2f× | %s | %.1f KiB | %.1f KiB |\n", r.level, msFine(r.p50), msFine(e.p50),
			float64(r.p50)/float64(e.p50), withFsync, perConn(r), perConn(e))
	}
}

// us formats d in microseconds (to the tenth under 10 µs: tmpfs).
func us(d time.Duration) string {
	if d < 10*time.Microsecond {
		return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
	}
	return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loadFleet is the Switchboard servers a level runs against: those given with --url, or
// those loadgen starts. On SQLite (the default) it starts fresh servers for each level,
// with the level's journal in a folder of its own under --data (level-K-N: the Kth level,
// of N trainees), so that the level's memory per call is measured from an idle process
// and its journal holds its own calls only; in a temporary --data the folder is removed
// after the level. On PostgreSQL (--database) the servers it starts serve every level.
type loadFleet struct {
	given     bool   // --url: the user's servers
	dir       string // --data, or loadgen's temporary folder
	temporary bool   // dir is loadgen's own
	instances int
	database  string
	maxLevel  int // PostgreSQL: the servers are sized for the largest level

	bases    []*url.URL
	pids     []int
	children []*child
}

// levelFolder is the journal folder of the kth level (from 0), of n trainees.
func levelFolder(dir string, k, n int) string {
	return filepath.Join(dir, fmt.Sprintf("level-%d-%d", k+1, n))
}

// checkFolders refuses a --data whose level folders hold an earlier run's journal: a
// server started on it would recover that run's open calls, and the level would measure
// them too.
func (f *loadFleet) checkFolders(levels []int) error {
	for k, n := range levels {
		d := levelFolder(f.dir, k, n)
		if entries, err := os.ReadDir(d); err == nil && len(entries) > 0 {
			return fmt.Errorf("--data: %s holds a journal from an earlier run; remove it or give another --data", d)
		}
	}
	return nil
}

// start makes the servers for the kth level, of n trainees, ready.
func (f *loadFleet) start(ctx context.Context, k, n int) error {
	if f.given || f.children != nil {
		return nil
	}
	size := n
	if f.database != "" {
		size = f.maxLevel
	}
	perServer := (size + f.instances - 1) / f.instances
	for i := range f.instances {
		args := []string{"serve", "--addr", "127.0.0.1:0",
			"--max-calls", strconv.Itoa(perServer + perServer/10 + 10), "--log-level", "warn"}
		if f.database != "" {
			args = append(args, "--data", filepath.Join(f.dir, fmt.Sprint("server-", i+1)), "--database", f.database)
		} else {
			args = append(args, "--data", levelFolder(f.dir, k, n))
		}
		c, err := startChild(ctx, "Switchboard is ready on ", args...)
		if err != nil {
			return fmt.Errorf("starting server %d: %w", i+1, err)
		}
		u, err := url.Parse(c.url)
		if err != nil {
			c.stop()
			return fmt.Errorf("server %d: its URL %q: %w", i+1, c.url, err)
		}
		f.children = append(f.children, c)
		f.bases, f.pids = append(f.bases, u), append(f.pids, c.pid)
	}
	return nil
}

// finish ends the kth level, of n trainees: on SQLite its servers stop (and a temporary
// journal goes).
func (f *loadFleet) finish(k, n int) {
	if f.given || f.database != "" {
		return
	}
	f.stop()
	if f.temporary {
		_ = os.RemoveAll(levelFolder(f.dir, k, n))
	}
}

// stop stops the servers loadgen started.
func (f *loadFleet) stop() {
	if f == nil || f.given {
		return
	}
	for _, c := range f.children {
		c.stop()
	}
	f.children, f.bases, f.pids = nil, nil, nil
}

// child is a process loadgen started (the server or the echo server).
type child struct {
	cmd  *exec.Cmd
	pid  int
	url  string
	done chan struct{}
}

// startChild runs this binary with args and waits for the line starting with ready,
// followed by the child's URL.
func startChild(ctx context.Context, ready string, args ...string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, pid: cmd.Process.Pid, done: make(chan struct{})}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), ready); ok {
				select {
				case found <- strings.TrimSuffix(strings.Fields(rest)[0], "/"):
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	go func() { _ = cmd.Wait(); close(c.done) }()
	select {
	case c.url = <-found:
		return c, nil
	case <-c.done:
		return nil, errors.New("it exited before it was ready")
	case <-time.After(30 * time.Second):
	case <-ctx.Done():
	}
	c.stop()
	return nil, errors.New("it did not become ready")
}

func (c *child) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(15 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// runEchoServer is the baseline: a bare gorilla websocket echo with the server's buffer
// sizes, one goroutine per connection.
func runEchoServer(env *cliEnv, addr string) int {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(env.stderr, "switchboard loadgen: echo: %v\n", err)
		return 1
	}
	up := websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 4096, WriteBufferPool: &sync.Pool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for {
			kind, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			_ = ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := ws.WriteMessage(kind, data); err != nil {
				return
			}
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { <-ctx.Done(); _ = ln.Close() }()
	fmt.Fprintf(env.stdout, "echo on http://%s/\n", ln.Addr())
	_ = srv.Serve(ln)
	return 0
}

// levelStats are one level's counters, shared by its trainees.
type levelStats struct {
	connected atomic.Int64 // trainees with an open websocket now
	calls     atomic.Int64 // calls started
	turns     atomic.Int64
	crossed   atomic.Int64 // says refused because the call's end crossed them (not errors)
	mu        sync.Mutex
	errs      map[string]int
	lat       []time.Duration // turn latencies in the steady window
	measuring atomic.Bool
}

func (st *levelStats) fail(kind string) {
	st.mu.Lock()
	st.errs[kind]++
	st.mu.Unlock()
}

func (st *levelStats) turn(d time.Duration) {
	st.turns.Add(1)
	if !st.measuring.Load() {
		return
	}
	st.mu.Lock()
	st.lat = append(st.lat, d)
	st.mu.Unlock()
}

// trainee is one simulated client; run returns when ctx ends.
type trainee interface{ run(ctx context.Context) }

// procSample is what /proc says about a process.
type procSample struct {
	rss   int64   // bytes
	cpu   float64 // seconds of user+system time
	fds   int
	when  time.Time
	valid bool
}

// readProcs sums readProc over pids (when is the last one's; valid if all are).
func readProcs(pids []int) procSample {
	var sum procSample
	for i, pid := range pids {
		p := readProc(pid)
		sum.rss += p.rss
		sum.cpu += p.cpu
		sum.fds += p.fds
		sum.when = p.when
		sum.valid = p.valid && (i == 0 || sum.valid)
	}
	return sum
}

func readProc(pid int) procSample {
	s := procSample{when: time.Now()}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				s.rss = kb << 10
			}
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s
	}
	// Fields after the command name (which is in parentheses and may hold spaces).
	if i := bytes.LastIndexByte(stat, ')'); i > 0 {
		f := strings.Fields(string(stat[i+1:]))
		if len(f) > 12 {
			ut, _ := strconv.ParseFloat(f[11], 64)
			st, _ := strconv.ParseFloat(f[12], 64)
			s.cpu = (ut + st) / 100 // USER_HZ is 100 on Linux
		}
	}
	if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
		s.fds = len(ents)
	}
	s.valid = true
	return s
}

// levelResult is one row of the table.
type levelResult struct {
	kind           string
	level          int
	held           int64
	calls          int64
	turns          int
	errs           map[string]int
	p50, p90, p99  time.Duration
	max            time.Duration
	rssIdle, rss   int64
	cpuPct         float64
	fds            int
	crossed        int64
	interruptedCtx bool
}

// runLevel ramps n trainees up over ramp, measures for steady, and stops them.
func runLevel(ctx context.Context, out io.Writer, kind string, n int, ramp, steady time.Duration, pids []int,
	mk func(int, *rand.Rand, *levelStats) trainee) levelResult {
	st := &levelStats{errs: map[string]int{}}
	idle := readProcs(pids)
	lctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	began := time.Now()
	progress := time.NewTicker(loadProgress)
	defer progress.Stop()
	line := func(phase string) {
		p := readProcs(pids)
		st.mu.Lock()
		nerr := 0
		for _, v := range st.errs {
			nerr += v
		}
		st.mu.Unlock()
		fmt.Fprintf(out, "  %-4s %6d  %-6s %5.0fs  connected %6d  calls %7d  turns %8d  errors %5d  rss %6.1f MB  fds %6d\n",
			kind, n, phase, time.Since(began).Seconds(), st.connected.Load(), st.calls.Load(), st.turns.Load(), nerr,
			float64(p.rss)/(1<<20), p.fds)
	}
	// Ramp: start trainees evenly over the ramp.
	for i := range n {
		at := began.Add(time.Duration(int64(ramp) * int64(i) / int64(n)))
		for d := time.Until(at); d > 0; d = time.Until(at) {
			select {
			case <-progress.C:
				line("ramp")
			case <-time.After(d):
			case <-ctx.Done():
			}
			if ctx.Err() != nil {
				break
			}
		}
		if ctx.Err() != nil {
			break
		}
		t := mk(i, rand.New(rand.NewPCG(uint64(n), uint64(i))), st)
		wg.Go(func() { t.run(lctx) })
	}
	// Settle: the ramp started its last trainees a moment ago. Before the steady window
	// measures what the server holds, give them up to loadSettle to connect.
	settle := time.After(loadSettle)
	poll := time.NewTicker(loadSettlePoll)
settleLoop:
	for st.connected.Load() < int64(n) {
		select {
		case <-progress.C:
			line("settle")
		case <-poll.C:
		case <-settle:
			break settleLoop
		case <-ctx.Done():
			break settleLoop
		}
	}
	poll.Stop()
	// Steady window.
	st.measuring.Store(true)
	start := readProcs(pids)
	end := time.After(steady)
	minHeld := int64(n)
steadyLoop:
	for {
		select {
		case <-progress.C:
			line("steady")
			minHeld = min(minHeld, st.connected.Load())
		case <-end:
			break steadyLoop
		case <-ctx.Done():
			break steadyLoop
		}
	}
	st.measuring.Store(false)
	fin := readProcs(pids)
	minHeld = min(minHeld, st.connected.Load())
	cancel()
	wg.Wait()
	r := levelResult{kind: kind, level: n, held: minHeld, calls: st.calls.Load(), rssIdle: idle.rss, rss: fin.rss, fds: fin.fds,
		crossed:        st.crossed.Load(),
		interruptedCtx: ctx.Err() != nil}
	if fin.valid && start.valid {
		r.cpuPct = 100 * (fin.cpu - start.cpu) / fin.when.Sub(start.when).Seconds()
	}
	st.mu.Lock()
	r.errs = st.errs
	lat := st.lat
	st.mu.Unlock()
	slices.Sort(lat)
	r.turns = len(lat)
	if len(lat) > 0 {
		pct := func(p int) time.Duration { return lat[min(len(lat)-1, max(0, (len(lat)*p+99)/100-1))] }
		r.p50, r.p90, r.p99, r.max = pct(50), pct(90), pct(99), lat[len(lat)-1]
	}
	line("done")
	// Let the server settle (closed connections, ended calls) before the next level.
	time.Sleep(2 * time.Second)
	return r
}

func printTable(w io.Writer, rows []levelResult) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| server | level | held (min) | calls started | turns | p50 | p90 | p99 | max | RSS idle → loaded | bytes/conn | CPU | fds | says crossing the end | errors |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
	for _, r := range rows {
		var errs []string
		for k, v := range r.errs {
			errs = append(errs, fmt.Sprintf("%s %d", k, v))
		}
		slices.Sort(errs)
		if len(errs) == 0 {
			errs = []string{"none"}
		}
		per := "—"
		if r.held > 0 {
			per = fmt.Sprintf("%.1f KiB", float64(r.rss-r.rssIdle)/float64(r.held)/1024)
		}
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %s | %s | %s | %s | %.0f → %.0f MB | %s | %.0f%% | %d | %d | %s |\n",
			r.kind, r.level, r.held, r.calls, r.turns, ms(r.p50), ms(r.p90), ms(r.p99), ms(r.max),
			float64(r.rssIdle)/(1<<20), float64(r.rss)/(1<<20), per, r.cpuPct, r.fds, r.crossed, strings.Join(errs, ", "))
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// msFine formats d in milliseconds to the microsecond, for the goals' table, whose
// ratios are read against 1.5×.
func msFine(d time.Duration) string {
	return fmt.Sprintf("%.3f ms", float64(d)/float64(time.Millisecond))
}

// loadDialer keeps the generator's own connections small.
var loadDialer = websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024,
	WriteBufferPool: &sync.Pool{}}

// loadHTTP starts the calls. MaxConnsPerHost bounds its connections: without it, a wave
// of calls ending together (their trainees all starting anew) made Go's transport dial a
// connection for each start that found none idle, even when another became idle first,
// so that for a moment a trainee held two files; at 19,000 trainees the generator peaked
// at its 20,000 open files and 1,291 of its dials and starts failed
// (docs/performance.md). Starts past the bound wait for a connection.
var loadHTTP = &http.Client{Timeout: 10 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: loadHTTPConns, MaxConnsPerHost: loadHTTPConns}}

// pace is the time between two messages of a trainee: uniform in [min, max].
type pace struct{ min, max time.Duration }

func (p pace) next(rnd *rand.Rand) time.Duration {
	return p.min + time.Duration(rnd.Int64N(int64(p.max-p.min)+1))
}

// callTrainee plays calls on the server, one after another.
type callTrainee struct {
	base     *url.URL
	scenario string
	rnd      *rand.Rand
	st       *levelStats
	pace     pace
}

func (t *callTrainee) run(ctx context.Context) {
	for ctx.Err() == nil {
		if err := t.call(ctx); err != nil && ctx.Err() == nil {
			t.st.fail(err.Error())
			// Do not hammer a server that refuses: wait a second, or what its Retry-After
			// asks plus up to half again (so refused trainees do not all come back at once).
			wait := time.Second
			var r *startRefused
			if errors.As(err, &r) && r.retry > 0 {
				wait = r.retry + time.Duration(t.rnd.Int64N(int64(r.retry)/2+1))
			}
			sleepCtx(ctx, wait)
		}
	}
}

// startRefused is a call start the server answered with an error status (its text is
// the error's kind) and, for 503s, a Retry-After.
type startRefused struct {
	kind  string
	retry time.Duration
}

func (e *startRefused) Error() string { return e.kind }

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// call plays one call to its end (or until ctx ends); the error's text is its kind.
func (t *callTrainee) call(ctx context.Context) error {
	body := fmt.Sprintf(`{"scenario":%q,"trainee":"load"}`, t.scenario)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, t.base.String()+"/api/calls", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := loadHTTP.Do(req)
	if err != nil {
		return errors.New("start: " + errKind(err))
	}
	var started struct {
		WS    string `json:"ws"`
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&started)
	// Read the body to its end, so that the connection goes back to the pool for the
	// next start, as a browser's would (closing it unread closes the connection).
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		r := &startRefused{kind: fmt.Sprintf("start: HTTP %d %s", resp.StatusCode, started.Error.Code)}
		if sec, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && sec > 0 {
			r.retry = time.Duration(sec) * time.Second
		}
		return r
	}
	t.st.calls.Add(1)
	ws, _, err := loadDialer.DialContext(ctx, "ws://"+t.base.Host+started.WS, nil)
	if err != nil {
		return errors.New("dial: " + errKind(err))
	}
	t.st.connected.Add(1)
	defer t.st.connected.Add(-1)
	defer ws.Close()
	stop := context.AfterFunc(ctx, func() { _ = ws.Close() })
	defer stop()
	return t.play(ws)
}

// playing is the state of a trainee's call, shared by the connection's reader (the
// trainee's goroutine) and its timer (which speaks).
type playing struct {
	mu       sync.Mutex
	saidAt   time.Time // a say waiting for its first word
	answered bool
	ended    bool // the call's end arrived: the trainee stops talking
	closed   bool // the call is over here: the timer does nothing more
	msg      int
	sendErr  error
	// speaking is held by the timer's function while it runs, so that play returns only
	// once no write is in flight (the trainee's rnd is not shared between goroutines).
	speaking sync.Mutex
	timer    *time.Timer
}

// play reads the call's messages on this goroutine and speaks from a timer: one goroutine
// per simulated trainee, and none switched to per word, so that the generator's own cost
// per word (it shares the machine with the server it measures) stays small.
func (t *callTrainee) play(ws *websocket.Conn) error {
	p := &playing{}
	p.timer = time.AfterFunc(loadAnswerMin+time.Duration(t.rnd.Int64N(int64(loadAnswerSpan))), func() { t.speak(ws, p) })
	defer func() {
		p.speaking.Lock() // waits for a speak in flight; none starts after
		defer p.speaking.Unlock()
		p.mu.Lock()
		p.closed = true
		p.timer.Stop()
		p.mu.Unlock()
	}()
	var buf bytes.Buffer
	for {
		_, r, err := ws.NextReader()
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(r)
		}
		if err != nil {
			p.mu.Lock()
			sendErr := p.sendErr
			p.mu.Unlock()
			switch {
			case websocket.IsCloseError(err, websocket.CloseNormalClosure):
				return nil // the call ended
			case sendErr != nil:
				return sendErr
			}
			return errors.New("connection: " + errKind(err))
		}
		now := time.Now()
		for data := buf.Bytes(); len(data) > 0; {
			f := data
			if i := bytes.IndexByte(data, '\n'); i >= 0 {
				f, data = data[:i], data[i+1:]
			} else {
				data = nil
			}
			t.frame(p, f, now)
		}
	}
}

// frame handles one protocol message f of the call, received at now: a word ends the turn
// of a say waiting for one; an error counts as a failure, except the refusal of a say
// that crossed the call's end, which also ends that say's wait (no answer is coming); the
// end stops the trainee.
func (t *callTrainee) frame(p *playing, f []byte, now time.Time) {
	switch frameType(f) {
	case frameWord:
		p.mu.Lock()
		if !p.saidAt.IsZero() {
			t.st.turn(now.Sub(p.saidAt))
			p.saidAt = time.Time{}
		}
		p.mu.Unlock()
	case frameError:
		var m struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(f, &m)
		p.mu.Lock()
		defer p.mu.Unlock()
		if m.Code != "not_allowed" || !p.ended && m.Message != loadEndedRefusal {
			t.st.fail("server error: " + m.Code)
			return
		}
		// A say sent while the call was ending (the customer's last line still
		// streaming, or the end on its way): what a person typing at that moment gets
		// too, not a failure of the server. No answer is coming, so no turn is measured
		// (the next word would be the last line's, not an answer).
		t.st.crossed.Add(1)
		p.saidAt = time.Time{}
	case frameEnd:
		p.mu.Lock()
		p.saidAt = time.Time{}
		p.ended = true
		p.mu.Unlock()
	}
}

// speak is the trainee's timer: it answers the phone, then says something every
// 5–15 s until the call ends.
func (t *callTrainee) speak(ws *websocket.Conn, p *playing) {
	p.speaking.Lock()
	defer p.speaking.Unlock()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	if p.ended { // wait for the server to close the call
		p.timer.Reset(t.pace.next(t.rnd))
		p.mu.Unlock()
		return
	}
	if !p.saidAt.IsZero() && time.Since(p.saidAt) > loadTurnWait {
		t.st.fail("turn: no word within 10s")
		p.saidAt = time.Time{}
	}
	p.msg++
	var frame []byte
	if !p.answered {
		frame = fmt.Appendf(nil, `{"type":"answer","id":"m%d"}`, p.msg)
		p.answered = true
	} else {
		text := loadReplies[t.rnd.IntN(len(loadReplies))]
		p.saidAt = time.Now()
		frame = fmt.Appendf(nil, `{"type":"say","id":"m%d","text":%q}`, p.msg, text)
	}
	p.mu.Unlock()
	_ = ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := ws.WriteMessage(websocket.TextMessage, frame); err != nil {
		p.mu.Lock()
		p.sendErr = errors.New("send: " + errKind(err))
		p.mu.Unlock()
		_ = ws.Close() // the reader sees it and returns the error
		return
	}
	p.mu.Lock()
	if !p.closed {
		p.timer.Reset(t.pace.next(t.rnd))
	}
	p.mu.Unlock()
}

// Kinds of server messages the trainee looks at (frameType).
const (
	frameOther = iota
	frameWord
	frameError
	frameEnd
)

// frameType returns the kind of a server message from its "type" without decoding it
// (the server writes it as the second field: {"seq":N,"type":"…",…}).
func frameType(f []byte) int {
	const key = `"type":"`
	i := bytes.Index(f, []byte(key))
	if i < 0 {
		return frameOther
	}
	f = f[i+len(key):]
	j := bytes.IndexByte(f, '"')
	if j < 0 {
		return frameOther
	}
	switch string(f[:j]) { // compared in place, not allocated
	case "word":
		return frameWord
	case "error":
		return frameError
	case "end":
		return frameEnd
	}
	return frameOther
}

// echoTrainee drives the echo server the same way: connect, then a message every 5-15 s.
type echoTrainee struct {
	base *url.URL
	rnd  *rand.Rand
	st   *levelStats
	pace pace
}

func (t *echoTrainee) run(ctx context.Context) {
	for ctx.Err() == nil {
		if err := t.conn(ctx); err != nil && ctx.Err() == nil {
			t.st.fail(err.Error())
			sleepCtx(ctx, time.Second)
		}
	}
}

func (t *echoTrainee) conn(ctx context.Context) error {
	ws, _, err := loadDialer.DialContext(ctx, "ws://"+t.base.Host+"/echo", nil)
	if err != nil {
		return errors.New("dial: " + errKind(err))
	}
	t.st.calls.Add(1)
	t.st.connected.Add(1)
	defer t.st.connected.Add(-1)
	defer ws.Close()
	go func() { <-ctx.Done(); _ = ws.Close() }()
	got := make(chan time.Time, 4)
	readErr := make(chan error, 1)
	go func() {
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				readErr <- err
				return
			}
			got <- time.Now()
		}
	}()
	timer := time.NewTimer(loadAnswerMin + time.Duration(t.rnd.Int64N(int64(loadAnswerSpan))))
	defer timer.Stop()
	var sent time.Time
	msg := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-readErr:
			if ctx.Err() != nil {
				return nil
			}
			return errors.New("connection: " + errKind(err))
		case at := <-got:
			if !sent.IsZero() {
				t.st.turn(at.Sub(sent))
				sent = time.Time{}
			}
		case <-timer.C:
			msg++
			text := loadReplies[t.rnd.IntN(len(loadReplies))]
			sent = time.Now()
			_ = ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := ws.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, `{"type":"say","id":"m%d","text":%q}`, msg, text)); err != nil {
				return errors.New("send: " + errKind(err))
			}
			timer.Reset(t.pace.next(t.rnd))
		}
	}
}

// errKind shortens an error to its kind, for counting.
func errKind(err error) string {
	var ce *websocket.CloseError
	var ne net.Error
	switch {
	case errors.As(err, &ce):
		return fmt.Sprintf("close %d", ce.Code)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EMFILE):
		return "too many open files"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "EOF"
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}
