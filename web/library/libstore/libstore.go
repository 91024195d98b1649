// Package libstore is what a scenario library (web/library) needs of a store that several
// `switchboard serve` instances share: the library's files with their revisions, a change
// feed ordered by version, and a signal when another instance changed something.
// web/storage/pgjournal implements it in PostgreSQL; Memory is the in-process fake the
// tests use. Both pass libstoretest.
//
// The store is the source of truth; each instance mirrors it into its own scenario folder
// (see web/library's package doc). Writes are optimistic: a Put names the hash of the
// content it replaces, and fails with ErrConflict when the stored file has changed since.
package libstore

import (
	"context"
	"errors"
	"time"
)

// Limits of a store.
const (
	// MaxRevisions is the number of revisions kept per file; older ones are removed.
	MaxRevisions = 50
)

// Errors of a store; check them with errors.Is.
var (
	// ErrConflict: the stored file is not the one the write expected (another instance
	// changed it first).
	ErrConflict = errors.New("the file was changed by someone else since it was opened")
	// ErrNotFound: no such file or revision.
	ErrNotFound = errors.New("no such file or revision")
)

// File is one file of the library as the store has it.
type File struct {
	Path    string // relative to the scenario folder, with '/'
	Content []byte // nil for a deleted file
	Hash    string // hex SHA-256 of Content; "" for a deleted file
	// Deleted: a tombstone. The file was removed; an instance that still has it on disk
	// removes it (instead of uploading it as new).
	Deleted  bool
	Modified time.Time
	By       string // who wrote it: the instance and, through the studio, the role
	// Version orders every change of the store: each Put gets a higher one than every
	// change committed before it.
	Version int64
}

// Lint is lint's verdict on a version of a scenario while it was the current one (see
// web/library.Revision): "passed", "errors" with Errors > 0, or "" when unknown.
type Lint struct {
	Lint   string
	Errors int
}

// Revision is a replaced version of a file.
type Revision struct {
	ID    int64 // unique; newer revisions have higher ids
	Saved time.Time
	Size  int
	Hash  string
	By    string // who wrote this version (File.By when it was current)
	Lint
}

// Store keeps the library's files where several instances share them. Implementations are
// safe for concurrent use.
type Store interface {
	// LibraryChanges returns every file (tombstones included) changed after version
	// (every file for 0), in the order of their versions. A file appears once, at its
	// latest version.
	LibraryChanges(ctx context.Context, after int64) ([]File, error)
	// PutLibraryFile stores f (content, or a tombstone when f.Deleted) at f.Path if the
	// stored file's hash is still base ("" meaning absent or deleted), and returns the new
	// version. Otherwise it returns ErrConflict and changes nothing, except that storing
	// the very content that is stored already succeeds without a change (version 0). The
	// replaced content, if any, becomes the newest revision (with replaced's verdict and
	// its own author)
	// unless it equals the newest one; at most MaxRevisions are kept. A successful change
	// is announced to every Listen.
	PutLibraryFile(ctx context.Context, f File, base string, replaced Lint) (version int64, err error)
	// KeepLibraryRevision keeps data as a revision of path unless the file's current
	// content or one of its revisions has the same hash: how an edit that lost a conflict
	// (or a local file that differs at start) is kept rather than lost.
	KeepLibraryRevision(ctx context.Context, path string, data []byte, by string) error
	// LibraryRevisions lists path's revisions, newest first.
	LibraryRevisions(ctx context.Context, path string) ([]Revision, error)
	// LibraryRevision returns one revision's bytes, or ErrNotFound.
	LibraryRevision(ctx context.Context, path string, id int64) ([]byte, error)
	// ListenLibrary calls changed after every change any instance made (several changes
	// may give one call) and after each (re)connection, when changes may have been
	// missed, until ctx is done. It returns ctx's error.
	ListenLibrary(ctx context.Context, changed func()) error
}
