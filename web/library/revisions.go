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
}

const revExt = ".yaml"

func (l *Library) revFolder(p string) string {
	return filepath.Join(l.revDir, filepath.FromSlash(p))
}

// keepRevision stores data as the newest revision of p, unless it equals the newest one,
// and removes revisions beyond MaxRevisions. Only the newest revision is read.
func (l *Library) keepRevision(p string, data []byte) error {
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
	ids = append([]int64{id}, ids...)
	for _, old := range ids[min(len(ids), MaxRevisions):] {
		_ = os.Remove(filepath.Join(dir, revName(old)))
	}
	return nil
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
		revs = append(revs, Revision{ID: strconv.FormatInt(id, 10), Saved: time.Unix(0, id).UTC(), Size: len(data), Hash: HashOf(data)})
	}
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
