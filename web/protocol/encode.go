package protocol

import (
	"math"
	"strconv"

	"github.com/switchboard-sim/switchboard/web/internal/jsonstr"
)

// The messages sent most often (a word per word spoken, and those around each reply) are
// encoded by hand: encoding/json's reflection cost a few microseconds per message, which
// is most of the server's share of the reply latency (docs/performance.md). The output is
// JSON that encoding/json decodes to the same values (encode_test.go checks this, with a
// fuzz test); the other messages use encoding/json.

// FastJSON is implemented by messages that encode themselves. AppendJSON returns nil when
// the message has no JSON encoding (a number that is not finite), as json.Marshal then
// fails.
type FastJSON interface {
	AppendJSON(b []byte) []byte
}

// appendString appends s as a JSON string (jsonstr.Append).
func appendString(b []byte, s string) []byte { return jsonstr.Append(b, s) }

// appendHeader opens a message object with its header fields.
func appendHeader(b []byte, h *Header) []byte {
	b = append(b, `{"seq":`...)
	b = strconv.AppendInt(b, h.Seq, 10)
	b = append(b, `,"type":`...)
	b = appendString(b, h.Type)
	b = append(b, `,"at":`...)
	return strconv.AppendInt(b, h.At, 10)
}

func appendStringField(b []byte, key, v string) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

func appendIntField(b []byte, key string, v int64) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, v, 10)
}

func (m *WordMsg) AppendJSON(b []byte) []byte {
	b = appendHeader(b, &m.Header)
	b = appendIntField(b, "index", int64(m.Index))
	b = appendStringField(b, "text", m.Text)
	return append(b, '}')
}

func (m *LineEndMsg) AppendJSON(b []byte) []byte {
	b = appendHeader(b, &m.Header)
	b = appendStringField(b, "node", m.Node)
	return append(b, '}')
}

func (m *CutMsg) AppendJSON(b []byte) []byte {
	b = appendHeader(b, &m.Header)
	b = appendStringField(b, "node", m.Node)
	b = appendIntField(b, "spoken", int64(m.Spoken))
	b = appendIntField(b, "words", int64(m.Words))
	return append(b, '}')
}

func (m *LineStartMsg) AppendJSON(b []byte) []byte {
	b = appendHeader(b, &m.Header)
	b = appendStringField(b, "node", m.Node)
	b = appendStringField(b, "text", m.Text)
	b = appendIntField(b, "words", int64(m.Words))
	b = appendIntField(b, "duration_ms", m.Duration)
	b = append(b, `,"ms_per_word":`...)
	// Durations and word counts are whole numbers, so this is finite; 'g' with the
	// shortest precision round-trips exactly.
	b = strconv.AppendFloat(b, m.MsPerWord, 'g', -1, 64)
	if m.Emotion != "" {
		b = appendStringField(b, "emotion", m.Emotion)
	}
	if len(m.Pauses) > 0 {
		b = append(b, `,"pauses":[`...)
		for i, p := range m.Pauses {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"after":`...)
			b = strconv.AppendInt(b, int64(p.After), 10)
			b = append(b, `,"ms":`...)
			b = strconv.AppendInt(b, p.MS, 10)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func (m *TraineeMsg) AppendJSON(b []byte) []byte {
	b = appendHeader(b, &m.Header)
	b = appendStringField(b, "id", m.ID)
	b = appendStringField(b, "event", m.Event)
	if m.Text != "" {
		b = appendStringField(b, "text", m.Text)
	}
	if m.Choice != nil {
		b = appendIntField(b, "choice", int64(*m.Choice))
	}
	b = append(b, `,"flags":[`...)
	for i, f := range m.Flags {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, f)
	}
	return append(b, ']', '}')
}

func (m *MoodMsg) AppendJSON(b []byte) []byte {
	if math.IsNaN(m.Mood) || math.IsInf(m.Mood, 0) {
		return nil
	}
	b = appendHeader(b, &m.Header)
	b = append(b, `,"mood":`...)
	b = appendFloat(b, m.Mood)
	return append(b, '}')
}

// appendFloat appends a finite f as encoding/json writes a float64, byte for byte: the
// shortest form that reads back exactly, in exponent form only below 1e-6 or from 1e21.
func appendFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // e-09 -> e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

func (m *FeedbackMsg) AppendJSON(b []byte) []byte {
	b = appendHeader(b, &m.Header)
	b = appendStringField(b, "rule", m.Rule)
	b = appendStringField(b, "text", m.Text)
	return append(b, '}')
}

func (m *ChoicesMsg) AppendJSON(b []byte) []byte {
	b = appendHeader(b, &m.Header)
	b = appendStringField(b, "node", m.Node)
	if m.Choices == nil {
		return append(b, `,"choices":null}`...)
	}
	b = append(b, `,"choices":[`...)
	for i, c := range m.Choices {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"index":`...)
		b = strconv.AppendInt(b, int64(c.Index), 10)
		b = appendStringField(b, "text", c.Text)
		b = append(b, '}')
	}
	return append(b, ']', '}')
}
