package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func keys(input string, tty bool) []string {
	ch := make(chan keyEvent)
	go readKeys(strings.NewReader(input), tty, ch)
	var got []string
	for k := range ch {
		switch k.kind {
		case keyTyping:
			got = append(got, "typing")
		case keyEdit:
			got = append(got, "edit "+k.buf)
		case keyLine:
			got = append(got, "line "+k.buf)
		case keyEOF:
			got = append(got, "eof")
		}
	}
	return got
}

// TestReadKeys: from a terminal, the first character of a reply is the moment the trainee
// starts typing; Backspace, Ctrl-U, Ctrl-C and Ctrl-D do what a terminal user expects, and
// arrow keys type nothing. From a pipe, each line comes whole.
func TestReadKeys(t *testing.T) {
	assert.Equal(t, []string{"typing", "edit a", "edit ab", "edit a", "edit ac", "line ac", "eof"},
		keys("ab\x7fc\r", true))
	assert.Equal(t, []string{"typing", "edit x", "edit ", "typing", "edit y", "line y", "eof"},
		keys("x\x15y\n", true), "Ctrl-U clears the reply; typing again starts it again")
	assert.Equal(t, []string{"typing", "edit h", "edit hi", "line hi", "eof"},
		keys("h\x1b[Ai\x1bOB\r\n", true), "arrow keys are ignored; \\r\\n is one Enter")
	assert.Equal(t, []string{"typing", "edit é", "line é", "eof"}, keys("é\r", true), "one edit per character, not per byte")
	assert.Equal(t, []string{"line /hangup", "eof"}, keys("\x03\x04", true), "Ctrl-C hangs up, Ctrl-D on an empty reply ends")
	assert.Equal(t, []string{"typing", "edit a", "eof"}, keys("a\x04", true), "Ctrl-D with a reply typed sends nothing: the input just ends")

	assert.Equal(t, []string{"line ", "typing", "line hello", "typing", "line no newline", "eof"},
		keys("\nhello\r\nno newline", false), "from a pipe")
	assert.Equal(t, []string{"typing", "line a\x7fb", "eof"}, keys("a\x7fb\n", false), "a pipe's bytes are not edited")
}
