package library

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-sim/switchboard/web/library/libstore"
)

// Sharing the library among instances (serve --database). The store (PostgreSQL) is the
// source of truth; each instance mirrors it into its own scenario folder, so that
// everything else — lint, drafts and published versions, tests, the studio, Watch — works
// on a folder as it does with one instance:
//
//   - At start (OpenShared), every file of the store is written to the folder (the store
//     wins; a local file that differs is kept as a revision in the store unless it is one
//     already), a tombstone removes the local file, and files only in the folder are
//     uploaded: the first instance seeds the store with the shipped library.
//   - A save, create or restore through the studio is written to the store first, with
//     the hash of the version the designer opened as its base: if another instance (or an
//     editor) changed the file meanwhile, the save fails with ErrConflict and writes
//     nothing. Then the folder is written and rescanned.
//   - An edit on disk (noticed by Watch) is uploaded the same way, based on the version
//     this instance last had from the store; a deleted file becomes a tombstone. When the
//     store changed meanwhile, the store wins: the local edit is kept as a revision and
//     logged, and the store's version replaces it on disk.
//   - Every change is announced (PostgreSQL NOTIFY); Watch applies the changes of the
//     other instances to the folder within SharedApplyWithin, and also polls every
//     SharedPollEvery in case a notification was lost.
//
// Revisions live in the store only (the revisions folder is not used).

// Timings of a shared library.
const (
	// SharedPollEvery is how often Watch asks the store for changes even when none was
	// announced: a safety net for a lost notification or listening connection.
	SharedPollEvery = 10 * time.Second
	// SharedApplyWithin is the time a change on another instance takes to reach this
	// one's folder and trainees when notifications flow (the target; tests measure it).
	SharedApplyWithin = time.Second
	// storeTimeout bounds one call to the store.
	storeTimeout = 10 * time.Second
)

// sharedPoll is SharedPollEvery; tests shorten it.
var sharedPoll = SharedPollEvery

// sharing is the state of a shared library, guarded by the library's saveMu.
type sharing struct {
	store libstore.Store
	by    string // this instance, as the store records who wrote a file
	// synced is the hash the store has for each live file, as this instance last saw it:
	// a file on disk with another hash was edited here and is to be uploaded.
	synced  map[string]string
	version int64         // the store's version applied so far
	wake    chan struct{} // a sync is needed (a conflict: the store has something newer)
	poll    time.Duration // SharedPollEvery
}

// OpenShared opens dir as a mirror of store (see the sharing notes above): it applies the
// store's files to the folder, uploads files found only in the folder, and scans it.
// instance names this instance in the store's records (who wrote a file).
func OpenShared(dir string, store libstore.Store, instance string, log *slog.Logger) (*Library, error) {
	l, err := newLibrary(dir, log)
	if err != nil {
		return nil, err
	}
	l.shared = &sharing{store: store, by: instance, synced: map[string]string{}, wake: make(chan struct{}, 1),
		poll: sharedPoll}
	l.saveMu.Lock()
	err = l.pullLocked()
	var jobs []testJob
	if err == nil {
		jobs, err = l.rescanLocked()
	}
	l.saveMu.Unlock()
	if err != nil {
		return nil, err
	}
	l.testLater(jobs)
	return l, nil
}

// Shared reports whether the library mirrors a store shared by several instances.
func (l *Library) Shared() bool { return l.shared != nil }

func storeCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), storeTimeout)
}

// replacedLint is the lint verdict of the version with hash h at p, when this instance's
// entry was built from it.
func (l *Library) replacedLint(p, h string) libstore.Lint {
	l.mu.RLock()
	e := l.entries[p]
	l.mu.RUnlock()
	if e == nil || h == "" || e.Hash != h {
		return libstore.Lint{}
	}
	if e.Errors > 0 {
		return libstore.Lint{Lint: LintErrors, Errors: e.Errors}
	}
	return libstore.Lint{Lint: LintPassed}
}

// saveSharedLocked is Save's write with a store: the store first (optimistically, against
// base), then the folder.
func (l *Library) saveSharedLocked(p string, data []byte, base string) ([]testJob, error) {
	sh := l.shared
	ctx, cancel := storeCtx()
	defer cancel()
	_, err := sh.store.PutLibraryFile(ctx, libstore.File{Path: p, Content: data, By: sh.by + " (studio)"}, base, l.replacedLint(p, base))
	switch {
	case errors.Is(err, libstore.ErrConflict):
		return nil, fmt.Errorf("%w (on this or another instance)", ErrConflict)
	case err != nil:
		return nil, fmt.Errorf("saving %s to the shared library: %w", p, err)
	}
	if err := writeAtomic(l.root, p, data); err != nil {
		return nil, folderErr(p, err)
	}
	sh.synced[p] = HashOf(data)
	return l.rescanLocked()
}

// pullLocked applies the store's changes since the last pull to the folder.
func (l *Library) pullLocked() error {
	sh := l.shared
	ctx, cancel := storeCtx()
	defer cancel()
	changes, err := sh.store.LibraryChanges(ctx, sh.version)
	if err != nil {
		return fmt.Errorf("reading the shared library: %w", err)
	}
	for _, c := range changes {
		if err := CheckPath(c.Path); err != nil {
			l.log.Warn("shared library: skipping a file with a bad path", "err", err)
			sh.version = c.Version
			continue
		}
		disk, err := l.root.ReadFile(c.Path)
		exists := err == nil
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return folderErr(c.Path, err)
		}
		localEdit := exists && HashOf(disk) != sh.synced[c.Path] && HashOf(disk) != c.Hash
		if localEdit {
			// The store wins; what was on disk is kept, never silently lost.
			if err := sh.store.KeepLibraryRevision(ctx, c.Path, disk, sh.by+" (folder)"); err != nil {
				return fmt.Errorf("keeping %s's local version: %w", c.Path, err)
			}
			if _, known := sh.synced[c.Path]; known {
				l.log.Warn("shared library: a local edit lost to a newer version from another instance; it is kept as a revision",
					"path", c.Path, "by", c.By)
			}
		}
		switch {
		case c.Deleted:
			if exists {
				if err := l.root.Remove(c.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return folderErr(c.Path, err)
				}
			}
			delete(sh.synced, c.Path)
		default:
			if !exists || HashOf(disk) != c.Hash {
				if err := writeAtomic(l.root, c.Path, c.Content); err != nil {
					return folderErr(c.Path, err)
				}
			}
			sh.synced[c.Path] = c.Hash
		}
		sh.version = c.Version
	}
	return nil
}

// pushLocked uploads the folder's changes (files as just scanned) that the store does not
// have: edits and new files, and tombstones for removed ones — but never for a file that
// could not be read, or that is in a folder that could not be (unreadable): a permission
// problem on one instance must not delete files for all. A conflict leaves the file to the
// next pull (the store wins; pullLocked keeps the local version as a revision); another
// error leaves it for the next sync.
func (l *Library) pushLocked(files map[string][]byte, unreadable []string) {
	sh := l.shared
	ctx, cancel := storeCtx()
	defer cancel()
	conflict := false
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		b := files[p]
		h := HashOf(b)
		base, known := sh.synced[p]
		if known && base == h {
			continue
		}
		_, err := sh.store.PutLibraryFile(ctx, libstore.File{Path: p, Content: b, By: sh.by + " (folder)"}, base, l.replacedLint(p, base))
		switch {
		case err == nil:
			sh.synced[p] = h
			if known {
				l.log.Info("shared library: uploaded an edit made on disk", "path", p)
			}
		case errors.Is(err, libstore.ErrConflict):
			conflict = true
		default:
			l.log.Warn("shared library: cannot upload a change made on disk; retrying later", "path", p, "err", err)
		}
	}
	for p, base := range sh.synced {
		if _, ok := files[p]; ok || under(p, unreadable) {
			continue
		}
		_, err := sh.store.PutLibraryFile(ctx, libstore.File{Path: p, Deleted: true, By: sh.by + " (folder)"}, base, l.replacedLint(p, base))
		switch {
		case err == nil:
			delete(sh.synced, p)
			l.log.Info("shared library: a file removed on disk is removed for every instance", "path", p)
		case errors.Is(err, libstore.ErrConflict):
			conflict = true
		default:
			l.log.Warn("shared library: cannot upload a removal made on disk; retrying later", "path", p, "err", err)
		}
	}
	if conflict {
		select {
		case sh.wake <- struct{}{}:
		default:
		}
	}
}

// Sync applies the store's changes to the folder and uploads the folder's own (a shared
// library only; Watch does it when told of changes and every SharedPollEvery).
func (l *Library) Sync() error {
	if l.shared == nil {
		return l.Rescan()
	}
	l.saveMu.Lock()
	err := l.pullLocked()
	jobs, serr := l.rescanLocked()
	l.saveMu.Unlock()
	l.testLater(jobs)
	return errors.Join(err, serr)
}

// follow keeps a shared library in step with the store until ctx is done.
func (l *Library) follow(ctx context.Context) {
	sh := l.shared
	changed := make(chan struct{}, 1)
	listening := make(chan struct{})
	defer func() { <-listening }()
	go func() {
		defer close(listening)
		_ = sh.store.ListenLibrary(ctx, func() {
			select {
			case changed <- struct{}{}:
			default:
			}
		})
	}()
	t := time.NewTicker(sh.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-sh.wake:
		case <-t.C:
		}
		if err := l.Sync(); err != nil {
			l.log.Warn("shared library: sync failed; retrying", "err", err)
		}
	}
}

// sharedRevisions lists p's revisions in the store.
func (l *Library) sharedRevisions(p string) ([]Revision, error) {
	ctx, cancel := storeCtx()
	defer cancel()
	rs, err := l.shared.store.LibraryRevisions(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("listing revisions of %s: %w", p, err)
	}
	out := make([]Revision, 0, len(rs))
	for _, r := range rs {
		out = append(out, Revision{ID: strconv.FormatInt(r.ID, 10), Saved: r.Saved, Size: r.Size, Hash: r.Hash,
			Lint: r.Lint.Lint, Errors: r.Errors, By: r.By})
	}
	return out, nil
}

// sharedRevision reads one revision from the store.
func (l *Library) sharedRevision(p, id string) ([]byte, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n < 1 {
		return nil, fmt.Errorf("%w: revision %q", ErrNotFound, id)
	}
	ctx, cancel := storeCtx()
	defer cancel()
	data, err := l.shared.store.LibraryRevision(ctx, p, n)
	if errors.Is(err, libstore.ErrNotFound) {
		return nil, fmt.Errorf("%w: revision %s of %s", ErrNotFound, id, p)
	}
	return data, err
}

// newLibrary opens the folder (which must exist) without scanning it.
func newLibrary(dir string, log *slog.Logger) (*Library, error) {
	if log == nil {
		log = slog.Default()
	}
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("scenario folder: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("scenario folder: %s is not a folder", dir)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("scenario folder: %w", err)
	}
	return &Library{dir: dir, root: root, fsys: folderFS{root}, log: log,
		files: map[string][]byte{}, entries: map[string]*Entry{}, subs: map[chan struct{}]struct{}{}}, nil
}

// under reports whether p is one of dirs or inside one of them.
func under(p string, dirs []string) bool {
	for _, d := range dirs {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}
