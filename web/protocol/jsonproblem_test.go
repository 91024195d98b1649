package protocol

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestJSONProblemSpeaksPlainly: what is wrong with a body or a message is said without
// Go's type names.
func TestJSONProblemSpeaksPlainly(t *testing.T) {
	var m ClientMsg
	problem := func(s string) string { return JSONProblem(json.Unmarshal([]byte(s), &m)) }
	assert.Equal(t, "it must be a JSON object, not an array", problem(`[1, 2]`))
	assert.Equal(t, `"index" must be a number, not a string`, problem(`{"type": "choose", "id": "a", "index": "one"}`))
	assert.Equal(t, `"index" must be a whole number`, problem(`{"index": 1.5}`))
	assert.Equal(t, `"text" must be a string, not a boolean`, problem(`{"text": true}`))
	assert.Equal(t, "it is not valid JSON (at byte 2)", problem(`{,}`))
	assert.Equal(t, "it is not valid JSON (it ends too early)", problem(`{"type": "say"`))
	dec := json.NewDecoder(strings.NewReader(`{"nope": 1}`))
	dec.DisallowUnknownFields()
	assert.Equal(t, `it has an unknown field "nope"`, JSONProblem(dec.Decode(&m)))

	_, derr := DecodeClient([]byte(`[1]`))
	assert.Equal(t, "the message is not a JSON object of a known shape: it must be a JSON object, not an array", derr.Message)
	assert.NotContains(t, derr.Message, "Go value")
}
