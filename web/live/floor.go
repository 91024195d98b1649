package live

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/engine/xapi"
	"github.com/switchboard-sim/switchboard/web/access"
)

// Defaults and limits of the live calls.
const (
	// DefaultMaxCalls bounds the live calls of a Floor whose Options leave MaxCalls 0 (an
	// embedded floor, the tests). switchboard serve always sets its own: by default as
	// many as its open-file limit holds, at most 20,000 (docs/deploy.md).
	DefaultMaxCalls = 1000
	storageTimeout  = 5 * time.Second // one journal write
	// BusyBacklog and BusyWait are the admission limit: while this many journal writes
	// (or more) wait for the journal's writer (journal.Backlogger: group commit, one batch
	// holds up to 1,024) and, at the pace of its recent commits, they would take BusyWait
	// or more to commit, a new call is refused at once with ErrBusy instead of queueing
	// behind them. The running calls' inputs keep the journal to themselves until it
	// catches up. A backlog alone is no reason: a journal that commits 1,024 writes in a
	// few milliseconds is not behind.
	BusyBacklog = 1024
	// BusyWait is a fifth of storageTimeout, the most an input may wait for its commit.
	BusyWait = time.Second
	// BusyBacklogMax refuses new calls whatever the pace: the journals' queues hold 4,096
	// writes a lane before their callers block.
	BusyBacklogMax = 4 * BusyBacklog
	// CreateTimeout bounds how long a new call waits for the journal to record it; past
	// it the start is refused with ErrBusy (nothing was recorded). It is shorter than
	// storageTimeout: a new call waits behind running calls' inputs (the low lane of
	// web/storage/groupcommit), and its trainee can simply try again.
	CreateTimeout = 2 * time.Second
)

// Errors of Floor.Start.
var (
	// ErrStopping: the floor is shutting down.
	ErrStopping = errors.New("the server is stopping; try again in a moment")
	// ErrFull: the floor holds MaxCalls live calls.
	ErrFull = errors.New("the server is at its limit of live calls; try again later")
	// ErrStorage: the journal could not record the call or an input.
	ErrStorage = errors.New("the call could not be saved; try again in a moment")
	// ErrBusy: the journal is behind (see BusyBacklog, or the new call was not recorded
	// within CreateTimeout); nothing was recorded.
	ErrBusy = errors.New("the server is busy saving running calls; try again in a moment")
)

// Options configure a Floor.
type Options struct {
	// Journal records calls; nil keeps them in memory (journal.NewMemory: lost on restart).
	Journal journal.Journal
	// MaxCalls bounds the live calls (0 means DefaultMaxCalls).
	MaxCalls int
	// Logger receives the floor's logs (nil means slog.Default()).
	Logger *slog.Logger
	// OnFinish, when set, is called (under the call's lock, so it must not block) with
	// the id of each call once its result is in the journal.
	OnFinish func(callID string)
	// Offered returns the scenario offered now under an id (nil when none): a recovered
	// call whose recorded hash matches it shares it instead of compiling its sources again.
	Offered func(id string) *engine.Scenario
	// Metrics receives the calls' counters (nil: counters nobody reads).
	Metrics *Metrics
	// Owned, when set, is Journal wrapped by NewOwned: the floor owns its calls through
	// leases, for several instances sharing one journal (see ownership.go). It replaces
	// Journal. Run KeepLeases and AdoptOrphans beside the floor.
	Owned *Owned
	// Clock is the calls' time source (nil means RealClock).
	Clock Clock
}

// Metrics are the live layer's Prometheus metrics; the HTTP API registers them.
type Metrics struct {
	MessagesIn  prometheus.Counter     // websocket messages received from clients
	MessagesOut prometheus.Counter     // protocol messages sent to trainees
	Errors      *prometheus.CounterVec // error messages sent on websockets, by "code"
	Turn        prometheus.Histogram   // a client input's arrival to its outputs queued, seconds
	// Recovered counts calls brought back into memory from the journal, by "via": start
	// (Recover), sweep (adopted from a dead or drained instance) or reconnect.
	Recovered *prometheus.CounterVec
}

// NewMetrics makes the live layer's metrics (not registered anywhere).
func NewMetrics(latencyBuckets []float64) *Metrics {
	return &Metrics{
		MessagesIn: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchboard_messages_in_total",
			Help: "Websocket messages received from clients."}),
		MessagesOut: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchboard_messages_out_total",
			Help: "Protocol messages sent to clients (several may share one websocket message)."}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "switchboard_errors_total",
			Help: "Error messages sent to clients on their websocket, by code (docs/protocol.md)."}, []string{"code"}),
		Turn: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "switchboard_turn_seconds",
			Help:    "From a client input's arrival to its outputs being handed to the connection, journal commit included.",
			Buckets: latencyBuckets}),
		Recovered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "switchboard_calls_recovered_total",
			Help: "Open calls brought back into memory from the journal, by how: at start, by the adoption sweep (from a dead or drained instance) or on a trainee's reconnect."},
			[]string{"via"}),
	}
}

// Floor holds the live calls: it starts them, recovers them from the journal, attaches
// the trainees' and supervisors' websockets to them and lists them for the floor board.
// Its methods are safe for concurrent use; each call is guarded by its own lock (call.post),
// each websocket has one reader goroutine and at most one writer at a time.
type Floor struct {
	journal  journal.Journal
	backlog  journal.Backlogger // the journal's write queue, when it has one (admission)
	onFinish func(callID string)
	offered  func(id string) *engine.Scenario
	maxCalls int
	log      *slog.Logger
	metrics  *Metrics
	clock    Clock
	helpers  *helpers   // run what client frames cause
	wakes    *wakeQueue // wakes calls when their words, timers or idle limits fall due
	// storageErrs paces the error lines of failed journal writes.
	storageErrs storageErrors
	// halted is set by Shutdown: every call leaves memory at its next settle.
	halted atomic.Bool

	// arrivals numbers trainee connections in the order their requests were looked up
	// (Find), before the upgrade is answered: see Found and call.attach.
	arrivals atomic.Uint64

	mu       sync.Mutex
	calls    map[string]*call
	reserved int // slots taken by calls being started (journal write in flight), under mu
	stopping bool
	running  sync.WaitGroup // calls in memory, connection readers and writers

	scCache scenarioCache // scenarios of recovered and replayed calls, by hash
	own     *Owned        // call ownership (Options.Owned); nil for one instance
	// unrecoverable holds the calls that failed to be rebuilt here (errBroken), which the
	// adoption sweep skips. Under mu.
	unrecoverable map[string]bool
	// recent holds the last board snapshot of calls that ended and left memory, until
	// FloorEndedKeep after their end (pruned by Board). Under mu.
	recent map[string]*floorSnap

	// slowCreates counts the new calls refused because the journal was too slow to
	// record them, logged at most once per slowCreateLogEvery (a ramp can refuse
	// thousands a second; one line each would bury the log).
	slowCreates struct {
		sync.Mutex
		n      int
		logged time.Time
	}
}

// slowCreateLogEvery is how often, at most, the floor logs the new calls it refused
// because the journal was too slow to record them (with their count since the last line).
const slowCreateLogEvery = 10 * time.Second

// noteSlowCreate counts a new call refused because the journal was too slow, and logs
// the count at most once per slowCreateLogEvery.
func (s *Floor) noteSlowCreate() {
	now := s.clock.Now()
	sc := &s.slowCreates
	sc.Lock()
	sc.n++
	if !sc.logged.IsZero() && now.Sub(sc.logged) < slowCreateLogEvery {
		sc.Unlock()
		return
	}
	n := sc.n
	sc.n, sc.logged = 0, now
	sc.Unlock()
	s.log.Warn("journal too slow to record new calls: refused as busy", "timeout", CreateTimeout, "refused", n,
		"since_last_line", slowCreateLogEvery)
}

// New makes an empty floor.
func New(opts Options) *Floor {
	s := &Floor{journal: opts.Journal, onFinish: opts.OnFinish, offered: opts.Offered, maxCalls: opts.MaxCalls,
		log: opts.Logger, metrics: opts.Metrics, clock: opts.Clock, calls: map[string]*call{}, recent: map[string]*floorSnap{},
		helpers: newHelpers()}
	if s.maxCalls <= 0 {
		s.maxCalls = DefaultMaxCalls
	}
	if s.journal == nil {
		s.journal = journal.NewMemory()
	}
	if opts.Owned != nil {
		s.own, s.journal = opts.Owned, opts.Owned
		s.backlog, _ = opts.Owned.Journal.(journal.Backlogger)
	} else {
		s.backlog, _ = s.journal.(journal.Backlogger)
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.offered == nil {
		s.offered = func(string) *engine.Scenario { return nil }
	}
	if s.clock == nil {
		s.clock = RealClock{}
	}
	s.wakes = newWakeQueue(s.clock)
	if s.metrics == nil {
		s.metrics = NewMetrics(prometheus.DefBuckets)
	}
	return s
}

// Clock returns the floor's time source.
func (s *Floor) Clock() Clock { return s.clock }

// Journal returns the journal the floor records calls in.
func (s *Floor) Journal() journal.Journal { return s.journal }

// Stopping reports whether Shutdown was called.
func (s *Floor) Stopping() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopping
}

// Shutdown stops taking calls, closes every websocket with 1001 (the journal already
// holds every accepted input) and waits, at most until ctx is done, for the goroutines.
func (s *Floor) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	s.halted.Store(true)
	s.helpers.close()
	// Calls have no goroutine of their own: wake each one, and it leaves (call.settle).
	// A call added after this snapshot sees halted on its first settle.
	s.mu.Lock()
	calls := make([]*call, 0, len(s.calls))
	for _, c := range s.calls {
		calls = append(calls, c)
	}
	s.mu.Unlock()
	for _, c := range calls {
		go c.post(nil)
	}
	done := make(chan struct{})
	go func() { s.running.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for calls to stop: %w", ctx.Err())
	}
}

// LiveCalls returns how many calls are in memory.
func (s *Floor) LiveCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

func (s *Floor) remove(c *call) {
	s.mu.Lock()
	if s.calls[c.id] == c {
		delete(s.calls, c.id)
		s.keepOnBoard(c)
	}
	s.mu.Unlock()
	s.running.Done()
}

// Started tells a client how to join a call it started (the answer to POST /api/calls).
type Started struct {
	ID    string `json:"id"`
	Token string `json:"token"`
	WS    string `json:"ws"`
	Coach bool   `json:"coach"`
	// Suggestions is the call's suggestion mode.
	Suggestions engine.SuggestionMode `json:"suggestions"`
}

// Start records a new call in the journal (not a debug call: those are never recorded)
// and settles it once (its wake-up set). Its errors are ErrStopping, ErrFull, ErrBusy and
// ErrStorage, or ctx's error when ctx ends before the call is recorded (nothing is).
func (s *Floor) Start(ctx context.Context, info journal.Call, sc *engine.Scenario) (Started, error) {
	return s.start(ctx, info, sc, nil)
}

func (s *Floor) start(ctx context.Context, info journal.Call, sc *engine.Scenario, debug *DebugCall) (Started, error) {
	token, hash := access.NewCallToken()
	info.TokenHash = hash
	s.mu.Lock()
	switch {
	case s.stopping:
		s.mu.Unlock()
		return Started{}, ErrStopping
	case len(s.calls)+s.reserved >= s.maxCalls:
		s.mu.Unlock()
		return Started{}, ErrFull
	case debug == nil && s.journalBehind():
		s.mu.Unlock()
		return Started{}, ErrBusy
	}
	// The slot is reserved under the lock, before the journal write: concurrent starts
	// cannot all pass the check while the first ones are still being written.
	s.reserved++
	s.running.Add(1) // released when the call leaves memory (call.leave), or below
	s.mu.Unlock()
	jr := s.journal
	if debug != nil {
		jr = nil
	}
	if jr != nil {
		cctx, cancel := context.WithTimeout(ctx, CreateTimeout)
		err := jr.Create(cctx, info)
		timedOut := cctx.Err() != nil && ctx.Err() == nil
		cancel()
		if err != nil {
			s.mu.Lock()
			s.reserved--
			s.mu.Unlock()
			s.running.Done()
			if timedOut && errors.Is(err, context.DeadlineExceeded) {
				s.noteSlowCreate()
				return Started{}, ErrBusy
			}
			if ctx.Err() != nil {
				// The trainee's request went away (closed tab, client stopping) while
				// the call waited to be recorded: nothing is wrong with the journal.
				s.log.Info("call start abandoned by its client before it was recorded", "err", err)
				return Started{}, fmt.Errorf("start abandoned: %w", ctx.Err())
			}
			s.storageErrs.log(s.log, s.clock.Now(), "journal create failed", "err", err)
			return Started{}, ErrStorage
		}
	}
	c := newCall(s, info, sc, info.Created, jr, debug)
	s.mu.Lock()
	s.reserved--
	s.calls[c.id] = c
	s.mu.Unlock()
	c.post(nil) // its first settle sets its wake-up (the phone rings)
	c.log.Info("call started", "coach", info.Coach, "debug", debug != nil)
	return Started{ID: c.id, Token: token, WS: "/ws/calls/" + c.id + "?token=" + token, Coach: info.Coach, Suggestions: info.Mode()}, nil
}

// JournalWait estimates how long the journal's waiting writes will take to commit
// (journal.Backlogger.BacklogWait); 0 for a journal without a write queue.
func (s *Floor) JournalWait() time.Duration {
	if s.backlog == nil {
		return 0
	}
	return s.backlog.BacklogWait()
}

// journalBehind reports whether the journal is too far behind to take a new call (see
// BusyBacklog).
func (s *Floor) journalBehind() bool {
	if s.backlog == nil {
		return false
	}
	n := s.backlog.Backlog()
	return n >= BusyBacklogMax || n >= BusyBacklog && s.backlog.BacklogWait() >= BusyWait
}

// NewCallID returns a random (version 4) UUID: call ids are xAPI registrations.
func NewCallID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return xapi.FormatUUID(u)
}
