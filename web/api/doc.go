// Package api is Switchboard's HTTP API: the Server with its routes (the scenario list,
// POST /api/calls, the call websockets, debriefs, xAPI, health and metrics, the browser
// client), and the helpers every endpoint of the binary shares — the studio's too: JSON
// answers and errors (WriteJSON, WriteError with the codes of web/protocol), bounded
// request bodies (ReadBody) and the origin check. The live calls themselves are held by
// the Server's live.Floor.
//
// A Server and its Handler are safe for concurrent use by many goroutines; Options must
// not change after New. The package imports web/live, web/protocol, web/access and
// engine; nothing imports it but cmd and the studio.
package api
