// Package web is Switchboard's HTTP and websocket server and its embedded browser client.
//
// A Server offers the scenario library over a small JSON API (POST /api/calls starts a
// call) and runs each live call in one goroutine that owns its engine session: client
// messages, timers and reconnects reach that goroutine through a channel, it commits every
// accepted input to the journal before sending what the input caused, and it paces the
// customer's words at the persona's speed. Each websocket connection has one reader and
// one writer goroutine (gorilla's chat pattern) with a bounded send queue, so a slow client
// is dropped instead of stalling its call. The wire protocol is docs/protocol.md.
//
// A Server and its Handler are safe for concurrent use by many goroutines; Options must not
// change after New.
package web
