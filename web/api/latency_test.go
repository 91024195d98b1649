package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/web/live"
	"github.com/switchboard-sim/switchboard/web/storage/sqlitejournal"
)

// saysPerCall keeps a benchmark call within the per-connection burst allowance (live.RateBurst,
// counting the answer and the goodbye), so no message is rate limited.
const saysPerCall = live.RateBurst - 2

// BenchmarkReplyLatency measures, over loopback websockets, the time from a trainee's
// message leaving the client to the first word of the customer's reply arriving, against a
// bare gorilla echo round trip of a message of the same size measured in the same loop.
// Each iteration takes one sample of each. Sub-benchmarks: the in-memory journal and the
// SQLite journal (a commit before every reply). See docs/performance.md.
func BenchmarkReplyLatency(b *testing.B) {
	sc, diags := engine.LoadFile("testdata/echo.yaml")
	if sc == nil {
		b.Fatal(diags.Error())
	}
	echo := httptest.NewServer(http.HandlerFunc(echoHandler))
	defer echo.Close()
	for _, jc := range []struct {
		name string
		open func(b *testing.B) journal.Journal
	}{
		{"memory", func(*testing.B) journal.Journal { return journal.NewMemory() }},
		{"sqlite", func(b *testing.B) journal.Journal {
			db, err := sqlitejournal.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			return db
		}},
	} {
		b.Run(jc.name, func(b *testing.B) {
			j := jc.open(b)
			defer j.Close()
			srv, err := New(Options{Scenarios: []*engine.Scenario{sc}, Journal: j, MaxCalls: 1 << 20,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				b.Fatal(err)
			}
			hs := httptest.NewServer(srv.Handler())
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = srv.Shutdown(ctx)
				hs.Close()
			}()
			ew, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(echo.URL, "http"), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer ew.Close()

			var echoes, replies []time.Duration
			var lc *latencyCall
			msg := []byte(`{"type":"say","id":"m-0000000","text":"Could you say that again?"}`)
			for i := 0; b.Loop(); i++ {
				if lc == nil || lc.says == saysPerCall {
					b.StopTimer()
					if lc != nil {
						lc.close(b)
					}
					lc = startLatencyCall(b, hs.URL)
					b.StartTimer()
				}
				t0 := time.Now()
				if err := ew.WriteMessage(websocket.TextMessage, msg); err != nil {
					b.Fatal(err)
				}
				if _, _, err := ew.ReadMessage(); err != nil {
					b.Fatal(err)
				}
				echoes = append(echoes, time.Since(t0))
				replies = append(replies, lc.say(b, fmt.Sprintf("m-%07d", i)))
			}
			if lc != nil {
				lc.close(b)
			}
			e50, e99 := percentile(echoes, 50), percentile(echoes, 99)
			r50, r99 := percentile(replies, 50), percentile(replies, 99)
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(us(e50), "echo-p50-us")
			b.ReportMetric(us(e99), "echo-p99-us")
			b.ReportMetric(us(r50), "reply-p50-us")
			b.ReportMetric(us(r99), "reply-p99-us")
			b.ReportMetric(float64(r50)/float64(e50), "p50-ratio")
		})
	}
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// percentile returns the p-th percentile (nearest rank) of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p+99)/100 - 1
	return s[min(max(i, 0), len(s)-1)]
}

// echoHandler is a bare gorilla websocket echo.
func echoHandler(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{ReadBufferSize: wsReadBuffer, WriteBufferSize: wsWriteBuffer, WriteBufferPool: &sync.Pool{}}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer ws.Close()
	for {
		kind, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		if ws.WriteMessage(kind, data) != nil {
			return
		}
	}
}

// latencyCall is a call of the echo scenario driven by the benchmark.
type latencyCall struct {
	ws   *websocket.Conn
	says int
}

func startLatencyCall(b *testing.B, base string) *latencyCall {
	resp, err := http.Post(base+"/api/calls", "application/json", strings.NewReader(`{"scenario":"echo","trainee":"Bench"}`))
	if err != nil {
		b.Fatal(err)
	}
	var r live.Started
	err = json.NewDecoder(resp.Body).Decode(&r)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusCreated {
		b.Fatalf("starting a call: %d %v", resp.StatusCode, err)
	}
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+r.WS, nil)
	if err != nil {
		b.Fatal(err)
	}
	lc := &latencyCall{ws: ws}
	lc.send(b, `{"type":"answer","id":"answer"}`)
	lc.until(b, "word")
	return lc
}

func (lc *latencyCall) send(b *testing.B, frame string) {
	if err := lc.ws.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		b.Fatal(err)
	}
}

// until reads frames until one of type typ; an error frame fails the benchmark.
func (lc *latencyCall) until(b *testing.B, typ string) {
	for {
		_, data, err := lc.ws.ReadMessage()
		if err != nil {
			b.Fatalf("waiting for %s: %v", typ, err)
		}
		// The type is read without decoding the whole frame, as the echo client decodes
		// nothing; every message starts {"seq":N,"type":"…".
		for line := range bytes.SplitSeq(data, []byte("\n")) {
			switch frameType(line) {
			case typ:
				return
			case "error", "":
				b.Fatalf("unexpected message while waiting for %s: %s", typ, line)
			}
		}
	}
}

// frameType returns the type of a server frame ("" when it has none).
func frameType(data []byte) string {
	_, rest, ok := bytes.Cut(data, []byte(`"type":"`))
	if !ok {
		return ""
	}
	typ, _, _ := bytes.Cut(rest, []byte(`"`))
	return string(typ)
}

// say sends a message and returns the time until the first word of the reply arrives.
func (lc *latencyCall) say(b *testing.B, id string) time.Duration {
	lc.says++
	t0 := time.Now()
	lc.send(b, `{"type":"say","id":"`+id+`","text":"Could you say that again?"}`)
	lc.until(b, "word")
	return time.Since(t0)
}

func (lc *latencyCall) close(b *testing.B) {
	lc.send(b, `{"type":"say","id":"bye","text":"bye"}`)
	lc.until(b, "end")
	lc.ws.Close()
}
