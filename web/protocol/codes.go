package protocol

// Error codes sent in error messages and HTTP error bodies.
const (
	CodeBadJSON          = "bad_json"
	CodeUnknownType      = "unknown_type"
	CodeTooLong          = "too_long"
	CodeEmptyText        = "empty_text"
	CodeBadUTF8          = "bad_utf8"
	CodeRateLimited      = "rate_limited"
	CodeNotAllowed       = "not_allowed"
	CodeStorage          = "storage_failed"
	CodeBadOrigin        = "bad_origin"
	CodeUnauthorized     = "unauthorized"
	CodeUnknownCall      = "unknown_call"
	CodeUnknownScenario  = "unknown_scenario"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeMediaType        = "unsupported_media_type"
	CodeTooManyCalls     = "too_many_calls"
	CodeShutdown         = "shutting_down"
	CodeBadRequest       = "bad_request"
	CodeInternal         = "internal"
	CodeTimeout          = "timeout"
	CodeCallOpen         = "call_open"
	CodeRecordFailed     = "record_failed"
	// CodeOwnedElsewhere: several instances share the journal and another live one runs
	// the call (its lease has not expired); reconnect in a moment.
	CodeOwnedElsewhere = "owned_elsewhere"
)
