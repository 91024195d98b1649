package library

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Revision is a version of a file that was replaced.
type Revision struct {
	ID    string    `json:"id"`    // unique per file; newer revisions sort after older ones
	Saved time.Time `json:"saved"` // when it was replaced
	Size  int       `json:"size"`
	Hash  string    `json:"hash"`
	// Lint is what lint said of this version while it was the current file: LintPassed
	// (no errors), LintErrors (Errors of them), or "" when it was not recorded (a test
	// file, or a revision kept before lint results were recorded).
	Lint   string `json:"lint,omitempty"`
	Errors int    `json:"errors,omitempty"`
	// By names who wrote this version, with a shared library (OpenShared): the instance,
	// and "(studio)" or "(folder)" for how; "" otherwise.
	By string `json:"by,omitempty"`
}

// The lint marks of a Revision.
const (
	LintPassed = "passed"
	LintErrors = "errors"
)

const (
	revExt  = ".yaml"
	lintExt = ".lint" // beside a revision: "passed" or "errors N", lint's verdict while it was current
)

// lintOf is the lint verdict recorded for a scenario version that is being replaced: the
// entry scanned from exactly those bytes, if any ("" and 0 when unknown).
func lintOf(e *Entry, data []byte) (string, int) {
	if e == nil || e.Hash != HashOf(data) {
		return "", 0
	}
	if e.Errors > 0 {
		return LintErrors, e.Errors
	}
	return LintPassed, 0
}

func (l *Library) revFolder(p string) string {
	return filepath.Join(l.revDir, filepath.FromSlash(p))
}

// keepRevision stores data as the newest revision of p, unless it equals the newest one,
// and removes revisions beyond MaxRevisions. Only the newest revision is read. cur is p's
// entry as last scanned (nil for a test file or a new file): when it was built from data,
// its lint verdict is kept beside the revision.
func (l *Library) keepRevision(p string, data []byte, cur *Entry) error {
	dir := l.revFolder(p)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("keeping a revision of %s: %w", p, err)
	}
	ids, err := l.revIDs(p)
	if err != nil {
		return err
	}
	id := time.Now().UTC().UnixNano()
	if len(ids) > 0 {
		if last, err := os.ReadFile(filepath.Join(dir, revName(ids[0]))); err == nil && bytes.Equal(last, data) {
			return nil
		}
		id = max(id, ids[0]+1)
	}
	if err := writeAtomic(l.revRoot, path.Join(p, revName(id)), data); err != nil {
		return fmt.Errorf("keeping a revision of %s: %w", p, err)
	}
	if verdict, n := lintOf(cur, data); verdict != "" {
		mark := verdict
		if verdict == LintErrors {
			mark += " " + strconv.Itoa(n)
		}
		// Only a mark: a revision whose mark could not be written just shows none.
		if err := writeAtomic(l.revRoot, path.Join(p, lintName(id)), []byte(mark+"\n")); err != nil {
			l.log.Warn("keeping a revision's lint verdict", "path", p, "err", err)
		}
	}
	ids = append([]int64{id}, ids...)
	for _, old := range ids[min(len(ids), MaxRevisions):] {
		_ = os.Remove(filepath.Join(dir, revName(old)))
		_ = os.Remove(filepath.Join(dir, lintName(old)))
	}
	return nil
}

func lintName(id int64) string { return strconv.FormatInt(id, 10) + lintExt }

// readLint reads the lint verdict kept beside revision id of p ("" when none).
func (l *Library) readLint(p string, id int64) (string, int) {
	b, err := os.ReadFile(filepath.Join(l.revFolder(p), lintName(id)))
	if err != nil {
		return "", 0
	}
	f := strings.Fields(string(b))
	switch {
	case len(f) == 1 && f[0] == LintPassed:
		return LintPassed, 0
	case len(f) == 2 && f[0] == LintErrors:
		if n, err := strconv.Atoi(f[1]); err == nil && n > 0 {
			return LintErrors, n
		}
	}
	return "", 0
}

func revName(id int64) string { return strconv.FormatInt(id, 10) + revExt }

// revIDs lists the ids of p's revisions, newest first, from the file names alone.
func (l *Library) revIDs(p string) ([]int64, error) {
	ents, err := os.ReadDir(l.revFolder(p))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing revisions of %s: %w", p, err)
	}
	var ids []int64
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), revExt)
		if !ok || e.IsDir() {
			continue
		}
		if n, err := strconv.ParseInt(name, 10, 64); err == nil {
			ids = append(ids, n)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] > ids[j] })
	return ids, nil
}

// Revisions lists the revisions of the file at p, newest first.
func (l *Library) Revisions(p string) ([]Revision, error) {
	if err := CheckPath(p); err != nil {
		return nil, err
	}
	if l.shared != nil {
		return l.sharedRevisions(p)
	}
	ids, err := l.revIDs(p)
	if err != nil {
		return nil, err
	}
	revs := []Revision{}
	for _, id := range ids {
		data, err := os.ReadFile(filepath.Join(l.revFolder(p), revName(id)))
		if err != nil {
			continue
		}
		rv := Revision{ID: strconv.FormatInt(id, 10), Saved: time.Unix(0, id).UTC(), Size: len(data), Hash: HashOf(data)}
		rv.Lint, rv.Errors = l.readLint(p, id)
		revs = append(revs, rv)
	}
	return revs, nil
}

// Revision returns the bytes of one revision of p.
func (l *Library) Revision(p, id string) ([]byte, error) {
	if err := CheckPath(p); err != nil {
		return nil, err
	}
	if l.shared != nil {
		return l.sharedRevision(p, id)
	}
	if _, err := strconv.ParseUint(id, 10, 64); err != nil {
		return nil, fmt.Errorf("%w: revision %q", ErrNotFound, id)
	}
	data, err := os.ReadFile(filepath.Join(l.revFolder(p), id+revExt))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: revision %s of %s", ErrNotFound, id, p)
	}
	return data, err
}

// Restore makes revision id the current version of p (a save: the version it replaces
// becomes a revision in turn). base is as for Save.
func (l *Library) Restore(p, id, base string) error {
	data, err := l.Revision(p, id)
	if err != nil {
		return err
	}
	return l.Save(p, data, base)
}
