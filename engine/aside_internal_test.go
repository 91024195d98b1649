package engine

import "testing"

// TestEveryRepeatRequestHasACue keeps repeatCues, IsRepeatRequest's cheap first look, in
// step with the requests it knows.
func TestEveryRepeatRequestHasACue(t *testing.T) {
	for core := range repeatCores {
		if !repeatCue(core) {
			t.Errorf("%q has none of repeatCues: IsRepeatRequest would never see it", core)
		}
	}
}
