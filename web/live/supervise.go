package live

import (
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/web/protocol"
)

// Supervisors: a call's second audience. A supervisor's connection (Floor.Listen) gets
// the supervisors' projection of the call (hub.go) — everything the trainee sees plus every
// rule feedback whatever the coach setting, score changes and whispers with their ids —
// and may send only whisper messages. The floor board (Floor.Board) lists the calls with
// alerts. Who may supervise is decided by the caller (the studio's roles).

// Floor board thresholds (docs/protocol.md, "Floor board"). A live call raises an alert
// when one of them is crossed.
const (
	// FloorSilence is how long nobody has said anything (the customer is not speaking and
	// the trainee has not replied) before the board flags the call.
	FloorSilence = 20 * time.Second
	// FloorTimerWarn is how close the call's next timer (a customer who gives up, hangs
	// up or prompts) must be for the board to flag it.
	FloorTimerWarn = 10 * time.Second
	// FloorBadMood is the customer's mood (-1 furious .. 1 delighted) at or below which the
	// board flags the call as going badly.
	FloorBadMood = -0.5
	// FloorEndedKeep is how long an ended call stays on the board, marked ended with its
	// outcome, before it leaves it.
	FloorEndedKeep = 60 * time.Second
	// MaxWatchRules bounds the rules a floor request may watch.
	MaxWatchRules = 50
)

// whisperIDPrefix starts the journal's client id of a whisper, so that a supervisor's
// message ids never collide with the trainee's.
const whisperIDPrefix = "whisper:"

// supervisorInput handles a supervisor's message: a whisper is journaled like every input
// and shown to the trainee and the supervisors; anything else is refused, since only the
// trainee's connection acts for the trainee.
func (c *call) supervisorInput(m inMsg) {
	k := m.conn
	if _, ok := c.subs[k]; !ok {
		return
	}
	at := c.now(m.arrived)
	c.tick(at)
	c.afterStep(c.srv.clock.Now())
	refuse := func(code, msg string) {
		if !k.queue(protocol.ErrorFrame(at, code, msg, m.msg.ID)) {
			c.dropSub(k)
		}
	}
	if m.msg.Type != protocol.TypeWhisper {
		refuse(protocol.CodeNotAllowed, "a supervisor can only whisper: only the trainee's connection acts for the trainee")
		return
	}
	id := whisperIDPrefix + m.msg.ID
	if _, dup := c.whispered[id]; dup {
		return // a retry: the whisper message already carries its id
	}
	if c.sess.Ended() {
		refuse(protocol.CodeNotAllowed, "the call has ended")
		return
	}
	if err := c.step(engine.Event{Type: engine.EventWhisper, At: at, Text: *m.msg.Text}, id); err != nil {
		if errors.Is(err, ErrStorage) {
			refuse(protocol.CodeStorage, err.Error())
			return
		}
		refuse(protocol.CodeNotAllowed, notAllowedText(err))
		return
	}
	c.afterStep(c.srv.clock.Now())
}

// FloorCall is one live call as the floor board shows it (GET /api/supervise/floor).
type FloorCall struct {
	ID         string    `json:"id"`
	Trainee    string    `json:"trainee"`
	ScenarioID string    `json:"scenario_id"`
	Title      string    `json:"title"`
	Started    time.Time `json:"started"`
	Node       string    `json:"node"`
	Elapsed    int64     `json:"elapsed_ms"`
	Mood       float64   `json:"mood"`
	// Fired lists the rules that fired so far, in order (a rule firing twice is listed twice).
	Fired    []string `json:"fired"`
	Whispers int      `json:"whispers"`
	Speaking bool     `json:"speaking"` // the customer is speaking
	// Typing: the trainee is composing a reply (their first keystroke has arrived).
	Typing bool `json:"typing"`
	// Silence is how long nothing has been said, while the customer is not speaking; up
	// to the trainee's first keystroke while they type (typing is talking).
	Silence int64 `json:"silence_ms"`
	// TimerIn is how long until the call's next timer fires; absent when none is set.
	TimerIn   *int64 `json:"timer_in_ms,omitempty"`
	Connected bool   `json:"connected"` // the trainee's page is connected
	Listeners int    `json:"listeners"` // supervisors listening
	Ended     bool   `json:"ended"`
	// EndedAt is when the call ended (absent while it is live); it leaves the board
	// FloorEndedKeep later.
	EndedAt *time.Time `json:"ended_at,omitempty"`
	// Debug marks a designer's debug call played from the studio (trainee "Test").
	Debug bool `json:"debug,omitempty"`
	// Instance names the instance that runs the call, with several instances (PostgreSQL
	// and peers; set by the API's merged board, empty with one instance).
	Instance string `json:"instance,omitempty"`
	Outcome  string `json:"outcome,omitempty"`
	Passed   bool   `json:"passed,omitempty"`
	// Alerts say why the call needs a look: "rule:ID" (a watched rule fired), "silence",
	// "timer" (the customer may give up soon) and "mood".
	Alerts []string `json:"alerts"`
}

// floorSnap is what a call publishes for the board after each step.
type floorSnap struct {
	FloorCall
	clock    int64 // the call clock when published
	spoke    int64 // call-clock time of the last thing said
	deadline int64 // the next timer, -1 for none
	typing   int64 // call-clock time of the first keystroke of the reply being typed, -1 for none
}

// floorState is the call's side of the board: the published snapshot and what
// it was made from, so that an unchanged call publishes nothing.
type floorState struct {
	snap atomic.Pointer[floorSnap]
	key  boardKey
}

// boardKey is what a call's board snapshot shows, but for the call clock: a step that
// changes none of it publishes nothing. A word of the customer's line is such a step
// (it advances the seq and the clock only), and the board reads the clock as at least
// the time since the call started (Board), so republishing for every word, which made
// a new snapshot per word and per call, a quarter of the bytes a loaded server
// allocated, showed nothing new.
type boardKey struct {
	entries, feedback, whispers, subs int
	node                              string
	mood                              float64
	speaking, connected, over, ended  bool
	spoke, deadline, typing           int64
}

// publish makes a new board snapshot when what the board shows of the call changed
// (boardKey). Under the call's lock.
func (c *call) publish() {
	deadline := int64(-1)
	if d, ok := c.sess.NextDeadline(); ok {
		deadline = d
	}
	typing := int64(-1)
	if composing, since := c.sess.Composing(); composing && !c.sess.Ended() {
		typing = since
	}
	k := boardKey{entries: len(c.entries), feedback: len(c.st.feedback), whispers: len(c.whispered), subs: len(c.subs),
		node: c.sess.Node(), mood: c.sess.Mood(), speaking: c.st.line.active && !c.sess.Ended(), connected: c.conn != nil,
		over: c.sess.Ended(), ended: !c.endedAt.IsZero(), spoke: c.st.spoke, deadline: deadline, typing: typing}
	if k == c.floor.key && c.floor.snap.Load() != nil {
		return
	}
	c.floor.key = k
	fc := FloorCall{ID: c.id, Trainee: c.info.Trainee, ScenarioID: c.info.ScenarioID, Title: c.info.Title,
		Started: c.created, Node: k.node, Mood: k.mood, Fired: firedRules(c.st.feedback),
		Whispers: k.whispers, Speaking: k.speaking, Typing: typing >= 0, Connected: k.connected, Listeners: k.subs,
		Debug: c.debug != nil}
	if e := c.sess.End(); e != nil {
		fc.Ended, fc.Outcome, fc.Passed = true, e.Outcome, e.Passed
		if !c.endedAt.IsZero() {
			at := c.endedAt
			fc.EndedAt = &at
		}
	}
	c.floor.snap.Store(&floorSnap{FloorCall: fc, clock: c.clock, spoke: k.spoke, deadline: deadline, typing: typing})
}

// Board lists the calls on the floor, oldest first, as of now, with their alerts: the live
// calls (trainees' and the studio's debug calls, marked Debug), and the calls that ended
// less than FloorEndedKeep ago, marked Ended with their outcome. watch names the rules
// whose firing raises an alert.
func (s *Floor) Board(now time.Time, watch []string) []FloorCall {
	s.mu.Lock()
	snaps := make([]*floorSnap, 0, len(s.calls)+len(s.recent))
	for _, c := range s.calls {
		if p := c.floor.snap.Load(); p != nil && !s.gone(p, now) {
			snaps = append(snaps, p)
		}
	}
	for id, p := range s.recent {
		if s.gone(p, now) {
			delete(s.recent, id)
		} else if s.calls[id] == nil {
			snaps = append(snaps, p)
		}
	}
	s.mu.Unlock()
	out := make([]FloorCall, 0, len(snaps))
	for _, p := range snaps {
		fc := p.FloorCall
		clock := p.clock
		if !fc.Ended {
			clock = max(clock, now.Sub(fc.Started).Milliseconds())
		}
		fc.Elapsed = clock
		fc.Alerts = []string{}
		for _, r := range fc.Fired {
			if slices.Contains(watch, r) && !slices.Contains(fc.Alerts, "rule:"+r) {
				fc.Alerts = append(fc.Alerts, "rule:"+r)
			}
		}
		if !fc.Ended {
			if !fc.Speaking {
				until := clock
				if p.typing >= 0 {
					until = min(clock, p.typing) // typing is talking: the silence ended at the first keystroke
				}
				fc.Silence = max(until-p.spoke, 0)
				if fc.Silence >= FloorSilence.Milliseconds() {
					fc.Alerts = append(fc.Alerts, "silence")
				}
			}
			if p.deadline >= 0 {
				in := max(p.deadline-clock, 0)
				fc.TimerIn = &in
				if in <= FloorTimerWarn.Milliseconds() {
					fc.Alerts = append(fc.Alerts, "timer")
				}
			}
			if fc.Mood <= FloorBadMood {
				fc.Alerts = append(fc.Alerts, "mood")
			}
		}
		out = append(out, fc)
	}
	slices.SortFunc(out, func(a, b FloorCall) int {
		if c := a.Started.Compare(b.Started); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// ParseWatch reads a comma-separated list of rule ids (the floor's "watch" parameter).
func ParseWatch(v string) []string {
	var out []string
	for _, r := range strings.Split(v, ",") {
		if r = strings.TrimSpace(r); r != "" && len(out) < MaxWatchRules {
			out = append(out, r)
		}
	}
	return out
}

// Listenable reports whether call id is live and may be listened to: a trainee's call or
// a designer's debug call from the studio.
func (s *Floor) Listenable(id string) bool {
	s.mu.Lock()
	c := s.calls[id]
	s.mu.Unlock()
	return c != nil
}

// Listen attaches a supervisor's websocket to live call id, sending the supervisors'
// projection after seq after, and returns; goroutines of the call's read and write it
// until it closes. The caller has checked who
// may supervise. A call that is gone closes the websocket with 1001.
func (s *Floor) Listen(ws *websocket.Conn, id string, after int64) {
	s.mu.Lock()
	c := s.calls[id]
	s.mu.Unlock()
	if c == nil {
		closeGone(ws)
		return
	}
	s.attachConn(ws, c, after, true, 0)
}

func closeGone(ws *websocket.Conn) {
	_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "the call is gone"), time.Now().Add(writeWait))
	_ = ws.Close()
}

// attachConn attaches a websocket to call c (as the trainee's or a supervisor's) and
// returns: the connection's reader runs on a goroutine of its own until it closes, its
// writer whenever it has something to write (conn). arrival orders the trainee's
// connections (Found.arrival).
//
// The reader does not run on the caller's goroutine (the HTTP handler's) on purpose:
// while a handler runs, net/http keeps its connection's state — a 4 KiB read buffer, a
// 4 KiB write buffer, the request and its headers — and the handler's deep stack, though
// the websocket uses none of them after the upgrade. Returning frees ~12 KiB per live
// call (docs/performance.md, "Memory per call").
func (s *Floor) attachConn(ws *websocket.Conn, c *call, after int64, supervisor bool, arrival uint64) {
	k := newConn(ws, c, c.log, &s.running)
	k.supervisor = supervisor
	k.arrival = arrival
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "the server is stopping"), time.Now().Add(writeWait))
		_ = ws.Close()
		return
	}
	s.running.Add(1) // the reader (the writer counts itself while it runs)
	s.mu.Unlock()
	if !c.post(attachMsg{conn: k, after: after}) {
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "the call is gone"), time.Now().Add(writeWait))
		_ = ws.Close()
		s.running.Done()
		return
	}
	go func() {
		defer s.running.Done()
		k.readLoop()
	}()
}

// gone reports whether an ended call has been on the board for FloorEndedKeep.
func (s *Floor) gone(p *floorSnap, now time.Time) bool {
	return p.EndedAt != nil && now.Sub(*p.EndedAt) >= FloorEndedKeep
}

// keepOnBoard keeps the last board snapshot of a call leaving memory, when it has ended,
// so that the board shows it ended for FloorEndedKeep. Under s.mu.
func (s *Floor) keepOnBoard(c *call) {
	p := c.floor.snap.Load()
	if p == nil || p.EndedAt == nil {
		return
	}
	if len(s.recent) >= s.maxCalls { // bounded like the live calls: the oldest goes first
		var oldest string
		for id, q := range s.recent {
			if oldest == "" || q.EndedAt.Before(*s.recent[oldest].EndedAt) {
				oldest = id
			}
		}
		delete(s.recent, oldest)
	}
	s.recent[c.id] = p
}
