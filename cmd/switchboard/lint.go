package main

import (
	"fmt"

	"github.com/switchboard-sim/switchboard/engine"
)

func cmdLint(env *cliEnv, args []string) int {
	fs := newFlags(env, "lint", "[PATH...]", "Check scenarios and their test files. Every problem is printed as\npath:line:col: message. PATH is a scenario file, a folder of scenarios, or the id\nof a shipped scenario; with no PATH the shipped library is checked.\nExit status: 0 clean (warnings allowed), 1 errors, 2 usage.")
	quiet := fs.Bool("q", false, "print only errors, not warnings or the summary")
	if code, ok := parseFlags(fs, env, args); !ok {
		return code
	}
	targets, err := resolveTargets(fs.Args())
	if err != nil {
		fmt.Fprintf(env.stderr, "switchboard lint: %v\n", err)
		return 2
	}
	var errs, warns int
	seen := map[engine.Diagnostic]bool{} // a pack's problem is reported once, not once per scenario
	for _, t := range targets {
		sc, diags := t.load()
		if sc != nil {
			if tp, ok := t.testPath(); ok {
				_, tdiags := engine.LoadTests(t.fsys, tp, sc)
				diags = append(diags, tdiags...)
			}
		}
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
	if !*quiet {
		fmt.Fprintf(env.stderr, "%d %s checked: %d %s, %d %s\n", len(targets), plural(len(targets), "scenario", "scenarios"),
			errs, plural(errs, "error", "errors"), warns, plural(warns, "warning", "warnings"))
	}
	if errs > 0 {
		return 1
	}
	return 0
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
