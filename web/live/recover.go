package live

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/web/protocol"
)

// recoverBatch is how many open calls Recover brings back between two progress reports.
const recoverBatch = 256

// Errors of recoverCall.
var (
	errCallEnded = errors.New("the call has ended")
	errFull      = errors.New("the server holds as many calls as it may")
	errStopping  = errors.New("the server is stopping")
	errBroken    = errors.New("the call cannot be rebuilt from its journal")
)

// scenarioCache shares one compiled scenario among the recovered and replayed calls that
// recorded the same sources (by hash), instead of compiling them once per call.
type scenarioCache struct {
	mu     sync.Mutex
	byHash map[string]*engine.Scenario
}

// scenarioFor returns the compiled scenario a recorded call was played with: the offered
// one when its hash matches, else one rebuilt from the recorded sources (and cached).
func (s *Floor) scenarioFor(info journal.Call) (*engine.Scenario, error) {
	if sc := s.offered(info.ScenarioID); sc != nil && sc.Hash == info.Hash && info.Hash != "" {
		return sc, nil
	}
	s.scCache.mu.Lock()
	sc := s.scCache.byHash[info.Hash]
	s.scCache.mu.Unlock()
	if sc != nil && info.Hash != "" {
		return sc, nil
	}
	sc, diags := engine.LoadSources(info.Sources)
	if diags.HasErrors() {
		return nil, fmt.Errorf("rebuilding its scenario: %s", diags.Error())
	}
	if info.Hash != "" && sc.Hash == info.Hash {
		s.scCache.mu.Lock()
		if s.scCache.byHash == nil {
			s.scCache.byHash = map[string]*engine.Scenario{}
		}
		s.scCache.byHash[info.Hash] = sc
		s.scCache.mu.Unlock()
	}
	return sc, nil
}

// Recover brings back every open call the journal holds (after a restart or a crash), up
// to MaxCalls (with ownership: those no live lease holds): each is rebuilt from its
// entries; timers that fell due while the server was down fire at once. It works through
// the calls recoverWorkers at a time, logging its progress every recoverBatch calls, and
// the server may serve meanwhile: a client that reconnects to a call not yet reached has
// it recovered on the spot (handleWS). It returns how many calls came back.
func (s *Floor) Recover(ctx context.Context) (int, error) {
	if s.journal == nil {
		return 0, nil
	}
	ids, err := s.openToRecover(ctx)
	if err != nil {
		return 0, fmt.Errorf("listing open calls: %w", err)
	}
	began := time.Now()
	t := s.recoverAll(ctx, ids, viaStart, func(done int) {
		s.log.Info("recovering open calls", "done", done, "of", len(ids), "elapsed", time.Since(began).Round(time.Millisecond))
	})
	if t.stop != nil {
		s.log.Warn("not recovering the remaining open calls", "reason", t.stop, "left", t.left)
	} else if t.done < len(ids) {
		return t.fresh, ctx.Err()
	}
	return t.fresh, nil
}

// recoverCall brings the open call id back into memory, unless it already is; fresh tells
// that this call did it. errCallEnded if the journal says the call has ended.
// via says why, for the metrics (viaStart, viaSweep, viaReconnect). A call whose scenario
// cannot be rebuilt or whose entries do not replay fails with errBroken.
func (s *Floor) recoverCall(ctx context.Context, id, via string) (c *call, fresh bool, err error) {
	s.mu.Lock()
	c = s.calls[id]
	s.mu.Unlock()
	if c != nil {
		return c, false, nil
	}
	if s.own != nil {
		// Take the call's lease first (unless the adoption sweep just did): refused while
		// another instance's lease lives.
		if !s.own.holds(id) {
			if err := s.own.claim(ctx, id); err != nil {
				return nil, false, err
			}
		}
		defer func() {
			if !fresh && err != nil {
				s.own.release(ctx, id) // not run here: free for another instance at once
			}
		}()
	}
	info, entries, res, err := s.journal.Load(ctx, id)
	if err != nil {
		return nil, false, err
	}
	if res != nil {
		return nil, false, errCallEnded
	}
	sc, err := s.scenarioFor(info)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", errBroken, err)
	}
	info.Sources = sc.Sources // the same bytes (same hash), shared
	c = newCall(s, info, sc, info.Created, s.journal, nil)
	if err := c.replay(entries); err != nil {
		return nil, false, fmt.Errorf("%w: replaying it: %w", errBroken, err)
	}
	// Nobody is connected to the call here yet: the idle limit (callIdleTimeout) counts
	// from now, not from the call's start, so that a long call recovered or adopted is not
	// hung up before its trainee had a chance to reconnect.
	c.idleSince = s.clock.Now()
	s.mu.Lock()
	switch {
	case s.calls[id] != nil:
		defer s.mu.Unlock()
		return s.calls[id], false, nil
	case s.stopping:
		s.mu.Unlock()
		return nil, false, errStopping
	case len(s.calls)+s.reserved >= s.maxCalls:
		s.mu.Unlock()
		return nil, false, errFull
	}
	s.calls[id] = c
	s.running.Add(1) // released when the call leaves memory (call.leave)
	s.mu.Unlock()
	c.post(nil) // its first settle: timers due while it was away fire, its wake-up is set
	s.metrics.Recovered.WithLabelValues(via).Inc()
	return c, true, nil
}

// endedCall is a call that has left memory, loaded from the journal to replay it to a
// client that reconnects.
type endedCall struct {
	info    journal.Call
	sc      *engine.Scenario
	entries []journal.Entry
}

// findCall looks a call up for a websocket: in memory, else in the journal, where an open
// one (not yet recovered) is recovered now and an ended one is returned for a replay.
// elsewhere is the call when another live instance owns it (Ownership), for its token.
func (s *Floor) findCall(ctx context.Context, id string) (c *call, ended *endedCall, elsewhere *journal.Call) {
	s.mu.Lock()
	c = s.calls[id]
	s.mu.Unlock()
	if c != nil || s.journal == nil {
		return c, nil, nil
	}
	c, _, err := s.recoverCall(ctx, id, viaReconnect)
	if err == nil {
		return c, nil, nil
	}
	if errors.Is(err, journal.ErrLeased) {
		s.log.Info("a reconnect to a call another instance owns", "call", id, "err", err)
		info, _, _, err := s.journal.Load(ctx, id)
		if err != nil {
			return nil, nil, nil
		}
		return nil, nil, &info
	}
	if !errors.Is(err, errCallEnded) && !errors.Is(err, journal.ErrFinished) {
		if !errors.Is(err, journal.ErrNotFound) {
			s.log.Warn("a reconnect to a call not in memory", "call", id, "err", err)
		}
		return nil, nil, nil
	}
	info, entries, _, err := s.journal.Load(ctx, id)
	if err != nil {
		return nil, nil, nil
	}
	sc, err := s.scenarioFor(info)
	if err != nil {
		s.log.Error("cannot replay an ended call", "call", id, "err", err)
		return nil, nil, nil
	}
	return nil, &endedCall{info: info, sc: sc, entries: entries}, nil
}

// serveEnded sends an ended call's messages after seq after, re-derived from its journal
// entries, then closes with 1000, as a reconnect to a call in memory would.
func (s *Floor) serveEnded(ws *websocket.Conn, e *endedCall, after int64) {
	log := s.log.With("call", e.info.ID)
	k := newConn(ws, nil, log, &s.running)
	k.backlog = replayEnded(s, e.info, e.sc, e.entries, after)
	log.Info("connected to an ended call", "replayed", len(k.backlog))
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		_ = ws.Close()
		return
	}
	// Under the floor's lock, so that the writer counts in s.running before Shutdown
	// can wait for it.
	k.start()
	k.finish(websocket.CloseNormalClosure, "the call has ended")
	s.mu.Unlock()
	// Read until the writer closes the socket, so the client's close is answered.
	ws.SetReadLimit(protocol.MaxFrameBytes)
	_ = ws.SetReadDeadline(time.Now().Add(pongWait))
	for {
		if _, _, err := ws.NextReader(); err != nil {
			return
		}
	}
}

// Found is a call looked up for a trainee's websocket: live in memory, or ended and
// loaded from the journal for a replay.
type Found struct {
	c         *call
	ended     *endedCall
	elsewhere *journal.Call // another live instance runs the call (Ownership)
	// arrival orders the trainee's connections to the call: taken when the request was
	// looked up, before its upgrade was answered, so a client that opens a second
	// connection after the first was accepted always holds a later number.
	arrival uint64
}

// TokenHash is the hash of the call's token, to check the client's (access.CallTokenOK).
func (f Found) TokenHash() string {
	switch {
	case f.c != nil:
		return f.c.info.TokenHash
	case f.ended != nil:
		return f.ended.info.TokenHash
	}
	return f.elsewhere.TokenHash
}

// OwnedElsewhere reports that another live instance runs the call: it cannot be served
// here until that instance's lease expires (answer protocol.CodeOwnedElsewhere).
func (f Found) OwnedElsewhere() bool { return f.elsewhere != nil }

// Find looks call id up for a trainee's websocket: in memory, else in the journal, where
// an open call not yet recovered is recovered now and an ended one is loaded for a replay.
// With ownership, a call another live instance runs is found too: OwnedElsewhere.
func (s *Floor) Find(ctx context.Context, id string) (Found, bool) {
	c, e, o := s.findCall(ctx, id)
	return Found{c: c, ended: e, elsewhere: o, arrival: s.arrivals.Add(1)}, c != nil || e != nil || o != nil
}

// Serve attaches the trainee's websocket to a call found by Find and returns; goroutines
// of the call's read and write it until it closes: the call's messages after seq after,
// then the live call (a newer trainee connection replaces this one with close 4000). An
// ended call's messages are replayed, then the websocket closes with 1000 (before Serve
// returns).
func (s *Floor) Serve(ws *websocket.Conn, f Found, after int64) {
	if f.ended != nil {
		s.serveEnded(ws, f.ended, after)
		return
	}
	s.attachConn(ws, f.c, after, false, f.arrival)
}
