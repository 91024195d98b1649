package live

import (
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/switchboard-sim/switchboard/web/protocol"
)

// Timeouts of a websocket connection (docs/protocol.md, "Keep-alive").
const (
	writeWait  = 10 * time.Second // deadline of every write
	pongWait   = 30 * time.Second // a connection that sends nothing for this long is dropped
	pingPeriod = 27 * time.Second // must be less than pongWait
	// closeGrace is how long a connection stays open after the server's close frame,
	// waiting for the client's own (RFC 6455, section 7.1.1: the server closes the TCP
	// connection once both have been sent). Meanwhile the connection is still read, so
	// whatever the client sent before it saw the close (a say crossing the call's end, a
	// pong) is read and dropped; closing at once made the client's kernel answer that
	// with a reset, and a client whose write then failed lost the messages still unread
	// before the close frame.
	closeGrace = time.Second
)

// conn is one websocket connection to a call, in gorilla's chat pattern: one reader
// goroutine (readLoop) and at most one writer at a time (writeLoop). Only the call (under
// its lock) queues frames and ends the queue, and it never writes to the socket itself, so
// a slow client can never stall the call: when its queue is full it is dropped (close
// 1008).
//
// The writer runs only while it has something to write: a post that queues a step when no
// writer runs starts one, which the post runs on its own goroutine once it has let go of
// the call's lock (call.post); the writer drains the queue (a burst is still one websocket
// write) and ends. An idle call (most of the time: a word every few hundred milliseconds
// while the customer speaks, then seconds of silence) holds no writer; pings go out from a
// timer (WriteControl may run beside a write). See docs/performance.md, "Memory per call".
type conn struct {
	ws   *websocket.Conn
	call *call
	log  *slog.Logger
	// running is the floor's count of goroutines; a writer counts in it while it runs.
	running *sync.WaitGroup
	// supervisor marks a supervisor listening: it gets the supervisors' projection and
	// may only whisper. Set before the connection is attached, never changed.
	supervisor bool
	// arrival orders a trainee's connections to one call (Found.arrival): an older one
	// never replaces a newer one. Set before the connection is attached, never changed.
	arrival uint64

	// backlog is set under the call's lock before start, then read by the writer.
	backlog [][]byte

	mu        sync.Mutex // guards the fields below (the call, the writer, the ping timer)
	ready     bool       // start was called: the backlog is set
	outq      [][]byte   // websocket messages for the writer, at most sendQueueLen
	writing   bool       // a writer goroutine runs
	ending    bool       // no more messages: after the queue, the close frame, then the socket
	shut      bool       // the socket is closed (or failed): nothing more is written
	closeCode int
	closeMsg  string
	ping      *time.Timer
	readDone  bool // the reader has returned
	// closeBy is when the socket closes if the client has not answered the server's close
	// frame (Unix nanoseconds; 0 until that frame is sent). Set under mu, read by the
	// reader without it (readUntil).
	closeBy atomic.Int64

	// Owned by the call (under its lock).
	pending [][]byte // frames of the current step, queued together by flush
	closed  bool
}

// maxBatchBytes bounds one websocket message made of several protocol messages (when a
// backlog is replayed; a step's messages always go together).
const maxBatchBytes = 32 << 10

func newConn(ws *websocket.Conn, c *call, log *slog.Logger, running *sync.WaitGroup) *conn {
	return &conn{ws: ws, call: c, log: log, running: running}
}

// start lets the writer run once the backlog is set (a replay from after). Under the call's
// lock, once.
func (k *conn) start() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.ready = true
	if !k.shut {
		k.ping = time.AfterFunc(pingPeriod, k.sendPing)
	}
	k.kickLocked()
}

// kickLocked starts a writer if there is something to write and none runs. Under k.mu.
func (k *conn) kickLocked() {
	if !k.ready || k.writing || k.shut || (len(k.backlog) == 0 && len(k.outq) == 0 && !k.ending) {
		return
	}
	k.writing = true
	k.running.Add(1) // under the call's lock (the call counts in running), or the floor's
	if k.call != nil {
		// The call's post runs it once it lets go of the call's lock.
		k.call.kicked = append(k.call.kicked, k)
		return
	}
	go k.writeLoop()
}

// sendPing pings the client (from the ping timer) and re-arms the timer.
func (k *conn) sendPing() {
	if err := k.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
		_ = k.ws.Close() // the reader sees it and detaches the connection
		return
	}
	k.mu.Lock()
	if !k.shut {
		k.ping.Reset(pingPeriod)
	}
	k.mu.Unlock()
}

// queue adds a frame to those of the current step; it reports false when the connection
// is closed. Under the call's lock.
func (k *conn) queue(frame []byte) bool {
	if k.closed {
		return false
	}
	k.pending = append(k.pending, frame)
	return true
}

// flush hands the frames of the current step to the writer as one websocket message
// (protocol messages separated by newlines: one write instead of one per message). It
// reports false, after closing the connection, when the send queue is full. Call
// goroutine only.
func (k *conn) flush() bool {
	if k.closed {
		return false
	}
	if len(k.pending) == 0 {
		return true
	}
	batch := joinFrames(k.pending)
	clear(k.pending)
	k.pending = k.pending[:0]
	k.mu.Lock()
	if k.shut { // a write failed: the reader is about to detach the connection
		k.mu.Unlock()
		return true
	}
	if len(k.outq) < sendQueueLen {
		k.outq = append(k.outq, batch)
		k.kickLocked()
		k.mu.Unlock()
		return true
	}
	k.shutLocked()
	k.mu.Unlock()
	k.log.Warn("dropping a client too slow to read", "queued", sendQueueLen)
	k.closed = true
	// Close at once: the writer may be blocked on this very client.
	_ = k.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "too slow to read"), time.Now().Add(writeWait))
	_ = k.ws.Close()
	return false
}

// shutLocked marks the connection as finished with: no writer starts again, the queue
// and the pings go. Under k.mu.
func (k *conn) shutLocked() {
	k.shut = true
	clear(k.outq)
	k.outq, k.backlog = nil, nil
	if k.ping != nil {
		k.ping.Stop()
	}
}

// joinFrames joins protocol messages with newlines (JSON text never holds a raw newline).
func joinFrames(frames [][]byte) []byte {
	if len(frames) == 1 {
		return frames[0]
	}
	n := len(frames) - 1
	for _, f := range frames {
		n += len(f)
	}
	b := make([]byte, 0, n)
	for i, f := range frames {
		if i > 0 {
			b = append(b, '\n')
		}
		b = append(b, f...)
	}
	return b
}

// finish flushes the step's frames and lets the writer send what is queued, then a close
// frame with code (none when 0), then close the socket. Under the call's lock.
func (k *conn) finish(code int, reason string) {
	if !k.flush() {
		return
	}
	k.closed = true
	k.mu.Lock()
	k.ending = true
	k.closeCode, k.closeMsg = code, reason
	k.kickLocked()
	k.mu.Unlock()
}

// writeLoop is the writer: it writes the backlog, then the queued messages (those queued
// meanwhile go in the same websocket message: a burst costs one write), and returns when
// nothing is left — once the queue has ended, after the close frame (the reader then
// closes the socket when the client answers it, within closeGrace: sendClose) or after
// closing the socket when there is no close frame to send; or at once when a write
// fails.
func (k *conn) writeLoop() {
	defer k.running.Done()
	k.mu.Lock()
	for {
		var frames [][]byte
		switch {
		case len(k.backlog) > 0:
			n, size := 0, 0
			for n < len(k.backlog) && (n == 0 || size+len(k.backlog[n]) < maxBatchBytes) {
				size += len(k.backlog[n]) + 1
				n++
			}
			frames = k.backlog[:n]
			k.backlog = k.backlog[n:]
		case len(k.outq) > 0:
			n, size := 1, len(k.outq[0])
			for n < len(k.outq) && size < maxBatchBytes {
				size += len(k.outq[n]) + 1
				n++
			}
			frames = append(frames, k.outq[:n]...)
			m := copy(k.outq, k.outq[n:])
			clear(k.outq[m:])
			k.outq = k.outq[:m]
		case k.ending && !k.shut:
			code, reason := k.closeCode, k.closeMsg
			k.shutLocked()
			k.mu.Unlock()
			if code == 0 || !k.sendClose(code, reason) {
				_ = k.ws.Close()
			}
			return
		default: // nothing to write (or shut): the next flush starts a writer again
			k.writing = false
			k.mu.Unlock()
			return
		}
		k.mu.Unlock()
		if err := k.write(joinFrames(frames)); err != nil {
			k.mu.Lock()
			k.shutLocked()
			k.writing = false
			k.mu.Unlock()
			_ = k.ws.Close()
			return
		}
		k.mu.Lock()
	}
}

// sendClose writes the close frame with code and leaves the socket to the reader, which
// reads on until the client's close frame arrives or closeGrace has passed, then closes
// it. It reports false, leaving the socket to its caller to close, when the write failed
// or the reader has already returned.
func (k *conn) sendClose(code int, reason string) bool {
	_ = k.ws.SetWriteDeadline(time.Now().Add(writeWait))
	if err := k.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason)); err != nil {
		return false
	}
	by := time.Now().Add(closeGrace)
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.readDone {
		return false
	}
	k.closeBy.Store(by.UnixNano())
	_ = k.ws.SetReadDeadline(by)
	return true
}

// readUntil sets the read deadline to pongWait after from, or to closeBy once the close
// frame has gone. Reader only. Whichever of sendClose and readUntil sets its deadline
// last, the deadline ends up no later than closeBy: closeBy is stored before sendClose's
// deadline and read after this one.
func (k *conn) readUntil(from time.Time) {
	_ = k.ws.SetReadDeadline(from.Add(pongWait))
	if by := k.closeBy.Load(); by != 0 {
		_ = k.ws.SetReadDeadline(time.Unix(0, by))
	}
}

// readerDone records that the reader has returned, and closes the socket if the close
// frame has gone (sendClose left it to the reader). Reader only, once.
func (k *conn) readerDone() {
	k.mu.Lock()
	k.readDone = true
	closing := k.closeBy.Load() != 0
	k.mu.Unlock()
	if closing {
		_ = k.ws.Close()
	}
}

func (k *conn) write(f []byte) error {
	_ = k.ws.SetWriteDeadline(time.Now().Add(writeWait))
	if err := k.ws.WriteMessage(websocket.TextMessage, f); err != nil {
		k.log.Debug("websocket write failed", "err", err)
		return err
	}
	return nil
}

// readLoop reads client frames, refuses bad ones with a connection-local error, and hands
// good ones, stamped with their arrival time, to the call. It returns when the connection
// fails or closes, after telling the call.
//
// What a frame causes — decoding it, the call's step with the engine and the journal's
// commit, the writes — runs on a helper coroutine (helpers.aside), not on the reader's stack.
func (k *conn) readLoop() {
	defer k.call.srv.helpers.aside(func() { k.call.post(detachMsg{conn: k}) })
	defer k.readerDone()
	k.ws.SetReadLimit(protocol.MaxFrameBytes)
	k.readUntil(time.Now())
	k.ws.SetPongHandler(func(string) error { k.readUntil(time.Now()); return nil })
	limiter := rate.NewLimiter(RateLimit, RateBurst)
	var lastNotice time.Time
	for {
		kind, data, err := k.ws.ReadMessage()
		arrived := k.call.srv.clock.Now()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				k.log.Info("closing a connection that sent an oversized frame", "limit", protocol.MaxFrameBytes)
			}
			return
		}
		more := true
		limited := !limiter.AllowN(arrived, 1)
		if !limited || arrived.Sub(lastNotice) >= rateNoticeMillis*time.Millisecond {
			if limited {
				lastNotice = arrived
			}
			k.call.srv.helpers.aside(func() { more = k.handleFrame(kind, data, arrived, limited) })
		}
		// The next read's deadline and the count, after the frame's work: moving the
		// connection's deadline in the runtime's timers is not on the reply's path.
		k.readUntil(arrived)
		k.call.srv.metrics.MessagesIn.Inc()
		if !more {
			return
		}
	}
}

// handleFrame decodes a client frame and hands it to the call (or a connection-local
// error when it is refused, or the rate notice when limited); it reports false when the
// connection must stop reading.
func (k *conn) handleFrame(kind int, data []byte, arrived time.Time, limited bool) bool {
	switch {
	case limited:
		k.call.post(localError{conn: k, arrived: arrived, code: protocol.CodeRateLimited, message: "too many messages: at most 5 per second (bursts of 10)", id: peekID(data)})
		return true
	case kind != websocket.TextMessage:
		k.call.post(localError{conn: k, arrived: arrived, code: protocol.CodeBadJSON, message: "binary frames are not accepted; send JSON text"})
		return true
	}
	m, derr := protocol.DecodeClient(data)
	if derr != nil {
		e := localError{conn: k, arrived: arrived, code: derr.Code, message: derr.Message, id: derr.ID}
		if derr.Code == protocol.CodeBadUTF8 {
			e.close = websocket.CloseInvalidFramePayloadData
			k.call.post(e)
			return false
		}
		k.call.post(e)
		return true
	}
	k.call.post(inMsg{conn: k, msg: m, arrived: arrived})
	return true
}

// peekID returns the id of a frame if it has a valid one, for error messages.
func peekID(data []byte) string {
	m, err := protocol.DecodeClient(data)
	if err != nil {
		return err.ID
	}
	return m.ID
}
