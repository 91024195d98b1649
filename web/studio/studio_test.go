package studio_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/scenarios"
	"github.com/switchboard-sim/switchboard/web/access"
	"github.com/switchboard-sim/switchboard/web/api"
	"github.com/switchboard-sim/switchboard/web/library"
	"github.com/switchboard-sim/switchboard/web/studio"
)

const (
	designerKey   = "designer-secret-for-tests-0123456789"
	supervisorKey = "supervisor-secret-for-tests-0123456789"
	waitFor       = 10 * time.Second
)

// env is a server with the studio mounted, on a copy of the shipped library.
type env struct {
	t    *testing.T
	url  string
	dir  string // the scenario folder
	lib  *library.Library
	srv  *api.Server
	jr   journal.Journal
	stop context.CancelFunc
}

func newEnv(t *testing.T) *env {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "scenarios")
	_, err := library.Seed(dir, scenarios.FS, scenarios.Root)
	require.NoError(t, err)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	lib, err := library.Open(dir, filepath.Join(root, "revisions"), log)
	require.NoError(t, err)
	lib.WaitForTests() // Open runs them in the background
	jr := journal.NewMemory()
	srv, err := api.New(api.Options{Journal: jr, Logger: log})
	require.NoError(t, err)
	st, err := studio.New(studio.Options{Library: lib, Calls: srv, Journal: jr, Logger: log,
		Secrets: access.Secrets{Designer: designerKey, Supervisor: supervisorKey}})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	go lib.Watch(ctx)
	hs := httptest.NewServer(st.Mount(srv.Handler()))
	t.Cleanup(func() {
		cancel()
		sctx, c := context.WithTimeout(context.Background(), waitFor)
		defer c()
		assert.NoError(t, srv.Shutdown(sctx))
		hs.CloseClientConnections()
		hs.Close()
	})
	return &env{t: t, url: hs.URL, dir: dir, lib: lib, srv: srv, jr: jr, stop: cancel}
}

// call makes an HTTP request with the secret (if any) and decodes a JSON answer into out.
func (e *env) call(method, path, secret string, body any, out any) int {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(e.t, err)
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	require.NoError(e.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	if out != nil {
		b, _ := io.ReadAll(resp.Body)
		require.NoError(e.t, json.Unmarshal(b, out), "%s %s: %s", method, path, b)
	}
	return resp.StatusCode
}

func TestAccessControl(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		method, path string
		body         any
		none, sup    int // statuses without a secret and with the supervisor's
	}{
		{"GET", "/api/studio/me", nil, 401, 200},
		{"GET", "/api/studio/scenarios", nil, 401, 200},
		{"GET", "/api/studio/files/boutique.yaml", nil, 401, 200},
		{"GET", "/api/studio/revisions/boutique.yaml", nil, 401, 200},
		{"GET", "/api/studio/paths/boutique", nil, 401, 200},
		{"POST", "/api/studio/check", map[string]string{"path": "boutique.yaml", "source": "id: x"}, 401, 200},
		{"PUT", "/api/studio/files/boutique.yaml", map[string]string{"source": "x", "base": ""}, 401, 403},
		{"POST", "/api/studio/scenarios", map[string]string{"id": "x"}, 401, 403},
		{"POST", "/api/studio/tests", map[string]string{"path": "boutique.yaml"}, 401, 403},
		{"POST", "/api/studio/play", map[string]string{"path": "boutique.yaml"}, 401, 403},
		{"POST", "/api/studio/restore", map[string]string{"path": "boutique.yaml", "id": "1"}, 401, 403},
		{"POST", "/api/studio/record", map[string]string{"id": "x"}, 401, 403},
		{"GET", "/api/studio/nothing", nil, 401, 404},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			var er struct {
				Error struct{ Code, Message string }
			}
			assert.Equal(t, tc.none, e.call(tc.method, tc.path, "", tc.body, &er))
			assert.NotEmpty(t, er.Error.Message)
			assert.Equal(t, tc.none, e.call(tc.method, tc.path, "wrong-secret-0123456789", tc.body, nil))
			assert.Equal(t, tc.sup, e.call(tc.method, tc.path, supervisorKey, tc.body, nil))
		})
	}
	var me map[string]string
	require.Equal(t, 200, e.call("GET", "/api/studio/me", designerKey, nil, &me))
	assert.Equal(t, "designer", me["role"])

	// Pages: the sign-in page without a secret; the designer link signs in by cookie and
	// drops the key from the address.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(e.url + "/studio/")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, string(b), `action="/studio/sign-in"`)

	resp, err = noRedirect.Get(e.url + "/studio/?edit=boutique.yaml&key=" + url.QueryEscape(designerKey))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "/studio/?edit=boutique.yaml", resp.Header.Get("Location"))
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == access.CookieName {
			cookie = c
		}
	}
	require.NotNil(t, cookie)
	assert.True(t, cookie.HttpOnly)
	req, _ := http.NewRequest("GET", e.url+"/api/studio/me", nil)
	req.AddCookie(cookie)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the cookie works for the API")

	resp, err = noRedirect.Get(e.url + "/studio/?key=not-the-key")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	// The sign-in form; and changes from another origin are refused even with the cookie.
	resp, err = noRedirect.PostForm(e.url+"/studio/sign-in", url.Values{"secret": {supervisorKey}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	resp, err = noRedirect.PostForm(e.url+"/studio/sign-in", url.Values{"secret": {"nope"}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	req, _ = http.NewRequest("POST", e.url+"/api/studio/scenarios", strings.NewReader(`{"id":"evil"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "http://evil.example")
	req.AddCookie(cookie)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	_, exists := e.lib.Entry("evil.yaml")
	assert.False(t, exists)
}

type fileInfo struct {
	Path, Source, Hash string
	Exists             bool
}

type entry struct {
	Path, ID, Title string
	Draft, Live     bool
	Errors          int
	Diagnostics     []engine.Diagnostic
}

type listing struct {
	Scenarios []entry
}

func (e *env) entry(path string) entry {
	var l listing
	require.Equal(e.t, 200, e.call("GET", "/api/studio/scenarios", designerKey, nil, &l))
	for _, s := range l.Scenarios {
		if s.Path == path {
			return s
		}
	}
	e.t.Fatalf("%s is not in the library", path)
	return entry{}
}

func traineeTitles(t *testing.T, e *env) map[string]string {
	var list []struct{ ID, Title string }
	require.Equal(t, 200, e.call("GET", "/api/scenarios", "", nil, &list))
	m := map[string]string{}
	for _, s := range list {
		m[s.ID] = s.Title
	}
	return m
}

func TestSaveDraftPublishAndRevisions(t *testing.T) {
	e := newEnv(t)
	var f fileInfo
	require.Equal(t, 200, e.call("GET", "/api/studio/files/cheese-shop.yaml", supervisorKey, nil, &f))
	require.True(t, f.Exists)
	oldTitle := traineeTitles(t, e)["cheese-shop"]

	// A good save: on disk at once, and trainees get it.
	good := strings.Replace(f.Source, "title: ", "title: Revised — ", 1)
	var saved struct{ Hash string }
	require.Equal(t, 200, e.call("PUT", "/api/studio/files/cheese-shop.yaml", designerKey, map[string]string{"source": good, "base": f.Hash}, &saved))
	disk, err := os.ReadFile(filepath.Join(e.dir, "cheese-shop.yaml"))
	require.NoError(t, err)
	assert.Equal(t, good, string(disk))
	assert.Equal(t, "Revised — "+oldTitle, traineeTitles(t, e)["cheese-shop"])

	// Saving from a stale copy is refused and writes nothing.
	var er struct {
		Error struct{ Code, Message string }
	}
	assert.Equal(t, 409, e.call("PUT", "/api/studio/files/cheese-shop.yaml", designerKey, map[string]string{"source": "lost", "base": f.Hash}, &er))
	assert.Equal(t, "conflict", er.Error.Code)

	// A save with an error is a draft: written, but trainees keep the last good version.
	bad := strings.Replace(good, "title: ", "title: Broken — ", 1) + "\nnonsense_key: 1\n"
	require.Equal(t, 200, e.call("PUT", "/api/studio/files/cheese-shop.yaml", designerKey, map[string]string{"source": bad, "base": saved.Hash}, &saved))
	d := e.entry("cheese-shop.yaml")
	assert.True(t, d.Draft)
	assert.True(t, d.Live)
	assert.Positive(t, d.Errors)
	assert.Equal(t, "Revised — "+oldTitle, traineeTitles(t, e)["cheese-shop"], "trainees keep the last passing version")

	// Revisions: the two replaced versions, newest first; restoring the first one.
	var revs struct {
		Revisions []struct{ ID, Hash string }
	}
	require.Equal(t, 200, e.call("GET", "/api/studio/revisions/cheese-shop.yaml", supervisorKey, nil, &revs))
	require.Len(t, revs.Revisions, 2)
	assert.Equal(t, library.HashOf([]byte(good)), revs.Revisions[0].Hash)
	assert.Equal(t, f.Hash, revs.Revisions[1].Hash)
	var rev fileInfo
	require.Equal(t, 200, e.call("GET", "/api/studio/revisions/cheese-shop.yaml?id="+revs.Revisions[1].ID, supervisorKey, nil, &rev))
	assert.Equal(t, f.Source, rev.Source)
	var restored fileInfo
	require.Equal(t, 200, e.call("POST", "/api/studio/restore", designerKey, map[string]string{"path": "cheese-shop.yaml", "id": revs.Revisions[1].ID, "base": saved.Hash}, &restored))
	assert.Equal(t, f.Source, restored.Source)
	assert.Equal(t, oldTitle, traineeTitles(t, e)["cheese-shop"])
	assert.False(t, e.entry("cheese-shop.yaml").Draft)

	// Bad paths and bodies.
	assert.Equal(t, 400, e.call("PUT", "/api/studio/files/..%2Fx.yaml", designerKey, map[string]string{"source": "x"}, nil))
	assert.Equal(t, 400, e.call("PUT", "/api/studio/files/notes.txt", designerKey, map[string]string{"source": "x"}, nil))
	assert.Equal(t, 400, e.call("PUT", "/api/studio/files/a.yaml", designerKey, map[string]any{"source": 3}, nil))
	assert.Equal(t, 400, e.call("PUT", "/api/studio/files/a.yaml", designerKey, map[string]any{"source": "x", "extra": 1}, nil))
}

// wsClient reads a call's messages.
type wsClient struct {
	t    *testing.T
	ws   *websocket.Conn
	msgs chan map[string]any
	n    int
}

func (e *env) dial(t *testing.T, path string) *wsClient {
	ws, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(e.url, "http")+path, nil)
	require.NoError(t, err)
	resp.Body.Close()
	c := &wsClient{t: t, ws: ws, msgs: make(chan map[string]any, 1024)}
	go func() {
		defer close(c.msgs)
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			for _, line := range strings.Split(string(data), "\n") {
				var m map[string]any
				if json.Unmarshal([]byte(line), &m) == nil {
					c.msgs <- m
				}
			}
		}
	}()
	t.Cleanup(func() { ws.Close() })
	return c
}

func (c *wsClient) send(m map[string]any) {
	c.n++
	m["id"] = "t" + string(rune('a'+c.n))
	require.NoError(c.t, c.ws.WriteJSON(m))
}

func (c *wsClient) until(typ string) map[string]any {
	c.t.Helper()
	deadline := time.After(waitFor)
	for {
		select {
		case m, ok := <-c.msgs:
			require.True(c.t, ok, "closed while waiting for %s", typ)
			if m["type"] == typ {
				return m
			}
		case <-deadline:
			c.t.Fatalf("no %s message", typ)
		}
	}
}

// Calls in progress keep the version they started with; new calls get the new one.
func TestCallsKeepTheirVersion(t *testing.T) {
	e := newEnv(t)
	var created struct{ Path string }
	require.Equal(t, 201, e.call("POST", "/api/studio/scenarios", designerKey, map[string]string{"id": "parcel", "title": "Parcel"}, &created))
	var started struct{ ID, Token, WS string }
	require.Equal(t, 201, e.call("POST", "/api/calls", "", map[string]string{"scenario": "parcel"}, &started))

	var f fileInfo
	e.call("GET", "/api/studio/files/parcel.yaml", designerKey, nil, &f)
	changed := strings.Replace(f.Source, "Hi, I have a quick question", "Hello, a different question", 1)
	require.NotEqual(t, f.Source, changed)
	require.Equal(t, 200, e.call("PUT", "/api/studio/files/parcel.yaml", designerKey, map[string]string{"source": changed, "base": f.Hash}, nil))

	c := e.dial(t, started.WS)
	c.send(map[string]any{"type": "answer"})
	line := c.until("line_start")
	assert.Contains(t, line["text"], "Hi, I have a quick question", "the call started before the save keeps the old version")

	var again struct{ WS string }
	require.Equal(t, 201, e.call("POST", "/api/calls", "", map[string]string{"scenario": "parcel"}, &again))
	c2 := e.dial(t, again.WS)
	c2.send(map[string]any{"type": "answer"})
	assert.Contains(t, c2.until("line_start")["text"], "Hello, a different question")
}

// Edits on disk reach the library, the trainees' list and the live-reload stream.
func TestLiveReloadFromDisk(t *testing.T) {
	e := newEnv(t)
	req, _ := http.NewRequest("GET", e.url+"/api/studio/events", nil)
	req.Header.Set("Authorization", "Bearer "+supervisorKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	events := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "data: ") {
				events <- sc.Text()
			}
		}
	}()
	select {
	case <-events: // the current generation, at once
	case <-time.After(waitFor):
		t.Fatal("no first event")
	}

	src, err := os.ReadFile(filepath.Join(e.dir, "slow-clerk.yaml"))
	require.NoError(t, err)
	edited := strings.Replace(string(src), "\ntitle: ", "\ntitle: Edited on disk — ", 1)
	start := time.Now()
	require.NoError(t, os.WriteFile(filepath.Join(e.dir, "slow-clerk.yaml"), []byte(edited), 0o644))
	select {
	case <-events:
	case <-time.After(time.Second):
		t.Fatal("no change event within a second")
	}
	assert.Less(t, time.Since(start), time.Second)
	// The first event may be of the truncated file (WriteFile truncates, then writes): the
	// edit itself follows within the second.
	assert.Eventually(t, func() bool {
		return strings.HasPrefix(e.entry("slow-clerk.yaml").Title, "Edited on disk — ") &&
			strings.HasPrefix(traineeTitles(t, e)["slow-clerk"], "Edited on disk — ")
	}, time.Second, 10*time.Millisecond, "the library and the trainees' list have the edit")

	// A broken edit on disk shows its diagnostics; trainees keep the last good version.
	require.NoError(t, os.WriteFile(filepath.Join(e.dir, "slow-clerk.yaml"), []byte(edited+"\nstart: nowhere\n"), 0o644))
	require.Eventually(t, func() bool { return e.entry("slow-clerk.yaml").Draft }, time.Second, 10*time.Millisecond)
	d := e.entry("slow-clerk.yaml")
	require.NotEmpty(t, d.Diagnostics)
	assert.Equal(t, "slow-clerk.yaml", d.Diagnostics[0].Path)
	assert.True(t, strings.HasPrefix(traineeTitles(t, e)["slow-clerk"], "Edited on disk — "))
}

func TestCheckAndTests(t *testing.T) {
	e := newEnv(t)
	var f fileInfo
	e.call("GET", "/api/studio/files/gift-wrap.yaml", designerKey, nil, &f)
	lines := strings.Split(f.Source, "\n")
	// Misspell one transition target and see the diagnostic at its line, with a suggestion.
	target := -1
	for i, l := range lines {
		if strings.Contains(l, "to: ") && target < 0 {
			target = i
		}
	}
	require.GreaterOrEqual(t, target, 0)
	col := strings.Index(lines[target], "to: ") + len("to: ")
	name := strings.Fields(strings.Trim(lines[target][col:], "{}, "))[0]
	name = strings.TrimRight(name, "},")
	lines[target] = lines[target][:col] + name + "x" + lines[target][col+len(name):]
	var res struct {
		Diagnostics []engine.Diagnostic
		Sketch      engine.Sketch
	}
	require.Equal(t, 200, e.call("POST", "/api/studio/check", designerKey, map[string]string{"path": "gift-wrap.yaml", "source": strings.Join(lines, "\n")}, &res))
	require.NotEmpty(t, res.Diagnostics)
	dg := res.Diagnostics[0]
	assert.Equal(t, target+1, dg.Line)
	assert.Equal(t, col+1, dg.Col)
	assert.Contains(t, dg.Message, `did you mean "`+name+`"`)
	assert.NotEmpty(t, res.Sketch.Nodes, "the graph is drawn even with errors")

	// The shipped tests pass; a wrong expectation fails with the transcript and trace.
	var tr struct {
		Passed, Failed int
		Results        []struct {
			Name       string
			Passed     bool
			Failures   []string
			Transcript []string
		}
	}
	require.Equal(t, 200, e.call("POST", "/api/studio/tests", designerKey, map[string]string{"path": "gift-wrap.yaml"}, &tr))
	assert.Zero(t, tr.Failed)
	assert.Positive(t, tr.Passed)
	tests, _ := e.lib.File("gift-wrap.test.yaml")
	wrong := strings.Replace(string(tests), "passed: true", "passed: false", 1)
	require.NotEqual(t, string(tests), wrong)
	require.Equal(t, 200, e.call("POST", "/api/studio/tests", designerKey, map[string]string{"path": "gift-wrap.yaml", "tests": wrong}, &tr))
	assert.Equal(t, 1, tr.Failed)
	for _, r := range tr.Results {
		if !r.Passed {
			assert.NotEmpty(t, r.Failures)
			assert.Contains(t, strings.Join(r.Transcript, "\n"), "enter ", "the transcript holds the rule trace")
			assert.Contains(t, strings.Join(r.Transcript, "\n"), "→ TRUE")
		}
	}
	// A scenario with errors cannot run its tests: 422 with the diagnostics.
	assert.Equal(t, 422, e.call("POST", "/api/studio/tests", designerKey, map[string]string{"path": "gift-wrap.yaml", "source": "id: x"}, nil))
}

// Play with the lid open: debug messages after each step; the call recorded as a test passes.
func TestPlayDebugAndRecord(t *testing.T) {
	e := newEnv(t)
	var created struct{ Path string }
	require.Equal(t, 201, e.call("POST", "/api/studio/scenarios", designerKey, map[string]string{"id": "parcel"}, &created))
	var started struct{ ID, Token, WS string }
	require.Equal(t, 201, e.call("POST", "/api/studio/play", designerKey, map[string]any{"path": "parcel.yaml"}, &started))
	c := e.dial(t, started.WS)
	first := c.until("debug")
	assert.Equal(t, "ring", first["node"])
	c.send(map[string]any{"type": "answer"})
	dbg := c.until("debug") // after the step's messages
	assert.Equal(t, "ask", dbg["node"])
	c.until("choices") // designers see every choice, once the line has been said
	c.send(map[string]any{"type": "choose", "index": 0})
	dbg = c.until("debug")
	assert.Equal(t, "thanks", dbg["node"])
	trace := dbg["trace"].([]any)
	require.NotEmpty(t, trace)
	hit := trace[len(trace)-1].(map[string]any)
	assert.Equal(t, `said("help") && said("greet")`, hit["when"])
	assert.Equal(t, "thanks", hit["to"])
	assert.Equal(t, true, hit["holds"])
	assert.Equal(t, 2.0, dbg["scores"].(map[string]any)["courtesy"])
	c.until("end")

	var rec struct{ Test string }
	require.Equal(t, 200, e.call("POST", "/api/studio/record", designerKey, map[string]string{"id": started.ID, "token": started.Token, "name": "helpful"}, &rec))
	assert.Contains(t, rec.Test, "helpful")
	tests, _ := e.lib.File("parcel.test.yaml")
	all := string(tests) + "\n" + rec.Test
	var tr struct{ Passed, Failed int }
	require.Equal(t, 200, e.call("POST", "/api/studio/tests", designerKey, map[string]string{"path": "parcel.yaml", "tests": all}, &tr))
	assert.Equal(t, 4, tr.Passed, "the template's three and the recorded call pass")

	// From a node with vars; bad nodes and vars are refused with a suggestion.
	var er struct{ Error struct{ Message string } }
	assert.Equal(t, 400, e.call("POST", "/api/studio/play", designerKey, map[string]any{"path": "cheese-shop.yaml", "node": "gret"}, &er))
	assert.Contains(t, er.Error.Message, "unknown node")
	require.Equal(t, 201, e.call("POST", "/api/studio/play", designerKey, map[string]any{"path": "parcel.yaml", "node": "ask"}, &started))
	c = e.dial(t, started.WS)
	assert.Equal(t, "ask", c.until("debug")["node"])
	assert.Equal(t, 422, e.call("POST", "/api/studio/record", designerKey, map[string]string{"id": started.ID, "token": started.Token, "name": "x"}, &er))
	assert.Contains(t, er.Error.Message, "started from node ask")

	// Debug calls are never recorded in the journal.
	sums, err := e.jr.List(context.Background(), journal.Filter{})
	require.NoError(t, err)
	assert.Empty(t, sums)
}

// Paths taken: recorded trainee calls counted per node, edge and ending.
func TestPathsTaken(t *testing.T) {
	e := newEnv(t)
	require.Equal(t, 201, e.call("POST", "/api/studio/scenarios", designerKey, map[string]string{"id": "parcel"}, nil))
	play := func(reply map[string]any) {
		var started struct{ WS string }
		require.Equal(t, 201, e.call("POST", "/api/calls", "", map[string]string{"scenario": "parcel", "trainee": "Kim"}, &started))
		c := e.dial(t, started.WS)
		c.send(map[string]any{"type": "answer"})
		c.send(map[string]any{"type": "hint"}) // trainees' calls show choices on request
		c.until("choices")
		c.send(reply)
		c.until("end")
	}
	play(map[string]any{"type": "choose", "index": 0})
	play(map[string]any{"type": "say", "text": "Huh."})
	play(map[string]any{"type": "choose", "index": 0})
	var p struct {
		Calls []struct{ ID, Ending string }
		Nodes map[string]int
		Edges []struct {
			From, To string
			Calls    int
		}
		Endings map[string]int
		ByNode  map[string][]int `json:"by_node"`
	}
	require.Eventually(t, func() bool {
		e.call("GET", "/api/studio/paths/parcel", supervisorKey, nil, &p)
		return len(p.Calls) == 3
	}, waitFor, 20*time.Millisecond)
	assert.Equal(t, map[string]int{"ring": 3, "ask": 3, "thanks": 2, "annoyed": 1}, p.Nodes)
	assert.Equal(t, map[string]int{"thanks": 2, "annoyed": 1}, p.Endings)
	edges := map[string]int{}
	for _, ed := range p.Edges {
		edges[ed.From+">"+ed.To] = ed.Calls
	}
	assert.Equal(t, map[string]int{"ring>ask": 3, "ask>thanks": 2, "ask>annoyed": 1}, edges)
	require.Len(t, p.ByNode["annoyed"], 1)
	assert.Equal(t, "annoyed", p.Calls[p.ByNode["annoyed"][0]].Ending)

	// A supervisor can open any recorded call's debrief from there.
	var rec map[string]any
	require.Equal(t, 200, e.call("GET", "/api/studio/calls/"+p.Calls[0].ID+"/debrief", supervisorKey, nil, &rec))
	assert.Equal(t, 401, e.call("GET", "/api/studio/calls/"+p.Calls[0].ID+"/debrief", "", nil, nil))
}

func TestLoadSecrets(t *testing.T) {
	dir := t.TempDir()
	s, created, err := access.LoadSecrets(dir, access.Secrets{})
	require.NoError(t, err)
	assert.True(t, created)
	assert.GreaterOrEqual(t, len(s.Designer), access.MinSecretLen)
	assert.NotEqual(t, s.Designer, s.Supervisor)
	info, err := os.Stat(filepath.Join(dir, access.SecretsFile))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "only the owner may read the secrets")

	again, created, err := access.LoadSecrets(dir, access.Secrets{})
	require.NoError(t, err)
	assert.False(t, created)
	assert.Equal(t, s, again, "the same secrets after a restart")

	over, _, err := access.LoadSecrets(dir, access.Secrets{Designer: "a-designer-secret-set-by-flag"})
	require.NoError(t, err)
	assert.Equal(t, "a-designer-secret-set-by-flag", over.Designer)
	assert.Equal(t, s.Supervisor, over.Supervisor)

	_, _, err = access.LoadSecrets(dir, access.Secrets{Designer: "short"})
	assert.ErrorContains(t, err, "at least 16")
	require.NoError(t, os.WriteFile(filepath.Join(dir, access.SecretsFile), []byte("{"), 0o600))
	_, _, err = access.LoadSecrets(dir, access.Secrets{})
	assert.ErrorContains(t, err, "damaged")
}

// Try a reply explains what the scenario (as in the editor) understands of a sentence.
func TestUnderstandEndpoint(t *testing.T) {
	e := newEnv(t)
	type found struct {
		Phrase, Words, Reason string
	}
	var res struct {
		Matched []string `json:"matched"`
		Intents []struct {
			Intent  string  `json:"intent"`
			Matched bool    `json:"matched"`
			Hits    []found `json:"hits"`
			Blocked []found `json:"blocked"`
		} `json:"intents"`
	}
	require.Equal(t, 200, e.call("POST", "/api/studio/understand", supervisorKey,
		map[string]string{"path": "cheese-shop.yaml", "text": "im not sorry, we just dont have any"}, &res))
	assert.Contains(t, res.Matched, "out_of_stock")
	assert.NotContains(t, res.Matched, "apology", "negated")
	var apology []found
	for _, im := range res.Intents {
		if im.Intent == "apology" {
			apology = im.Blocked
		}
		if im.Intent == "out_of_stock" {
			require.NotEmpty(t, im.Hits)
			assert.Equal(t, "dont have", im.Hits[0].Words)
		}
	}
	assert.Equal(t, []found{{Phrase: "sorry", Words: "sorry", Reason: `negated by "not"`}}, apology)

	// The words as read, typos, and a phrase nearly matched (what lint says of an example).
	var more struct {
		Reading string   `json:"reading"`
		Typos   []string `json:"typos"`
		Near    []struct {
			Intent, Phrase string
			Between        []string
		} `json:"near"`
	}
	require.Equal(t, 200, e.call("POST", "/api/studio/understand", designerKey,
		map[string]string{"path": "cheese-shop.yaml", "text": "i cant promis anything, i can only say i really hope so"}, &more))
	assert.Equal(t, "i can not promise anything i can only say i really hope so", more.Reading)
	assert.Contains(t, more.Typos, "promis→promise")
	require.Equal(t, 200, e.call("POST", "/api/studio/understand", designerKey,
		map[string]string{"path": "cheese-shop.yaml", "text": "let me go and check"}, &more))
	require.NotEmpty(t, more.Near)
	assert.Equal(t, "let me check", more.Near[0].Phrase)
	assert.Equal(t, []string{"go", "and"}, more.Near[0].Between)

	// The editor's unsaved text is what is tried.
	src, ok := e.lib.File("cheese-shop.yaml")
	require.True(t, ok)
	edited := strings.Replace(string(src), `phrases: ["gouda",`, `phrases: ["gorgonzola", "gouda",`, 1)
	require.NotEqual(t, string(src), edited)
	require.Equal(t, 200, e.call("POST", "/api/studio/understand", designerKey,
		map[string]any{"path": "cheese-shop.yaml", "source": edited, "text": "how about gorgonzola"}, &res))
	assert.Equal(t, []string{"alternative"}, res.Matched)

	var er struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	assert.Equal(t, 400, e.call("POST", "/api/studio/understand", designerKey, map[string]string{"path": "cheese-shop.yaml", "text": "  "}, &er))
	assert.Equal(t, "empty_text", er.Error.Code)
	assert.Equal(t, 422, e.call("POST", "/api/studio/understand", designerKey, map[string]any{"path": "cheese-shop.yaml", "source": "id: broken", "text": "sorry"}, &er))
	assert.Equal(t, "scenario_errors", er.Error.Code)
	assert.Equal(t, 401, e.call("POST", "/api/studio/understand", "", map[string]string{"path": "cheese-shop.yaml", "text": "sorry"}, nil))
}

// recordParcelCalls creates the scenario parcel from the template and records three calls
// by Kim: two helpful answers (ending thanks) and one "Huh." (ending annoyed).
func recordParcelCalls(t *testing.T, e *env) {
	t.Helper()
	require.Equal(t, 201, e.call("POST", "/api/studio/scenarios", designerKey, map[string]string{"id": "parcel"}, nil))
	play := func(reply map[string]any) {
		var started struct{ WS string }
		require.Equal(t, 201, e.call("POST", "/api/calls", "", map[string]string{"scenario": "parcel", "trainee": "Kim"}, &started))
		c := e.dial(t, started.WS)
		c.send(map[string]any{"type": "answer"})
		c.send(map[string]any{"type": "hint"})
		c.until("choices")
		c.send(reply)
		c.until("end")
	}
	play(map[string]any{"type": "choose", "index": 0})
	play(map[string]any{"type": "say", "text": "Huh."})
	play(map[string]any{"type": "choose", "index": 0})
}

// The Impact panel replays the recorded calls of a scenario against the editor's text and
// lists the calls that would end or score differently.
func TestImpact(t *testing.T) {
	e := newEnv(t)
	recordParcelCalls(t, e)
	saved, ok := e.lib.File("parcel.yaml")
	require.True(t, ok)
	type result struct {
		Scenario string
		Calls    []struct {
			ID, Trainee string
			Created     time.Time
			Changes     []string
		}
		Replayed, Changed, Skipped, Limit int
		Diagnostics                       []map[string]any
	}
	impact := func(src string, secret string) (int, result) {
		var res result
		code := e.call("POST", "/api/studio/impact", secret, map[string]any{"path": "parcel.yaml", "source": src}, &res)
		return code, res
	}
	var res result
	require.Eventually(t, func() bool {
		_, res = impact(string(saved), supervisorKey)
		return res.Replayed == 3
	}, waitFor, 20*time.Millisecond)
	assert.Equal(t, 0, res.Changed, "the saved text changes nothing")
	for _, c := range res.Calls {
		assert.Empty(t, c.Changes, c.ID)
		assert.Equal(t, "Kim", c.Trainee)
		assert.False(t, c.Created.IsZero())
	}
	assert.Equal(t, studio.MaxImpactCalls, res.Limit)

	// Halving the courtesy points changes the two helped calls' scores, not the ending.
	edited := strings.Replace(string(saved), "score: {courtesy: 2}", "score: {courtesy: 1}", 1)
	require.NotEqual(t, string(saved), edited)
	code, res := impact(edited, designerKey)
	require.Equal(t, 200, code)
	assert.Equal(t, "parcel", res.Scenario)
	assert.Equal(t, 3, res.Replayed)
	assert.Equal(t, 2, res.Changed)
	changed := 0
	for _, c := range res.Calls {
		if len(c.Changes) > 0 {
			changed++
			assert.Contains(t, c.Changes, "courtesy 2/2 → 1/2", c.ID)
		}
	}
	assert.Equal(t, 2, changed)

	// Understanding "Huh." as help changes the rude call's ending.
	edited = strings.Replace(string(saved), `help: ["i can",`, `help: ["huh", "i can",`, 1)
	require.NotEqual(t, string(saved), edited)
	code, res = impact(edited, supervisorKey)
	require.Equal(t, 200, code, "%v", res.Diagnostics)
	require.Equal(t, 1, res.Changed)
	for _, c := range res.Calls {
		if len(c.Changes) > 0 {
			assert.Contains(t, c.Changes, "ending annoyed → thanks")
			assert.Contains(t, c.Changes, "outcome lost → resolved")
		}
	}

	// The file is unchanged on disk: impact only looks.
	now, _ := e.lib.File("parcel.yaml")
	assert.Equal(t, string(saved), string(now))

	// A source with errors gets its diagnostics, not a replay.
	code, res = impact("id: parcel\nnodes: [", designerKey)
	assert.Equal(t, 422, code)
	assert.NotEmpty(t, res.Diagnostics)

	// Access: no secret, no impact.
	code, _ = impact(string(saved), "")
	assert.Equal(t, 401, code)
}
