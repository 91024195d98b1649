// Package access decides who may do what: call tokens (the only key to a trainee's call,
// kept hashed), the roles a secret grants (designer, supervisor), the secrets themselves,
// signed-in browser sessions and the sign-in throttle.
//
// Secrets is a value; Sessions and Throttle are safe for concurrent use. The package
// imports nothing of Switchboard, so the studio, the API and the live layer all use it.
package access
