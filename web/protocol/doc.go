// Package protocol is Switchboard's wire protocol (docs/protocol.md): the messages a
// client sends on a call's websocket and how they are checked and decoded, the messages the
// server sends and how they are encoded (the frequent ones by hand, byte-identical in
// meaning to encoding/json), the protocol's limits, and the error codes that every
// endpoint — websocket frames and HTTP error bodies, trainee API and studio — uses.
//
// It holds only types, constants and pure functions: everything in it is safe for
// concurrent use. It imports nothing of Switchboard but engine.
package protocol
