package main

import (
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/track"
	"github.com/switchboard-sim/switchboard/web/access"
	"github.com/switchboard-sim/switchboard/web/accounts"
	"github.com/switchboard-sim/switchboard/web/library"
)

// newAccounts makes the accounts handler: accounts are kept in the journal's database
// (SQLite, or PostgreSQL shared by every instance); the tracks are the library folder's tracks/, checked against its published scenarios and
// reloaded whenever the library changes.
func newAccounts(db store, lib *library.Library, secrets access.Secrets, anonymous bool, baseURL string, log *slog.Logger) *accounts.Handler {
	var st accounts.Store = db
	var tracks atomic.Pointer[[]*track.Track]
	load := func() {
		ts, diags := track.LoadAll(engine.OSFS{}, lib.Dir(), track.CatalogOf(lib.Published()))
		for _, d := range diags {
			if d.Severity == engine.SeverityError {
				log.Error("track has errors (run switchboard lint)", "diagnostic", d.String())
			}
		}
		tracks.Store(&ts)
	}
	load()
	lib.OnChange(load)
	if !anonymous {
		log.Info("anonymous practice is off: trainees sign in (--anonymous=false)")
	}
	return accounts.NewHandler(accounts.HandlerOptions{
		Service: accounts.NewService(st, accounts.Options{}),
		Journal: db, Secrets: []string{secrets.Designer, secrets.Supervisor}, Anonymous: anonymous,
		Secure: strings.HasPrefix(baseURL, "https://"), BaseURL: baseURL, Logger: log,
		Tracks: func() []*track.Track { return *tracks.Load() }, Scenarios: lib.Published,
	})
}
