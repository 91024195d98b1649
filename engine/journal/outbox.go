package journal

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// Outbox remembers which finished calls still have to be reported to a learning record
// store, so that a record store that is down delays the reports but never loses them. The
// statements themselves are rebuilt from the journal when they are sent. Every method is
// safe for concurrent use.
//
// Several senders may share one outbox (instances sharing a PostgreSQL journal): Due
// claims what it returns, so that two senders never work on the same call at the same
// time. A claim is a lease that needs no column of its own: it moves the call's next
// attempt OutboxClaim ahead, so that no other Due returns it meanwhile; the sender then
// marks it Sent, or Retry sets its next attempt. A sender that dies holding claims leaves
// those calls due again once OutboxClaim has passed. A sender that is still working on a
// call when its claim lapses may send it again at the same time as another (harmless:
// statement ids are stable), so a sender must not start sending a claimed call later than
// OutboxClaim minus its own timeout after Due returned it.
type Outbox interface {
	// Enqueue adds a call, due at once; enqueueing a call again changes nothing.
	Enqueue(ctx context.Context, callID string, now time.Time) error
	// Due claims and returns up to limit calls (0: DefaultLimit) whose next attempt is at
	// or before now, oldest first: each one's next attempt becomes now+OutboxClaim. The
	// items carry the due time they had before this claim.
	Due(ctx context.Context, now time.Time, limit int) ([]OutboxItem, error)
	// Sent marks a call as reported; it is never due again.
	Sent(ctx context.Context, callID string, at time.Time) error
	// Retry records a failed attempt and when to try next.
	Retry(ctx context.Context, callID string, next time.Time, lastError string) error
}

// OutboxClaim is how long a call Due returned stays claimed by its sender: longer than
// sending one report may take (web/xapisend: 15 s per request), with room for a few.
const OutboxClaim = 2 * time.Minute

// OutboxItem is a call waiting to be reported.
type OutboxItem struct {
	CallID    string
	Attempts  int
	LastError string
	Due       time.Time
}

type memOutbox struct {
	item OutboxItem
	sent bool
}

var _ Outbox = (*Memory)(nil)

// Enqueue implements Outbox.
func (m *Memory) Enqueue(ctx context.Context, callID string, now time.Time) error {
	if err := m.lock(ctx); err != nil {
		return fmt.Errorf("journal: enqueue %q: %w", callID, err)
	}
	defer m.mu.Unlock()
	if m.outbox == nil {
		m.outbox = map[string]*memOutbox{}
	}
	if _, ok := m.outbox[callID]; !ok {
		m.outbox[callID] = &memOutbox{item: OutboxItem{CallID: callID, Due: now}}
	}
	return nil
}

// Due implements Outbox.
func (m *Memory) Due(ctx context.Context, now time.Time, limit int) ([]OutboxItem, error) {
	if err := m.lock(ctx); err != nil {
		return nil, fmt.Errorf("journal: outbox: %w", err)
	}
	defer m.mu.Unlock()
	var due []OutboxItem
	for _, o := range m.outbox {
		if !o.sent && !o.item.Due.After(now) {
			due = append(due, o.item)
		}
	}
	sort.Slice(due, func(i, j int) bool {
		if !due[i].Due.Equal(due[j].Due) {
			return due[i].Due.Before(due[j].Due)
		}
		return due[i].CallID < due[j].CallID
	})
	if limit <= 0 {
		limit = DefaultLimit
	}
	if len(due) > limit {
		due = due[:limit]
	}
	for _, it := range due {
		m.outbox[it.CallID].item.Due = now.Add(OutboxClaim)
	}
	return due, nil
}

// Sent implements Outbox.
func (m *Memory) Sent(ctx context.Context, callID string, at time.Time) error {
	if err := m.lock(ctx); err != nil {
		return fmt.Errorf("journal: sent %q: %w", callID, err)
	}
	defer m.mu.Unlock()
	o, ok := m.outbox[callID]
	if !ok {
		return fmt.Errorf("journal: sent %q: %w", callID, ErrNotFound)
	}
	o.sent = true
	return nil
}

// Retry implements Outbox.
func (m *Memory) Retry(ctx context.Context, callID string, next time.Time, lastError string) error {
	if err := m.lock(ctx); err != nil {
		return fmt.Errorf("journal: retry %q: %w", callID, err)
	}
	defer m.mu.Unlock()
	o, ok := m.outbox[callID]
	if !ok {
		return fmt.Errorf("journal: retry %q: %w", callID, ErrNotFound)
	}
	o.item.Attempts++
	o.item.LastError = lastError
	o.item.Due = next
	return nil
}
