package httpjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/switchboard-sim/switchboard/web/protocol"
)

// BodyTimeout is how long a client has to send a request body once its headers arrived
// (http.Server's ReadHeaderTimeout covers the headers). A body sent more slowly is cut
// off with 408: slow bodies cannot hold connections and goroutines open.
const BodyTimeout = 10 * time.Second

// Errors of ReadBody.
var (
	// ErrBodyTooLarge is returned for a body over the limit.
	ErrBodyTooLarge = errors.New("the request body is too large")
	// ErrBodyTimeout is returned for a body that did not arrive in time.
	ErrBodyTimeout = errors.New("the request body did not arrive in time")
)

// ReadBody reads a request body of at most limit bytes, which must arrive within timeout
// (0 means BodyTimeout). It returns ErrBodyTooLarge or ErrBodyTimeout (wrapped) for those
// two cases, and other read errors wrapped.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64, timeout time.Duration) ([]byte, error) {
	if timeout <= 0 {
		timeout = BodyTimeout
	}
	rc := http.NewResponseController(w)
	// Not every ResponseWriter supports deadlines (httptest.ResponseRecorder does not):
	// then the server's own timeouts are all there is.
	deadlineSet := rc.SetReadDeadline(time.Now().Add(timeout)) == nil
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		// The deadline stays: net/http would otherwise wait for the rest of the body
		// before answering. The connection is not reused.
		w.Header().Set("Connection", "close")
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			return nil, fmt.Errorf("%w (the limit is %d bytes)", ErrBodyTooLarge, limit)
		case errors.Is(err, os.ErrDeadlineExceeded):
			return nil, fmt.Errorf("%w (%s)", ErrBodyTimeout, timeout)
		}
		return nil, fmt.Errorf("reading the request: %w", err)
	}
	if deadlineSet {
		_ = rc.SetReadDeadline(time.Time{})
	}
	return body, nil
}

// ReadJSONBody reads the body of a JSON request for a handler, answering the client itself
// when it cannot: 415 unsupported_media_type unless the content type is application/json,
// 413 too_large over limit bytes, 408 timeout when it does not arrive within timeout (0
// means BodyTimeout), 400 bad_json when it cannot be read. It reports whether the handler
// may go on with the body.
func ReadJSONBody(w http.ResponseWriter, r *http.Request, limit int64, timeout time.Duration) ([]byte, bool) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		WriteError(w, http.StatusUnsupportedMediaType, protocol.CodeMediaType, "send the request as application/json")
		return nil, false
	}
	body, err := ReadBody(w, r, limit, timeout)
	switch {
	case errors.Is(err, ErrBodyTooLarge):
		WriteError(w, http.StatusRequestEntityTooLarge, protocol.CodeTooLarge, fmt.Sprintf("the request body is over %s", sizeText(limit)))
		return nil, false
	case errors.Is(err, ErrBodyTimeout):
		WriteError(w, http.StatusRequestTimeout, protocol.CodeTimeout, err.Error())
		return nil, false
	case err != nil:
		WriteError(w, http.StatusBadRequest, protocol.CodeBadJSON, err.Error())
		return nil, false
	}
	return body, true
}

// sizeText writes a byte count as people read it: "16 KiB", "2 MiB", "2112 KiB", "100 bytes".
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// APIError is the body of every HTTP error of Switchboard's JSON APIs.
type APIError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// WriteError answers with status and an APIError of the given code and message.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	var e APIError
	e.Error.Code, e.Error.Message = code, message
	WriteJSON(w, status, e)
}

// WriteJSON answers with status and v as JSON, never cached.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// OwnOrigin reports whether origin (an Origin header's value) is the request's own —
// same scheme (https when it came over TLS), host and port, a scheme's default port made
// explicit — or that of one of also (public base URLs; nil ones are skipped). It is the one
// origin check of every endpoint, the studio's included.
func OwnOrigin(r *http.Request, origin string, also ...*url.URL) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if sameOrigin(u, &url.URL{Scheme: scheme, Host: r.Host}) {
		return true
	}
	for _, a := range also {
		if a != nil && a.Host != "" && sameOrigin(u, a) {
			return true
		}
	}
	return false
}

// sameOrigin compares scheme, host and port (a scheme's default port made explicit).
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(explicitPort(a), explicitPort(b))
}

func explicitPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if s := strings.ToLower(u.Scheme); s == "https" || s == "wss" {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}
