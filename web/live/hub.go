package live

import (
	"github.com/gorilla/websocket"
	"github.com/switchboard-sim/switchboard/web/protocol"
)

// A call's hub of subscribers. Each audience has its own projection of the call's record,
// made by its own stream from the same engine outputs:
//
//   - the trainee (call.conn, at most one; a newer connection replaces it with close 4000):
//     the trainee's view through the coach filter, and for a studio debug call the
//     designer's debug frames after each step. Only this connection acts for the trainee.
//   - supervisors (call.subs, any number; see supervise.go): everything, never
//     coach-filtered, with score changes and the whisperers' ids, through call.sup, which
//     exists only while somebody listens. They may only whisper.
//
// Everything here runs under the call's lock.

// newSupStream makes a stream of the supervisors' projection.
func (c *call) newSupStream(emit func(int64, []byte)) *stream {
	st := newStream(c.sc.Persona.WPM, true, emit)
	st.full = true
	return st
}

// supProjection rebuilds the supervisors' projection of the call so far from its entries
// (the same session and stream, fed the same inputs, give the same messages): the frames
// a new supervisor catches up with, and the stream positioned at the call's clock.
func (c *call) supProjection() ([][]byte, *stream) {
	var frames [][]byte
	st := c.newSupStream(func(_ int64, f []byte) { frames = append(frames, f) })
	sess, outs := c.startSession(nil)
	st.outputs(outs, nil, 0)
	for _, e := range c.entries {
		st.advance(e.Event.At)
		var err error
		if outs, err = sess.Apply(e.Event, outs[:0]); err != nil { // applied before: cannot happen
			c.log.Error("rebuilding the supervisors' view failed", "entry", e.Seq, "err", err)
			break
		}
		st.outputs(outs, entryAck(e), e.Event.At)
	}
	st.advance(c.clock)
	return frames, st
}

// emitSup sends a frame of the supervisors' projection to every supervisor listening.
func (c *call) emitSup(seq int64, frame []byte) {
	if seq <= c.supSent { // re-emitted by a rebuild
		return
	}
	c.supSent = seq
	for k := range c.subs {
		if !k.queue(frame) {
			c.dropSub(k)
		}
	}
}

// attachSub adds a supervisor, who first catches up with the messages after m.after.
func (c *call) attachSub(m attachMsg) {
	k := m.conn
	frames, st := c.supProjection()
	after := min(max(m.after, 0), int64(len(frames)))
	k.backlog = frames[after:len(frames):len(frames)]
	replayed := len(k.backlog)
	k.start()
	if !c.endedAt.IsZero() {
		k.finish(websocket.CloseNormalClosure, "the call has ended")
		return
	}
	if c.sup == nil {
		st.emit = c.emitSup
		c.sup, c.supSent = st, st.seq
	}
	c.subs[k] = struct{}{}
	c.log.Info("supervisor listening", "replayed", replayed, "listeners", len(c.subs))
}

// dropSub forgets a supervisor; with nobody left, the projection stops.
func (c *call) dropSub(k *conn) {
	delete(c.subs, k)
	if len(c.subs) == 0 {
		c.sup = nil
	}
}

// dropSubs closes every supervisor's connection with code.
func (c *call) dropSubs(code int, reason string) {
	for k := range c.subs {
		k.finish(code, reason)
	}
	clear(c.subs)
	c.sup = nil
}

// flushSubs hands each supervisor the frames of the current step.
func (c *call) flushSubs() {
	for k := range c.subs {
		if !k.flush() {
			c.dropSub(k)
		}
	}
}

// subError sends a connection-local error to a supervisor.
func (c *call) subError(m localError) {
	if !m.conn.queue(protocol.ErrorFrame(c.now(m.arrived), m.code, m.message, m.id)) {
		c.dropSub(m.conn)
		return
	}
	if m.close != 0 {
		m.conn.finish(m.close, m.message)
		c.dropSub(m.conn)
	}
}
