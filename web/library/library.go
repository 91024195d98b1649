// Package library keeps a folder of scenario files that designers edit and trainees play.
//
// It knows, for every scenario in the folder, its current source with its diagnostics and
// test results, and the version trainees get: the last one that passed lint. A scenario
// saved with errors is a draft; trainees keep the published version until it is fixed.
// Saves are atomic (a temporary file renamed over the old one) and every replaced version
// is kept as a revision outside the folder, whether the studio or another editor changed
// it. Watch notices edits made on disk within a second.
//
// With several instances (serve --database), OpenShared makes the folder a mirror of a
// store they share (libstore.Store, in PostgreSQL): saves go to the store first and fail
// with ErrConflict when another instance changed the file meanwhile; other instances'
// changes reach the folder within SharedApplyWithin; revisions live in the store. See
// shared.go.
//
// A *Library is safe for concurrent use.
package library

import (
	"bytes"
	"crypto/rand"
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
	"unicode"
	"unicode/utf8"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/scenarios"
)

// LoadOptions are the loader options of every scenario the library (and the studio)
// loads: the shipped rule packs can be included by name from any folder.
var LoadOptions = engine.LoadOptions{Packs: scenarios.Packs}

// Limits of the library.
const (
	MaxRevisions      = 50 // revisions kept per file; older ones are removed
	revisionsSearched = 20 // at start, revisions searched for a version that passes lint
	// MaxPathBytes is the longest file path (relative to the folder) a save accepts.
	MaxPathBytes = 512
	// MaxNameBytes is the longest name of one folder or file in such a path (most file
	// systems allow 255 bytes).
	MaxNameBytes = 255
	// TestTimeout bounds the time the tests of one scenario may take when the library
	// runs them (after a save or a change on disk). Tests run outside the library's
	// locks; a save waits for its own scenario's tests, a start waits for none.
	TestTimeout = 10 * time.Second
)

// Errors of Save, Create and Restore.
var (
	ErrConflict = errors.New("the file changed on disk since it was opened")
	ErrExists   = errors.New("a file with that name already exists")
	ErrBadPath  = errors.New("not a scenario or test file path")
	ErrNotFound = errors.New("no such file")
	ErrTooLarge = errors.New("the file is too large")
	// ErrOutside is returned for a path that leads out of the scenario folder (through a
	// symbolic link): the library never reads or writes outside its folder.
	ErrOutside = errors.New("the path leads outside the scenario folder")
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
	// Pending: the tests have not finished running yet (they run outside the library's
	// locks, after the scenario is published).
	Pending bool `json:"pending,omitempty"`
}

// Library is a scenario folder. See the package doc.
type Library struct {
	dir     string   // the scenario folder
	root    *os.Root // the scenario folder: every read and write goes through it
	revDir  string   // where revisions are kept
	revRoot *os.Root // revDir, for writes
	fsys    fs.FS
	log     *slog.Logger

	testing sync.WaitGroup // test runs in the background

	// readFails, when set (tests only), makes the rescan's read of a path fail as a
	// permission problem would: root reads everything, so chmod cannot simulate one.
	readFails func(rel string) error

	saveMu sync.Mutex // serialises writes, scans and storing test results (never held while tests run)

	mu       sync.RWMutex
	files    map[string][]byte // every .yaml file by path, as last scanned
	entries  map[string]*Entry
	gen      uint64
	subs     map[chan struct{}]struct{}
	onChange []func()

	shared *sharing // nil for a folder of its own (see shared.go)
}

// Open scans dir (which must exist) and keeps revisions in revDir (created if missing).
func Open(dir, revDir string, log *slog.Logger) (*Library, error) {
	l, err := newLibrary(dir, log)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(revDir, 0o755); err != nil {
		return nil, fmt.Errorf("revisions folder: %w", err)
	}
	revRoot, err := os.OpenRoot(revDir)
	if err != nil {
		return nil, fmt.Errorf("revisions folder: %w", err)
	}
	l.revDir, l.revRoot = revDir, revRoot
	l.saveMu.Lock()
	jobs, err := l.rescanLocked()
	l.saveMu.Unlock()
	if err != nil {
		return nil, err
	}
	l.testLater(jobs) // a start never waits for tests
	return l, nil
}

// WaitForTests waits until the tests started in the background so far have finished.
func (l *Library) WaitForTests() { l.testing.Wait() }

// Dir returns the scenario folder.
func (l *Library) Dir() string { return l.dir }

// FS returns the scenario folder as a file system (paths relative to it). It never
// leaves the folder: a symbolic link that leads outside fails with ErrOutside.
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
// path to a .yaml file inside the folder, that the library would list: at most
// MaxPathBytes bytes, each name at most MaxNameBytes, valid UTF-8 without control or
// bidirectional-override characters (which spoof names), not hidden, not under testdata/,
// and no name reserved on Windows (CON, NUL, COM1, …). Its errors quote only p.
func CheckPath(p string) error {
	switch {
	case !utf8.ValidString(p):
		return fmt.Errorf("%w: the name is not valid UTF-8", ErrBadPath)
	case len(p) > MaxPathBytes:
		return fmt.Errorf("%w: the path is %d bytes; the limit is %d", ErrBadPath, len(p), MaxPathBytes)
	}
	for _, r := range p {
		if unicode.IsControl(r) || isBidiControl(r) {
			return fmt.Errorf("%w: %q holds a control or text-direction character (%U)", ErrBadPath, p, r)
		}
	}
	if !fs.ValidPath(p) || p == "." || strings.Contains(p, `\`) {
		return fmt.Errorf("%w: %q", ErrBadPath, p)
	}
	if ext := path.Ext(p); ext != ".yaml" && ext != ".yml" {
		return fmt.Errorf("%w: %q must end in .yaml", ErrBadPath, p)
	}
	for _, part := range strings.Split(p, "/") {
		switch {
		case len(part) > MaxNameBytes:
			return fmt.Errorf("%w: a name in the path is %d bytes; the limit is %d", ErrBadPath, len(part), MaxNameBytes)
		case strings.HasPrefix(part, "."):
			return fmt.Errorf("%w: %q has a hidden part", ErrBadPath, p)
		case part == "testdata":
			return fmt.Errorf("%w: %q is under testdata/, which the library does not list", ErrBadPath, p)
		case strings.HasSuffix(part, " ") || strings.HasSuffix(part, "."):
			return fmt.Errorf("%w: %q has a name ending in a space or a dot", ErrBadPath, p)
		case windowsReserved(part):
			return fmt.Errorf("%w: %q uses a name Windows reserves for devices", ErrBadPath, p)
		case strings.ContainsAny(part, `<>:"|?*`):
			return fmt.Errorf("%w: %q has a character not allowed in file names on Windows", ErrBadPath, p)
		}
	}
	return nil
}

// isBidiControl reports the characters that change the direction of text: a name with
// U+202E (right-to-left override) shows as something it is not.
func isBidiControl(r rune) bool {
	switch {
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x200E, r == 0x200F, r == 0x061C:
		return true
	}
	return unicode.Is(unicode.Bidi_Control, r)
}

// windowsReserved reports device names (with any extension): CON, PRN, AUX, NUL, COM0-9,
// LPT0-9 and their superscript-digit forms.
func windowsReserved(name string) bool {
	base, _, _ := strings.Cut(name, ".")
	base = strings.ToUpper(strings.TrimRight(base, " "))
	switch base {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(base) >= 4 && (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) {
		switch base[3:] {
		case "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³":
			return true
		}
	}
	return false
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
		return fmt.Errorf("%w: it is %d bytes; the limit is %d", ErrTooLarge, len(data), engine.MaxFileBytes)
	}
	if !utf8.Valid(data) {
		return fmt.Errorf("%w: the file is not valid UTF-8", ErrBadPath)
	}
	l.saveMu.Lock()
	jobs, err := l.saveLocked(p, data, base)
	l.saveMu.Unlock()
	if err != nil {
		return err
	}
	// The saved scenario's tests run now, outside the locks: other saves go on meanwhile.
	l.testing.Add(1)
	defer l.testing.Done()
	l.runTests(jobs)
	return nil
}

func (l *Library) saveLocked(p string, data []byte, base string) ([]testJob, error) {
	if l.shared != nil {
		return l.saveSharedLocked(p, data, base)
	}
	cur, err := l.root.ReadFile(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if base != "" {
			return nil, fmt.Errorf("%w: it was deleted", ErrConflict)
		}
	case err != nil:
		return nil, folderErr(p, err)
	case base == "" || base != HashOf(cur):
		return nil, ErrConflict
	case bytes.Equal(cur, data):
		return nil, nil
	}
	if err == nil {
		l.mu.RLock()
		e := l.entries[p]
		l.mu.RUnlock()
		if err := l.keepRevision(p, cur, e); err != nil {
			return nil, err
		}
	}
	if err := writeAtomic(l.root, p, data); err != nil {
		return nil, folderErr(p, err)
	}
	return l.rescanLocked()
}

// folderErr turns an error of the folder's os.Root into one that names only p: never the
// server's paths.
func folderErr(p string, err error) error {
	switch {
	case isEscape(err):
		return fmt.Errorf("%w: %q (a symbolic link?)", ErrOutside, p)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%s: permission denied", p)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: %s", ErrNotFound, p)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %v", p, pe.Err)
	}
	return fmt.Errorf("%s: %v", p, err)
}

// folderFS is the scenario folder as an fs.FS, through its os.Root: scenario includes
// are read with it, so a rule pack reached through a symbolic link that leads outside the
// folder is refused with ErrOutside — never read, so nothing of it can show in a
// diagnostic. Errors name only the path asked for.
type folderFS struct{ root *os.Root }

func (f folderFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: ErrOutside}
	}
	file, err := f.root.Open(name)
	if err != nil {
		switch {
		case isEscape(err):
			err = ErrOutside
		case errors.Is(err, fs.ErrNotExist):
			err = fs.ErrNotExist
		case errors.Is(err, fs.ErrPermission):
			err = fs.ErrPermission
		default:
			err = errors.New("cannot be read")
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return file, nil
}

// isEscape reports os.Root's refusal of a path that leaves the root (os does not export
// the error; its text is stable).
func isEscape(err error) bool {
	return err != nil && strings.Contains(err.Error(), "path escapes from parent")
}

// Create writes a new file, failing with ErrExists if there is one.
func (l *Library) Create(p string, data []byte) error {
	if err := CheckPath(p); err != nil {
		return err
	}
	if _, err := l.root.Lstat(p); err == nil {
		return fmt.Errorf("%w: %s", ErrExists, p)
	}
	return l.Save(p, data, "")
}

// writeAtomic replaces the file at p in root with data: a reader sees the old bytes or
// the new ones, never a mix, and after a crash the file is one or the other. Through root,
// no symbolic link can lead the write outside the folder.
func writeAtomic(root *os.Root, p string, data []byte) error {
	dir := path.Dir(p)
	if err := root.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := path.Join(dir, "."+path.Base(p)+".tmp-"+hex.EncodeToString(rnd[:]))
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer root.Remove(tmp) // after a successful rename there is nothing to remove
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := root.Rename(tmp, p); err != nil {
		return err
	}
	if d, err := root.Open(dir); err == nil {
		_ = d.Sync() // make the rename durable; not every file system supports it
		d.Close()
	}
	return nil
}

// Rescan reads the folder again and rebuilds the entries whose files changed.
// Tests of changed scenarios run afterwards in the background, outside the locks.
func (l *Library) Rescan() error {
	l.saveMu.Lock()
	jobs, err := l.rescanLocked()
	l.saveMu.Unlock()
	l.testLater(jobs)
	return err
}

// rescanLocked rescans with saveMu held; it returns the test runs the new entries need.
// Symbolic links are never followed: the walk is of the folder's os.Root.
func (l *Library) rescanLocked() ([]testJob, error) {
	files := map[string][]byte{}
	var unreadable []string // files and folders that could not be read: not removed, for a shared library
	err := fs.WalkDir(l.root.FS(), ".", func(rel string, d fs.DirEntry, err error) error {
		if err != nil {
			if rel == "." {
				return err
			}
			l.log.Warn("scenario folder: skipping", "path", rel, "err", err)
			unreadable = append(unreadable, rel)
			return nil
		}
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if CheckPath(rel) != nil || !d.Type().IsRegular() {
			return nil
		}
		var b []byte
		if l.readFails != nil {
			err = l.readFails(rel)
		}
		if err == nil {
			b, err = l.root.ReadFile(rel)
		}
		if err != nil {
			l.log.Warn("scenario folder: cannot read", "path", rel, "err", err)
			unreadable = append(unreadable, rel)
			return nil
		}
		files[rel] = b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the scenario folder: %w", err)
	}
	if l.shared != nil {
		l.pushLocked(files, unreadable)
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
		if ok && l.shared == nil {
			// Changed by someone: keep what it was (the studio's Save already did; with a
			// shared library, the store keeps revisions).
			if err := l.keepRevision(p, ob, oldEntries[p]); err != nil {
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
		return nil, nil
	}

	entries := map[string]*Entry{}
	var jobs []testJob
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
	for _, e := range entries {
		if e.Tests.Pending {
			jobs = append(jobs, testJob{entry: e, tests: files[e.TestPath]})
		}
	}

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
	return jobs, nil
}

func isTestFile(p string) bool {
	_, ok := engine.ScenarioPathOf(p)
	return ok
}

// build makes the entry of the scenario at p.
func (l *Library) build(p string, data []byte, prev *Entry, files map[string][]byte) *Entry {
	e := &Entry{Path: p, TestPath: engine.TestPath(p), Hash: HashOf(data), Source: data}
	if info, err := l.root.Stat(p); err == nil {
		e.Modified = info.ModTime().UTC()
	}
	var diags engine.Diagnostics
	sc := engine.LoadBytesWith(l.fsys, p, data, &diags, LoadOptions)
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
	e.Tests = TestStatus{Failed: []string{}, Diags: engine.Diagnostics{}}
	_, e.Tests.File = files[e.TestPath]
	e.Tests.Pending = e.Tests.File && sc != nil // run by runTests, outside the locks
	return e
}

// lastPassing looks through the newest revisions of p for one that passes lint: the
// version trainees get when the server starts with a draft on disk.
func (l *Library) lastPassing(p string) *engine.Scenario {
	revs, err := l.Revisions(p)
	if err != nil {
		return nil
	}
	for i, rv := range revs {
		if i == revisionsSearched {
			break
		}
		id := rv.ID
		data, err := l.Revision(p, id)
		if err != nil {
			continue
		}
		var diags engine.Diagnostics
		sc := engine.LoadBytesWith(l.fsys, p, data, &diags, LoadOptions)
		if !diags.HasErrors() {
			sc.Warnings = diags.Warnings()
			l.log.Info("scenario on disk has errors: trainees get its last revision that passed lint", "path", p, "revision", id)
			return sc
		}
	}
	// A file published before a newer requirement (an ending's title) keeps being offered
	// after an upgrade, with defaults standing in, until a designer fixes it: the studio
	// and lint show the errors meanwhile.
	data, err := l.root.ReadFile(p)
	if err != nil {
		return nil
	}
	lenient := LoadOptions
	lenient.Lenient = true
	var diags engine.Diagnostics
	sc := engine.LoadBytesWith(l.fsys, p, data, &diags, lenient)
	if diags.HasErrors() {
		return nil
	}
	sc.Warnings = diags.Warnings()
	l.log.Warn("scenario written for an older version: trainees get it with default ending titles until it passes lint", "path", p)
	return sc
}

// testJob is a scenario whose tests are to be run: its entry (with the scenario that
// compiled) and the test file's bytes at the scan that made it.
type testJob struct {
	entry *Entry
	tests []byte
}

// testHook, when set (by tests), is called as each batch of test runs starts.
var testHook func()

// testLater runs the jobs' tests in the background.
func (l *Library) testLater(jobs []testJob) {
	if len(jobs) == 0 {
		return
	}
	l.testing.Add(1)
	go func() {
		defer l.testing.Done()
		l.runTests(jobs)
	}()
}

// runTests runs each job's tests (outside every lock, each scenario within TestTimeout)
// and puts the results in the library, unless the entry was replaced meanwhile.
func (l *Library) runTests(jobs []testJob) {
	if testHook != nil {
		testHook()
	}
	done := false
	for _, j := range jobs {
		e := j.entry
		st := testScenario(e.TestPath, j.tests, e.Published, TestTimeout)
		// saveMu too: rescans read the entries without mu (they are their only writer
		// otherwise). Held only to store the result, never while tests run.
		l.saveMu.Lock()
		l.mu.Lock()
		if l.entries[e.Path] == e {
			c := *e
			c.Tests = st
			l.entries[e.Path] = &c
			l.gen++
			done = true
		}
		l.mu.Unlock()
		l.saveMu.Unlock()
	}
	if done {
		l.notify()
	}
}

// notify tells subscribers that the library changed (and not the hooks: the published
// scenarios are the same).
func (l *Library) notify() {
	l.mu.RLock()
	defer l.mu.RUnlock()
	for ch := range l.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// testScenario runs the test file of a scenario that compiled, stopping after timeout.
func testScenario(tp string, data []byte, sc *engine.Scenario, timeout time.Duration) TestStatus {
	st := TestStatus{File: true, Failed: []string{}, Diags: engine.Diagnostics{}}
	if sc == nil {
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
	deadline := time.Now().Add(timeout)
	stop := func() bool { return time.Now().After(deadline) }
	st.Ran, st.Cases = true, len(cases)
	for _, c := range cases {
		if engine.RunTestUntil(sc, c, false, stop).Passed() {
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
