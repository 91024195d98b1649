// Package xapisend reports finished calls to a learning record store (LRS) as xAPI
// statements, through the journal's outbox: a call is enqueued when it ends and stays due
// until the LRS has accepted its statements, with growing pauses between attempts. An LRS
// that is slow or down never blocks a call and never loses a report; a report sent twice
// is harmless because statement ids are stable. Several instances' senders may share one
// outbox (PostgreSQL): each round claims the reports it sends (journal.Outbox.Due), so two
// senders do not send the same report at the same time, and a sender that dies leaves its
// claimed reports to the others once journal.OutboxClaim has passed.
//
// A Sender's Notify is safe for concurrent use; Run is called once.
package xapisend

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-sim/switchboard/engine/debrief"
	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/engine/xapi"
)

// Timing of the sender.
const (
	DefaultPoll    = 5 * time.Second  // how often due reports are looked for without a notice
	requestTimeout = 15 * time.Second // one POST to the LRS (at most: a Config.Client's shorter timeout counts)
	loadAllowance  = 5 * time.Second  // reading a call from the journal to build its statements
	firstRetry     = 2 * time.Second  // pause after the first failure; doubles each time
	maxRetry       = 10 * time.Minute // longest pause between attempts
	batchCalls     = 20               // calls reported per round
	maxErrorBytes  = 300              // of an LRS error body kept in the outbox
)

// Config configures a Sender.
type Config struct {
	Endpoint string // the LRS base URL; statements go to Endpoint + "/statements"
	User     string // basic-auth credentials ("" sends none)
	Password string
	HomePage string // see xapi.Statements
	Journal  journal.Journal
	Outbox   journal.Outbox
	Client   *http.Client  // nil: a client with requestTimeout
	Poll     time.Duration // 0: DefaultPoll
	Logger   *slog.Logger
}

// Sender sends reports.
type Sender struct {
	cfg  Config
	wake chan struct{}
	// budget is how long after claiming a batch (journal.Outbox.Due) a send may still
	// start: the claim lasts journal.OutboxClaim, and a send must end before it lapses,
	// or another instance's sender may send the same report at the same time.
	budget time.Duration
	mu     sync.Mutex
	queued []string // notified, not yet in the outbox
}

// New checks cfg and returns a Sender.
func New(cfg Config) (*Sender, error) {
	if !strings.HasPrefix(cfg.Endpoint, "http://") && !strings.HasPrefix(cfg.Endpoint, "https://") {
		return nil, fmt.Errorf("LRS endpoint %q: want an http:// or https:// URL", cfg.Endpoint)
	}
	if cfg.Journal == nil || cfg.Outbox == nil {
		return nil, errors.New("xapisend: a journal with an outbox is required")
	}
	cfg.Endpoint = strings.TrimRight(cfg.Endpoint, "/")
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: requestTimeout}
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	timeout := cfg.Client.Timeout
	if timeout <= 0 || timeout > requestTimeout {
		timeout = requestTimeout
	}
	return &Sender{cfg: cfg, wake: make(chan struct{}, 1), budget: journal.OutboxClaim - timeout - loadAllowance}, nil
}

// Notify tells the sender a call has ended. It never blocks.
func (s *Sender) Notify(callID string) {
	s.mu.Lock()
	s.queued = append(s.queued, callID)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run sends reports until ctx is done.
func (s *Sender) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.Poll)
	defer t.Stop()
	for {
		s.Round(ctx, time.Now())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
	}
}

// Round moves notified calls into the outbox and sends the reports that are due at now.
// It returns how many calls were reported.
func (s *Sender) Round(ctx context.Context, now time.Time) int {
	s.mu.Lock()
	queued := s.queued
	s.queued = nil
	s.mu.Unlock()
	for i, id := range queued {
		if err := s.cfg.Outbox.Enqueue(ctx, id, now); err != nil {
			s.cfg.Logger.Error("xapi: cannot enqueue a report; will try again", "call", id, "err", err)
			s.mu.Lock()
			s.queued = append(s.queued, queued[i:]...)
			s.mu.Unlock()
			break
		}
	}
	due, err := s.cfg.Outbox.Due(ctx, now, batchCalls) // claimed for journal.OutboxClaim
	if err != nil {
		s.cfg.Logger.Error("xapi: cannot read the outbox", "err", err)
		return 0
	}
	claimed := time.Now()
	sent := 0
	for i, it := range due {
		if ctx.Err() != nil {
			return sent
		}
		if time.Since(claimed) > s.budget {
			// Their claim lapses before a send could end: leave them to the next round
			// (of this sender or another), once the claim has lapsed.
			s.cfg.Logger.Warn("xapi: reports left for a later round (the LRS is slow)", "left", len(due)-i)
			return sent
		}
		if err := s.send(ctx, it.CallID); err != nil {
			pause := min(firstRetry<<min(it.Attempts, 20), maxRetry)
			s.cfg.Logger.Warn("xapi: report not accepted; will retry", "call", it.CallID, "attempt", it.Attempts+1, "retry_in", pause, "err", err)
			if rerr := s.cfg.Outbox.Retry(ctx, it.CallID, now.Add(pause), truncate(err.Error())); rerr != nil {
				s.cfg.Logger.Error("xapi: cannot record a failed attempt", "call", it.CallID, "err", rerr)
			}
			continue
		}
		if err := s.cfg.Outbox.Sent(ctx, it.CallID, now); err != nil {
			s.cfg.Logger.Error("xapi: cannot mark a report as sent (it will be sent again, harmlessly)", "call", it.CallID, "err", err)
			continue
		}
		sent++
		s.cfg.Logger.Info("xapi: call reported", "call", it.CallID)
	}
	return sent
}

// send posts one call's statements.
func (s *Sender) send(ctx context.Context, callID string) error {
	info, entries, res, err := s.cfg.Journal.Load(ctx, callID)
	if err != nil {
		return fmt.Errorf("loading the call: %w", err)
	}
	rec, err := debrief.Build(info, entries, res)
	if err != nil {
		return err
	}
	sts, err := xapi.Statements(rec, s.cfg.HomePage)
	if err != nil {
		return err
	}
	body, err := json.Marshal(sts)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.Endpoint+"/statements", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Experience-API-Version", xapi.Version)
	if s.cfg.User != "" {
		req.SetBasicAuth(s.cfg.User, s.cfg.Password)
	}
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the LRS answered %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

func truncate(s string) string {
	if len(s) > maxErrorBytes {
		return s[:maxErrorBytes] + "…"
	}
	return s
}
