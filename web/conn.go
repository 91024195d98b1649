package web

import (
	"errors"
	"log/slog"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"
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
	ws    *websocket.Conn
	call  *call
	log   *slog.Logger
	send  chan []byte   // frames to write; closed by the call goroutine to end the writer
	ready chan struct{} // closed by the call goroutine once backlog is set

	// Set by the call goroutine before ready is closed, read by the writer after.
	backlog [][]byte

	// Owned by the call goroutine.
	closeCode   int
	closeReason string
	closed      bool
}

func newConn(ws *websocket.Conn, c *call, log *slog.Logger) *conn {
	return &conn{ws: ws, call: c, log: log, send: make(chan []byte, sendQueueLen), ready: make(chan struct{})}
}

// queue adds a frame to the send queue; it reports false, after closing the connection,
// when the queue is full. Call goroutine only.
func (k *conn) queue(frame []byte) bool {
	if k.closed {
		return false
	}
	select {
	case k.send <- frame:
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

// finish lets the writer send what is queued, then a close frame with code. Call
// goroutine only.
func (k *conn) finish(code int, reason string) {
	if k.closed {
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
	for _, f := range k.backlog {
		if err := k.write(f); err != nil {
			return
		}
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
			if err := k.write(f); err != nil {
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
	k.ws.SetReadLimit(maxFrameBytes)
	_ = k.ws.SetReadDeadline(time.Now().Add(pongWait))
	k.ws.SetPongHandler(func(string) error { return k.ws.SetReadDeadline(time.Now().Add(pongWait)) })
	limiter := rate.NewLimiter(rateLimit, rateBurst)
	var lastNotice time.Time
	for {
		kind, data, err := k.ws.ReadMessage()
		arrived := time.Now()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				k.log.Info("closing a connection that sent an oversized frame", "limit", maxFrameBytes)
			}
			return
		}
		_ = k.ws.SetReadDeadline(arrived.Add(pongWait))
		if !limiter.AllowN(arrived, 1) {
			if arrived.Sub(lastNotice) >= rateNoticeMillis*time.Millisecond {
				lastNotice = arrived
				k.call.post(localError{conn: k, arrived: arrived, code: codeRateLimited, message: "too many messages: at most 5 per second (bursts of 10)", id: peekID(data)})
			}
			continue
		}
		if kind != websocket.TextMessage {
			k.call.post(localError{conn: k, arrived: arrived, code: codeBadJSON, message: "binary frames are not accepted; send JSON text"})
			continue
		}
		m, derr := decodeClient(data)
		if derr != nil {
			e := localError{conn: k, arrived: arrived, code: derr.code, message: derr.message, id: derr.id}
			if derr.code == codeBadUTF8 {
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
	m, err := decodeClient(data)
	if err != nil {
		return err.id
	}
	return m.ID
}
