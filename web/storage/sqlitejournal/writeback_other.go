//go:build !linux

package sqlitejournal

import "os"

// startWriteback does nothing here: the fsync that follows writes the data.
func startWriteback(*os.File, int64, int64) {}

// writebackStarts: without startWriteback there is nothing to overlap here.
const writebackStarts = false

// inMemory reports false: this build does not tell tmpfs from a disk, so the log is
// always synced.
func inMemory(string) bool { return false }
