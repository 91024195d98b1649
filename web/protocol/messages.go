package protocol

import (
	"encoding/json"
	"unicode/utf8"

	"github.com/switchboard-sim/switchboard/engine"
)

// Limits of the websocket protocol (docs/protocol.md).
const (
	MaxClientIDBytes = 64       // a client message id
	MaxTextBytes     = 4096     // the text of a say message
	MaxFrameBytes    = 64 << 10 // a websocket frame; larger ones close the connection with 1009
	MaxWhisperBytes  = 1000     // the text of a supervisor's whisper
	ErrorSeq         = int64(0) // seq of connection-local error messages (not part of the call's record)
	// CloseReplaced is the websocket close code sent to a trainee's connection that a
	// newer connection to the same call replaced.
	CloseReplaced = 4000
)

// Client message types.
const (
	TypeAnswer = "answer"
	TypeSay    = "say"
	TypeChoose = "choose"
	TypeHangup = "hangup"
	TypeTyping = "typing" // the trainee started composing a reply (first keystroke, speech start)
	TypeHint   = "hint"   // the trainee asks for the suggested replies
	// TypeWhisper is a supervisor's hint to the trainee; only supervisors' connections may
	// send it, and it is the only message they may send.
	TypeWhisper = "whisper"
)

// ClientMsg is a client → server message, as decoded from one text frame.
type ClientMsg struct {
	Type  string  `json:"type"`
	ID    string  `json:"id"`
	Text  *string `json:"text"`
	Index *int    `json:"index"`
}

// DecodeError is why a frame was refused before it reached the call.
type DecodeError struct {
	Code, Message, ID string
}

// DecodeClient checks one text frame and decodes it. Errors carry the client's id when it
// could be read.
func DecodeClient(data []byte) (ClientMsg, *DecodeError) {
	if !utf8.Valid(data) {
		return ClientMsg{}, &DecodeError{Code: CodeBadUTF8, Message: "the message is not valid UTF-8"}
	}
	m, ok := decodePlain(data)
	if !ok {
		m = ClientMsg{}
		if err := json.Unmarshal(data, &m); err != nil {
			var idOnly struct {
				ID string `json:"id"`
			}
			_ = json.Unmarshal(data, &idOnly) // best effort, for the error's id
			return ClientMsg{}, &DecodeError{Code: CodeBadJSON, Message: "the message is not a JSON object of a known shape: " + JSONProblem(err), ID: validID(idOnly.ID)}
		}
	}
	if m.ID == "" || len(m.ID) > MaxClientIDBytes {
		return ClientMsg{}, &DecodeError{Code: CodeBadJSON, Message: "every message needs an \"id\" of 1 to 64 bytes"}
	}
	switch m.Type {
	case TypeAnswer, TypeHangup, TypeTyping, TypeHint:
	case TypeSay:
		if m.Text == nil {
			return m, &DecodeError{Code: CodeBadJSON, Message: "a say message needs a \"text\" string", ID: m.ID}
		}
		if len(*m.Text) > MaxTextBytes {
			return m, &DecodeError{Code: CodeTooLong, Message: "the text is over 4096 bytes", ID: m.ID}
		}
		if isBlank(*m.Text) {
			return m, &DecodeError{Code: CodeEmptyText, Message: "the text is empty", ID: m.ID}
		}
	case TypeWhisper:
		if m.Text == nil {
			return m, &DecodeError{Code: CodeBadJSON, Message: "a whisper message needs a \"text\" string", ID: m.ID}
		}
		if len(*m.Text) > MaxWhisperBytes {
			return m, &DecodeError{Code: CodeTooLong, Message: "the whisper is over 1000 bytes", ID: m.ID}
		}
		if isBlank(*m.Text) {
			return m, &DecodeError{Code: CodeEmptyText, Message: "the text is empty", ID: m.ID}
		}
	case TypeChoose:
		if m.Index == nil {
			return m, &DecodeError{Code: CodeBadJSON, Message: "a choose message needs an integer \"index\"", ID: m.ID}
		}
	default:
		return m, &DecodeError{Code: CodeUnknownType, Message: "unknown message type " + quote(m.Type) + ` (want "answer", "typing", "say", "choose", "hint", "hangup" or, from a supervisor, "whisper")`, ID: m.ID}
	}
	return m, nil
}

func validID(id string) string {
	if id == "" || len(id) > MaxClientIDBytes {
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
type Header struct {
	Seq  int64  `json:"seq"`
	Type string `json:"type"`
	At   int64  `json:"at"`
}

type RingMsg struct {
	Header
	Node string `json:"node"`
}

type LineStartMsg struct {
	Header
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

type WordMsg struct {
	Header
	Index int    `json:"index"`
	Text  string `json:"text"`
}

type LineEndMsg struct {
	Header
	Node string `json:"node"`
}

type CutMsg struct {
	Header
	Node   string `json:"node"`
	Spoken int    `json:"spoken"`
	Words  int    `json:"words"`
}

type TraineeMsg struct {
	Header
	ID     string   `json:"id"`
	Event  string   `json:"event"`
	Text   string   `json:"text,omitempty"`
	Choice *int     `json:"choice,omitempty"`
	Flags  []string `json:"flags"`
}

type Choice struct {
	Index int    `json:"index"`
	Text  string `json:"text"`
}

type ChoicesMsg struct {
	Header
	Node    string   `json:"node"`
	Choices []Choice `json:"choices"`
}

type MoodMsg struct {
	Header
	Mood float64 `json:"mood"`
}

// WhisperMsg is a supervisor's whisper, in the trainee's view and the supervisors'. ID is
// the supervisor's message id, in the supervisors' view only.
type WhisperMsg struct {
	Header
	Text string `json:"text"`
	ID   string `json:"id,omitempty"`
}

// ScoreMsg is a rule or transition changing scores (supervisors' view only).
type ScoreMsg struct {
	Header
	Rule   string             `json:"rule,omitempty"`
	Node   string             `json:"node,omitempty"`
	Deltas []engine.AxisDelta `json:"deltas"`
}

type FeedbackMsg struct {
	Header
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

type EndMsg struct {
	Header
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

type ErrorMsg struct {
	Header
	Code    string `json:"code"`
	Message string `json:"message"`
	ID      string `json:"id,omitempty"`
}

// ErrorFrame encodes a connection-local error message (seq 0).
func ErrorFrame(at int64, code, message, id string) []byte {
	return MustMarshal(ErrorMsg{Header: Header{Seq: ErrorSeq, Type: "error", At: at}, Code: code, Message: message, ID: id})
}

// MustMarshal encodes a value made only of strings and integers, which cannot fail.
func MustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(`{"type":"error","code":"internal"}`)
	}
	return b
}

// DebugMsg is sent after each step of a debug call: the state the step left and every
// guard it evaluated.
type DebugMsg struct {
	Header
	Node    string             `json:"node"`
	Vars    map[string]any     `json:"vars"`
	Mood    float64            `json:"mood"`
	Scores  map[string]float64 `json:"scores"`
	Entered []string           `json:"entered"`
	Trace   []TraceItem        `json:"trace"`
	Errors  []string           `json:"errors"`
	// Said is the trainee's message of this step, if any, and Understood what it was
	// understood as (each intent matched, with the words it was understood from).
	Said       string              `json:"said,omitempty"`
	Understood []engine.Understood `json:"understood,omitempty"`
}

type TraceItem struct {
	Node  string `json:"node"`
	Rule  string `json:"rule,omitempty"`
	When  string `json:"when"`
	To    string `json:"to,omitempty"`
	Holds bool   `json:"holds"`
}
