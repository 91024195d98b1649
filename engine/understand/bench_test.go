package understand

import "testing"

// BenchmarkMatch runs a typical typed reply through the whole pipeline and the matcher.
func BenchmarkMatch(b *testing.B) {
	lx, _ := Compile([]IntentSpec{
		{Name: "apology", Phrases: []string{"sorry", "apolog*", "my mistake", "my fault", "forgive"}, Except: []string{"sorry you feel that way"}},
		{Name: "out_of_stock", Phrases: []string{"out of stock", "sold out", "were out", "dont have", "ran out", "none left"}},
		{Name: "dodge", Phrases: []string{"let me check", "ill check", "one moment", "in the back", "might have"}},
	})
	texts := []string{
		"so sorry, we're actually out of manchego today",
		"im not sure, let me check in the back",
		"I don't think we have any left unfortunately",
		"Hello, how can I help?",
	}
	n := 0
	for b.Loop() {
		lx.Match(lx.Analyze(texts[n%len(texts)]), func(Hit) {})
		n++
	}
}
