package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/switchboard-sim/switchboard/engine/debrief"
	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/engine/xapi"
)

// openExistingJournal opens the journal for reading records: PostgreSQL when database is
// a URL, else the SQLite journal in dir, which unlike serve it does not create.
func openExistingJournal(ctx context.Context, dir, database string) (store, error) {
	if database != "" {
		db, _, err := openStore(ctx, database, dir)
		return db, err
	}
	path := filepath.Join(dir, journalFile)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no call journal at %s (give the folder switchboard serve used with --data, or its --database)", path)
	}
	db, err := openJournal(ctx, dir)
	if err != nil {
		return nil, err
	}
	return db, nil
}

// databaseFlagHelp is the help of the --database flag of the commands that read records.
const databaseFlagHelp = "read the calls from PostgreSQL, as switchboard serve --database (default: SQLite in\nDATA/" + journalFile + ") [SWITCHBOARD_DATABASE]"

// loadRecord finds a call by id (or a unique prefix of it) and builds its debrief.
func loadRecord(ctx context.Context, j journal.Journal, id string) (*debrief.Record, error) {
	c, entries, res, err := j.Load(ctx, id)
	if errors.Is(err, journal.ErrNotFound) && len(id) >= 4 {
		sums, lerr := j.List(ctx, journal.Filter{Limit: 10_000})
		if lerr != nil {
			return nil, lerr
		}
		var match []string
		for _, s := range sums {
			if strings.HasPrefix(s.ID, id) {
				match = append(match, s.ID)
			}
		}
		switch len(match) {
		case 1:
			c, entries, res, err = j.Load(ctx, match[0])
		case 0:
		default:
			return nil, fmt.Errorf("%q matches %d calls: %s", id, len(match), strings.Join(match, ", "))
		}
	}
	if errors.Is(err, journal.ErrNotFound) {
		return nil, fmt.Errorf("no call %q in the journal", id)
	}
	if err != nil {
		return nil, err
	}
	rec, err := debrief.Build(c, entries, res)
	if err != nil {
		return nil, err
	}
	notes, err := journal.NotesOf(ctx, j, c.ID)
	if err != nil {
		return nil, fmt.Errorf("reading the notes of call %s: %w", c.ID, err)
	}
	rec.Notes = append(rec.Notes, notes...)
	return rec, nil
}

func cmdReport(env *cliEnv, args []string) int {
	fs := newFlags(env, "report", "CALL", "Print the debrief of a recorded call: transcript with timestamps (cut-off lines\nmarked), the rules that fired and when, scores, and the rules that never fired.\nCALL is a call id (or its first characters); `switchboard report --list` lists calls.")
	data := fs.String("data", defaultDataDir, "the data folder of switchboard serve [SWITCHBOARD_DATA]")
	database := fs.String("database", "", databaseFlagHelp)
	asJSON := fs.Bool("json", false, "print the record as JSON instead")
	list := fs.Bool("list", false, "list the recorded calls, newest first")
	if code, ok := parseFlags(fs, env, args); !ok {
		return code
	}
	if err := applyEnv(fs, env); err != nil {
		fmt.Fprintf(env.stderr, "switchboard report: %v\n", err)
		return 2
	}
	if !*list && fs.NArg() != 1 {
		fmt.Fprintln(env.stderr, "switchboard report: give one CALL id (or --list)")
		return 2
	}
	ctx := context.Background()
	db, err := openExistingJournal(ctx, *data, *database)
	if err != nil {
		fmt.Fprintf(env.stderr, "switchboard report: %v\n", err)
		return 1
	}
	defer db.Close()
	if *list {
		sums, err := db.List(ctx, journal.Filter{Limit: 1000})
		if err != nil {
			fmt.Fprintf(env.stderr, "switchboard report: %v\n", err)
			return 1
		}
		for _, s := range sums {
			state := "open"
			if s.Result != nil {
				verdict := "not passed"
				if s.Result.End.Passed {
					verdict = "passed"
				}
				state = fmt.Sprintf("%s, %d%%, %s", s.Result.End.Outcome, int(s.Result.End.Overall*100+0.5), verdict)
			}
			fmt.Fprintf(env.stdout, "%s  %s  %-16s  %-20s  %s\n", s.ID, s.Created.UTC().Format("2006-01-02 15:04"), s.ScenarioID, orDefault(s.Trainee, "-"), state)
		}
		return 0
	}
	rec, err := loadRecord(ctx, db, fs.Arg(0))
	if err != nil {
		fmt.Fprintf(env.stderr, "switchboard report: %v\n", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rec)
	} else {
		err = rec.WriteText(env.stdout)
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "switchboard report: %v\n", err)
		return 1
	}
	return 0
}

func cmdExport(env *cliEnv, args []string) int {
	fs := newFlags(env, "export", "xapi [CALL...]", "Print the xAPI statements of finished calls as a JSON array: every finished call,\nor the CALLs given. Import them into a learning record store, or configure\nswitchboard serve --lrs-endpoint to send them as calls end.")
	data := fs.String("data", defaultDataDir, "the data folder of switchboard serve [SWITCHBOARD_DATA]")
	database := fs.String("database", "", databaseFlagHelp)
	baseURL := fs.String("base-url", "", "the server's public URL for activity ids and accounts (default "+xapi.DefaultHomePage+") [SWITCHBOARD_BASE_URL]")
	if code, ok := parseFlags(fs, env, args); !ok {
		return code
	}
	if err := applyEnv(fs, env); err != nil {
		fmt.Fprintf(env.stderr, "switchboard export: %v\n", err)
		return 2
	}
	if fs.NArg() < 1 || fs.Arg(0) != "xapi" {
		fmt.Fprintln(env.stderr, "switchboard export: the only format is xapi: switchboard export xapi [CALL...]")
		return 2
	}
	ctx := context.Background()
	db, err := openExistingJournal(ctx, *data, *database)
	if err != nil {
		fmt.Fprintf(env.stderr, "switchboard export: %v\n", err)
		return 1
	}
	defer db.Close()
	ids := fs.Args()[1:]
	if len(ids) == 0 {
		finished := false
		sums, err := db.List(ctx, journal.Filter{Open: &finished, Limit: 1_000_000})
		if err != nil {
			fmt.Fprintf(env.stderr, "switchboard export: %v\n", err)
			return 1
		}
		for i := len(sums) - 1; i >= 0; i-- { // oldest first
			ids = append(ids, sums[i].ID)
		}
	}
	all := []xapi.Statement{}
	code := 0
	for _, id := range ids {
		rec, err := loadRecord(ctx, db, id)
		if err == nil {
			var sts []xapi.Statement
			if sts, err = xapi.Statements(rec, *baseURL); err == nil {
				all = append(all, sts...)
				continue
			}
		}
		fmt.Fprintf(env.stderr, "switchboard export: call %s: %v\n", id, err)
		code = 1
	}
	enc := json.NewEncoder(env.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(all); err != nil {
		fmt.Fprintf(env.stderr, "switchboard export: %v\n", err)
		return 1
	}
	return code
}
