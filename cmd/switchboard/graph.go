package main

import (
	"fmt"
)

func cmdGraph(env *cliEnv, args []string) int {
	fs := newFlags(env, "graph", "SCENARIO", "Print a scenario's graph with the guards on its edges: Graphviz dot\n(render with: switchboard graph ID | dot -Tsvg > graph.svg) or Mermaid.\nSCENARIO is the id of a shipped scenario or a path to a scenario file.")
	format := fs.String("format", "dot", "output format: dot or mermaid")
	if code, ok := parseFlags(fs, env, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(env.stderr, "switchboard graph: give one SCENARIO (an id or a path)")
		return 2
	}
	if *format != "dot" && *format != "mermaid" {
		fmt.Fprintf(env.stderr, "switchboard graph: unknown --format %q (dot or mermaid)\n", *format)
		return 2
	}
	sc, code := loadOne(env, "graph", fs.Arg(0))
	if sc == nil {
		return code
	}
	if *format == "mermaid" {
		fmt.Fprint(env.stdout, sc.Mermaid())
	} else {
		fmt.Fprint(env.stdout, sc.Dot())
	}
	return 0
}
