package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
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
