//go:build !unix

package sqlitejournal

import "os"

// lockLog: without flock the acknowledgement log is not used (nil, nil), and writes go to
// SQLite directly.
func lockLog(string) (*os.File, error) { return nil, nil }
