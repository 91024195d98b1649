package main

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/scenarios"
)

// target is one scenario file in a file system.
type target struct {
	fsys fs.FS
	path string
}

func (t target) load() (*engine.Scenario, engine.Diagnostics) {
	return engine.LoadWith(t.fsys, t.path, engine.LoadOptions{Packs: scenarios.Packs})
}

// testPath returns the scenario's test file, if there is one.
func (t target) testPath() (string, bool) {
	p := engine.TestPath(t.path)
	_, err := fs.Stat(t.fsys, p)
	return p, err == nil
}

// libraryTargets lists the shipped scenarios.
func libraryTargets() ([]target, error) {
	paths, err := engine.FindScenarios(scenarios.FS, scenarios.Root)
	if err != nil {
		return nil, fmt.Errorf("reading the shipped library: %w", err)
	}
	ts := make([]target, len(paths))
	for i, p := range paths {
		ts[i] = target{scenarios.FS, p}
	}
	return ts, nil
}

// resolveTargets turns command-line paths into scenario files: a folder means every
// scenario in it, a test file means its scenario, and a name that is not a file may be
// the id of a shipped scenario. No arguments means the shipped library.
func resolveTargets(args []string) ([]target, error) {
	if len(args) == 0 {
		return libraryTargets()
	}
	var out []target
	for _, a := range args {
		info, err := os.Stat(a)
		switch {
		case err == nil && info.IsDir():
			paths, err := engine.FindScenarios(engine.OSFS{}, filepath.ToSlash(filepath.Clean(a)))
			if err != nil {
				return nil, fmt.Errorf("reading %s: %w", a, err)
			}
			if len(paths) == 0 {
				return nil, fmt.Errorf("%s: no scenario files (*.yaml) found", a)
			}
			for _, p := range paths {
				out = append(out, target{engine.OSFS{}, p})
			}
		case err == nil:
			p := filepath.ToSlash(a)
			if base, ok := strings.CutSuffix(p, ".test.yaml"); ok {
				p = base + ".yaml"
			}
			out = append(out, target{engine.OSFS{}, p})
		default:
			t, lerr := libraryTarget(a)
			if lerr != nil {
				return nil, fmt.Errorf("%s: no such file, and %w", a, lerr)
			}
			out = append(out, t)
		}
	}
	return out, nil
}

// resolveScenario resolves one SCENARIO argument: a path, or the id of a shipped scenario.
func resolveScenario(arg string) (target, error) {
	if info, err := os.Stat(arg); err == nil && !info.IsDir() {
		return target{engine.OSFS{}, filepath.ToSlash(arg)}, nil
	}
	return libraryTarget(arg)
}

func libraryTarget(id string) (target, error) {
	ts, err := libraryTargets()
	if err != nil {
		return target{}, err
	}
	var ids []string
	for _, t := range ts {
		tid := strings.TrimSuffix(path.Base(t.path), ".yaml")
		if tid == id {
			return t, nil
		}
		ids = append(ids, tid)
	}
	hint := ""
	for _, tid := range ids {
		if strings.Contains(tid, id) || strings.Contains(id, tid) {
			hint = fmt.Sprintf(" (did you mean %q?)", tid)
			break
		}
	}
	return target{}, fmt.Errorf("no shipped scenario has the id %q%s; shipped: %s", id, hint, strings.Join(ids, ", "))
}

// loadOne resolves and loads one SCENARIO argument, printing problems. On failure it
// returns a nil scenario and the exit code.
func loadOne(env *cliEnv, cmd, arg string) (*engine.Scenario, int) {
	t, err := resolveScenario(arg)
	if err != nil {
		fmt.Fprintf(env.stderr, "switchboard %s: %v\n", cmd, err)
		return nil, 2
	}
	sc, diags := t.load()
	if sc == nil {
		for _, d := range diags {
			fmt.Fprintln(env.stderr, d.String())
		}
		fmt.Fprintf(env.stderr, "switchboard %s: %s has errors; fix them first (switchboard lint %s)\n", cmd, t.path, arg)
		return nil, 1
	}
	return sc, 0
}
