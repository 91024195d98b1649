package library

// SetTestHook sets a function called as each batch of scenario test runs starts.
func SetTestHook(f func()) { testHook = f }

// TestScenario runs a test file's tests with the given time limit.
var TestScenario = testScenario
