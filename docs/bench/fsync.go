//go:build ignore

// fsync.go measures what one small durable write costs on the disk holding DIR, in the
// ways the acknowledgement log could write (docs/performance.md, "Where a turn's time
// goes"): appending to a file (its size changes at every write, so the filesystem commits
// its journal) against overwriting a file written full of zeros beforehand, each followed
// by fsync, fdatasync, or written with O_DSYNC. Then what one write and fsync costs after
// the disk has been left idle for a while, as a lightly loaded server's commits are: each
// gap is spent asleep, or, to tell the CPU's part from the disk's, busy. Last, a write, 40
// µs of work (as the engine's step of the input), then fsync, with and without having the
// kernel start writing the record out before the work (sync_file_range, as the log does
// on a disk). Linux only.
//
// usage: go run docs/bench/fsync.go [DIR]   (default: the system's temporary folder)
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const (
	writes     = 3000
	recordSize = 700     // about one logged input
	prealloc   = 4 << 20 // bytes written full of zeros first (more than writes*recordSize)
)

// gapWrites is how many writes are timed after each idle gap.
const gapWrites = 100

// gaps are the idle times before each write of the second part.
var gaps = []time.Duration{0, time.Millisecond, 10 * time.Millisecond, 50 * time.Millisecond}

const (
	useFsync = iota
	useFdatasync
	useODsync
)

func run(dir, name string, zeroed bool, mode int) error {
	p := filepath.Join(dir, "fsync-bench-"+name)
	flags := os.O_CREATE | os.O_RDWR | os.O_TRUNC
	if mode == useODsync {
		flags |= syscall.O_DSYNC
	}
	f, err := os.OpenFile(p, flags, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(p)
	defer f.Close()
	if zeroed {
		if _, err := f.Write(make([]byte, prealloc)); err != nil {
			return err
		}
		if err := f.Sync(); err != nil {
			return err
		}
	}
	buf := make([]byte, recordSize)
	start := time.Now()
	for i := range writes {
		if _, err := f.WriteAt(buf, int64(i*recordSize)); err != nil {
			return err
		}
		switch mode {
		case useFsync:
			err = f.Sync()
		case useFdatasync:
			err = syscall.Fdatasync(int(f.Fd()))
		}
		if err != nil {
			return err
		}
	}
	fmt.Printf("%-22s %6.1f µs per write\n", name, float64(time.Since(start).Microseconds())/writes)
	return nil
}

func main() {
	dir := os.TempDir()
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	for round := 1; round <= 2; round++ {
		fmt.Printf("round %d, %d writes of %d bytes in %s\n", round, writes, recordSize, dir)
		for _, c := range []struct {
			name   string
			zeroed bool
			mode   int
		}{
			{"append+fsync", false, useFsync},
			{"append+fdatasync", false, useFdatasync},
			{"append+O_DSYNC", false, useODsync},
			{"zeroed+fsync", true, useFsync},
			{"zeroed+fdatasync", true, useFdatasync},
			{"zeroed+O_DSYNC", true, useODsync},
		} {
			if err := run(dir, c.name, c.zeroed, c.mode); err != nil {
				fmt.Fprintln(os.Stderr, "fsync.go:", err)
				os.Exit(1)
			}
		}
	}
	for _, busy := range []bool{false, true} {
		if err := afterGaps(dir, busy); err != nil {
			fmt.Fprintln(os.Stderr, "fsync.go:", err)
			os.Exit(1)
		}
	}
	if err := overlapped(dir); err != nil {
		fmt.Fprintln(os.Stderr, "fsync.go:", err)
		os.Exit(1)
	}
}

// work is the CPU time spent between a write and its fsync in overlapped.
const work = 40 * time.Microsecond

// overlapped times a write, work of spinning, then fsync, over a zeroed file, with and
// without starting the write-back right after the write, alternately, 300 of each, and
// prints the median and 90th percentile of each.
func overlapped(dir string) error {
	f, err := zeroedFile(filepath.Join(dir, "fsync-bench-overlap"))
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	fmt.Printf("write, %v of work, fsync (zeroed file), 300 each\n", work)
	buf := make([]byte, recordSize)
	off := int64(0)
	took := [2][]time.Duration{}
	for i := range 600 {
		kick := i%2 == 1
		start := time.Now()
		if _, err := f.WriteAt(buf, off); err != nil {
			return err
		}
		if kick {
			if err := unix.SyncFileRange(int(f.Fd()), off, recordSize, unix.SYNC_FILE_RANGE_WRITE); err != nil {
				return err
			}
		}
		for until := time.Now().Add(work); time.Now().Before(until); {
		}
		if err := f.Sync(); err != nil {
			return err
		}
		d := time.Since(start)
		if kick {
			took[1] = append(took[1], d)
		} else {
			took[0] = append(took[0], d)
		}
		off = (off + recordSize) % (prealloc - recordSize)
	}
	for k, name := range []string{"fsync after the work", "write-back started first"} {
		slices.Sort(took[k])
		fmt.Printf("  %-26s p50 %6.1f µs  p90 %6.1f µs\n", name,
			float64(took[k][len(took[k])/2].Nanoseconds())/1e3, float64(took[k][len(took[k])*9/10].Nanoseconds())/1e3)
	}
	return nil
}

// afterGaps times a write and fsync over a file written full of zeros, each after an idle
// gap (asleep, or spinning when busy), and prints the median and 90th percentile per gap.
func afterGaps(dir string, busy bool) error {
	f, err := zeroedFile(filepath.Join(dir, "fsync-bench-gaps"))
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	how := "asleep"
	if busy {
		how = "busy"
	}
	fmt.Printf("zeroed+fsync after an idle gap (%s), %d writes each\n", how, gapWrites)
	buf := make([]byte, recordSize)
	off := int64(0)
	for _, gap := range gaps {
		took := make([]time.Duration, 0, gapWrites)
		for range gapWrites {
			if busy {
				for until := time.Now().Add(gap); time.Now().Before(until); {
				}
			} else {
				time.Sleep(gap)
			}
			start := time.Now()
			if _, err := f.WriteAt(buf, off); err != nil {
				return err
			}
			if err := f.Sync(); err != nil {
				return err
			}
			took = append(took, time.Since(start))
			off = (off + recordSize) % (prealloc - recordSize)
		}
		slices.Sort(took)
		fmt.Printf("  gap %-6v p50 %6.1f µs  p90 %6.1f µs\n", gap,
			float64(took[len(took)/2].Nanoseconds())/1e3, float64(took[len(took)*9/10].Nanoseconds())/1e3)
	}
	return nil
}

// zeroedFile creates the file at p written full of zeros (prealloc bytes), synced.
func zeroedFile(p string) (*os.File, error) {
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	if _, err = f.Write(make([]byte, prealloc)); err == nil {
		err = f.Sync()
	}
	if err != nil {
		f.Close()
		os.Remove(p)
		return nil, err
	}
	return f, nil
}
