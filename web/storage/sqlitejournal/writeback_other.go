//go:build !linux

package sqlitejournal

import "os"

// startWriteback does nothing here: the fsync that follows writes the data.
func startWriteback(*os.File, int64, int64) {}

// writesBack reports false: without startWriteback there is nothing to overlap.
func writesBack(string) bool { return false }
