// Package library keeps a folder of scenario files that designers edit and trainees play.
//
// It knows, for every scenario in the folder, its current source with its diagnostics and
// test results, and the version trainees get: the last one that passed lint. A scenario
// saved with errors is a draft; trainees keep the published version until it is fixed.
// Saves are atomic (a temporary file renamed over the old one) and every replaced version
// is kept as a revision outside the folder, whether the studio or another editor changed
// it. Watch notices edits made on disk within a second.
//
// A *Library is safe for concurrent use.
package library

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/switchboard-sim/switchboard/engine"
)

// Limits of the library.
const (
	MaxRevisions      = 50 // revisions kept per file; older ones are removed
	revisionsSearched = 20 // at start, revisions searched for a version that passes lint
)

// Errors of Save, Create and Restore.
var (
	ErrConflict = errors.New("the file changed on disk since it was opened")
	ErrExists   = errors.New("a file with that name already exists")
	ErrBadPath  = errors.New("not a scenario or test file path")
	ErrNotFound = errors.New("no such file")
)

// Entry is one scenario of the library as it is now. Entries are never changed once made:
// the library replaces them.
type Entry struct {
	Path     string             `json:"path"`      // relative to the folder, with '/'
	TestPath string             `json:"test_path"` // its test file (which may not exist)
	ID       string             `json:"id"`
	Title    string             `json:"title"`
	Hash     string             `json:"hash"` // SHA-256 of the file's bytes
	Modified time.Time          `json:"modified"`
	Diags    engine.Diagnostics `json:"diagnostics"`
	Errors   int                `json:"errors"`
	Warnings int                `json:"warnings"`
	// Draft: the file has errors (or its id is taken); trainees get Published, if any.
	Draft bool `json:"draft"`
	// PublishedHash names the version trainees get ("" when there is none).
	PublishedHash string     `json:"published_hash,omitempty"`
	Tests         TestStatus `json:"tests"`

	Source    []byte           `json:"-"`
	Published *engine.Scenario `json:"-"`
	// duplicate: made a draft because another file has its id; rebuilt on every scan, so
	// it is published again once the other file is gone or renamed.
	duplicate bool
}

// TestStatus sums up a scenario's tests.
type TestStatus struct {
	File   bool               `json:"file"` // the test file exists
	Ran    bool               `json:"ran"`  // false when the scenario or the test file has errors
	Cases  int                `json:"cases"`
	Passed int                `json:"passed"`
	Failed []string           `json:"failed"` // names of failing cases
	Diags  engine.Diagnostics `json:"diagnostics"`
}

// Library is a scenario folder. See the package doc.
type Library struct {
	dir    string // the scenario folder
	revDir string // where revisions are kept
	fsys   fs.FS
	log    *slog.Logger

	saveMu sync.Mutex // serialises writes and scans

	mu       sync.RWMutex
	files    map[string][]byte // every .yaml file by path, as last scanned
	entries  map[string]*Entry
	gen      uint64
	subs     map[chan struct{}]struct{}
	onChange []func()
}

// Open scans dir (which must exist) and keeps revisions in revDir (created if missing).
func Open(dir, revDir string, log *slog.Logger) (*Library, error) {
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
	if err := os.MkdirAll(revDir, 0o755); err != nil {
		return nil, fmt.Errorf("revisions folder: %w", err)
	}
	l := &Library{dir: dir, revDir: revDir, fsys: os.DirFS(dir), log: log,
		files: map[string][]byte{}, entries: map[string]*Entry{}, subs: map[chan struct{}]struct{}{}}
	if err := l.Rescan(); err != nil {
		return nil, err
	}
	return l, nil
}

// Dir returns the scenario folder.
func (l *Library) Dir() string { return l.dir }

// FS returns the scenario folder as a file system (paths relative to it).
func (l *Library) FS() fs.FS { return l.fsys }

// Entries returns every scenario, sorted by path.
func (l *Library) Entries() []*Entry {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make([]*Entry, 0, len(l.entries))
	for _, e := range l.entries {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Entry returns the scenario at path.
func (l *Library) Entry(p string) (*Entry, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	e, ok := l.entries[p]
	return e, ok
}

// EntryByID returns the scenario whose current or published id is id.
func (l *Library) EntryByID(id string) (*Entry, bool) {
	for _, e := range l.Entries() {
		if e.ID == id || (e.Published != nil && e.Published.ID == id) {
			return e, true
		}
	}
	return nil, false
}

// File returns a file's bytes as last scanned (scenarios, tests and packs).
func (l *Library) File(p string) ([]byte, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	b, ok := l.files[p]
	return b, ok
}

// Published returns the versions trainees get, one per scenario id.
func (l *Library) Published() []*engine.Scenario {
	var out []*engine.Scenario
	for _, e := range l.Entries() {
		if e.Published != nil {
			out = append(out, e.Published)
		}
	}
	return out
}

// Generation counts the changes seen so far.
func (l *Library) Generation() uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.gen
}

// OnChange registers f to be called (from the goroutine that noticed the change; it must
// not block) after each change of the library.
func (l *Library) OnChange(f func()) {
	l.mu.Lock()
	l.onChange = append(l.onChange, f)
	l.mu.Unlock()
}

// Subscribe returns a channel that receives a value after changes (several changes may
// give one value) and a function that ends the subscription.
func (l *Library) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	l.mu.Lock()
	l.subs[ch] = struct{}{}
	l.mu.Unlock()
	return ch, func() {
		l.mu.Lock()
		delete(l.subs, ch)
		l.mu.Unlock()
	}
}

// CheckPath reports whether p may be written by Save: a relative, clean, slash-separated
// path to a .yaml file, not hidden, inside the folder.
func CheckPath(p string) error {
	if !fs.ValidPath(p) || p == "." || strings.Contains(p, `\`) {
		return fmt.Errorf("%w: %q", ErrBadPath, p)
	}
	if ext := path.Ext(p); ext != ".yaml" && ext != ".yml" {
		return fmt.Errorf("%w: %q must end in .yaml", ErrBadPath, p)
	}
	for _, part := range strings.Split(p, "/") {
		if strings.HasPrefix(part, ".") {
			return fmt.Errorf("%w: %q has a hidden part", ErrBadPath, p)
		}
	}
	return nil
}

// HashOf returns the hash the library uses for file contents.
func HashOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Save writes data to the file at p atomically, if the file on disk still has the hash
// base ("" for a new file); otherwise it returns ErrConflict and writes nothing. The
// version it replaces is kept as a revision. The library is rescanned before it returns.
func (l *Library) Save(p string, data []byte, base string) error {
	if err := CheckPath(p); err != nil {
		return err
	}
	if len(data) > engine.MaxFileBytes {
		return fmt.Errorf("the file is %d bytes; the limit is %d", len(data), engine.MaxFileBytes)
	}
	if !utf8.Valid(data) {
		return errors.New("the file is not valid UTF-8")
	}
	l.saveMu.Lock()
	defer l.saveMu.Unlock()
	full := filepath.Join(l.dir, filepath.FromSlash(p))
	cur, err := os.ReadFile(full)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if base != "" {
			return fmt.Errorf("%w: it was deleted", ErrConflict)
		}
	case err != nil:
		return fmt.Errorf("reading %s: %w", p, err)
	case base == "" || base != HashOf(cur):
		return ErrConflict
	case bytes.Equal(cur, data):
		return nil
	}
	if err == nil {
		if err := l.keepRevision(p, cur); err != nil {
			return err
		}
	}
	if err := writeAtomic(full, data); err != nil {
		return fmt.Errorf("saving %s: %w", p, err)
	}
	return l.rescanLocked()
}

// Create writes a new file, failing with ErrExists if there is one.
func (l *Library) Create(p string, data []byte) error {
	if err := CheckPath(p); err != nil {
		return err
	}
	full := filepath.Join(l.dir, filepath.FromSlash(p))
	if _, err := os.Stat(full); err == nil {
		return fmt.Errorf("%w: %s", ErrExists, p)
	}
	return l.Save(p, data, "")
}

// writeAtomic replaces the file at full with data: a reader sees the old bytes or the new
// ones, never a mix, and after a crash the file is one or the other.
func writeAtomic(full string, data []byte) error {
	dir := filepath.Dir(full)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(full)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), full); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // make the rename durable; not every file system supports it
		d.Close()
	}
	return nil
}

// Rescan reads the folder again and rebuilds the entries whose files changed.
func (l *Library) Rescan() error {
	l.saveMu.Lock()
	defer l.saveMu.Unlock()
	return l.rescanLocked()
}

func (l *Library) rescanLocked() error {
	files := map[string][]byte{}
	err := filepath.WalkDir(l.dir, func(full string, d fs.DirEntry, err error) error {
		if err != nil {
			if full == l.dir {
				return err
			}
			l.log.Warn("scenario folder: skipping", "path", full, "err", err)
			return nil
		}
		rel, _ := filepath.Rel(l.dir, full)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if CheckPath(rel) != nil || !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(full)
		if err != nil {
			l.log.Warn("scenario folder: cannot read", "path", rel, "err", err)
			return nil
		}
		files[rel] = b
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading the scenario folder: %w", err)
	}

	l.mu.RLock()
	old, oldEntries := l.files, l.entries
	l.mu.RUnlock()
	changed := len(files) != len(old)
	packsChanged := false
	for p, b := range files {
		ob, ok := old[p]
		if ok && bytes.Equal(ob, b) {
			continue
		}
		changed = true
		if !engine.IsScenarioFile(p) && !isTestFile(p) {
			packsChanged = true
		}
		if ok {
			// Changed by someone: keep what it was (the studio's Save already did).
			if err := l.keepRevision(p, ob); err != nil {
				l.log.Warn("keeping a revision", "path", p, "err", err)
			}
		}
	}
	for p := range old {
		if _, ok := files[p]; !ok {
			changed = true
			if !engine.IsScenarioFile(p) && !isTestFile(p) {
				packsChanged = true
			}
		}
	}
	if !changed && len(oldEntries) > 0 {
		return nil
	}

	entries := map[string]*Entry{}
	for p, b := range files {
		if !engine.IsScenarioFile(p) {
			continue
		}
		tp := engine.TestPath(p)
		prev := oldEntries[p]
		tb, hasTest := files[tp]
		ob, hadTest := old[tp]
		if prev != nil && !prev.duplicate && !packsChanged && bytes.Equal(prev.Source, b) && hasTest == hadTest && bytes.Equal(tb, ob) {
			entries[p] = prev
			continue
		}
		entries[p] = l.build(p, b, prev, files)
	}
	markDuplicateIDs(entries)

	l.mu.Lock()
	l.files, l.entries = files, entries
	l.gen++
	subs := make([]chan struct{}, 0, len(l.subs))
	for ch := range l.subs {
		subs = append(subs, ch)
	}
	hooks := slices.Clone(l.onChange)
	l.mu.Unlock()
	for _, ch := range subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	for _, f := range hooks {
		f()
	}
	return nil
}

func isTestFile(p string) bool {
	_, ok := engine.ScenarioPathOf(p)
	return ok
}

// build makes the entry of the scenario at p.
func (l *Library) build(p string, data []byte, prev *Entry, files map[string][]byte) *Entry {
	e := &Entry{Path: p, TestPath: engine.TestPath(p), Hash: HashOf(data), Source: data}
	if info, err := os.Stat(filepath.Join(l.dir, filepath.FromSlash(p))); err == nil {
		e.Modified = info.ModTime().UTC()
	}
	var diags engine.Diagnostics
	sc := engine.LoadBytes(l.fsys, p, data, &diags)
	diags.Sort()
	if diags == nil {
		diags = engine.Diagnostics{}
	}
	e.Diags, e.ID, e.Title = diags, sc.ID, sc.Title
	e.Errors, e.Warnings = len(diags.Errors()), len(diags.Warnings())
	if diags.HasErrors() {
		e.Draft = true
		switch {
		case prev != nil && prev.Published != nil:
			e.Published = prev.Published
		case prev == nil:
			e.Published = l.lastPassing(p)
		}
		sc = nil
	} else {
		sc.Warnings = diags.Warnings()
		e.Published = sc
	}
	if e.Published != nil {
		e.PublishedHash = e.Published.Hash
	}
	e.Tests = runTests(l.fsys, e.TestPath, files, sc)
	return e
}

// lastPassing looks through the newest revisions of p for one that passes lint: the
// version trainees get when the server starts with a draft on disk.
func (l *Library) lastPassing(p string) *engine.Scenario {
	ids, err := l.revIDs(p)
	if err != nil {
		return nil
	}
	for i, id := range ids {
		if i == revisionsSearched {
			break
		}
		data, err := os.ReadFile(filepath.Join(l.revFolder(p), revName(id)))
		if err != nil {
			continue
		}
		var diags engine.Diagnostics
		sc := engine.LoadBytes(l.fsys, p, data, &diags)
		if !diags.HasErrors() {
			sc.Warnings = diags.Warnings()
			l.log.Info("scenario on disk has errors: trainees get its last revision that passed lint", "path", p, "revision", id)
			return sc
		}
	}
	return nil
}

// runTests runs the test file of a scenario that compiled (sc nil: not run).
func runTests(fsys fs.FS, tp string, files map[string][]byte, sc *engine.Scenario) TestStatus {
	st := TestStatus{Failed: []string{}, Diags: engine.Diagnostics{}}
	data, ok := files[tp]
	st.File = ok
	if !ok || sc == nil {
		return st
	}
	var diags engine.Diagnostics
	cases := engine.ParseTests(tp, data, sc, &diags)
	diags.Sort()
	if diags != nil {
		st.Diags = diags
	}
	if diags.HasErrors() {
		return st
	}
	st.Ran, st.Cases = true, len(cases)
	for _, c := range cases {
		if engine.RunTest(sc, c).Passed() {
			st.Passed++
		} else {
			st.Failed = append(st.Failed, c.Name)
		}
	}
	return st
}

// markDuplicateIDs turns the later of two scenarios with the same id into drafts: trainees
// could not tell them apart.
func markDuplicateIDs(entries map[string]*Entry) {
	paths := make([]string, 0, len(entries))
	for p := range entries {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	owner := map[string]string{}
	for _, p := range paths {
		e := entries[p]
		if e.Published == nil {
			continue
		}
		id := e.Published.ID
		if first, taken := owner[id]; taken {
			c := *e
			c.Diags = append(slices.Clone(e.Diags), engine.Diagnostic{Path: p, Line: 1, Col: 1,
				Message: fmt.Sprintf("the id %q is already used by %s: give this scenario another id", id, first)})
			c.Errors++
			c.Draft, c.Published, c.PublishedHash, c.duplicate = true, nil, "", true
			entries[p] = &c
			continue
		}
		owner[id] = p
	}
}
