//go:build unix

package main

import "syscall"

// openFileLimit returns the process's open-file limit (the soft RLIMIT_NOFILE, which Go
// raises to the hard limit at start), and false when there is none to read.
func openFileLimit() (uint64, bool) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, false
	}
	cur := uint64(l.Cur)   //nolint:unconvert // int64 on some systems
	if cur == ^uint64(0) { // RLIM_INFINITY
		return 0, false
	}
	return cur, true
}
