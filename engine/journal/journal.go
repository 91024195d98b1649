// Package journal defines how Switchboard records calls: an append-only log of the events
// each call accepted, from which the engine rebuilds the call exactly (sessions are pure
// and deterministic, so outputs are never stored, only re-derived).
//
// A Journal is safe for concurrent use by many goroutines. Implementations: Memory (this
// package, for tests), the SQLite journal in web/storage/sqlitejournal (the embedded
// default) and the PostgreSQL journal in web/storage/pgjournal (several instances sharing
// one database).
package journal

import (
	"context"
	"errors"
	"time"

	"github.com/switchboard-sim/switchboard/engine"
)

// Errors a journal returns.
var (
	ErrNotFound  = errors.New("no such call")
	ErrExists    = errors.New("call already exists")
	ErrFinished  = errors.New("call already finished")
	ErrSeqGap    = errors.New("entry out of sequence")
	ErrDuplicate = errors.New("client message id already recorded")
)

// Call describes a call when it starts: enough to rebuild its session exactly, even after
// the scenario's files change (the exact sources are kept with their hash).
type Call struct {
	ID         string              `json:"id"`
	ScenarioID string              `json:"scenario_id"`
	Title      string              `json:"title"`
	Hash       string              `json:"hash"`    // engine.Scenario.Hash
	Sources    []engine.SourceFile `json:"sources"` // engine.Scenario.Sources
	Seed       uint64              `json:"seed"`
	Trainee    string              `json:"trainee"`
	Coach      bool                `json:"coach"`
	// Suggestions is the call's suggestion mode (engine.SuggestionMode); "" for calls
	// recorded before modes existed, which showed every choice (SuggestAlways).
	Suggestions string    `json:"suggestions,omitempty"`
	Created     time.Time `json:"created"` // wall clock, for records only
	// TokenHash is a hash of the call's access token (never the token itself).
	TokenHash string `json:"-"`
}

// Mode returns the call's suggestion mode, SuggestAlways for calls recorded before modes.
func (c Call) Mode() engine.SuggestionMode {
	if m, ok := engine.ParseSuggestionMode(c.Suggestions); ok {
		return m
	}
	return engine.SuggestAlways
}

// Session starts a session for the call: its seed, trainee and suggestion mode.
func (c Call) Session(sc *engine.Scenario) *engine.Session {
	s := sc.NewSession(c.Seed, c.Trainee)
	_ = s.SetSuggestions(c.Mode()) // a known mode on a new session: cannot fail
	return s
}

// Entry is one accepted input of a call. Seq numbers a call's entries from 1 without gaps.
type Entry struct {
	Seq      int64        `json:"seq"`
	ClientID string       `json:"client_id,omitempty"` // the client's message id, unique per call when set
	Event    engine.Event `json:"event"`
}

// Result is how a finished call ended, kept for listings and history.
type Result struct {
	Ended   time.Time      `json:"ended"` // wall clock
	End     engine.EndInfo `json:"end"`
	Fired   []string       `json:"fired"` // global rules that fired, in order
	Elapsed int64          `json:"elapsed"`
}

// Summary is one row of a call listing.
type Summary struct {
	Call
	Result *Result `json:"result,omitempty"` // nil while the call is open
}

// Filter selects calls in a listing; zero fields match everything.
type Filter struct {
	Trainee    string
	ScenarioID string
	Open       *bool // only open (true) or only finished (false) calls
	Limit      int   // 0 means DefaultLimit
}

// DefaultLimit is the listing size when a Filter gives none.
const DefaultLimit = 100

// Journal stores calls. Every method is safe for concurrent use. A write has been made
// durable when it returns nil: only then may the server send the outputs it caused.
type Journal interface {
	// Create records a new call. ErrExists if the id is taken.
	Create(ctx context.Context, c Call) error
	// Append records the next entry of an open call; e.Seq must be one more than the last.
	// ErrDuplicate if e.ClientID was already recorded for this call (nothing is written).
	Append(ctx context.Context, callID string, e Entry) error
	// Finish marks a call as ended with its result.
	Finish(ctx context.Context, callID string, r Result) error
	// Load returns a call, its entries in order, and its result (nil while open).
	Load(ctx context.Context, callID string) (Call, []Entry, *Result, error)
	// List returns calls, newest first.
	List(ctx context.Context, f Filter) ([]Summary, error)
	// Close releases the journal's resources.
	Close() error
}

// Starter is a Journal that can start an Append before its caller has worked out what the
// entry causes, so that its disk works meanwhile (web/storage/sqlitejournal).
type Starter interface {
	// StartAppend starts Append(ctx, callID, e) and returns the function that waits for
	// its outcome, Append's error; the caller must call it once, and ctx must not end
	// before. Until then the journal may hold other writes back, so the caller's work in
	// between should be short (the engine's step of the entry). Only an entry the caller
	// will apply may be started: once started it may be committed whatever happens. It
	// returns nil when starting early would gain nothing (a log on tmpfs): the caller then
	// calls Append after its work, as usual.
	StartAppend(ctx context.Context, callID string, e Entry) (wait func() error)
	// Starts reports whether StartAppend may start anything early. When it is false
	// StartAppend always returns nil, and the caller can skip working out whether it will
	// apply the entry (the live server's engine check, a few microseconds on a turn).
	// Fixed for the journal's lifetime.
	Starts() bool
}
