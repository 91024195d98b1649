// Package httpjson holds what every JSON endpoint of Switchboard shares, written once:
// answers and errors (WriteJSON, WriteError with the codes of web/protocol, in the body
// {"error": {"code", "message"}}), bounded request bodies (ReadBody, ReadJSONBody: size,
// media type and arrival time) and the origin check (OwnOrigin). The trainee's API
// (web/api), the studio and the accounts API all use it.
//
// It has no state: everything in it is safe for concurrent use. It imports only
// web/protocol.
package httpjson
