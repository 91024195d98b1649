package engine_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/scenarios"
)

// The engine benchmarks compare against the inkjs anchor (a Node benchmark of inkjs 2.4.0
// playing callcenter.ink); testdata/bench/callcenter.yaml is that story ported to our format.
// docs/bench/compare.sh runs both and docs/performance.md records the figures.

const benchScenarioPath = "testdata/bench/callcenter.yaml"

// benchScenario is the callcenter port, loaded and compiled once and shared by every session.
var benchScenario = sync.OnceValues(func() (*engine.Scenario, error) {
	sc, diags := engine.LoadFile(benchScenarioPath)
	if sc == nil {
		return nil, errors.New(diags.Error())
	}
	return sc, nil
})

func loadBenchScenario(tb testing.TB) *engine.Scenario {
	tb.Helper()
	sc, err := benchScenario()
	if err != nil {
		tb.Fatalf("%s: %v", benchScenarioPath, err)
	}
	return sc
}

// mulberry32 is bench.js's choice PRNG, so both benchmarks pick replies the same way.
type mulberry32 uint32

func (m *mulberry32) float() float64 {
	a := uint32(*m) + 0x6d2b79f5
	*m = mulberry32(a)
	t := (a ^ a>>15) * (1 | a)
	t = (t + (t^t>>7)*(61|t)) ^ t
	return float64(t^t>>14) / 4294967296
}

// intn returns a uniform index below n, as bench.js does: Math.floor(rnd() * n).
func (m *mulberry32) intn(n int) int { return int(m.float() * float64(n)) }

// maxPlaySteps bounds one playthrough; the story always ends long before.
const maxPlaySteps = 100_000

// player drives sessions the way bench.js drives an ink story: it lets the customer finish
// each line, delivers timers when they are due (an after: 0s chain is ink's Continue on to
// the next knot), answers a ringing phone, and picks one of the offered replies uniformly
// at random. Its output buffer is reused from step to step.
type player struct {
	rnd  mulberry32
	out  []engine.Output
	seen map[string]bool // when set, the nodes that spoke and the endings reached
}

// play runs s from its start until the call ends, or until choices replies have been
// picked and the next one is on offer (choices < 0: no limit). It returns the steps as
// inkjs counts them: one per line of customer text (an ink Continue() returns one line;
// the port keeps a knot's lines as lines of its say) and one per reply picked (an ink
// ChooseChoiceIndex()), answering the phone included.
func (p *player) play(s *engine.Session, choices int) (steps int, err error) {
	p.out = s.Start(p.out[:0])
	var now int64
	var offered []engine.ChoiceShown
	ringing, picked := false, 0
	for steps < maxPlaySteps {
		for i := range p.out {
			o := &p.out[i]
			switch o.Type {
			case engine.OutLine:
				steps += 1 + strings.Count(o.Text, "\n")
				offered = nil // a new line: the node's choices (if any) follow it
			case engine.OutRing:
				ringing, offered = true, nil
			case engine.OutChoices:
				offered = o.Choices
			case engine.OutError:
				return steps, fmt.Errorf("at %s: %s", o.Node, o.Text)
			}
			if p.seen != nil && (o.Type == engine.OutLine || o.Type == engine.OutEnd) {
				p.seen[o.Node] = true
			}
		}
		if s.Ended() {
			return steps, nil
		}
		if _, end := s.Speaking(now); end > now {
			now = end // listen to the end of the line
		}
		var ev engine.Event
		switch d, timer := s.NextDeadline(); {
		case timer && (d <= now || len(offered) == 0 && !ringing):
			ev = engine.Event{Type: engine.EventTimeout, At: max(now, d)}
		case ringing:
			ev = engine.Event{Type: engine.EventAnswer, At: now}
			ringing = false
			steps++
		case len(offered) > 0:
			if picked == choices {
				return steps, nil
			}
			ev = engine.Event{Type: engine.EventChoose, At: now, Index: offered[p.rnd.intn(len(offered))].Index}
			picked++
			steps++
		default:
			return steps, fmt.Errorf("stuck at %s: no choice on offer and no timer", s.Node())
		}
		now = ev.At
		if p.out, err = s.Apply(ev, p.out[:0]); err != nil {
			return steps, fmt.Errorf("at %s: %s: %w", s.Node(), ev.Type, err)
		}
	}
	return steps, fmt.Errorf("no ending after %d steps (at %s)", steps, s.Node())
}

// TestBenchScenarioPlays keeps the benchmark's port honest: random playthroughs all reach
// one of the story's results without a run-time error, and they cover the graph.
func TestBenchScenarioPlays(t *testing.T) {
	sc := loadBenchScenario(t)
	p := &player{rnd: 12345, seen: map[string]bool{}}
	endings := map[string]int{}
	const plays = 2000
	total := 0
	for i := range plays {
		s := alwaysSession(t, sc, uint64(i), "Sam")
		steps, err := p.play(s, -1)
		require.NoError(t, err, "play %d", i)
		require.True(t, s.Ended(), "play %d", i)
		endings[s.End().Ending]++
		total += steps
	}
	require.Len(t, endings, 3, "endings reached: %v", endings)
	for _, e := range []string{"outcome_excellent", "outcome_ok", "outcome_poor"} {
		require.Positive(t, endings[e], e)
	}
	var missed []string
	for _, n := range sc.Nodes {
		if !n.Router() && !p.seen[n.ID] {
			missed = append(missed, n.ID)
		}
	}
	require.LessOrEqual(t, len(missed), 1, "nodes no playthrough reached: %v", missed)
	mean := float64(total) / plays
	require.True(t, mean > 10 && mean < 100, "mean steps per playthrough %.1f", mean)
	t.Logf("%d playthroughs, %.2f steps each, endings %v, never reached %v", plays, mean, endings, missed)
}

// BenchmarkPlaythrough plays random calls of the callcenter port, as bench.js plays
// callcenter.ink: a new session per playthrough from the scenario compiled once, replies
// picked with bench.js's PRNG and policy. steps/s is comparable with bench.js's "steps/s,
// reused Story" (inkjs resets one Story; a session is our unit of reuse).
func BenchmarkPlaythrough(b *testing.B) {
	sc := loadBenchScenario(b)
	p := &player{rnd: 12345, out: make([]engine.Output, 0, 64)}
	steps, plays := 0, 0
	for b.Loop() {
		s := alwaysSession(b, sc, uint64(plays%100_000), "Sam")
		n, err := p.play(s, -1)
		if err != nil {
			b.Fatalf("playthrough %d: %v", plays, err)
		}
		if !s.Ended() || !strings.HasPrefix(s.End().Ending, "outcome_") {
			b.Fatalf("playthrough %d did not reach a result (at %s)", plays, s.Node())
		}
		steps += n
		plays++
	}
	if steps == 0 {
		b.Fatal("no steps")
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(steps)/sec, "steps/s")
	b.ReportMetric(float64(plays)/sec, "plays/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(steps), "ns/step")
	b.ReportMetric(float64(steps)/float64(plays), "steps/play")
}

// BenchmarkApply replays recorded random calls (randomCall: typed messages, choices, timers,
// hang-ups) of every shipped scenario and reports the cost of one Apply.
func BenchmarkApply(b *testing.B) {
	paths, err := engine.FindScenarios(scenarios.FS, scenarios.Root)
	if err != nil || len(paths) == 0 {
		b.Fatalf("no shipped scenarios: %v", err)
	}
	for _, path := range paths {
		sc, diags := engine.Load(scenarios.FS, path)
		if sc == nil {
			b.Fatalf("%s: %s", path, diags.Error())
		}
		const calls = 64
		var recorded [calls][]engine.Event
		for i := range recorded {
			seed := uint64(i*7919 + 1)
			recorded[i], _ = randomCall(sc, seed, rand.New(rand.NewPCG(seed, 99)))
		}
		b.Run(sc.ID, func(b *testing.B) {
			out := make([]engine.Output, 0, 256)
			events, i := 0, 0
			for b.Loop() {
				call := recorded[i%calls]
				s := sc.NewSession(uint64(i%calls*7919+1), "Robin") // the mode randomCall played in
				out = s.Start(out[:0])
				for _, ev := range call {
					var err error
					if out, err = s.Apply(ev, out[:0]); err != nil {
						b.Fatalf("call %d: %v", i%calls, err)
					}
				}
				events += len(call)
				i++
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(max(events, 1)), "ns/event")
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkSessionBytes measures the heap a live session holds: 10,000 sessions of the
// callcenter port at once, sharing one compiled scenario. "mid-call" advances each to its
// third choice point, as bench.js's "advanced" memory variant does; "started" is a session
// just after Start. B/session is the live-heap growth (after GC) divided by the sessions.
func BenchmarkSessionBytes(b *testing.B) {
	const n = 10_000
	sc := loadBenchScenario(b)
	for _, v := range []struct {
		name    string
		choices int
	}{{"started", 0}, {"mid-call", 3}} {
		b.Run(v.name, func(b *testing.B) {
			sessions := make([]*engine.Session, n)
			p := &player{out: make([]engine.Output, 0, 1024)}
			if _, err := p.play(alwaysSession(b, sc, 0, "Sam"), -1); err != nil { // warm up pools
				b.Fatal(err)
			}
			var perSession float64
			for b.Loop() {
				clear(sessions)
				before := liveHeap()
				ended := 0
				for i := range sessions {
					s := alwaysSession(b, sc, uint64(i), "Sam")
					p.rnd = mulberry32(i)
					if _, err := p.play(s, v.choices); err != nil {
						b.Fatalf("session %d: %v", i, err)
					}
					if s.Ended() {
						ended++
					}
					sessions[i] = s
				}
				clear(p.out[:cap(p.out)]) // drop the last outputs' references
				after := liveHeap()
				runtime.KeepAlive(sessions)
				if ended > n/10 {
					b.Fatalf("%d of %d sessions ended before their choice point %d", ended, n, v.choices)
				}
				perSession = float64(after-before) / n
			}
			if perSession <= 0 {
				b.Fatalf("heap did not grow (%.1f B/session)", perSession)
			}
			b.ReportMetric(perSession, "B/session")
		})
	}
}

// liveHeap returns the bytes of live heap objects after a full collection (twice, so that
// sync.Pool's victim cache is emptied too).
func liveHeap() int64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// sayReplies are the load generator's trainee messages (cmd/switchboard, loadReplies).
var sayReplies = []string{
	"Hello, thanks for calling, how can I help you today?",
	"I'm so sorry about that, let me check for you.",
	"I understand, that must be frustrating.",
	"We're out of stock at the moment, but I could offer you something similar instead.",
	"Could you give me your order number please?",
	"Let me see what I can do for you.",
	"Thank you for your patience.",
	"Would you like me to set that aside for you?",
}

// sayColdSweep is more memory than this machine's CPU caches hold; sayColdSweepSmall
// is several times its L2 caches.
const (
	sayColdSweep      = 64 << 20
	sayColdSweepSmall = 16 << 20
)

// sayOther are messages of another call, said between two turns of the measured one in
// the "after another" cases.
var sayOther = []string{
	"Good morning, what seems to be the trouble with the machine?",
	"Right, have you tried turning it off and on again?",
	"Okay, I will send someone over this afternoon.",
}

// BenchmarkSayCold measures the Apply of a typed message in the shipped cheese-shop, as a
// live call's turns go: "hot" back to back, "cold" with memory swept (outside the timer)
// before each, as the 5-15 s of other calls' work between two turns of a call evicts the
// engine's code, lexicons and rules from the caches (docs/performance.md, "Where a turn's
// time goes"). The "after" cases then apply, still outside the timer, another message in
// another call, of another scenario (the engine's code and shared tables warm again) or
// of the same one (its lexicon and rules too): what stays is the cost of the message's
// own words and of the call's own state. A session is restarted every few messages, or
// when it ends.
func BenchmarkSayCold(b *testing.B) {
	sc, diags := engine.Load(scenarios.FS, scenarios.Root+"/cheese-shop.yaml")
	if sc == nil {
		b.Fatal(diags.Error())
	}
	other, diags := engine.Load(scenarios.FS, scenarios.Root+"/ignored-phone.yaml")
	if other == nil {
		b.Fatal(diags.Error())
	}
	junk := make([]byte, sayColdSweep)
	for _, c := range []struct {
		name  string
		sweep int
		after *engine.Scenario // a say in another call of this scenario, after the sweep
		// unseen: the scenario's memo of replies read is emptied before each say, as if
		// every reply were typed for the first time (the others repeat the generator's eight)
		unseen bool
	}{
		{"hot", 0, nil, false},
		{"hot-unseen-reply", 0, nil, true},
		{"cold", sayColdSweep, nil, false},
		{"cold-16MB", sayColdSweepSmall, nil, false},
		{"cold-16MB-unseen-reply", sayColdSweepSmall, nil, true},
		{"cold-16MB-after-another-scenario", sayColdSweepSmall, other, false},
		{"cold-16MB-after-the-same-scenario", sayColdSweepSmall, sc, false},
	} {
		b.Run(c.name, func(b *testing.B) {
			out := make([]engine.Output, 0, 256)
			var s, o *engine.Session
			var at, ato int64
			i, said := 0, 0
			start := func(sc *engine.Scenario) (*engine.Session, int64) {
				s := sc.NewSession(uint64(i), "Robin")
				out = s.Start(out[:0])
				var err error
				if out, err = s.Apply(engine.Event{Type: engine.EventAnswer, At: 2000}, out[:0]); err != nil {
					b.Fatal(err)
				}
				return s, 2000
			}
			for b.Loop() {
				if s == nil || s.Ended() || said > 6 {
					s, at = start(sc)
					said = 0
				}
				if c.unseen {
					b.StopTimer()
					engine.ForgetReplies(sc)
					b.StartTimer()
				}
				if c.sweep > 0 {
					b.StopTimer()
					for j := 0; j < c.sweep; j += 64 {
						junk[j]++
					}
					if c.after != nil {
						if o == nil || o.Ended() {
							o, ato = start(c.after)
						}
						ato += 8000
						out, _ = o.Apply(engine.Event{Type: engine.EventSay, At: ato, Text: sayOther[i%len(sayOther)]}, out[:0])
					}
					b.StartTimer()
				}
				at += 8000
				var err error
				if out, err = s.Apply(engine.Event{Type: engine.EventSay, At: at, Text: sayReplies[i%len(sayReplies)]}, out[:0]); err != nil && !errors.Is(err, engine.ErrEnded) {
					b.Fatal(err)
				}
				i++
				said++
			}
		})
	}
}

// BenchmarkReplyMemoFull reports the heap a scenario's memo of replies read holds when
// full of replies of 60 and of 250 bytes (each run fills it afresh, four times over, then
// collects): docs/deploy.md's figure.
func BenchmarkReplyMemoFull(b *testing.B) {
	sc, diags := engine.Load(scenarios.FS, scenarios.Root+"/cheese-shop.yaml")
	if sc == nil {
		b.Fatal(diags.Error())
	}
	for _, n := range []int{60, 250} {
		b.Run(fmt.Sprintf("%d-bytes", n), func(b *testing.B) {
			base := strings.Repeat("sorry, we have none of that cheese left today; ", 8)[:n-6]
			var kib float64
			for b.Loop() {
				engine.ForgetReplies(sc)
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				for i := range 4 * engine.ReplyMemoSlots {
					s := sc.NewSession(uint64(i), "Robin")
					s.Start(nil)
					if _, err := s.Apply(engine.Event{Type: engine.EventAnswer, At: 1000}, nil); err != nil {
						b.Fatal(err)
					}
					if _, err := s.Apply(engine.Event{Type: engine.EventSay, At: 9000, Text: fmt.Sprintf("%s %05d", base, i)}, nil); err != nil {
						b.Fatal(err)
					}
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				kib = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / 1024
			}
			b.ReportMetric(kib, "KiB/memo")
		})
	}
}
