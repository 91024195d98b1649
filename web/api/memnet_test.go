package api

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
)

// memListener is an in-memory net.Listener: each dial is a net.Pipe, whose ends block
// on channels. Inside a testing/synctest bubble that blocking is durable (loopback
// sockets are not), so a whole server — HTTP, websockets, call goroutines — runs on the
// bubble's fake clock: a test that waits 20 s of call time takes microseconds.
type memListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newMemListener() *memListener {
	return &memListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *memListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *memListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *memListener) Addr() net.Addr { return memAddr{} }

// dial connects to the listener.
func (l *memListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		return nil, errors.New("the in-memory listener is closed")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type memAddr struct{}

func (memAddr) Network() string { return "mem" }
func (memAddr) String() string  { return "switchboard.test:80" }

// memHost is the host name of an in-memory test server's URLs.
const memHost = "switchboard.test"

// newMemTestServer is newTestServer on an in-memory network, for tests inside a
// synctest bubble (synctest.Test): the server, its calls and the clients all run on the
// bubble's fake clock. Everything it starts stops in the test's cleanup.
func newMemTestServer(t *testing.T, opts Options) *testServer {
	t.Helper()
	s := newServer(t, opts)
	ln := newMemListener()
	serve := newHandlerSwitch(s.Handler())
	hs := &http.Server{Handler: serve, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = hs.Serve(ln)
	}()
	tr := &http.Transport{DialContext: ln.dial}
	ts := &testServer{Server: s, url: "http://" + memHost, client: &http.Client{Transport: tr},
		dialer: &websocket.Dialer{NetDialContext: ln.dial, HandshakeTimeout: waitFor}, serve: serve}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		assert.NoError(t, s.Shutdown(ctx), "every call and connection goroutine stops")
		tr.CloseIdleConnections()
		_ = hs.Close()
		<-served
	})
	return ts
}

// superviseMemServer is superviseServer on the in-memory network (see newMemTestServer).
func superviseMemServer(t *testing.T, opts Options) *testServer {
	t.Helper()
	return withSupervisors(newMemTestServer(t, opts))
}
