package library

import "time"

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
