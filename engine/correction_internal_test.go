package engine

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// A correction is read into the message it corrects: each of its words in place of the
// word it corrects, the punctuation around that word kept.
func TestReadCorrectionPutsTheWordsInPlace(t *testing.T) {
	for _, c := range []struct {
		prev, corr, want string
		placed           bool
	}{
		{"I can refund £186 today.", "*£168", "I can refund £168 today.", true},
		{"we can do the 28th, lovely", "*18th", "we can do the 18th, lovely", true},
		{"the total is 86 pounds", "86.50*", "the total is 86.50 pounds", true},
		{"refund of $40 on the 3rd", "*$45", "refund of $45 on the 3rd", true},
		// The currency sign stays unless the correction brings its own.
		{"a refund of £186.", "*168", "a refund of £168.", true},
		{"a refund of £186.", "*$168", "a refund of $168.", true},
		{"a refund of 186 today", "*£168", "a refund of £168 today", true},
		{"(£186)", "168*", "(£168)", true},
		// The number nearest in spelling; of equals, the first.
		{"order 1234 costs 56", "*1243", "order 1243 costs 56", true},
		{"5 or 6", "*7", "7 or 6", true},
		// Words fixed as typos, numbers as numbers, each word of prev replaced once.
		{"i can refnd £186", "*refund £168", "i can refund £168", true},
		{"between 10 and 12", "*11 13", "between 11 and 13", true},
		// Nothing to put it in place of: no number before, or only function words.
		{"we can refund it", "*£168", "we can refund it", false},
		{"the 28th then", "*the", "the 28th then", false},
		{"", "*12", "", false},
	} {
		t.Run(c.prev+" "+c.corr, func(t *testing.T) {
			got, placed := readCorrection(c.prev, c.corr)
			assert.Equal(t, c.placed, placed)
			assert.Equal(t, c.want, got)
		})
	}
}

// Only a number placed reads a correction in: typo fixes alone leave the message as it was.
func TestReadCorrectionNeedsANumberPlaced(t *testing.T) {
	got, placed := readCorrection("i can refnd it", "*refund")
	assert.False(t, placed)
	assert.Equal(t, "i can refnd it", got)
}

// A word with no place in the message is said after it.
func TestReadCorrectionSaysTheRestAfter(t *testing.T) {
	got, placed := readCorrection("I can refund £186 today.", "*£167 sorry")
	assert.True(t, placed)
	assert.Equal(t, "I can refund £167 today. sorry", got)
}
