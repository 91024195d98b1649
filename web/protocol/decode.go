package protocol

import "strconv"

// decodePlain decodes the frames clients send almost always — a JSON object whose keys
// are among "type", "id", "text" and "index", written in lower case and without escapes,
// with string values without escapes or control characters and a whole-number index —
// without encoding/json's reflection, which cost a few microseconds of every reply's
// latency (docs/performance.md). For anything else (escapes, other keys, other spellings
// of the keys, null, numbers with a fraction or an exponent, malformed JSON) it reports
// false, and DecodeClient decodes the frame with encoding/json, which also words the
// errors. When it reports true, m is what json.Unmarshal gives (decode_test.go checks
// this, with a fuzz test). data must be valid UTF-8.
func decodePlain(data []byte) (m ClientMsg, ok bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return ClientMsg{}, false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		i++
	} else {
		for {
			key, j, ok := plainString(data, i)
			if !ok {
				return ClientMsg{}, false
			}
			i = skipSpace(data, j)
			if i >= len(data) || data[i] != ':' {
				return ClientMsg{}, false
			}
			i = skipSpace(data, i+1)
			switch string(key) {
			case "type", "id", "text":
				v, j, ok := plainString(data, i)
				if !ok {
					return ClientMsg{}, false
				}
				switch string(key) {
				case "type":
					m.Type = typeName(v)
				case "id":
					m.ID = string(v)
				default:
					s := string(v)
					m.Text = &s
				}
				i = j
			case "index":
				n, j, ok := plainInt(data, i)
				if !ok {
					return ClientMsg{}, false
				}
				m.Index = &n
				i = j
			default:
				return ClientMsg{}, false
			}
			i = skipSpace(data, i)
			if i >= len(data) {
				return ClientMsg{}, false
			}
			if data[i] == '}' {
				i++
				break
			}
			if data[i] != ',' {
				return ClientMsg{}, false
			}
			i = skipSpace(data, i+1)
		}
	}
	if skipSpace(data, i) != len(data) {
		return ClientMsg{}, false
	}
	return m, true
}

// skipSpace returns the index of the first byte at or after i that is not JSON white space.
func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// plainString reads the JSON string at data[i] when it has no escape and no control
// character, returning its contents and the index after its closing quote.
func plainString(data []byte, i int) (s []byte, end int, ok bool) {
	if i >= len(data) || data[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			return data[i+1 : j], j + 1, true
		case c == '\\' || c < 0x20:
			return nil, 0, false
		}
	}
	return nil, 0, false
}

// plainInt reads the JSON number at data[i] when it is a whole number that fits an int
// (no fraction, no exponent), returning it and the index after it.
func plainInt(data []byte, i int) (n int, end int, ok bool) {
	j := i
	if j < len(data) && data[j] == '-' {
		j++
	}
	digits := j
	for j < len(data) && data[j] >= '0' && data[j] <= '9' {
		j++
	}
	if j == digits || data[digits] == '0' && j-digits > 1 {
		return 0, 0, false // no digits, or a leading zero: not JSON
	}
	if j < len(data) && (data[j] == '.' || data[j] == 'e' || data[j] == 'E') {
		return 0, 0, false
	}
	v, err := strconv.Atoi(string(data[i:j]))
	if err != nil {
		return 0, 0, false
	}
	return v, j, true
}

// typeName returns the message type t, without a copy when it is a known one.
func typeName(t []byte) string {
	switch string(t) {
	case TypeSay:
		return TypeSay
	case TypeAnswer:
		return TypeAnswer
	case TypeChoose:
		return TypeChoose
	case TypeHangup:
		return TypeHangup
	case TypeTyping:
		return TypeTyping
	case TypeHint:
		return TypeHint
	case TypeWhisper:
		return TypeWhisper
	}
	return string(t)
}
