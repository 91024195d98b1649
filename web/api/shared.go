package api

import "github.com/switchboard-sim/switchboard/web/httpjson"

// The shared JSON helpers, under the names the studio has used since the split (the
// functions and values of web/httpjson itself, not copies).
var (
	// WriteError is httpjson.WriteError.
	WriteError = httpjson.WriteError
	// WriteJSON is httpjson.WriteJSON.
	WriteJSON = httpjson.WriteJSON
	// ReadBody is httpjson.ReadBody.
	ReadBody = httpjson.ReadBody
	// ReadJSONBody is httpjson.ReadJSONBody.
	ReadJSONBody = httpjson.ReadJSONBody
	// OwnOrigin is httpjson.OwnOrigin.
	OwnOrigin = httpjson.OwnOrigin
	// ErrBodyTooLarge is httpjson.ErrBodyTooLarge.
	ErrBodyTooLarge = httpjson.ErrBodyTooLarge
	// ErrBodyTimeout is httpjson.ErrBodyTimeout.
	ErrBodyTimeout = httpjson.ErrBodyTimeout
)

// BodyTimeout is httpjson.BodyTimeout.
const BodyTimeout = httpjson.BodyTimeout

// APIError is httpjson.APIError.
type APIError = httpjson.APIError
