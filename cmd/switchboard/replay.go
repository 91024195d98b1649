package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/journal"
)

// replayDefaultLimit is how many recorded calls replay checks when --limit is not given.
const replayDefaultLimit = 500

func cmdReplay(env *cliEnv, args []string) int {
	fs := newFlags(env, "replay", "SCENARIO", "Before publishing an edit, replay the calls recorded for a scenario against the\nedited version and list every call that would now end differently or score\ndifferently (or whose inputs the new version refuses). Replay is exact: the same\ninputs on the same scenario give the same call, so every difference comes from the\nedit. SCENARIO is the edited file (or a shipped id); calls are matched by its id.\nExit status: 0 nothing changes, 1 some call changes, 2 usage or errors.")
	data := fs.String("data", defaultDataDir, "the data folder of switchboard serve [SWITCHBOARD_DATA]")
	database := fs.String("database", "", databaseFlagHelp)
	limit := fs.Int("limit", replayDefaultLimit, "replay at most this many of the newest recorded calls")
	all := fs.Bool("all", false, "also list the calls that do not change")
	if code, ok := parseFlags(fs, env, args); !ok {
		return code
	}
	if err := applyEnv(fs, env); err != nil {
		fmt.Fprintf(env.stderr, "switchboard replay: %v\n", err)
		return 2
	}
	if fs.NArg() != 1 || *limit < 1 {
		fmt.Fprintln(env.stderr, "switchboard replay: give one SCENARIO (a file or an id), and --limit of at least 1")
		return 2
	}
	sc, code := loadOne(env, "replay", fs.Arg(0))
	if sc == nil {
		return code
	}
	ctx := context.Background()
	j, err := openExistingJournal(ctx, *data, *database)
	if err != nil {
		fmt.Fprintf(env.stderr, "switchboard replay: %v\n", err)
		return 2
	}
	defer j.Close()
	sums, err := j.List(ctx, journal.Filter{ScenarioID: sc.ID, Limit: *limit})
	if err != nil {
		fmt.Fprintf(env.stderr, "switchboard replay: listing the calls of %s: %v\n", sc.ID, err)
		return 2
	}
	changed, same, broken := 0, 0, 0
	for _, sum := range sums {
		c, entries, _, err := j.Load(ctx, sum.ID)
		if err != nil {
			fmt.Fprintf(env.stderr, "switchboard replay: call %s: %v\n", sum.ID, err)
			broken++
			continue
		}
		recorded, diags := engine.LoadSources(c.Sources)
		if recorded == nil {
			fmt.Fprintf(env.stderr, "switchboard replay: call %s: its recorded scenario does not load: %v\n", c.ID, diags.Error())
			broken++
			continue
		}
		events := make([]engine.Event, len(entries))
		for i, e := range entries {
			events[i] = e.Event
		}
		before := engine.Replay(recorded, c.Seed, c.Trainee, c.Mode(), events)
		changes := before.Changes(engine.Replay(sc, c.Seed, c.Trainee, c.Mode(), events))
		if len(changes) == 0 {
			same++
			if *all {
				fmt.Fprintf(env.stdout, "%s  %-12s %s  unchanged\n", c.ID, orDash(c.Trainee), c.Created.Format("2006-01-02 15:04"))
			}
			continue
		}
		changed++
		fmt.Fprintf(env.stdout, "%s  %-12s %s  %s\n", c.ID, orDash(c.Trainee), c.Created.Format("2006-01-02 15:04"), strings.Join(changes, "; "))
	}
	fmt.Fprintf(env.stderr, "%d recorded %s of %s replayed: %d would change, %d unchanged", len(sums), plural(len(sums), "call", "calls"), sc.ID, changed, same)
	if broken > 0 {
		fmt.Fprintf(env.stderr, ", %d could not be read", broken)
	}
	fmt.Fprintln(env.stderr)
	switch {
	case broken > 0:
		return 2
	case changed > 0:
		return 1
	}
	return 0
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
