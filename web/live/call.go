package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/web/protocol"
)

// Lifetimes of calls in memory.
const (
	callIdleTimeout = 10 * time.Minute // an open call with no connection this long is hung up
	// endedKeep is how long an ended debug call (from the studio) stays in memory, so that
	// the designer can record it as a test. A trainee's call leaves memory as soon as it
	// has ended and its result is in the journal; a reconnect to it is served from the
	// journal (Server.replayEnded).
	endedKeep    = 10 * time.Minute
	storageRetry = time.Second // after a journal write failed, timers wait this long
)

// Limits of a live call's connections (docs/protocol.md).
const (
	sendQueueLen     = 64     // messages queued for one connection before it counts as too slow
	RateLimit        = 5      // client messages per second per connection...
	RateBurst        = 10     // ...with bursts up to this many
	msPerMinute      = 60_000 // for words-per-minute pacing
	rateNoticeMillis = 1000   // at most one rate_limited error per second while over the limit
)

// Messages to a call (call.post).
type (
	// inMsg is a decoded client message.
	inMsg struct {
		conn    *conn
		msg     protocol.ClientMsg
		arrived time.Time
	}
	// localError is a client frame refused before reaching the call; close, when set,
	// closes the connection after the error.
	localError struct {
		conn              *conn
		arrived           time.Time
		code, message, id string
		close             int
	}
	// attachMsg makes conn the call's trainee connection, or adds it to the supervisors
	// listening (conn.supervisor), replaying messages with seq > after.
	attachMsg struct {
		conn  *conn
		after int64
	}
	// detachMsg says conn's reader has stopped.
	detachMsg struct{ conn *conn }
)

// call is one live call. It has no goroutine of its own: whoever has something for it —
// a connection's reader with a client message, the floor's wake-up queue when words or the
// session's timers fall due, a reconnect, the floor stopping — hands it over with post,
// which handles it under the call's lock (mu) and then settles the call (timers, words,
// the end, the board, the next wake-up). Its state is only touched under mu ("under the
// call's lock" in this package's comments). See docs/performance.md, "No goroutine per
// call".
//
// A call has several audiences, each with its own projection of the call's record: the
// trainee (one connection, conn: today's view through the coach filter, the only one that
// can act for the trainee) and any number of supervisors listening (subs: every message,
// never coach-filtered, with scores and the whisperers' ids; see supervise.go). A newer
// trainee connection replaces the older one (close 4000); a supervisor never replaces
// anybody.
type call struct {
	srv     *Floor
	id      string
	info    journal.Call
	sc      *engine.Scenario
	jr      journal.Journal // nil for debug calls: they are not recorded
	moved   bool            // another instance took the call over (Ownership): leave memory
	debug   *DebugCall      // nil for trainees' calls
	log     *slog.Logger
	created time.Time // the call clock's zero

	// mu is held while the call handles something (post). Everything below is owned by
	// whoever holds it.
	mu sync.Mutex
	// gone: the call left memory (or the floor stopped it); post refuses from then on.
	gone bool
	// wakeIdx places the call in the floor's wake-up queue (Floor.wakes, which keeps when
	// it next has something to do by itself, see wake): -1 when it has nothing. Guarded by
	// the queue's lock.
	wakeIdx int
	// kicked are the connections whose writer this post started: post runs them once it
	// has let go of mu (conn.kickLocked).
	kicked []*conn

	sess *engine.Session
	st   *stream
	// sent is the seq of the last message sent. Messages are not kept: the stream is
	// deterministic, so framesBetween re-derives any of them from the entries.
	sent int64
	// tap, when set, sees every message as it is sent (replays and tests).
	tap       func(seq int64, frame []byte)
	acks      map[string]int64
	entries   []journal.Entry
	conn      *conn               // the trainee's connection, if any
	subs      map[*conn]struct{}  // supervisors listening
	sup       *stream             // the supervisors' projection; nil while nobody listens
	supSent   int64               // the last seq of the supervisors' projection sent
	whispered map[string]struct{} // client ids of the whispers recorded (retries are dropped)
	floor     floorState          // what the floor board last saw (supervise.go)
	clock     int64               // the call clock's latest reading, ms
	idleSince time.Time           // when the call last had no connection
	endedAt   time.Time
	finished  bool // the journal knows the result
	// posts counts the call's posts. finishFrom, once the session has ended in a step
	// whose messages do not end the stream (the customer's last words are still to come),
	// is the first post that records the result: the next one, at once (finishHeld makes
	// it the call's wake-up), so that the step's messages are written first (afterStep).
	posts      uint64
	finishFrom uint64
	storageBad time.Time       // when a journal write last failed
	all        []engine.Output // debug calls: every output, to record the call as a test
}

// newCall builds a call's state and starts its session; its first post (nil) settles it
// and sets its wake-up.
func newCall(srv *Floor, info journal.Call, sc *engine.Scenario, created time.Time, jr journal.Journal, debug *DebugCall) *call {
	c := &call{
		srv: srv, id: info.ID, info: info, sc: sc, created: created, jr: jr, debug: debug,
		log:  srv.log.With("call", info.ID, "scenario", sc.ID),
		acks: map[string]int64{}, idleSince: created,
		subs: map[*conn]struct{}{}, whispered: map[string]struct{}{},
		wakeIdx: -1, // not in the floor's wake-up queue yet
	}
	c.reset()
	return c
}

// reset starts the session and stream afresh; messages up to c.sent are not sent again,
// so a rebuild that re-emits them must produce the same ones (see rebuild).
func (c *call) reset() {
	buf := takeOuts()
	var outs []engine.Output
	c.sess, outs = c.startSession(*buf)
	defer giveOuts(buf, outs)
	c.st = newStream(c.sc.Persona.WPM, c.info.Coach, c.emit)
	c.st.outputs(outs, nil, 0)
	if c.sup != nil {
		c.sup = c.newSupStream(c.emitSup)
		c.sup.outputs(outs, nil, 0)
	}
	if c.debug != nil {
		c.all = append(c.all[:0], outs...)
		c.st.sendDebug(c.sess, outs, 0)
	}
}

// outsPool holds the slices a step's outputs are made in. A call needs one only while a
// step runs, and at ~336 bytes an output a slice kept by each call between its steps cost
// several KiB per live call (docs/performance.md, "Memory per call").
var outsPool = sync.Pool{New: func() any { s := make([]engine.Output, 0, outsCap); return &s }}

// outsCap is the starting capacity of a pooled outputs slice: most steps fit.
const outsCap = 16

// takeOuts returns an empty slice for a step's outputs; giveOuts gives it back.
func takeOuts() *[]engine.Output { return outsPool.Get().(*[]engine.Output) }

// giveOuts returns a step's outputs slice (grown or not) to the pool, without keeping what
// the outputs point to alive.
func giveOuts(buf *[]engine.Output, outs []engine.Output) {
	clear(outs)
	*buf = outs[:0]
	outsPool.Put(buf)
}

// startSession starts a new session of the call, as its first one started: a debug call
// traces every guard, offers every suggestion and may start at a node with vars set.
func (c *call) startSession(outs []engine.Output) (*engine.Session, []engine.Output) {
	sess := c.info.Session(c.sc)
	if c.debug == nil {
		return sess, sess.Start(outs)
	}
	sess.SetTrace(true)
	_ = sess.SetSuggestions(engine.SuggestAlways) // designers see every choice; cannot fail before Start
	if c.debug.Node == "" {
		return sess, sess.Start(outs)
	}
	// StartDebugCall checked the node and vars on a session of its own.
	outs, err := sess.StartAt(c.debug.Node, c.debug.Vars, outs)
	if err != nil {
		c.log.Error("starting a debug call", "err", err)
	}
	return sess, outs
}

// emit sends a frame to the connection, if any.
func (c *call) emit(seq int64, frame []byte) {
	if seq <= c.sent { // re-emitted by a rebuild
		return
	}
	c.sent = seq
	if c.srv != nil && c.tap == nil {
		c.srv.metrics.MessagesOut.Inc()
	}
	if c.tap != nil {
		c.tap(seq, frame)
	}
	if c.conn != nil && !c.conn.queue(frame) {
		c.dropConn()
	}
}

// framesBetween re-derives the messages this call sent with after < seq <= upto.
func (c *call) framesBetween(after, upto int64) [][]byte {
	return replayFrames(c.srv, c.info, c.sc, c.created, c.debug, c.log, c.entries, c.clock, after, upto)
}

// replayFrames rebuilds a call from its entries on a fresh session and stream, advanced to
// clock, and returns the messages with after < seq <= upto. The stream is deterministic
// (see stream), so these are byte for byte the messages the live call sent: reconnects are
// served this way instead of keeping every frame for the call's lifetime. It costs one
// engine step per entry (about two microseconds).
func replayFrames(srv *Floor, info journal.Call, sc *engine.Scenario, created time.Time, debug *DebugCall,
	log *slog.Logger, entries []journal.Entry, clock, after, upto int64) [][]byte {
	var out [][]byte
	sh := &call{srv: srv, id: info.ID, info: info, sc: sc, created: created, debug: debug, log: log, acks: map[string]int64{},
		subs: map[*conn]struct{}{}, whispered: map[string]struct{}{}}
	sh.tap = func(seq int64, f []byte) {
		if seq > after && seq <= upto {
			out = append(out, f)
		}
	}
	sh.reset()
	if err := sh.replay(entries); err != nil { // cannot happen: these entries applied before
		log.Error("replaying a call to resend its messages failed", "err", err)
	}
	sh.st.advance(clock)
	return out
}

// replayEnded returns the messages of an ended call after seq after, from its entries.
func replayEnded(srv *Floor, info journal.Call, sc *engine.Scenario, entries []journal.Entry, after int64) [][]byte {
	return replayFrames(srv, info, sc, info.Created, nil, srv.log.With("call", info.ID), entries, math.MaxInt64, after, math.MaxInt64)
}

func (c *call) dropConn() {
	c.conn = nil
	c.idleSince = c.srv.clock.Now()
}

// post hands m to the call (nil only wakes it): it is handled under the call's lock, then
// the call settles (settle). The connections' writers the step started run after the lock
// is released: the last one on this goroutine (one goroutine hand-off fewer per word and
// per turn), any other on a goroutine of its own, so that a slow supervisor never delays
// the trainee's words. It reports false, doing nothing, once the call is gone.
func (c *call) post(m any) bool {
	c.mu.Lock()
	if c.gone {
		c.mu.Unlock()
		return false
	}
	c.posts++
	if m != nil {
		c.handle(m)
	}
	c.settle()
	kicked := c.kicked
	c.kicked = nil
	c.mu.Unlock()
	for i, k := range kicked {
		if i == len(kicked)-1 {
			k.writeLoop()
		} else {
			go k.writeLoop()
		}
	}
	return true
}

// wakeUp settles the call when it falls due in the floor's wake-up queue, on one of the
// queue's wakers (wakeQueue).
func (c *call) wakeUp() { c.settleNow() }

// settleNow settles the call (post with nothing to hand over).
func (c *call) settleNow() { c.post(nil) }

// now reads the call clock, which never goes backwards.
func (c *call) now(t time.Time) int64 {
	c.clock = max(c.clock, t.Sub(c.created).Milliseconds())
	return c.clock
}

// replay applies journaled entries (when recovering a call) without journaling them.
func (c *call) replay(entries []journal.Entry) error {
	for _, e := range entries {
		if err := c.applyEntry(e); err != nil {
			return fmt.Errorf("replaying entry %d (%s at %d ms): %w", e.Seq, e.Event.Type, e.Event.At, err)
		}
		c.entries = append(c.entries, e)
		c.clock = max(c.clock, e.Event.At)
	}
	return nil
}

// applyEntry applies one committed event to the session and sends its messages.
func (c *call) applyEntry(e journal.Entry) error {
	c.advance(e.Event.At)
	buf := takeOuts()
	outs, err := c.sess.Apply(e.Event, *buf)
	defer giveOuts(buf, outs)
	if err != nil {
		return err
	}
	c.sendOutputs(outs, e)
	return nil
}

// sendOutputs sends the messages of one entry's outputs and remembers its acknowledgement.
func (c *call) sendOutputs(outs []engine.Output, e journal.Entry) {
	a := entryAck(e)
	seq := c.st.outputs(outs, a, e.Event.At)
	if c.sup != nil {
		c.sup.outputs(outs, a, e.Event.At)
	}
	if c.debug != nil {
		c.all = append(c.all, outs...)
		c.st.sendDebug(c.sess, outs, e.Event.At)
	}
	switch {
	case e.Event.Type == engine.EventWhisper:
		c.whispered[e.ClientID] = struct{}{}
	case e.ClientID != "":
		c.acks[e.ClientID] = seq
	}
}

// entryAck describes the input of an entry for the streams (nil for a timer).
func entryAck(e journal.Entry) *ack {
	if e.Event.Type == engine.EventTimeout {
		return nil
	}
	return &ack{id: e.ClientID, event: string(e.Event.Type)}
}

// step applies a new event: the session first (which may refuse it, unchanged), then the
// journal, and only then are its messages sent. When the journal fails the session is
// rebuilt from the entries that were committed, so nothing unrecorded is ever shown.
//
// With a journal that can start an append early (journal.Starter), an event the session
// will take is handed to the journal before the engine's step and waited for after it,
// so that the journal's disk writes while the engine works.
func (c *call) step(ev engine.Event, clientID string) error {
	e := journal.Entry{Seq: int64(len(c.entries)) + 1, ClientID: clientID, Event: ev}
	c.advance(ev.At)
	var (
		ctx  context.Context
		wait func() error // the journal's append, started before the engine's step
	)
	if c.jr != nil {
		d := newLazyDeadline(storageTimeout)
		defer d.release()
		ctx = d
		if s, ok := c.jr.(journal.Starter); ok && s.Starts() && c.sess.Check(ev) == nil {
			if wait = s.StartAppend(ctx, c.id, e); wait != nil {
				defer func() {
					if wait != nil { // Apply panicked: the journal must not stay held
						_ = wait()
					}
				}()
			}
		}
	}
	buf := takeOuts()
	outs, err := c.sess.Apply(ev, *buf)
	defer giveOuts(buf, outs)
	if err != nil && wait == nil {
		return err
	}
	if j := c.jr; j != nil {
		var werr error
		if wait != nil {
			werr, wait = wait(), nil
		} else {
			werr = j.Append(ctx, c.id, e)
		}
		if err != nil {
			// Cannot happen: Check is Apply's only refusal, and nothing changed the
			// session in between. Were it to, the entry would be journaled without
			// having been applied here.
			c.log.Error("the engine refused an event it had accepted when checked", "err", err, "seq", e.Seq, "journaled", werr == nil)
			return err
		}
		if errors.Is(werr, journal.ErrFenced) || errors.Is(werr, journal.ErrLeased) {
			// Another instance took the call over (Ownership): it leaves this one.
			c.log.Warn("another instance took the call over; dropping it here", "err", werr)
			c.moved = true
			return ErrStorage
		}
		if werr != nil {
			c.storageBad = c.srv.clock.Now()
			c.srv.storageErrs.log(c.log, c.storageBad, "journal append failed; the input is not applied", "err", werr)
			c.rebuild()
			return ErrStorage
		}
	}
	c.storageBad = time.Time{}
	c.entries = append(c.entries, e)
	c.sendOutputs(outs, e)
	return nil
}

// rebuild recreates the session from the committed entries (after a failed journal
// write), re-deriving the frames already sent without sending them again.
func (c *call) rebuild() {
	clock := c.clock
	c.acks = map[string]int64{}
	c.whispered = map[string]struct{}{}
	entries := c.entries
	c.entries = nil
	c.reset()
	if err := c.replay(entries); err != nil { // cannot happen: these entries applied before
		c.log.Error("rebuilding a call from its entries failed", "err", err)
	}
	c.advance(clock)
	c.clock = clock
}

// tick fires the session's timers that are due at or before t, then sends the words due.
func (c *call) tick(t int64) {
	for !c.sess.Ended() {
		d, ok := c.sess.NextDeadline()
		if !ok || d > t {
			break
		}
		if !c.storageBad.IsZero() && c.srv.clock.Now().Sub(c.storageBad) < storageRetry {
			return
		}
		if err := c.step(engine.Event{Type: engine.EventTimeout, At: d}, ""); err != nil {
			return
		}
	}
	c.advance(t)
}

// advance sends the words due at or before t in every projection.
func (c *call) advance(t int64) {
	c.st.advance(t)
	if c.sup != nil {
		c.sup.advance(t)
	}
}

// finishHeld reports whether recording the result waits for the next post (afterStep).
func (c *call) finishHeld() bool { return c.posts < c.finishFrom }

// afterStep closes the connection and records the result once the call has ended.
//
// The result is recorded by the settle after the one whose step ended the session, unless
// that step also ends the stream: the step's messages (the customer's reply to the input
// that ended the call, whose entry is committed already) are written first, rather than
// after a second commit. A crash in between loses nothing: recovery replays the entries
// and records the result then. When the step sends the end message too (which the trainee
// follows to the debrief), the result is recorded first, as it always was.
func (c *call) afterStep(now time.Time) {
	unrecorded := c.sess.Ended() && !c.finished && c.jr != nil
	if unrecorded && c.finishFrom == 0 && !c.st.ended() {
		c.finishFrom = c.posts + 1
	}
	if c.finishHeld() {
		return
	}
	if unrecorded {
		r := journal.Result{Ended: now, End: *c.sess.End(), Fired: firedRules(c.st.feedback), Elapsed: c.sess.Now()}
		ctx, cancel := context.WithTimeout(context.Background(), storageTimeout)
		err := c.jr.Finish(ctx, c.id, r)
		switch {
		case errors.Is(err, journal.ErrFenced) || errors.Is(err, journal.ErrLeased):
			c.log.Warn("another instance took the call over before its result was recorded; dropping it here", "err", err)
			c.moved = true
		case err != nil && !errors.Is(err, journal.ErrFinished):
			c.srv.storageErrs.log(c.log, now, "journal finish failed", "err", err)
		default:
			c.finished = true
			if c.srv.onFinish != nil {
				c.srv.onFinish(c.id)
			}
		}
		cancel()
	}
	if c.st.ended() && c.endedAt.IsZero() {
		c.endedAt = now
		e := c.sess.End()
		c.log.Info("call ended", "ending", e.Ending, "outcome", e.Outcome, "passed", e.Passed, "elapsed_ms", c.sess.Now())
		if c.conn != nil {
			c.conn.finish(websocket.CloseNormalClosure, "the call has ended")
			c.conn = nil
			c.idleSince = now
		}
		c.dropSubs(websocket.CloseNormalClosure, "the call has ended")
	}
}

func firedRules(fb []protocol.Feedback) []string {
	fired := []string{}
	for _, f := range fb {
		if f.Rule != "" {
			fired = append(fired, f.Rule)
		}
	}
	return fired
}

// wake returns when the call next has something to do by itself.
func (c *call) wake() time.Time {
	if c.finishHeld() { // the result to record, at once
		return c.srv.clock.Now()
	}
	var at int64 = -1
	if d, ok := c.st.due(); ok {
		at = d
	}
	if d, ok := c.sess.NextDeadline(); ok && !c.sess.Ended() && (at < 0 || d < at) {
		at = d
	}
	var w time.Time
	if at >= 0 {
		w = c.created.Add(time.Duration(at) * time.Millisecond)
		if !c.storageBad.IsZero() {
			w = maxTime(w, c.storageBad.Add(storageRetry))
		}
	}
	if c.conn == nil {
		limit := c.idleSince.Add(callIdleTimeout)
		switch {
		case c.endedAt.IsZero():
		case c.debug != nil:
			limit = c.endedAt.Add(endedKeep)
		case !c.finished: // the result could not be recorded yet: try again soon
			limit = c.srv.clock.Now().Add(storageRetry)
		default:
			limit = c.srv.clock.Now()
		}
		if w.IsZero() || limit.Before(w) {
			w = limit
		}
	}
	return w
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// settle follows everything the call handles: it fires the timers and sends the words
// due, records the end, leaves memory when the call is over (or the floor stops), hands
// the step's messages to the connections, publishes the board snapshot and arms the
// timer for the next thing the call does by itself. Under c.mu.
func (c *call) settle() {
	now := c.srv.clock.Now()
	if c.srv.halted.Load() { // the floor is stopping (Shutdown wakes every call)
		c.leave()
		return
	}
	c.tick(c.now(now))
	c.afterStep(now)
	if c.discard(now) {
		c.leave()
		return
	}
	if c.conn != nil && !c.conn.flush() {
		c.dropConn()
	}
	c.flushSubs()
	c.publish()
	c.srv.wakes.set(c, c.wake())
}

// leave takes the call out of memory: its connections close with 1001 (the call is not
// over: the server stops, or another instance took it), its last board snapshot stays a
// while, and post refuses from then on. Under c.mu.
func (c *call) leave() {
	reason := "the server is stopping"
	if c.moved {
		reason = "the call moved to another instance; reconnect"
	}
	if c.conn != nil {
		c.conn.finish(websocket.CloseGoingAway, reason)
		c.conn = nil
	}
	c.dropSubs(websocket.CloseGoingAway, reason)
	c.publish() // the last snapshot: an ended call stays on the board a while
	c.srv.wakes.set(c, time.Time{})
	c.gone = true
	c.srv.remove(c)
}

// discard reports whether the call should leave memory now: ended and kept long enough,
// or open with nobody connected for too long (then it is hung up, so its record closes).
func (c *call) discard(now time.Time) bool {
	if c.moved {
		return true
	}
	if c.conn != nil {
		return false
	}
	if !c.endedAt.IsZero() {
		if c.debug != nil {
			return now.Sub(c.endedAt) >= endedKeep
		}
		// Released at once; a reconnect is served from the journal. A call whose result
		// is not recorded yet stays until it is (afterStep retries).
		return c.finished || c.jr == nil
	}
	if now.Sub(c.idleSince) < callIdleTimeout {
		return false
	}
	if !c.sess.Ended() {
		c.log.Info("hanging up a call nobody is connected to", "idle", callIdleTimeout)
		if err := c.step(engine.Event{Type: engine.EventHangup, At: c.now(now)}, ""); err != nil {
			return false // try again later; the journal still has the call open
		}
		c.afterStep(now)
	}
	return true
}

func (c *call) handle(m any) {
	switch m := m.(type) {
	case attachMsg:
		c.attach(m)
	case detachMsg:
		if c.conn == m.conn {
			c.conn.finish(0, "")
			c.dropConn()
		}
		if _, ok := c.subs[m.conn]; ok {
			m.conn.finish(0, "")
			c.dropSub(m.conn)
		}
	case localError:
		if _, ok := c.subs[m.conn]; ok {
			c.subError(m)
			return
		}
		if c.conn != m.conn {
			return
		}
		at := c.now(m.arrived)
		c.srv.metrics.Errors.WithLabelValues(m.code).Inc()
		if !c.conn.queue(protocol.ErrorFrame(at, m.code, m.message, m.id)) {
			c.dropConn()
			return
		}
		if m.close != 0 {
			c.conn.finish(m.close, m.message)
			c.dropConn()
		}
	case inMsg:
		c.input(m)
	case recordMsg:
		m.reply <- c.record(m.name)
	}
}

func (c *call) attach(m attachMsg) {
	if m.conn.supervisor {
		c.attachSub(m)
		return
	}
	k := m.conn
	if c.conn != nil && c.conn.arrival > k.arrival {
		// An older request reached the call after a newer one (its handler was slower):
		// the newer connection keeps the call, and this one is closed as replaced.
		k.start()
		k.finish(protocol.CloseReplaced, "replaced by a newer connection")
		return
	}
	if c.conn != nil {
		c.conn.finish(protocol.CloseReplaced, "replaced by a newer connection")
	}
	after := min(max(m.after, 0), c.sent)
	if after < c.sent {
		k.backlog = c.framesBetween(after, c.sent)
	}
	c.log.Info("connected", "replayed", len(k.backlog))
	k.start()
	if !c.endedAt.IsZero() {
		k.finish(websocket.CloseNormalClosure, "the call has ended")
		c.idleSince = c.srv.clock.Now()
		return
	}
	c.conn = k
}

// input handles a client message: timers due before it fire first, a retried id gets its
// recorded acknowledgement again, and the rest goes to the session.
func (c *call) input(m inMsg) {
	if m.conn.supervisor {
		c.supervisorInput(m)
		return
	}
	if c.conn != m.conn {
		return // from a replaced connection
	}
	at := c.now(m.arrived)
	c.tick(at)
	c.afterStep(c.srv.clock.Now())
	if seq, ok := c.acks[m.msg.ID]; ok {
		if f := c.framesBetween(seq-1, seq); len(f) == 1 && c.conn != nil && !c.conn.queue(f[0]) {
			c.dropConn()
		}
		return
	}
	refuse := func(code, msg string) {
		c.srv.metrics.Errors.WithLabelValues(code).Inc()
		if c.conn != nil && !c.conn.queue(protocol.ErrorFrame(at, code, msg, m.msg.ID)) {
			c.dropConn()
		}
	}
	if c.sess.Ended() {
		refuse(protocol.CodeNotAllowed, "the call has ended")
		return
	}
	if m.msg.Type == protocol.TypeWhisper {
		refuse(protocol.CodeNotAllowed, "only a supervisor listening to the call can whisper")
		return
	}
	ev := engine.Event{Type: engine.EventType(m.msg.Type), At: at}
	if m.msg.Text != nil {
		ev.Text = *m.msg.Text
	}
	if m.msg.Index != nil {
		ev.Index = *m.msg.Index
	}
	if err := c.step(ev, m.msg.ID); err != nil {
		if errors.Is(err, ErrStorage) {
			refuse(protocol.CodeStorage, err.Error())
			return
		}
		refuse(protocol.CodeNotAllowed, notAllowedText(err))
		return
	}
	c.srv.metrics.Turn.Observe(c.srv.clock.Now().Sub(m.arrived).Seconds())
	c.afterStep(c.srv.clock.Now())
}

// notAllowedText words an engine refusal for the trainee.
func notAllowedText(err error) string {
	switch {
	case errors.Is(err, engine.ErrNotRinging):
		return "the phone is not ringing"
	case errors.Is(err, engine.ErrNotAnswered):
		return "answer the phone first"
	case errors.Is(err, engine.ErrBadChoice):
		return "that suggested reply is not offered now"
	case errors.Is(err, engine.ErrEnded):
		return "the call has ended"
	}
	return err.Error()
}
