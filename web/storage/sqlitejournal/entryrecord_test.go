package sqlitejournal

import (
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/journal"
)

// sameRecordAsEncodingJSON checks that appendRecord's framing of an append record holds
// JSON that decodes to what encoding/json's encoding of the record decodes to.
func sameRecordAsEncodingJSON(t *testing.T, r record) {
	t.Helper()
	framed, err := appendRecord([]byte("prefix"), &r)
	require.NoError(t, err)
	require.Equal(t, "prefix", string(framed[:6]))
	framed = framed[6:]
	require.GreaterOrEqual(t, len(framed), recordHeader)
	body := framed[recordHeader:]
	assert.Equal(t, uint32(len(body)), binary.LittleEndian.Uint32(framed))
	assert.Equal(t, crc32.Checksum(body, castagnoli), binary.LittleEndian.Uint32(framed[4:]))
	slow, err := json.Marshal(&r)
	require.NoError(t, err)
	var got, want record
	require.NoError(t, json.Unmarshal(body, &got), "hand encoding is not JSON: %s", body)
	require.NoError(t, json.Unmarshal(slow, &want))
	assert.Equal(t, want, got, "hand %s\njson %s", body, slow)
	n, err := decodeRecords(framed, func(d record) error {
		assert.Equal(t, want, d)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, len(framed), n)
}

func TestEntryRecordsDecodeAsEncodingJSON(t *testing.T) {
	// appendEntryBody writes every field of these types by name: a new field must be added
	// to it (and here).
	require.Equal(t, 4, reflect.TypeFor[engine.Event]().NumField(), "engine.Event changed: update appendEntryBody")
	require.Equal(t, 3, reflect.TypeFor[journal.Entry]().NumField(), "journal.Entry changed: update appendEntryBody")
	for _, s := range []string{"", "plain", `quo"te \ back\slash`, "tab\tnew\nline", "\x00\x1f\x7f", "<b>&amp;</b>",
		"héllo ✓ 🙂", "bad \xff utf8", "line\u2028para"} {
		for _, ev := range []engine.Event{
			{Type: engine.EventSay, At: 45678, Text: s},
			{Type: engine.EventChoose, At: 1, Index: 2},
			{Type: engine.EventChoose, At: 0, Index: -1},
			{Type: engine.EventAnswer, At: 3000},
			{Type: engine.EventType(s), At: -5, Text: s, Index: 7},
		} {
			sameRecordAsEncodingJSON(t, record{LSN: 1 << 40, Op: opAppend, CallID: s, Entry: &journal.Entry{Seq: 17, ClientID: s, Event: ev}})
			sameRecordAsEncodingJSON(t, record{LSN: 9, Op: opAppend, CallID: "c", Entry: &journal.Entry{Seq: 0, Event: ev}})
		}
	}
	// The other records still go through encoding/json.
	sameRecordAsEncodingJSON(t, record{LSN: 3, Op: opFinish, CallID: "c", Result: json.RawMessage(`{"x":1}`), Ended: "2026-12-05T00:00:00Z"})
}

func FuzzEntryRecords(f *testing.F) {
	f.Add(uint64(1), "call", int64(2), "c-1", "say", int64(3000), "sorry about that", 0)
	f.Add(uint64(1<<63), "\xff", int64(-1), "", "choose", int64(-1), "", -3)
	f.Fuzz(func(t *testing.T, lsn uint64, call string, seq int64, client, typ string, at int64, text string, index int) {
		lsn = max(lsn, 1) // LSNs start at 1: a record of LSN 0 reads as damaged
		sameRecordAsEncodingJSON(t, record{LSN: lsn, Op: opAppend, CallID: call,
			Entry: &journal.Entry{Seq: seq, ClientID: client, Event: engine.Event{Type: engine.EventType(typ), At: at, Text: text, Index: index}}})
	})
}

func BenchmarkAppendEntryRecord(b *testing.B) {
	r := record{LSN: 123456, Op: opAppend, CallID: "0b6f7c2e-8d0a-4b8e-9a53-7f3c1d2e4f5a", Entry: &journal.Entry{Seq: 17, ClientID: "t-1234-17",
		Event: engine.Event{Type: engine.EventSay, At: 45678, Text: "i am so sorry about that, let me look into it right away"}}}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = appendRecord(buf[:0], &r)
	}
}
