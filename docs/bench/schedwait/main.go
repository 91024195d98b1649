// Command schedwait reads a Go runtime execution trace (e.g. from a server started with
// --pprof: curl -o trace.out 'http://HOST/debug/pprof/trace?seconds=3') and says where
// goroutines waited for a CPU:
//
//   - for every goroutine, grouped by the function it was started with: how many were
//     runnable (waiting for a CPU) on average over the trace, the CPU they used, and how
//     many were started per second;
//   - with -focus FUNC, for the goroutines whose own stack shows FUNC (e.g. the journal's
//     writer, groupcommit.(*Queue[...]).run): how long they ran, spent in syscalls and
//     waited while runnable, by how they last stopped running (preempted, a syscall that
//     lost its P, blocked on what).
//
// A goroutine that is preempted or returns from a syscall whose P was taken goes to the
// scheduler's global run queue, behind everything there; one woken by a channel or a
// timer goes to the front of a local one. See docs/performance.md, "Why 19,000 calls vary".
//
// usage: go run ./docs/bench/schedwait [-focus FUNC] trace.out
// (a module of its own, so that golang.org/x/exp is no dependency of the server)
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"slices"
	"sort"
	"strings"

	"golang.org/x/exp/trace"
)

func main() {
	focus := flag.String("focus", "", "also break down the waits of goroutines whose own stack shows this function (substring)")
	top := flag.Int("top", 15, "start functions to list")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: schedwait [-focus FUNC] [-top N] TRACE")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	f, err := os.Open(flag.Arg(0))
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	r, err := trace.NewReader(f)
	if err != nil {
		log.Fatalf("%s: %v", flag.Arg(0), err)
	}
	a := newAnalysis(*focus)
	for {
		ev, err := r.ReadEvent()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatalf("%s: %v", flag.Arg(0), err)
		}
		a.event(ev)
	}
	a.report(os.Stdout, *top)
}

// gor is what the analysis keeps about one goroutine.
type gor struct {
	start   string     // the function it was started with ("?" when it existed before the trace)
	since   trace.Time // when it entered its current state
	focused bool       // its own stack showed the focus function
	stopped string     // how it last stopped running (for the focus breakdown)
}

type analysis struct {
	focus             string
	gs                map[trace.GoID]*gor
	first, last       trace.Time
	runnable, running map[string]trace.Time // by start function
	created           map[string]int
	fRun, fSyscall    trace.Time // focus goroutines
	fWait, fBlock     map[string]trace.Time
	fWaits            map[string]int
	fWaitDs           map[string][]trace.Time // each wait, for its percentiles
}

func newAnalysis(focus string) *analysis {
	return &analysis{focus: focus, gs: map[trace.GoID]*gor{},
		runnable: map[string]trace.Time{}, running: map[string]trace.Time{}, created: map[string]int{},
		fWait: map[string]trace.Time{}, fBlock: map[string]trace.Time{}, fWaits: map[string]int{}, fWaitDs: map[string][]trace.Time{}}
}

func (a *analysis) event(ev trace.Event) {
	if a.first == 0 {
		a.first = ev.Time()
	}
	a.last = ev.Time()
	if ev.Kind() != trace.EventStateTransition {
		return
	}
	st := ev.StateTransition()
	if st.Resource.Kind != trace.ResourceGoroutine {
		return
	}
	id := st.Resource.Goroutine()
	from, to := st.Goroutine()
	g := a.gs[id]
	if g == nil || from == trace.GoNotExist {
		g = &gor{start: "?", since: ev.Time()}
		for fr := range st.Stack.Frames() { // the new goroutine's start: its outermost frame
			g.start = fr.Func
		}
		if from == trace.GoNotExist {
			a.created[g.start]++
		}
		a.gs[id] = g
	}
	// The event's stack is the goroutine's own only when it is the one stopping.
	if a.focus != "" && !g.focused && from == trace.GoRunning && ev.Goroutine() == id {
		for fr := range ev.Stack().Frames() {
			if strings.Contains(fr.Func, a.focus) {
				g.focused = true
				break
			}
		}
	}
	d := ev.Time() - g.since
	switch from {
	case trace.GoRunnable:
		a.runnable[g.start] += d
	case trace.GoRunning:
		a.running[g.start] += d
	}
	if g.focused {
		switch from {
		case trace.GoRunning:
			a.fRun += d
			switch {
			case to == trace.GoRunnable:
				g.stopped = "being preempted"
			case st.Reason != "":
				g.stopped = "blocking (" + st.Reason + ")"
			default:
				g.stopped = "stopping (" + to.String() + ")"
			}
		case trace.GoSyscall:
			a.fSyscall += d
			if to == trace.GoRunnable {
				g.stopped = "a syscall that lost its P"
			} else {
				g.stopped = "a syscall"
			}
		case trace.GoRunnable:
			a.fWait[g.stopped] += d
			a.fWaits[g.stopped]++
			a.fWaitDs[g.stopped] = append(a.fWaitDs[g.stopped], d)
		case trace.GoWaiting:
			a.fBlock[g.stopped] += d
		}
	}
	g.since = ev.Time()
}

func (a *analysis) report(w io.Writer, top int) {
	dur := float64(a.last - a.first)
	if dur <= 0 {
		fmt.Fprintln(w, "empty trace")
		return
	}
	fmt.Fprintf(w, "trace of %.2f s\n\n", dur/1e9)
	fmt.Fprintf(w, "%-8s %-8s %-10s %s\n", "runnable", "CPU", "started/s", "goroutines started with")
	keys := make([]string, 0, len(a.runnable))
	for k := range a.runnable {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return a.runnable[keys[i]] > a.runnable[keys[j]] })
	var total float64
	for i, k := range keys {
		total += float64(a.runnable[k]) / dur
		if i < top {
			fmt.Fprintf(w, "%8.1f %7.1f%% %10.0f %s\n", float64(a.runnable[k])/dur, float64(a.running[k])/dur*100,
				float64(a.created[k])/dur*1e9, k)
		}
	}
	fmt.Fprintf(w, "%8.1f          total runnable on average (\"?\": goroutines that existed before the trace)\n", total)
	if a.focus == "" {
		return
	}
	fmt.Fprintf(w, "\ngoroutines showing %q: ran %.0f ms, in syscalls %.0f ms\n", a.focus, float64(a.fRun)/1e6, float64(a.fSyscall)/1e6)
	keys = keys[:0]
	for k := range a.fWait {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return a.fWait[keys[i]] > a.fWait[keys[j]] })
	for _, k := range keys {
		ds := a.fWaitDs[k]
		slices.Sort(ds)
		fmt.Fprintf(w, "  waited %8.1f ms runnable, %5d times, mean %7.2f ms, p50 %7.3f ms, p90 %7.3f ms, after %s\n",
			float64(a.fWait[k])/1e6, a.fWaits[k], float64(a.fWait[k])/float64(a.fWaits[k])/1e6,
			float64(ds[len(ds)/2])/1e6, float64(ds[len(ds)*9/10])/1e6, k)
	}
	keys = keys[:0]
	for k := range a.fBlock {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return a.fBlock[keys[i]] > a.fBlock[keys[j]] })
	for _, k := range keys {
		fmt.Fprintf(w, "  blocked %7.1f ms after %s\n", float64(a.fBlock[k])/1e6, k)
	}
}
