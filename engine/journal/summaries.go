package journal

import (
	"context"
	"errors"
	"fmt"
)

// Summarizer is a journal that reads many calls' summaries at once (one query in a
// database) instead of one Load per call.
type Summarizer interface {
	// Summaries returns the summaries of the calls with the given ids, in no particular
	// order; ids not in the journal are left out, and an id asked twice is returned once.
	Summaries(ctx context.Context, ids []string) ([]Summary, error)
}

// SummariesOf returns the summaries of the calls with the given ids: in one go when j is a
// Summarizer, else with one Load per call. Unknown ids are left out.
func SummariesOf(ctx context.Context, j Journal, ids []string) ([]Summary, error) {
	if s, ok := j.(Summarizer); ok {
		return s.Summaries(ctx, ids)
	}
	out := make([]Summary, 0, len(ids))
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		c, _, r, err := j.Load(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("journal: summaries: %w", err)
		}
		out = append(out, Summary{Call: c, Result: r})
	}
	return out, nil
}

// Summaries implements Summarizer.
func (m *Memory) Summaries(ctx context.Context, ids []string) ([]Summary, error) {
	if err := m.lock(ctx); err != nil {
		return nil, fmt.Errorf("journal: summaries: %w", err)
	}
	defer m.mu.Unlock()
	out := make([]Summary, 0, len(ids))
	seen := map[string]bool{}
	for _, id := range ids {
		mc, ok := m.calls[id]
		if !ok || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, Summary{Call: cloneCall(mc.call), Result: cloneResult(mc.result)})
	}
	return out, nil
}
