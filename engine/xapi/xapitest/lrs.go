// Package xapitest is a strict test learning record store: an http.Handler that accepts
// POST /statements only when every statement follows the xAPI 1.0.3 rules Switchboard
// relies on, and remembers what it stored. It can be told to fail, to test retries.
//
// An LRS is safe for concurrent use.
package xapitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"time"
)

// LRS is the test record store.
type LRS struct {
	User, Password string // required basic-auth credentials ("" accepts none)

	mu         sync.Mutex
	down       bool
	stored     map[string]json.RawMessage
	order      []string
	rejections []string
	posts      int
}

// New returns an LRS that requires the given basic-auth credentials.
func New(user, password string) *LRS {
	return &LRS{User: user, Password: password, stored: map[string]json.RawMessage{}}
}

// SetDown makes the LRS answer 503 (true) or work again (false).
func (l *LRS) SetDown(down bool) {
	l.mu.Lock()
	l.down = down
	l.mu.Unlock()
}

// Stored returns the statements stored, in the order they first arrived.
func (l *LRS) Stored() []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, id := range l.order {
		var m map[string]any
		_ = json.Unmarshal(l.stored[id], &m)
		out = append(out, m)
	}
	return out
}

// Rejections returns why requests were refused.
func (l *LRS) Rejections() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.rejections...)
}

// Posts returns how many POST requests arrived (accepted or not).
func (l *LRS) Posts() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.posts
}

func (l *LRS) reject(w http.ResponseWriter, status int, msg string) {
	l.rejections = append(l.rejections, msg)
	http.Error(w, msg, status)
}

// ServeHTTP implements POST /statements (a statement or an array of them).
func (l *LRS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.Method != http.MethodPost || path(r.URL) != "/statements" {
		l.reject(w, http.StatusNotFound, "only POST /statements: got "+r.Method+" "+r.URL.Path)
		return
	}
	l.posts++
	if l.down {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	if v := r.Header.Get("X-Experience-API-Version"); v == "" || v[:min(len(v), 4)] != "1.0." {
		l.reject(w, http.StatusBadRequest, "missing or wrong X-Experience-API-Version header: "+v)
		return
	}
	if u, p, _ := r.BasicAuth(); l.User != "" && (u != l.User || p != l.Password) {
		l.reject(w, http.StatusUnauthorized, "bad credentials")
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		l.reject(w, http.StatusBadRequest, err.Error())
		return
	}
	var batch []json.RawMessage
	if bytes.HasPrefix(bytes.TrimSpace(body), []byte("[")) {
		err = json.Unmarshal(body, &batch)
	} else {
		batch = []json.RawMessage{body}
	}
	if err != nil {
		l.reject(w, http.StatusBadRequest, "body is not JSON: "+err.Error())
		return
	}
	var problems []string
	ids := make([]string, 0, len(batch))
	for i, raw := range batch {
		for _, p := range Check(raw) {
			problems = append(problems, fmt.Sprintf("statement %d: %s", i, p))
		}
		var head struct{ ID string }
		_ = json.Unmarshal(raw, &head)
		ids = append(ids, head.ID)
		if old, ok := l.stored[head.ID]; ok && !sameJSON(old, raw) {
			problems = append(problems, fmt.Sprintf("statement %d: id %s already stored with other content", i, head.ID))
		}
	}
	if len(problems) > 0 {
		status := http.StatusBadRequest
		for _, p := range problems {
			if regexp.MustCompile(`already stored`).MatchString(p) {
				status = http.StatusConflict
			}
		}
		l.reject(w, status, fmt.Sprint(problems))
		return
	}
	for i, id := range ids {
		if _, ok := l.stored[id]; !ok {
			l.stored[id] = batch[i]
			l.order = append(l.order, id)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(ids)
}

func path(u *url.URL) string {
	p := u.Path
	for len(p) > 1 && p[len(p)-1] == '/' {
		p = p[:len(p)-1]
	}
	if i := len(p) - len("/statements"); i >= 0 {
		return p[i:]
	}
	return p
}

func sameJSON(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

var (
	uuidRE     = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	durationRE = regexp.MustCompile(`^P(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?(T(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$`)
	iriRE      = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s]+$`)
)

// Check returns the xAPI rules one statement breaks (none: it is valid).
func Check(raw json.RawMessage) []string {
	var s map[string]any
	if err := json.Unmarshal(raw, &s); err != nil {
		return []string{"not a JSON object: " + err.Error()}
	}
	var p []string
	bad := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	if id, _ := s["id"].(string); !uuidRE.MatchString(id) {
		bad("id %q is not a UUID", s["id"])
	}
	actor, _ := s["actor"].(map[string]any)
	if actor == nil {
		bad("actor is required")
	} else {
		n := 0
		for _, k := range []string{"mbox", "mbox_sha1sum", "openid", "account"} {
			if _, ok := actor[k]; ok {
				n++
			}
		}
		if n != 1 {
			bad("an agent needs exactly one identifier (mbox, mbox_sha1sum, openid, account), it has %d", n)
		}
		if acc, ok := actor["account"].(map[string]any); ok {
			hp, _ := acc["homePage"].(string)
			name, _ := acc["name"].(string)
			if !iriRE.MatchString(hp) || name == "" {
				bad("account needs an IRL homePage and a name: %v", acc)
			}
		}
	}
	verb, _ := s["verb"].(map[string]any)
	if id, _ := verb["id"].(string); !iriRE.MatchString(id) {
		bad("verb.id must be an IRI: %v", verb["id"])
	}
	if d, ok := verb["display"].(map[string]any); ok && len(d) == 0 {
		bad("verb.display is empty")
	}
	obj, _ := s["object"].(map[string]any)
	if id, _ := obj["id"].(string); !iriRE.MatchString(id) {
		bad("object.id must be an IRI: %v", obj["id"])
	}
	if res, ok := s["result"].(map[string]any); ok {
		if sc, ok := res["score"].(map[string]any); ok {
			if v, ok := sc["scaled"].(float64); ok && (v < -1 || v > 1) {
				bad("result.score.scaled %v is outside -1..1", v)
			}
			mn, hasMin := sc["min"].(float64)
			mx, hasMax := sc["max"].(float64)
			raw, hasRaw := sc["raw"].(float64)
			if hasMin && hasMax && mn > mx {
				bad("result.score.min > max")
			}
			if hasRaw && ((hasMin && raw < mn) || (hasMax && raw > mx)) {
				bad("result.score.raw %v outside min..max", raw)
			}
		}
		if d, ok := res["duration"]; ok {
			ds, _ := d.(string)
			if !durationRE.MatchString(ds) || ds == "P" || ds == "PT" {
				bad("result.duration %q is not an ISO 8601 duration", d)
			}
		}
		if sv, ok := res["success"]; ok {
			if _, isBool := sv.(bool); !isBool {
				bad("result.success must be a boolean")
			}
		}
	}
	if ctx, ok := s["context"].(map[string]any); ok {
		if reg, ok := ctx["registration"]; ok {
			if rs, _ := reg.(string); !uuidRE.MatchString(rs) {
				bad("context.registration %q is not a UUID", reg)
			}
		}
	}
	if ts, ok := s["timestamp"]; ok {
		tss, _ := ts.(string)
		if _, err := time.Parse(time.RFC3339Nano, tss); err != nil {
			bad("timestamp %q is not ISO 8601: %v", ts, err)
		}
	}
	return p
}
