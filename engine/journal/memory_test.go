package journal_test

import (
	"testing"

	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/engine/journal/journaltest"
)

func TestMemory(t *testing.T) {
	journaltest.Run(t, func(t *testing.T) journal.Journal { return journal.NewMemory() })
}
