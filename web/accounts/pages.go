package accounts

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// pages serves the account pages under /account/: sign in, accept an invite, my track,
// and the supervisor's team page.
func pages() http.Handler {
	sub, _ := fs.Sub(static, "static")
	return http.StripPrefix("/account", http.FileServerFS(sub))
}
