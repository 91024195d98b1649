// Package web is Switchboard's browser client: the trainee's pages and the floor board's,
// embedded in the binary (static/), served with strict security headers.
//
// The server around it is split by concern, with imports pointing one way, toward
// engine:
//
//   - web/api: the trainee's HTTP API (server, routes, handlers);
//   - web/httpjson: what every JSON endpoint shares (errors, bodies, the origin check);
//   - web/live: the live calls, each an actor with its subscribers;
//   - web/protocol: the wire protocol (messages, encoding, error codes);
//   - web/access: call tokens, roles, secrets and sign-in sessions;
//   - web/storage/sqlitejournal: the journal on disk;
//   - web/studio, web/library: the designers' studio and the scenario folder.
//
// Everything in this package is safe for concurrent use.
package web
