package api

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"time"
)

// writeDeadlineSlack is how much later than asked a websocket write may time out.
// gorilla/websocket sets the socket's write deadline before every frame it writes, and on a
// TCP socket each set moves a timer of Go's network poller: with a customer's words sent
// one frame each, that was 2 points of a server's 30% CPU at 5,000 calls
// (docs/performance.md, "Write deadlines moved once a second"). A socket's deadline is
// moved only when the one asked for is past it, or more than this before it; a write then
// fails between its deadline and this much after it.
const writeDeadlineSlack = time.Second

// coarseWrites is the response writer the websocket endpoints give gorilla/websocket's
// upgrade, which hijacks the connection through it: a TCP connection comes out as a
// coarseConn.
type coarseWrites struct{ http.ResponseWriter }

// Hijack hijacks the connection, as the response writer it wraps does, and wraps a TCP
// connection in a coarseConn.
func (w coarseWrites) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if tc, ok := c.(*net.TCPConn); ok && err == nil {
		return newCoarseConn(tc, writeDeadlineSlack), rw, nil
	}
	return c, rw, err
}

// coarseConn is a TCP connection whose write deadline is moved only when it must be (see
// writeDeadlineSlack). It embeds *net.TCPConn, so that writes of several buffers stay one
// system call (net.Buffers). Safe for concurrent use.
type coarseConn struct {
	*net.TCPConn
	slack time.Duration
	mu    sync.Mutex
	set   time.Time // the socket's write deadline (zero: none)
}

func newCoarseConn(c *net.TCPConn, slack time.Duration) *coarseConn {
	return &coarseConn{TCPConn: c, slack: slack}
}

// deadlineFor returns the write deadline to give the socket for a write asked to finish by
// t, given set, the socket's, and whether it must be moved: a deadline that is no earlier
// than t and at most slack after it is kept; a new one is t plus slack (none stays none).
func deadlineFor(set, t time.Time, slack time.Duration) (time.Time, bool) {
	switch {
	case t.IsZero():
		return t, !set.IsZero()
	case !set.IsZero() && !set.Before(t) && set.Sub(t) <= slack:
		return set, false
	}
	return t.Add(slack), true
}

// SetWriteDeadline sets the socket's write deadline to between t and slack after it.
func (c *coarseConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, move := deadlineFor(c.set, t, c.slack)
	if !move {
		return nil
	}
	if err := c.TCPConn.SetWriteDeadline(d); err != nil {
		return err
	}
	c.set = d
	return nil
}

// SetDeadline sets both deadlines to t, as net.Conn's does.
func (c *coarseConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.TCPConn.SetDeadline(t); err != nil {
		return err
	}
	c.set = t
	return nil
}
