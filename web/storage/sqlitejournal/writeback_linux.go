package sqlitejournal

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback has the kernel start writing the n bytes at off of f to its disk, without
// waiting (sync_file_range with SYNC_FILE_RANGE_WRITE): a hint, whose failure only leaves
// the work to the fsync that follows. It makes no write durable by itself (it neither
// waits for the disk nor flushes its cache).
func startWriteback(f *os.File, off, n int64) {
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}

// writebackStarts: startWriteback starts the disk's work here.
const writebackStarts = true

// inMemory reports whether files in dir live in memory only (tmpfs), where a sync has
// nothing to wait for; false when it cannot tell.
func inMemory(dir string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return false
	}
	return st.Type == unix.TMPFS_MAGIC
}
