package live

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestStorageErrorsArePaced: through an outage, one error line per storageLogEvery, each
// saying how many failures it left out; those go at Debug.
func TestStorageErrorsArePaced(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var s storageErrors
	t0 := time.Date(2026, 12, 5, 17, 0, 0, 0, time.UTC)
	for i := range 5 {
		s.log(l, t0.Add(time.Duration(i)*time.Second), "journal append failed", "call", i)
	}
	s.log(l, t0.Add(storageLogEvery), "journal append failed", "call", 5)
	s.log(l, t0.Add(storageLogEvery+time.Second), "journal append failed", "call", 6)

	var errs, debugs []string
	for line := range strings.Lines(buf.String()) {
		switch {
		case strings.Contains(line, "level=ERROR"):
			errs = append(errs, line)
		case strings.Contains(line, "level=DEBUG"):
			debugs = append(debugs, line)
		}
	}
	if assert.Len(t, errs, 2) {
		assert.Contains(t, errs[0], "call=0")
		assert.NotContains(t, errs[0], "similar_failures_not_logged")
		assert.Contains(t, errs[1], "call=5")
		assert.Contains(t, errs[1], "similar_failures_not_logged=4")
	}
	assert.Len(t, debugs, 5, "the others are still there at Debug")
}
