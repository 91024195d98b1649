package api

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// closeGrace is web/live's closeGrace: how long the server waits for the client's close
// frame after its own (docs/protocol.md, "Keep-alive").
const closeGrace = time.Second

// endedCall starts a call on ts, answers it, hangs up, and reads up to the server's close
// frame, which it returns the code of. The client's connection answers nothing by itself:
// its close frame is the test's to send.
func endedCall(t *testing.T, ts *testServer) (*websocket.Conn, int) {
	t.Helper()
	r := ts.start(t, `{"scenario":"live"}`)
	ws, resp, err := ts.dialer.Dial(ts.wsURL(r.WS), nil)
	require.NoError(t, err)
	resp.Body.Close()
	t.Cleanup(func() { ws.Close() })
	ws.SetCloseHandler(func(int, string) error { return nil }) // no automatic answer
	send := func(typ, id string) {
		require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"`+typ+`","id":"`+id+`"}`)))
	}
	sent := map[string]bool{}
	var ended bool
	for {
		_, data, err := ws.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			require.True(t, ended, "the end message comes before the close frame")
			return ws, ce.Code
		}
		require.NoError(t, err)
		for _, line := range strings.Split(string(data), "\n") {
			var m srvMsg
			require.NoError(t, json.Unmarshal([]byte(line), &m))
			switch {
			case m.Type == "ring" && !sent["answer"]:
				sent["answer"] = true
				send("answer", "a")
			case m.Type == "word" && !sent["hangup"]:
				sent["hangup"] = true
				send("hangup", "h")
			case m.Type == "end":
				ended = true
			}
		}
	}
}

// A client that sends a message just as the server closes the call (a say typed as the
// customer hung up, a pong) must not meet a closed connection: the server reads on until
// the client's close frame, drops what it reads, then closes the connection at once.
// Closing right after its own close frame, as it did, made the client's write fail (on
// TCP, the client's kernel got a reset, and a client whose write failed lost the messages
// still unread).
func TestTheServerReadsUntilTheClientsCloseFrame(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := newMemTestServer(t, Options{})
		ws, code := endedCall(t, ts)
		assert.Equal(t, websocket.CloseNormalClosure, code)
		closedAt := time.Now()

		require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"say","id":"late","text":"sorry, one more thing"}`)),
			"a message sent after the server's close frame is still read")
		require.NoError(t, ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")))

		// gorilla's reader has stopped at the close frame: read the connection itself.
		n, err := ws.UnderlyingConn().Read(make([]byte, 64))
		assert.Zero(t, n, "nothing more comes from the server, not even a second close frame")
		require.ErrorIs(t, err, io.EOF, "the server closes the connection once the client has answered")
		assert.Zero(t, time.Since(closedAt), "the server closed on the client's close frame, not after closeGrace")
		assert.Equal(t, 0, ts.LiveCalls())
	})
}

// A client that never answers the close frame has its connection closed after closeGrace.
func TestTheServerClosesAfterCloseGraceWithoutTheClientsCloseFrame(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := newMemTestServer(t, Options{})
		ws, code := endedCall(t, ts)
		assert.Equal(t, websocket.CloseNormalClosure, code)
		closedAt := time.Now()

		n, err := ws.UnderlyingConn().Read(make([]byte, 64))
		assert.Zero(t, n)
		require.ErrorIs(t, err, io.EOF)
		assert.Equal(t, closeGrace, time.Since(closedAt), "the server waits closeGrace for the client's close frame, then closes")
	})
}
