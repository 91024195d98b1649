package protocol

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// samePlainAsEncodingJSON checks that when decodePlain takes a frame, json.Unmarshal takes
// it too and decodes the same message.
func samePlainAsEncodingJSON(t *testing.T, data []byte) (plain bool) {
	t.Helper()
	if !utf8.Valid(data) {
		return false // DecodeClient refuses it before
	}
	got, ok := decodePlain(data)
	if !ok {
		return false
	}
	var want ClientMsg
	require.NoError(t, json.Unmarshal(data, &want), "decodePlain took %q, encoding/json refuses it", data)
	assert.Equal(t, want, got, "frame %q", data)
	return true
}

var clientFrames = []struct {
	frame string
	plain bool // decodePlain takes it (else encoding/json does)
}{
	{`{"type":"say","id":"c1","text":"sorry to hear that, let me check"}`, true},
	{`{"type":"answer","id":"a"}`, true},
	{`{"type":"choose","id":"k9","index":2}`, true},
	{`{"type":"choose","id":"k9","index":-0}`, true},
	{`{"type":"choose","id":"k9","index":-12}`, true},
	{` { "id" : "x" , "type" :"hint" } ` + "\n", true},
	{"{\t\"type\":\"say\",\r\n\"id\":\"1\",\"text\":\"héllo ✓ 🙂\u2028\"}", true},
	{`{}`, true},
	{`{"type":"say","id":"c1","text":""}`, true},
	{`{"id":"a","id":"b"}`, true},                            // the last one wins, as in encoding/json
	{`{"type":"say","id":"c1","text":"a","text":"b"}`, true}, // likewise
	{`{"type":"say","id":"c1","text":"it\u0027s"}`, false},   // an escape
	{`{"type":"say","id":"c1","text":"say \"no\""}`, false},
	{`{"Type":"say","id":"c1","text":"x"}`, false}, // encoding/json matches keys without case
	{`{"type":"say","id":"c1","text":null}`, false},
	{`{"type":"say","id":"c1","extra":1}`, false},
	{`{"type":"choose","id":"k","index":1.0}`, false},
	{`{"type":"choose","id":"k","index":1e2}`, false},
	{`{"type":"choose","id":"k","index":01}`, false},
	{`{"type":"choose","id":"k","index":-}`, false},
	{`{"type":"choose","id":"k","index":99999999999999999999999}`, false},
	{`{"type":"choose","id":"k","index":"1"}`, false},
	{`{"type":"say","id":"c1",}`, false},
	{`{"type":"say" "id":"c1"}`, false},
	{`{"type":"say","id":"c1"}{}`, false},
	{`{"type":"say","id":"c1"`, false},
	{`{"type":"say","id":"c1`, false},
	{"{\"type\":\"say\",\"id\":\"c1\",\"text\":\"tab\there\"}", false}, // a raw control character
	{`["say"]`, false},
	{``, false},
	{`null`, false},
}

func TestDecodePlainMatchesEncodingJSON(t *testing.T) {
	for _, c := range clientFrames {
		assert.Equal(t, c.plain, samePlainAsEncodingJSON(t, []byte(c.frame)), "frame %q", c.frame)
	}
}

// TestDecodeClientOutcomes checks the whole decoding, by either path, on frames that go
// each way: the message, or the error's code and id.
func TestDecodeClientOutcomes(t *testing.T) {
	for _, c := range []struct {
		frame, typ, id, text, code string
	}{
		{frame: `{"type":"say","id":"c1","text":"hello"}`, typ: "say", id: "c1", text: "hello"},
		{frame: `{"type":"say","id":"c1","text":"it\u0027s"}`, typ: "say", id: "c1", text: "it's"},
		{frame: `{"TYPE":"say","Id":"c1","text":"x"}`, typ: "say", id: "c1", text: "x"},
		{frame: `{"type":"say","id":"c1","text":"   "}`, code: CodeEmptyText, id: "c1"},
		{frame: `{"type":"say","id":"c1"}`, code: CodeBadJSON, id: "c1"},
		{frame: `{"type":"say","id":"c1","text":1}`, code: CodeBadJSON, id: "c1"},
		{frame: `{"type":"dance","id":"c1"}`, code: CodeUnknownType, id: "c1"},
		{frame: `{"type":"choose","id":"c1","index":1.5}`, code: CodeBadJSON, id: "c1"},
		{frame: `{"type":"answer"}`, code: CodeBadJSON},
	} {
		m, err := DecodeClient([]byte(c.frame))
		if c.code != "" {
			require.NotNil(t, err, c.frame)
			assert.Equal(t, c.code, err.Code, c.frame)
			assert.Equal(t, c.id, err.ID, c.frame)
			continue
		}
		require.Nil(t, err, c.frame)
		assert.Equal(t, c.typ, m.Type, c.frame)
		assert.Equal(t, c.id, m.ID, c.frame)
		require.NotNil(t, m.Text, c.frame)
		assert.Equal(t, c.text, *m.Text, c.frame)
	}
}

func FuzzDecodePlain(f *testing.F) {
	for _, c := range clientFrames {
		f.Add([]byte(c.frame))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		samePlainAsEncodingJSON(t, data)
	})
}

func BenchmarkDecodeClient(b *testing.B) {
	frame := []byte(`{"type":"say","id":"t-1234-17","text":"i am so sorry about that, let me look into it right away"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeClient(frame); err != nil {
			b.Fatal(err)
		}
	}
}
