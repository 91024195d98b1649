//go:build !linux

package main

import "os"

// keystrokes is Linux-only: elsewhere play reads its input a line at a time.
func keystrokes(*os.File) (restore func(), ok bool) { return func() {}, false }
