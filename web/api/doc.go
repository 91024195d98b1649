// Package api is Switchboard's HTTP API: the Server with its routes (the scenario list,
// POST /api/calls, the call websockets, debriefs, xAPI, health and metrics, the browser
// client). Its answers, errors (with the codes of web/protocol), request bodies and origin
// check are web/httpjson's, which it also offers under its own names (WriteError, ReadBody,
// …) to the studio. The live calls themselves are held by the Server's live.Floor.
//
// A Server and its Handler are safe for concurrent use by many goroutines; Options must
// not change after New. The package imports web/live, web/httpjson, web/protocol,
// web/access and engine; nothing imports it but cmd and the studio.
package api
