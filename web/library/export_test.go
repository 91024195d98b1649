package library

import (
	"io/fs"
	"strings"
	"time"
)

// SetTestHook sets a function called as each batch of scenario test runs starts.
func SetTestHook(f func()) { testHook = f }

// TestScenario runs a test file's tests with the given time limit.
var TestScenario = testScenario

// SetSharedPoll sets how often a shared library polls its store (SharedPollEvery) for the
// libraries opened afterwards, and returns a function that restores it.
func SetSharedPoll(d time.Duration) func() {
	old := sharedPoll
	sharedPoll = d
	return func() { sharedPoll = old }
}

// SetReadFailure makes l's rescans fail to read the files under prefix, as a permission
// problem would (os.ErrPermission), whoever runs the tests.
func SetReadFailure(l *Library, prefix string) {
	l.saveMu.Lock()
	defer l.saveMu.Unlock()
	l.readFails = func(rel string) error {
		if strings.HasPrefix(rel, prefix) {
			return &fs.PathError{Op: "open", Path: rel, Err: fs.ErrPermission}
		}
		return nil
	}
}
