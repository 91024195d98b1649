// Package web will hold Switchboard's HTTP and websocket server and the embedded browser
// client. It is empty until the live-roleplay work lands.
package web
