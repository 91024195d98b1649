// Package engine is the pure core of Switchboard: the scenario language (loading, checking
// and compiling scenario YAML), and the session state machine that plays a compiled scenario.
//
// The engine is deterministic and has no side effects: it imports no network, storage or
// clock, and starts no goroutine. Time arrives inside each [Event] (milliseconds since the
// session started) and randomness comes from the session's seed, so replaying the same
// events on the same scenario yields the same outputs, byte for byte.
//
// Concurrency: a [*Scenario] is safe for concurrent use by any number of sessions. It is
// immutable once loaded, but for a memo of the replies typed to it lately (how each was
// read), whose slots are replaced atomically and which changes no result. A [*Session]
// is not safe for concurrent use: one goroutine owns it.
package engine
