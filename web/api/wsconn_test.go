package api

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDeadlineFor: a socket's write deadline moves only when the one asked for is past it,
// or more than the slack before it, and then to the deadline asked for plus the slack: a
// write never times out before its deadline, nor more than the slack after it.
func TestDeadlineFor(t *testing.T) {
	const slack = time.Second
	t0 := time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		set, ask time.Time
		want     time.Time
		move     bool
	}{
		{"none yet", time.Time{}, t0, t0.Add(slack), true},
		{"asked again", t0.Add(slack), t0, t0.Add(slack), false},
		{"asked a little later: kept", t0.Add(slack), t0.Add(400 * time.Millisecond), t0.Add(slack), false},
		{"asked at the socket's own", t0.Add(slack), t0.Add(slack), t0.Add(slack), false},
		{"asked past it: moved", t0.Add(slack), t0.Add(slack + time.Millisecond), t0.Add(2*slack + time.Millisecond), true},
		{"asked earlier than the slack allows: moved back", t0.Add(slack), t0.Add(-time.Millisecond), t0.Add(slack - time.Millisecond), true},
		{"asked for none", t0, time.Time{}, time.Time{}, true},
		{"none asked, none set", time.Time{}, time.Time{}, time.Time{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, move := deadlineFor(tc.set, tc.ask, slack)
			assert.Equal(t, tc.move, move)
			assert.True(t, tc.want.Equal(got), "deadline %v, want %v", got, tc.want)
			if move && !tc.ask.IsZero() {
				assert.False(t, got.Before(tc.ask), "never before the deadline asked for")
			}
		})
	}
}

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (client, server *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	s := <-accepted
	require.NotNil(t, s)
	t.Cleanup(func() { c.Close(); s.Close() })
	return c.(*net.TCPConn), s.(*net.TCPConn)
}

// TestACoarseConnTimesOutWithinTheSlack: a write to a peer that reads nothing fails with a
// timeout no sooner than its deadline plus the slack (the socket's), and deadlines asked for
// within the slack leave the socket's alone.
func TestACoarseConnTimesOutWithinTheSlack(t *testing.T) {
	_, s := tcpPair(t)
	const slack = 300 * time.Millisecond
	c := newCoarseConn(s, slack)
	start := time.Now()
	require.NoError(t, c.SetWriteDeadline(start.Add(100*time.Millisecond)))
	set := c.set
	require.NoError(t, c.SetWriteDeadline(start.Add(250*time.Millisecond)))
	assert.Equal(t, set, c.set, "a deadline within the slack leaves the socket's as it was")

	buf := make([]byte, 64<<10)
	var err error
	for err == nil {
		_, err = c.Write(buf) // the peer reads nothing: the buffers fill, then the write waits
	}
	took := time.Since(start)
	require.True(t, errors.Is(err, os.ErrDeadlineExceeded), "a timeout: %v", err)
	assert.GreaterOrEqual(t, took, 400*time.Millisecond, "not before the socket's deadline: the first asked plus the slack")
	assert.Less(t, took, 5*time.Second)
}

// TestWebsocketUpgradesGetACoarseConn: gorilla/websocket upgrades through coarseWrites to a
// coarseConn, and frames go both ways over it.
func TestWebsocketUpgradesGetACoarseConn(t *testing.T) {
	up := websocket.Upgrader{ReadBufferSize: wsReadBuffer, WriteBufferSize: wsWriteBuffer}
	got := make(chan net.Conn, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(coarseWrites{w}, r, nil)
		if err != nil {
			got <- nil
			return
		}
		got <- ws.NetConn()
		for {
			kind, msg, err := ws.ReadMessage()
			if err != nil {
				return
			}
			_ = ws.SetWriteDeadline(time.Now().Add(writeDeadlineSlack))
			if err := ws.WriteMessage(kind, append(msg, msg...)); err != nil {
				return
			}
		}
	}))
	defer ts.Close()
	cl, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http"), nil)
	require.NoError(t, err)
	defer cl.Close()
	nc := <-got
	require.IsType(t, &coarseConn{}, nc)
	big := strings.Repeat("x", 3*wsWriteBuffer) // a frame past the write buffer: written from two buffers
	for _, m := range []string{"hello", big} {
		require.NoError(t, cl.WriteMessage(websocket.TextMessage, []byte(m)))
		_, back, err := cl.ReadMessage()
		require.NoError(t, err)
		assert.Equal(t, m+m, string(back))
	}
}

// TestATraineesWebsocketIsACoarseConn: the trainee endpoint upgrades over TCP to a
// coarseConn, and the call plays over it.
func TestATraineesWebsocketIsACoarseConn(t *testing.T) {
	ts := newTestServer(t, Options{})
	got := make(chan net.Conn, 1)
	ts.beforeServe = func(_ *http.Request, ws *websocket.Conn) { got <- ws.NetConn() }
	r := ts.start(t, `{"scenario":"live"}`)
	c := ts.dial(t, r.WS, nil)
	c.until("ring")
	assert.IsType(t, &coarseConn{}, <-got)
}

// BenchmarkWebsocketWrite writes a word's frame over loopback with a write deadline set
// before each, as the live server does, on the socket as Go gives it ("per-frame") and
// through a coarseConn ("coarse").
func BenchmarkWebsocketWrite(b *testing.B) {
	for _, coarse := range []bool{false, true} {
		name := "per-frame"
		if coarse {
			name = "coarse"
		}
		b.Run(name, func(b *testing.B) {
			up := websocket.Upgrader{ReadBufferSize: wsReadBuffer, WriteBufferSize: wsWriteBuffer}
			conns := make(chan *websocket.Conn, 1)
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var rw http.ResponseWriter = w
				if coarse {
					rw = coarseWrites{w}
				}
				ws, err := up.Upgrade(rw, r, nil)
				if err != nil {
					b.Error(err)
				}
				conns <- ws
			}))
			defer ts.Close()
			cl, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http"), nil)
			require.NoError(b, err)
			defer cl.Close()
			go func() { // the client reads every frame
				for {
					if _, _, err := cl.NextReader(); err != nil {
						return
					}
				}
			}()
			ws := <-conns
			frame := []byte(`{"seq":12,"type":"word","at":12345,"index":3,"text":"cheddar,"}`)
			b.ResetTimer()
			for b.Loop() {
				_ = ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
				if err := ws.WriteMessage(websocket.TextMessage, frame); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
