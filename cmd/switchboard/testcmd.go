package main

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/switchboard-sim/switchboard/engine"
)

// defaultTestTimeout bounds the tests of one scenario in switchboard test.
const defaultTestTimeout = time.Minute

func cmdTest(env *cliEnv, args []string) int {
	fs := newFlags(env, "test", "[PATH...]", "Run the tests in NAME.test.yaml beside each scenario, on a simulated clock.\nA failure prints the transcript with timestamps and the rules that fired.\nPATH is as for lint; with no PATH the shipped library is tested.\nExit status: 0 all passed, 1 a failure or an invalid scenario, 2 usage.")
	verbose := fs.Bool("v", false, "print every test and the transcript of passing tests too")
	runPat := fs.String("run", "", "run only tests whose name matches this regular expression")
	timeout := fs.Duration("timeout", defaultTestTimeout, "stop the tests of one scenario after this long (they fail as stopped)")
	coverage := fs.Bool("coverage", false, "after each scenario's tests, report the nodes, edges, rules and endings they exercised, and list what none did")
	if code, ok := parseFlags(fs, env, args); !ok {
		return code
	}
	var filter *regexp.Regexp
	if *runPat != "" {
		var err error
		if filter, err = regexp.Compile(*runPat); err != nil {
			fmt.Fprintf(env.stderr, "switchboard test: -run: %v\n", err)
			return 2
		}
	}
	targets, err := resolveTargets(fs.Args())
	if err != nil {
		fmt.Fprintf(env.stderr, "switchboard test: %v\n", err)
		return 2
	}
	passed, failed, broken := 0, 0, 0
	for _, t := range targets {
		sc, diags := t.load()
		if sc == nil {
			fmt.Fprintf(env.stdout, "FAIL %s: the scenario does not load\n", t.path)
			for _, d := range diags.Errors() {
				fmt.Fprintf(env.stdout, "    %s\n", d)
			}
			broken++
			continue
		}
		tp, ok := t.testPath()
		if !ok {
			fmt.Fprintf(env.stdout, "?    %-20s no tests (%s)\n", sc.ID, tp)
			continue
		}
		cases, tdiags := engine.LoadTests(t.fsys, tp, sc)
		if tdiags.HasErrors() {
			fmt.Fprintf(env.stdout, "FAIL %s: the test file has errors\n", tp)
			for _, d := range tdiags.Errors() {
				fmt.Fprintf(env.stdout, "    %s\n", d)
			}
			broken++
			continue
		}
		scPass, scFail := 0, 0
		cov := engine.NewCoverage(sc)
		deadline := time.Now().Add(*timeout)
		stop := func() bool { return time.Now().After(deadline) }
		for _, c := range cases {
			if filter != nil && !filter.MatchString(c.Name) {
				continue
			}
			res := engine.RunTestUntil(sc, c, *coverage, stop)
			cov.Add(res.Transcript)
			if *coverage {
				res.Transcript = untraced(res.Transcript)
			}
			if res.Passed() {
				scPass++
				if *verbose {
					fmt.Fprintf(env.stdout, "  ok   %s: %s\n", sc.ID, c.Name)
					fmt.Fprint(env.stdout, indent(engine.FormatTranscript(res.Transcript), "         "))
				}
				continue
			}
			scFail++
			fmt.Fprintf(env.stdout, "--- FAIL %s: %s (%s:%d)\n", sc.ID, c.Name, tp, c.Line)
			for _, f := range res.Failures {
				fmt.Fprintf(env.stdout, "    %s\n", f)
			}
			fmt.Fprintf(env.stdout, "    transcript:\n%s", indent(engine.FormatTranscript(res.Transcript), "      "))
			fmt.Fprintf(env.stdout, "    rules fired: [%s]\n", strings.Join(engine.FiredRules(res.Transcript), ", "))
		}
		status := "ok  "
		if scFail > 0 {
			status = "FAIL"
		}
		fmt.Fprintf(env.stdout, "%s %-20s %d passed, %d failed\n", status, sc.ID, scPass, scFail)
		if *coverage {
			fmt.Fprint(env.stdout, cov.Report())
		}
		passed += scPass
		failed += scFail
	}
	fmt.Fprintf(env.stderr, "tests: %d passed, %d failed", passed, failed)
	if broken > 0 {
		fmt.Fprintf(env.stderr, ", %d %s could not run", broken, plural(broken, "file", "files"))
	}
	fmt.Fprintln(env.stderr)
	if failed > 0 || broken > 0 {
		return 1
	}
	return 0
}

// untraced drops the trace and enter outputs a coverage run adds, so transcripts print
// as in a plain run.
func untraced(outs []engine.Output) []engine.Output {
	var kept []engine.Output
	for _, o := range outs {
		if o.Type != engine.OutTrace && o.Type != engine.OutEnter {
			kept = append(kept, o)
		}
	}
	return kept
}

func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString(prefix + l)
		}
	}
	return b.String()
}
