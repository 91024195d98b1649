package jsonstr

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sameAsEncodingJSON checks that Append writes a JSON string that decodes to what
// encoding/json's encoding of s decodes to (invalid UTF-8 included, as U+FFFD).
func sameAsEncodingJSON(t *testing.T, s string) {
	t.Helper()
	fast := Append([]byte("x"), s)
	require.Equal(t, byte('x'), fast[0])
	slow, err := json.Marshal(s)
	require.NoError(t, err)
	var got, want string
	require.NoError(t, json.Unmarshal(fast[1:], &got), "not a JSON string: %s", fast[1:])
	require.NoError(t, json.Unmarshal(slow, &want))
	assert.Equal(t, want, got)
}

var awkward = []string{"", "plain", `quo"te \ back\slash`, "tab\tnew\nline\rcr", "\x00\x01\x1f\x7f",
	"<script>&amp;</script>", "héllo wörld ✓ 🙂", "bad \xff\xfe utf8 \xc3", "line\u2028para\u2029", "\ufffd"}

func TestAppendMatchesEncodingJSON(t *testing.T) {
	for _, s := range awkward {
		sameAsEncodingJSON(t, s)
	}
	assert.Equal(t, `"a\u2028b\n\"\\\u0001"`, string(Append(nil, "a\u2028b\n\"\\\x01")), "the escapes")
}

func FuzzAppend(f *testing.F) {
	for _, s := range awkward {
		f.Add(s)
	}
	f.Fuzz(sameAsEncodingJSON)
}
