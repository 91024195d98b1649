package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// keystrokes puts the terminal f into non-canonical mode without echo or signals, so
// play sees each keystroke as it is typed (and echoes the reply itself), and returns the
// function that restores it. ok is false when f is not a terminal: its input comes a line
// at a time.
func keystrokes(f *os.File) (restore func(), ok bool) {
	fd := int(f.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return func() {}, false
	}
	raw := *old
	raw.Lflag &^= unix.ICANON | unix.ECHO | unix.ISIG | unix.IEXTEN
	raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &raw); err != nil {
		return func() {}, false
	}
	return func() { _ = unix.IoctlSetTermios(fd, unix.TCSETS, old) }, true
}
