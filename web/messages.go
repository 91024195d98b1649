package web

import (
	"encoding/json"
	"unicode/utf8"

	"github.com/switchboard-sim/switchboard/engine"
)

// Limits of the websocket protocol (docs/protocol.md).
const (
	maxClientIDBytes = 64       // a client message id
	maxTextBytes     = 4096     // the text of a say message
	maxFrameBytes    = 64 << 10 // a websocket frame; larger ones close the connection with 1009
	maxBodyBytes     = 16 << 10 // the body of POST /api/calls
	maxTraineeRunes  = 64       // a trainee's name
	sendQueueLen     = 64       // messages queued for one connection before it counts as too slow
	inboxLen         = 16       // client messages queued for one call
	rateLimit        = 5        // client messages per second per connection...
	rateBurst        = 10       // ...with bursts up to this many
	closeReplaced    = 4000     // close code: a newer connection to the same call replaced this one
	errorSeq         = int64(0) // seq of connection-local error messages (not part of the call's record)
	msPerMinute      = 60_000   // for words-per-minute pacing
	rateNoticeMillis = 1000     // at most one rate_limited error per second while over the limit
	maxWhisperBytes  = 1000     // the text of a supervisor's whisper
)

// Error codes sent in error messages and HTTP error bodies.
const (
	codeBadJSON      = "bad_json"
	codeUnknownType  = "unknown_type"
	codeTooLong      = "too_long"
	codeEmptyText    = "empty_text"
	codeBadUTF8      = "bad_utf8"
	codeRateLimited  = "rate_limited"
	codeNotAllowed   = "not_allowed"
	codeStorage      = "storage_failed"
	codeBadOrigin    = "bad_origin"
	codeUnauthorized = "unauthorized"
	codeUnknownCall  = "unknown_call"
	codeUnknownScen  = "unknown_scenario"
	codeNotFound     = "not_found"
	codeMethod       = "method_not_allowed"
	codeMediaType    = "unsupported_media_type"
	codeTooManyCalls = "too_many_calls"
	codeShutdown     = "shutting_down"
	codeBadRequest   = "bad_request"
	codeInternal     = "internal"
)

// Client message types.
const (
	typeAnswer = "answer"
	typeSay    = "say"
	typeChoose = "choose"
	typeHangup = "hangup"
	typeTyping = "typing" // the trainee started composing a reply (first keystroke, speech start)
	typeHint   = "hint"   // the trainee asks for the suggested replies
	// typeWhisper is a supervisor's hint to the trainee; only supervisors' connections may
	// send it, and it is the only message they may send.
	typeWhisper = "whisper"
)

// clientMsg is a client → server message, as decoded from one text frame.
type clientMsg struct {
	Type  string  `json:"type"`
	ID    string  `json:"id"`
	Text  *string `json:"text"`
	Index *int    `json:"index"`
}

// decodeError is why a frame was refused before it reached the call.
type decodeError struct {
	code, message, id string
}

// decodeClient checks one text frame and decodes it. Errors carry the client's id when it
// could be read.
func decodeClient(data []byte) (clientMsg, *decodeError) {
	if !utf8.Valid(data) {
		return clientMsg{}, &decodeError{code: codeBadUTF8, message: "the message is not valid UTF-8"}
	}
	var m clientMsg
	if err := json.Unmarshal(data, &m); err != nil {
		var idOnly struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(data, &idOnly) // best effort, for the error's id
		return clientMsg{}, &decodeError{code: codeBadJSON, message: "the message is not a JSON object of a known shape: " + err.Error(), id: validID(idOnly.ID)}
	}
	if m.ID == "" || len(m.ID) > maxClientIDBytes {
		return clientMsg{}, &decodeError{code: codeBadJSON, message: "every message needs an \"id\" of 1 to 64 bytes"}
	}
	switch m.Type {
	case typeAnswer, typeHangup, typeTyping, typeHint:
	case typeSay:
		if m.Text == nil {
			return m, &decodeError{code: codeBadJSON, message: "a say message needs a \"text\" string", id: m.ID}
		}
		if len(*m.Text) > maxTextBytes {
			return m, &decodeError{code: codeTooLong, message: "the text is over 4096 bytes", id: m.ID}
		}
		if isBlank(*m.Text) {
			return m, &decodeError{code: codeEmptyText, message: "the text is empty", id: m.ID}
		}
	case typeWhisper:
		if m.Text == nil {
			return m, &decodeError{code: codeBadJSON, message: "a whisper message needs a \"text\" string", id: m.ID}
		}
		if len(*m.Text) > maxWhisperBytes {
			return m, &decodeError{code: codeTooLong, message: "the whisper is over 1000 bytes", id: m.ID}
		}
		if isBlank(*m.Text) {
			return m, &decodeError{code: codeEmptyText, message: "the text is empty", id: m.ID}
		}
	case typeChoose:
		if m.Index == nil {
			return m, &decodeError{code: codeBadJSON, message: "a choose message needs an integer \"index\"", id: m.ID}
		}
	default:
		return m, &decodeError{code: codeUnknownType, message: "unknown message type " + quote(m.Type) + ` (want "answer", "typing", "say", "choose", "hint", "hangup" or, from a supervisor, "whisper")`, id: m.ID}
	}
	return m, nil
}

func validID(id string) string {
	if id == "" || len(id) > maxClientIDBytes {
		return ""
	}
	return id
}

func isBlank(s string) bool {
	for _, r := range s {
		if !isSpace(r) {
			return false
		}
	}
	return true
}

func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\v', '\f', 0x85, 0xA0:
		return true
	}
	return r > 0xff && (r == 0x1680 || (r >= 0x2000 && r <= 0x200a) || r == 0x2028 || r == 0x2029 || r == 0x202f || r == 0x205f || r == 0x3000)
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Server → client messages. Every one starts with the header.
type header struct {
	Seq  int64  `json:"seq"`
	Type string `json:"type"`
	At   int64  `json:"at"`
}

type ringMsg struct {
	header
	Node string `json:"node"`
}

type lineStartMsg struct {
	header
	Node      string  `json:"node"`
	Text      string  `json:"text"`
	Words     int     `json:"words"`
	Duration  int64   `json:"duration_ms"`
	MsPerWord float64 `json:"ms_per_word"`
	// Emotion is the line's emotion tag (engine.Emotions), absent when it has none.
	Emotion string `json:"emotion,omitempty"`
	// Pauses are the silences inside the line, absent when it has none.
	Pauses []engine.Pause `json:"pauses,omitempty"`
}

type wordMsg struct {
	header
	Index int    `json:"index"`
	Text  string `json:"text"`
}

type lineEndMsg struct {
	header
	Node string `json:"node"`
}

type cutMsg struct {
	header
	Node   string `json:"node"`
	Spoken int    `json:"spoken"`
	Words  int    `json:"words"`
}

type traineeMsg struct {
	header
	ID     string   `json:"id"`
	Event  string   `json:"event"`
	Text   string   `json:"text,omitempty"`
	Choice *int     `json:"choice,omitempty"`
	Flags  []string `json:"flags"`
}

type choice struct {
	Index int    `json:"index"`
	Text  string `json:"text"`
}

type choicesMsg struct {
	header
	Node    string   `json:"node"`
	Choices []choice `json:"choices"`
}

type moodMsg struct {
	header
	Mood float64 `json:"mood"`
}

// whisperMsg is a supervisor's whisper, in the trainee's view and the supervisors'. ID is
// the supervisor's message id, in the supervisors' view only.
type whisperMsg struct {
	header
	Text string `json:"text"`
	ID   string `json:"id,omitempty"`
}

// scoreMsg is a rule or transition changing scores (supervisors' view only).
type scoreMsg struct {
	header
	Rule   string             `json:"rule,omitempty"`
	Node   string             `json:"node,omitempty"`
	Deltas []engine.AxisDelta `json:"deltas"`
}

type feedbackMsg struct {
	header
	Rule string `json:"rule"`
	Text string `json:"text"`
}

// Feedback is one rule or transition feedback of a call, as listed at its end.
type Feedback struct {
	Rule string `json:"rule"`
	Text string `json:"text"`
	At   int64  `json:"at"`
}

// Score is one axis's result, as sent at the end of a call.
type Score struct {
	Axis       string  `json:"axis"`
	Points     float64 `json:"points"`
	Max        float64 `json:"max"`
	Normalized float64 `json:"normalized"`
	Weight     float64 `json:"weight"`
	Assessed   bool    `json:"assessed"`
}

type endMsg struct {
	header
	Ending   string     `json:"ending"`
	Outcome  string     `json:"outcome"`
	Title    string     `json:"title"`
	Text     string     `json:"text"`
	LastLine string     `json:"last_line,omitempty"`
	Note     string     `json:"note,omitempty"`
	Hints    int        `json:"hints"`
	Scores   []Score    `json:"scores"`
	Overall  float64    `json:"overall"`
	Passed   bool       `json:"passed"`
	Feedback []Feedback `json:"feedback"`
}

type errorMsg struct {
	header
	Code    string `json:"code"`
	Message string `json:"message"`
	ID      string `json:"id,omitempty"`
}

// errorFrame encodes a connection-local error message (seq 0).
func errorFrame(at int64, code, message, id string) []byte {
	return mustMarshal(errorMsg{header: header{Seq: errorSeq, Type: "error", At: at}, Code: code, Message: message, ID: id})
}
