package live

import (
	"errors"
	"log/slog"
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
)

// conn is one websocket connection to a call, in gorilla's chat pattern: one reader
// goroutine (readLoop) and one writer goroutine (writeLoop). Only the call's goroutine
// queues frames and closes the queue, so a slow client can never stall the call: when
// its queue is full it is dropped (close 1008).
type conn struct {
	ws   *websocket.Conn
	call *call
	log  *slog.Logger
	// supervisor marks a supervisor listening: it gets the supervisors' projection and
	// may only whisper. Set before the connection is attached, never changed.
	supervisor bool
	// arrival orders a trainee's connections to one call (Found.arrival): an older one
	// never replaces a newer one. Set before the connection is attached, never changed.
	arrival uint64
	send    chan []byte   // frames to write; closed by the call goroutine to end the writer
	ready   chan struct{} // closed by the call goroutine once backlog is set

	// Set by the call goroutine before ready is closed, read by the writer after.
	backlog [][]byte

	// Owned by the call goroutine.
	pending     [][]byte // frames of the current step, queued together by flush
	closeCode   int
	closeReason string
	closed      bool
}

// maxBatchBytes bounds one websocket message made of several protocol messages (when a
// backlog is replayed; a step's messages always go together).
const maxBatchBytes = 32 << 10

func newConn(ws *websocket.Conn, c *call, log *slog.Logger) *conn {
	return &conn{ws: ws, call: c, log: log, send: make(chan []byte, sendQueueLen), ready: make(chan struct{})}
}

// queue adds a frame to those of the current step; it reports false when the connection
// is closed. Call goroutine only.
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
	select {
	case k.send <- batch:
		return true
	default:
		k.log.Warn("dropping a client too slow to read", "queued", sendQueueLen)
		k.closed = true
		// Close at once: the writer may be blocked on this very client.
		_ = k.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "too slow to read"), time.Now().Add(writeWait))
		_ = k.ws.Close()
		close(k.send)
		return false
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
// frame with code. Call goroutine only.
func (k *conn) finish(code int, reason string) {
	if !k.flush() {
		return
	}
	k.closed = true
	k.closeCode, k.closeReason = code, reason
	close(k.send)
}

// writeLoop writes the backlog, then queued frames, and pings; it returns when the queue
// is closed or a write fails.
func (k *conn) writeLoop() {
	ping := time.NewTicker(pingPeriod)
	defer func() {
		ping.Stop()
		_ = k.ws.Close()
	}()
	<-k.ready
	for len(k.backlog) > 0 {
		n, size := 0, 0
		for n < len(k.backlog) && (n == 0 || size+len(k.backlog[n]) < maxBatchBytes) {
			size += len(k.backlog[n]) + 1
			n++
		}
		if err := k.write(joinFrames(k.backlog[:n])); err != nil {
			return
		}
		k.backlog = k.backlog[n:]
	}
	k.backlog = nil
	for {
		select {
		case f, ok := <-k.send:
			if !ok {
				if k.closeCode != 0 {
					_ = k.ws.SetWriteDeadline(time.Now().Add(writeWait))
					_ = k.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(k.closeCode, k.closeReason))
					// Give the client a moment to answer the close before the socket goes.
					_ = k.ws.SetReadDeadline(time.Now().Add(time.Second))
				}
				return
			}
			// Messages queued meanwhile go in the same websocket message (gorilla's chat
			// pattern): a burst costs one write.
			batch := [][]byte{f}
			for n, size := len(k.send), len(f); n > 0 && size < maxBatchBytes; n-- {
				g := <-k.send
				batch = append(batch, g)
				size += len(g) + 1
			}
			if err := k.write(joinFrames(batch)); err != nil {
				return
			}
		case <-ping.C:
			if err := k.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				return
			}
		}
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
func (k *conn) readLoop() {
	defer k.call.post(detachMsg{conn: k})
	k.ws.SetReadLimit(protocol.MaxFrameBytes)
	_ = k.ws.SetReadDeadline(time.Now().Add(pongWait))
	k.ws.SetPongHandler(func(string) error { return k.ws.SetReadDeadline(time.Now().Add(pongWait)) })
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
		_ = k.ws.SetReadDeadline(arrived.Add(pongWait))
		k.call.srv.metrics.MessagesIn.Inc()
		if !limiter.AllowN(arrived, 1) {
			if arrived.Sub(lastNotice) >= rateNoticeMillis*time.Millisecond {
				lastNotice = arrived
				k.call.post(localError{conn: k, arrived: arrived, code: protocol.CodeRateLimited, message: "too many messages: at most 5 per second (bursts of 10)", id: peekID(data)})
			}
			continue
		}
		if kind != websocket.TextMessage {
			k.call.post(localError{conn: k, arrived: arrived, code: protocol.CodeBadJSON, message: "binary frames are not accepted; send JSON text"})
			continue
		}
		m, derr := protocol.DecodeClient(data)
		if derr != nil {
			e := localError{conn: k, arrived: arrived, code: derr.Code, message: derr.Message, id: derr.ID}
			if derr.Code == protocol.CodeBadUTF8 {
				e.close = websocket.CloseInvalidFramePayloadData
				k.call.post(e)
				return
			}
			k.call.post(e)
			continue
		}
		k.call.post(inMsg{conn: k, msg: m, arrived: arrived})
	}
}

// peekID returns the id of a frame if it has a valid one, for error messages.
func peekID(data []byte) string {
	m, err := protocol.DecodeClient(data)
	if err != nil {
		return err.ID
	}
	return m.ID
}
