package libstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Memory is a Store in memory, for tests: several libraries given the same Memory behave
// like instances sharing one database.
type Memory struct {
	mu      sync.Mutex
	version int64
	revID   int64
	files   map[string]File
	revs    map[string][]memRev // newest first
	subs    map[chan struct{}]struct{}
}

type memRev struct {
	Revision
	data []byte
}

// NewMemory returns an empty store.
func NewMemory() *Memory {
	return &Memory{files: map[string]File{}, revs: map[string][]memRev{}, subs: map[chan struct{}]struct{}{}}
}

var _ Store = (*Memory)(nil)

func hashOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// LibraryChanges implements Store.
func (m *Memory) LibraryChanges(_ context.Context, after int64) ([]File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []File
	for _, f := range m.files {
		if f.Version > after {
			f.Content = bytes.Clone(f.Content)
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// PutLibraryFile implements Store.
func (m *Memory) PutLibraryFile(_ context.Context, f File, base string, replaced Lint) (int64, error) {
	if f.Path == "" {
		return 0, fmt.Errorf("libstore: put: empty path")
	}
	m.mu.Lock()
	cur, ok := m.files[f.Path]
	live := ok && !cur.Deleted
	curHash := ""
	if live {
		curHash = cur.Hash
	}
	newHash := ""
	if !f.Deleted {
		newHash = hashOf(f.Content)
	}
	switch {
	case curHash == newHash && (live || f.Deleted):
		m.mu.Unlock()
		return 0, nil
	case curHash != base:
		m.mu.Unlock()
		return 0, fmt.Errorf("libstore: put %s: %w", f.Path, ErrConflict)
	}
	if live {
		m.keepLocked(f.Path, cur.Content, cur.By, replaced, false)
	}
	m.version++
	nf := File{Path: f.Path, Deleted: f.Deleted, Hash: newHash, Modified: time.Now().UTC(), By: f.By, Version: m.version}
	if !f.Deleted {
		nf.Content = bytes.Clone(f.Content)
		if nf.Content == nil {
			nf.Content = []byte{}
		}
	}
	if !f.Modified.IsZero() {
		nf.Modified = f.Modified
	}
	m.files[f.Path] = nf
	v := m.version
	m.notifyLocked()
	m.mu.Unlock()
	return v, nil
}

// keepLocked adds a revision: unless it equals the newest one (any one, with anyHash).
func (m *Memory) keepLocked(p string, data []byte, by string, lint Lint, anyHash bool) {
	h := hashOf(data)
	revs := m.revs[p]
	for i, r := range revs {
		if r.Hash == h && (anyHash || i == 0) {
			return
		}
	}
	m.revID++
	r := memRev{Revision: Revision{ID: m.revID, Saved: time.Now().UTC(), Size: len(data), Hash: h, By: by, Lint: lint}, data: bytes.Clone(data)}
	revs = append([]memRev{r}, revs...)
	if len(revs) > MaxRevisions {
		revs = revs[:MaxRevisions]
	}
	m.revs[p] = revs
}

// KeepLibraryRevision implements Store.
func (m *Memory) KeepLibraryRevision(_ context.Context, p string, data []byte, by string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.files[p]; ok && !cur.Deleted && cur.Hash == hashOf(data) {
		return nil
	}
	m.keepLocked(p, data, by, Lint{}, true)
	return nil
}

// LibraryRevisions implements Store.
func (m *Memory) LibraryRevisions(_ context.Context, p string) ([]Revision, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []Revision{}
	for _, r := range m.revs[p] {
		out = append(out, r.Revision)
	}
	return out, nil
}

// LibraryRevision implements Store.
func (m *Memory) LibraryRevision(_ context.Context, p string, id int64) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.revs[p] {
		if r.ID == id {
			return bytes.Clone(r.data), nil
		}
	}
	return nil, fmt.Errorf("libstore: revision %d of %s: %w", id, p, ErrNotFound)
}

// ListenLibrary implements Store.
func (m *Memory) ListenLibrary(ctx context.Context, changed func()) error {
	ch := make(chan struct{}, 1)
	m.mu.Lock()
	m.subs[ch] = struct{}{}
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.subs, ch)
		m.mu.Unlock()
	}()
	changed() // connected: changes before it may have been missed
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
			changed()
		}
	}
}

func (m *Memory) notifyLocked() {
	for ch := range m.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
