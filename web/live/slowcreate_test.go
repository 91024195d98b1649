package live

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine/journal"
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

// waitingJournal is a memory journal whose Create waits until its context ends.
type waitingJournal struct{ journal.Journal }

func (waitingJournal) Create(ctx context.Context, _ journal.Call) error {
	<-ctx.Done()
	return fmt.Errorf("waiting journal: %w", ctx.Err())
}

// TestAbandonedStartIsNotAnError: a client that goes away while its new call waits for
// the journal gets ctx's error, nothing is recorded, the slot is freed, and the log says
// so at INFO, not as a journal failure.
func TestAbandonedStartIsNotAnError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf bytes.Buffer
		f := New(Options{Journal: waitingJournal{journal.NewMemory()}, MaxCalls: 1,
			Logger: slog.New(slog.NewTextHandler(&buf, nil))})
		defer f.Shutdown(t.Context())
		sc := testScenario(t, "live")
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(CreateTimeout/2, cancel)
		_, err := f.Start(ctx, journal.Call{ID: NewCallID(), Created: time.Now()}, sc)
		require.ErrorIs(t, err, context.Canceled)
		assert.NotErrorIs(t, err, ErrStorage)
		assert.Contains(t, buf.String(), "level=INFO msg=\"call start abandoned")
		assert.NotContains(t, buf.String(), "level=ERROR")
		f.mu.Lock()
		assert.Zero(t, f.reserved, "the reserved slot is freed")
		f.mu.Unlock()
	})
}
