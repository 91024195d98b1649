package protocol

import "net/http"

// The error codes of every Switchboard endpoint: the "code" of a websocket error message
// and of an HTTP error body ({"error": {"code", "message"}}), the trainee's API and the
// studio's alike. docs/protocol.md ("Error codes") lists them with their HTTP statuses;
// the same condition always has the same code. Codes renamed to make one vocabulary (the
// old name went out of use at that version, see docs/protocol.md): the studio's "storage"
// is CodeStorage, its "media_type" CodeMediaType, its "text_too_long" CodeTooLong, a body
// over its limit is CodeTooLarge everywhere (POST /api/calls and the accounts API said
// "too_long"), and the accounts API's "storage", "throttled" and "login_taken" are
// CodeStorage, CodeRateLimited and CodeExists.
const (
	// Malformed or refused input.
	CodeBadJSON          = "bad_json"               // 400 / websocket: not JSON of the expected shape
	CodeBadUTF8          = "bad_utf8"               // websocket: a frame that is not UTF-8 (then close 1007)
	CodeBadRequest       = "bad_request"            // 400: a parameter out of its range
	CodeUnknownType      = "unknown_type"           // websocket: an unknown message type
	CodeTooLong          = "too_long"               // 400 / websocket: a text over its limit
	CodeEmptyText        = "empty_text"             // 400 / websocket: a text that is empty or only spaces
	CodeBadPath          = "bad_path"               // 400: a studio file path that is not allowed
	CodeOutside          = "outside"                // 400: a studio file path outside the scenario folder
	CodeBadStart         = "bad_start"              // 400: a debug call's start node or vars are wrong
	CodeBadName          = "bad_name"               // 400: a recorded test's name is empty or too long
	CodeTooLarge         = "too_large"              // 413: a request body or file over its limit
	CodeMediaType        = "unsupported_media_type" // 415: not application/json
	CodeTimeout          = "timeout"                // 408: the body did not arrive in time
	CodeMethodNotAllowed = "method_not_allowed"     // 405 (the Allow header says which)

	// Who may do it.
	CodeUnauthorized   = "unauthorized"    // 401: a missing or wrong token, secret or session
	CodeBadCredentials = "bad_credentials" // 401: a login and password that do not match
	CodeForbidden      = "forbidden"       // 403: the role does not allow it
	CodeBadOrigin      = "bad_origin"      // 403: the Origin header is not allowed

	// What it is about.
	CodeNotFound        = "not_found"        // 404: no such endpoint, file, call or record
	CodeUnknownScenario = "unknown_scenario" // 404: no offered scenario has that id
	CodeUnknownCall     = "unknown_call"     // 404: no such (live) call
	CodeScenarioErrors  = "scenario_errors"  // 422: the scenario has errors (diagnostics attached)
	CodeNotRecordable   = "not_recordable"   // 404 / 422: a call that cannot become a test
	CodeInviteGone      = "invite_gone"      // 410: an invite that was used or has expired
	CodeStepLocked      = "step_locked"      // 403: a track step that is not unlocked yet

	// The state of things.
	CodeNotAllowed   = "not_allowed"    // websocket: the call refuses the message now
	CodeRateLimited  = "rate_limited"   // 429 / websocket: over the message or sign-in rate
	CodeConflict     = "conflict"       // 409: the file changed since it was loaded
	CodeExists       = "exists"         // 409: it exists already
	CodeCallOpen     = "call_open"      // 409: the call has not ended yet
	CodeTooManyNotes = "too_many_notes" // 409: the call has its maximum of notes

	// The server.
	CodeStorage      = "storage_failed" // 503 / 500 / websocket: the journal or a file could not be read or written
	CodeRecordFailed = "record_failed"  // 500: a call record could not be rebuilt
	CodeInternal     = "internal"       // 500: a bug or an unsupported environment
	CodeNotSupported = "not_supported"  // 501: this server's journal cannot do it
	CodeTooManyCalls = "too_many_calls" // 503: the live-call limit is reached
	CodeBusy         = "busy"           // 503: the journal is behind; a new call is refused for now
	CodeShutdown     = "shutting_down"  // 503: the server is stopping
	// CodeOwnedElsewhere: several instances share the journal and another live one runs
	// the call (its lease has not expired); reconnect in a moment.
	CodeOwnedElsewhere = "owned_elsewhere" // 503
)

// Statuses maps every HTTP error code to the statuses it is sent with (the first is the
// usual one); websocket-only codes have none. docs/protocol.md lists the same table.
var Statuses = map[string][]int{
	CodeBadJSON:          {http.StatusBadRequest},
	CodeBadUTF8:          nil,
	CodeBadRequest:       {http.StatusBadRequest},
	CodeUnknownType:      nil,
	CodeTooLong:          {http.StatusBadRequest},
	CodeEmptyText:        {http.StatusBadRequest},
	CodeBadPath:          {http.StatusBadRequest},
	CodeOutside:          {http.StatusBadRequest},
	CodeBadStart:         {http.StatusBadRequest},
	CodeBadName:          {http.StatusBadRequest},
	CodeTooLarge:         {http.StatusRequestEntityTooLarge},
	CodeMediaType:        {http.StatusUnsupportedMediaType},
	CodeTimeout:          {http.StatusRequestTimeout},
	CodeMethodNotAllowed: {http.StatusMethodNotAllowed},
	CodeUnauthorized:     {http.StatusUnauthorized},
	CodeBadCredentials:   {http.StatusUnauthorized},
	CodeInviteGone:       {http.StatusGone},
	CodeStepLocked:       {http.StatusForbidden},
	CodeForbidden:        {http.StatusForbidden},
	CodeBadOrigin:        {http.StatusForbidden},
	CodeNotFound:         {http.StatusNotFound},
	CodeUnknownScenario:  {http.StatusNotFound},
	CodeUnknownCall:      {http.StatusNotFound},
	CodeScenarioErrors:   {http.StatusUnprocessableEntity},
	CodeNotRecordable:    {http.StatusUnprocessableEntity, http.StatusNotFound},
	CodeNotAllowed:       nil,
	CodeRateLimited:      {http.StatusTooManyRequests},
	CodeConflict:         {http.StatusConflict},
	CodeExists:           {http.StatusConflict},
	CodeCallOpen:         {http.StatusConflict},
	CodeTooManyNotes:     {http.StatusConflict},
	CodeStorage:          {http.StatusServiceUnavailable, http.StatusInternalServerError},
	CodeRecordFailed:     {http.StatusInternalServerError},
	CodeInternal:         {http.StatusInternalServerError},
	CodeNotSupported:     {http.StatusNotImplemented},
	CodeTooManyCalls:     {http.StatusServiceUnavailable},
	CodeBusy:             {http.StatusServiceUnavailable},
	CodeShutdown:         {http.StatusServiceUnavailable},
	CodeOwnedElsewhere:   {http.StatusServiceUnavailable},
}
