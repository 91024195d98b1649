package journal

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"
)

// Limits of supervisors' notes.
const (
	// MaxNoteBytes bounds the text of one note.
	MaxNoteBytes = 2000
	// MaxNotesPerCall bounds the notes kept on one call.
	MaxNotesPerCall = 100
)

// Note is a supervisor's time-stamped note on a recorded call; the trainee sees it in the
// call's debrief.
type Note struct {
	At      int64     `json:"at"`      // ms on the call clock the note is about
	Text    string    `json:"text"`    // 1..MaxNoteBytes bytes of UTF-8
	Author  string    `json:"author"`  // the role that wrote it: "supervisor" or "designer"
	Created time.Time `json:"created"` // wall clock, when it was written
}

// Notes keeps supervisors' notes on calls. Every method is safe for concurrent use.
type Notes interface {
	// AddNote adds a note to a call: ErrNotFound without such a call, ErrTooManyNotes
	// when it has MaxNotesPerCall already, ErrBadNote for an empty or oversized text or
	// a negative time.
	AddNote(ctx context.Context, callID string, n Note) error
	// Notes returns a call's notes in the order they were added (none for an unknown call).
	Notes(ctx context.Context, callID string) ([]Note, error)
}

// Errors of notes.
var (
	ErrTooManyNotes = fmt.Errorf("the call has %d notes already", MaxNotesPerCall)
	ErrBadNote      = fmt.Errorf("a note needs 1 to %d bytes of UTF-8 text and a time ≥ 0", MaxNoteBytes)
)

// CheckNote returns ErrBadNote when a note cannot be kept.
func CheckNote(n Note) error {
	if n.At < 0 || n.Text == "" || len(n.Text) > MaxNoteBytes || !utf8.ValidString(n.Text) {
		return ErrBadNote
	}
	return nil
}

var _ Notes = (*Memory)(nil)

// AddNote implements Notes.
func (m *Memory) AddNote(ctx context.Context, callID string, n Note) error {
	if err := CheckNote(n); err != nil {
		return fmt.Errorf("journal: note on call %q: %w", callID, err)
	}
	if err := m.lock(ctx); err != nil {
		return fmt.Errorf("journal: note on call %q: %w", callID, err)
	}
	defer m.mu.Unlock()
	mc, ok := m.calls[callID]
	switch {
	case !ok:
		return fmt.Errorf("journal: note on call %q: %w", callID, ErrNotFound)
	case len(mc.notes) >= MaxNotesPerCall:
		return fmt.Errorf("journal: note on call %q: %w", callID, ErrTooManyNotes)
	}
	mc.notes = append(mc.notes, n)
	return nil
}

// Notes implements Notes.
func (m *Memory) Notes(ctx context.Context, callID string) ([]Note, error) {
	if err := m.lock(ctx); err != nil {
		return nil, fmt.Errorf("journal: notes of call %q: %w", callID, err)
	}
	defer m.mu.Unlock()
	if mc, ok := m.calls[callID]; ok {
		return append([]Note(nil), mc.notes...), nil
	}
	return nil, nil
}

// NotesOf returns a call's notes when j keeps notes, and none when it does not.
func NotesOf(ctx context.Context, j Journal, callID string) ([]Note, error) {
	if n, ok := j.(Notes); ok {
		return n.Notes(ctx, callID)
	}
	return nil, nil
}
