package library

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
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
}

const revExt = ".yaml"

func (l *Library) revFolder(p string) string {
	return filepath.Join(l.revDir, filepath.FromSlash(p))
}

// keepRevision stores data as the newest revision of p, unless it equals the newest one,
// and removes revisions beyond MaxRevisions.
func (l *Library) keepRevision(p string, data []byte) error {
	dir := l.revFolder(p)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("keeping a revision of %s: %w", p, err)
	}
	revs, err := l.Revisions(p)
	if err != nil {
		return err
	}
	if len(revs) > 0 {
		if last, err := l.Revision(p, revs[0].ID); err == nil && bytes.Equal(last, data) {
			return nil
		}
	}
	id := time.Now().UTC().UnixNano()
	if len(revs) > 0 {
		if prev, err := strconv.ParseInt(revs[0].ID, 10, 64); err == nil && prev >= id {
			id = prev + 1
		}
	}
	if err := writeAtomic(filepath.Join(dir, strconv.FormatInt(id, 10)+revExt), data); err != nil {
		return fmt.Errorf("keeping a revision of %s: %w", p, err)
	}
	revs, err = l.Revisions(p)
	if err != nil {
		return err
	}
	for _, r := range revs[min(len(revs), MaxRevisions):] {
		_ = os.Remove(filepath.Join(dir, r.ID+revExt))
	}
	return nil
}

// Revisions lists the revisions of the file at p, newest first.
func (l *Library) Revisions(p string) ([]Revision, error) {
	if err := CheckPath(p); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(l.revFolder(p))
	if errors.Is(err, fs.ErrNotExist) {
		return []Revision{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing revisions of %s: %w", p, err)
	}
	revs := []Revision{}
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), revExt)
		if !ok || e.IsDir() {
			continue
		}
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join(l.revFolder(p), e.Name()))
		if err != nil {
			continue
		}
		revs = append(revs, Revision{ID: id, Saved: time.Unix(0, n).UTC(), Size: len(data), Hash: HashOf(data)})
	}
	sort.Slice(revs, func(i, j int) bool { return revs[i].Saved.After(revs[j].Saved) })
	return revs, nil
}

// Revision returns the bytes of one revision of p.
func (l *Library) Revision(p, id string) ([]byte, error) {
	if err := CheckPath(p); err != nil {
		return nil, err
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
