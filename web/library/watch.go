package library

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Timings of Watch.
const (
	// settle is how long Watch waits after a file event for more: editors often write a
	// file in several steps (truncate, write, rename).
	settle = 100 * time.Millisecond
	// pollEvery is how often the folder is rescanned when the system cannot watch it.
	pollEvery = 500 * time.Millisecond
)

// Watch rescans the folder when files in it change, until ctx is done. Edits show up
// within settle (plus the scan) of the last write. Where the operating system cannot
// watch the folder it polls every pollEvery instead. A shared library (OpenShared) also
// follows the store: changes made on other instances reach the folder within
// SharedApplyWithin.
func (l *Library) Watch(ctx context.Context) {
	if l.shared != nil {
		following := make(chan struct{})
		go func() { defer close(following); l.follow(ctx) }()
		defer func() { <-following }()
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		l.log.Warn("cannot watch the scenario folder; polling it instead", "err", err)
		l.poll(ctx)
		return
	}
	defer w.Close()
	if err := l.addDirs(w); err != nil {
		l.log.Warn("cannot watch the scenario folder; polling it instead", "err", err)
		l.poll(ctx)
		return
	}
	var due <-chan time.Time
	var timer *time.Timer
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if ev.Has(fsnotify.Create) {
				if info, err := os.Lstat(ev.Name); err == nil && info.IsDir() { // never a symbolic link
					_ = l.addDirs(w) // a new folder: watch it and what is in it
				}
			}
			if timer == nil {
				timer = time.NewTimer(settle)
			} else {
				timer.Reset(settle)
			}
			due = timer.C
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			l.log.Warn("watching the scenario folder", "err", err)
		case <-due:
			due = nil
			if err := l.Rescan(); err != nil {
				l.log.Error("rescanning the scenario folder", "err", err)
			}
		}
	}
}

// addDirs watches the folder and its sub-folders (hidden ones excepted).
func (l *Library) addDirs(w *fsnotify.Watcher) error {
	return filepath.WalkDir(l.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if p != l.dir && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		return w.Add(p)
	})
}

func (l *Library) poll(ctx context.Context) {
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := l.Rescan(); err != nil {
				l.log.Error("rescanning the scenario folder", "err", err)
			}
		}
	}
}
