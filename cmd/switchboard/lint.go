package main

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/track"
	"github.com/switchboard-sim/switchboard/scenarios"
)

func cmdLint(env *cliEnv, args []string) int {
	fs := newFlags(env, "lint", "[PATH...]", "Check scenarios, their test files and training tracks. Every problem is printed as\npath:line:col: message. PATH is a scenario file, a track file (in a folder named\ntracks), a folder of scenarios (its tracks/ folder is checked too), or the id of a\nshipped scenario; with no PATH the shipped library and its tracks are checked.\nWhen a scenario has a test file, its tests are run: each test that fails and each ending\nnone reaches is a warning (switchboard test shows why a test fails).\nExit status: 0 clean (warnings allowed), 1 errors, 2 usage.")
	quiet := fs.Bool("q", false, "print only errors, not warnings or the summary")
	if code, ok := parseFlags(fs, env, args); !ok {
		return code
	}
	scenarioArgs, tracks, err := trackTargets(fs.Args())
	if err != nil {
		fmt.Fprintf(env.stderr, "switchboard lint: %v\n", err)
		return 2
	}
	var targets []target
	if len(fs.Args()) == 0 || len(scenarioArgs) > 0 {
		if targets, err = resolveTargets(scenarioArgs); err != nil {
			fmt.Fprintf(env.stderr, "switchboard lint: %v\n", err)
			return 2
		}
	}
	var errs, warns int
	seen := map[engine.Diagnostic]bool{} // a pack's problem is reported once, not once per scenario
	report := func(diags engine.Diagnostics) {
		for _, d := range diags {
			if seen[d] {
				continue
			}
			seen[d] = true
			if d.Severity == engine.SeverityWarning {
				warns++
				if *quiet {
					continue
				}
			} else {
				errs++
			}
			fmt.Fprintln(env.stdout, d.String())
		}
	}
	cat := track.Catalog{}
	for _, t := range targets {
		sc, diags := t.load()
		catalogAdd(cat, t.path, sc)
		if sc != nil {
			if tp, ok := t.testPath(); ok {
				cases, tdiags := engine.LoadTests(t.fsys, tp, sc)
				diags = append(diags, tdiags...)
				if !diags.HasErrors() {
					// Warn at each ending no test reaches (the tests run as in switchboard test).
					deadline := time.Now().Add(defaultTestTimeout)
					diags = append(diags, engine.CheckTests(sc, cases, tp, func() bool { return time.Now().After(deadline) })...)
				}
			}
		}
		report(diags)
	}
	firstTrack := map[string]string{} // folder and id -> the first track file with that id
	for _, tt := range tracks {
		c := cat
		if len(targets) == 0 {
			// Only track files were named: their scenarios are the ones in the folder
			// above tracks/, or the shipped library when it has none.
			c = folderCatalog(tt)
		}
		t, diags := track.Load(tt.fsys, tt.path, c)
		if t != nil {
			// Two tracks of one folder with the same id: the server refuses the second.
			key := path.Dir(tt.path) + "\x00" + t.ID
			if prev, ok := firstTrack[key]; ok {
				diags = append(diags, t.DuplicateOf(tt.fsys, prev))
			} else {
				firstTrack[key] = tt.path
			}
		}
		report(diags)
	}
	if !*quiet {
		var parts []string
		if len(targets) > 0 || len(tracks) == 0 {
			parts = append(parts, fmt.Sprintf("%d %s", len(targets), plural(len(targets), "scenario", "scenarios")))
		}
		if len(tracks) > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", len(tracks), plural(len(tracks), "track", "tracks")))
		}
		summary := strings.Join(parts, " and ")
		fmt.Fprintf(env.stderr, "%s checked: %d %s, %d %s\n", summary,
			errs, plural(errs, "error", "errors"), warns, plural(warns, "warning", "warnings"))
	}
	if errs > 0 {
		return 1
	}
	return 0
}

// catalogAdd adds a scenario to a track catalogue. A scenario with errors is added by
// its file name, so a track naming it reports nothing more than the scenario does.
func catalogAdd(cat track.Catalog, p string, sc *engine.Scenario) {
	if sc != nil {
		one := track.CatalogOf([]*engine.Scenario{sc})
		for id, s := range one {
			cat[id] = s
		}
		return
	}
	id := strings.TrimSuffix(strings.TrimSuffix(path.Base(p), ".yaml"), ".yml")
	if _, ok := cat[id]; !ok {
		cat[id] = track.Scenario{ID: id, Title: id, Pass: 1}
	}
}

// trackTargets splits the command line: track files are returned as targets, with the
// tracks of each folder named and, with no arguments, the shipped tracks; the other
// arguments are left for resolveTargets.
func trackTargets(args []string) (rest []string, tracks []target, err error) {
	if len(args) == 0 {
		paths, err := track.Find(scenarios.FS, scenarios.Root)
		if err != nil {
			return nil, nil, fmt.Errorf("reading the shipped tracks: %w", err)
		}
		for _, p := range paths {
			tracks = append(tracks, target{scenarios.FS, p})
		}
		return nil, tracks, nil
	}
	for _, a := range args {
		info, statErr := os.Stat(a)
		p := filepath.ToSlash(filepath.Clean(a))
		switch {
		case statErr == nil && info.IsDir():
			paths, err := track.Find(engine.OSFS{}, p)
			if err != nil {
				return nil, nil, err
			}
			for _, tp := range paths {
				tracks = append(tracks, target{engine.OSFS{}, tp})
			}
			rest = append(rest, a)
		case statErr == nil && track.IsTrackFile(p):
			tracks = append(tracks, target{engine.OSFS{}, p})
		default:
			rest = append(rest, a)
		}
	}
	return rest, tracks, nil
}

// folderCatalog is the catalogue a lone track file is checked against: the scenarios
// in the folder above its tracks folder, or the shipped library.
func folderCatalog(t target) track.Catalog {
	cat := track.Catalog{}
	root := path.Dir(path.Dir(t.path))
	var fsys fs.FS = t.fsys
	paths, err := engine.FindScenarios(fsys, root)
	if err != nil || len(paths) == 0 {
		fsys, root = scenarios.FS, scenarios.Root
		paths, _ = engine.FindScenarios(fsys, root)
	}
	for _, p := range paths {
		sc, _ := engine.LoadWith(fsys, p, engine.LoadOptions{Packs: scenarios.Packs})
		catalogAdd(cat, p, sc)
	}
	return cat
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
