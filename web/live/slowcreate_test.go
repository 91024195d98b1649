package live

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestSlowCreatesLoggedOncePerPeriod: a ramp that the journal cannot keep up with refuses
// many new calls as busy; the log gets one line per slowCreateLogEvery with the count, not
// one line per call.
func TestSlowCreatesLoggedOncePerPeriod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf bytes.Buffer
		f := New(Options{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
		defer f.Shutdown(t.Context())
		for range 500 {
			f.noteSlowCreate()
		}
		time.Sleep(slowCreateLogEvery / 2)
		for range 300 {
			f.noteSlowCreate()
		}
		time.Sleep(slowCreateLogEvery / 2)
		f.noteSlowCreate()
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if assert.Len(t, lines, 2, buf.String()) {
			assert.Contains(t, lines[0], "refused=1 ")
			assert.Contains(t, lines[1], "refused=800 ", "the refusals since the last line")
		}
	})
}
