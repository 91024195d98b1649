package understand

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCheckPhrases(t *testing.T) {
	got := CheckPhrases([]string{"sorry", "the", "no", "~no", "dont have", "do not have", "refund*", "no worries", "apologies", "apologise", "You"})
	var msgs []string
	for _, w := range got {
		msgs = append(msgs, w.Msg)
	}
	assert.Equal(t, []string{
		`phrase "the" is a word nearly every reply has: it would match almost anything; use a longer phrase`,
		`phrase "no" is a negation word on its own: it matches every reply with one ("there is no problem" too); write what is refused ("no thanks") or negated ("~refund")`,
		`phrase "You" is a word nearly every reply has: it would match almost anything; use a longer phrase`,
	}, msgs)
	assert.Equal(t, []int{1, 2, 10}, []int{got[0].Index, got[1].Index, got[2].Index})
}
