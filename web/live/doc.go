// Package live is Switchboard's live call layer. A Floor holds the live calls: it starts
// them, recovers open ones from the journal after a restart, attaches websockets to them
// and lists them for the floor board.
//
// Each call is an actor without a goroutine of its own: whoever has something for it (a
// connection's reader with a client message, the floor's wake-up queue, a reconnect) hands
// it over with call.post, which handles it under the call's lock and then settles the
// call. It
// commits every accepted input to the journal before sending what the input caused, and it
// paces the customer's words at the persona's speed. A call has a hub of subscribers, each
// with its own projection of the call's record: the trainee (the coach-filtered view; the
// only connection that can act for the trainee; a newer one replaces it with close 4000),
// any number of supervisors (everything, never coach-filtered; they may only whisper), and
// for the studio's debug calls the designer's debug frames. Each websocket has one reader
// goroutine and at most one writer at a time (gorilla's chat pattern), which runs after the
// call's lock is released, with a bounded send queue, so a slow client is dropped instead
// of stalling its call.
//
// A Floor's methods are safe for concurrent use; a call's state is only touched under its
// lock, a conn's queue under its own. Options must not change after New. The package
// imports engine, web/protocol and web/access, never web/api.
package live
