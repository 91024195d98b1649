//go:build unix

package sqlitejournal

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockLog takes the exclusive lock on the acknowledgement log (path is its lock file),
// without waiting. It returns nil and no error when another process (or another DB of this
// process) holds it. The lock goes when the file is closed, or with the process.
func lockLog(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the log's lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, nil
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}
