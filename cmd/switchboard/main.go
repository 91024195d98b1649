// Command switchboard is Switchboard's one binary: the live server and the designers' tools.
//
//	switchboard serve               serve the browser client and live calls
//	switchboard lint [PATH...]      check scenarios (default: the shipped library)
//	switchboard test [PATH...]      run scenario tests
//	switchboard play SCENARIO       roleplay a call in the terminal, on the real clock
//	switchboard graph SCENARIO      print the scenario graph as Graphviz dot or Mermaid
//	switchboard understand SCENARIO REPLY...  show how the scenario reads replies
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(env *cliEnv, args []string) int
}

// cliEnv is what a command may touch; tests replace it.
type cliEnv struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

var commands []command

func init() {
	commands = []command{
		{"serve", "serve the browser client and live calls (http://127.0.0.1:8080/)", cmdServe},
		{"lint", "check scenarios and their tests; exit 1 on errors", cmdLint},
		{"test", "run scenario tests on a simulated clock; exit 1 on a failure", cmdTest},
		{"play", "roleplay a call in the terminal, on the real clock", cmdPlay},
		{"graph", "print a scenario's graph as Graphviz dot or Mermaid", cmdGraph},
		{"understand", "show how a scenario reads replies: words, intents, why (--intents lists them)", cmdUnderstand},
		{"report", "print the debrief of a recorded call (--json for the record)", cmdReport},
		{"replay", "replay recorded calls against an edited scenario: which would change", cmdReplay},
		{"export", "print the xAPI statements of finished calls (export xapi)", cmdExport},
		{"loadgen", "load-test a server with simulated trainees, beside a websocket echo baseline", cmdLoadgen},
	}
}

func main() {
	os.Exit(run(&cliEnv{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:]))
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "Switchboard: a call-center roleplay simulator.\n\nUsage: switchboard COMMAND [flags] [args]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'switchboard COMMAND --help' for a command's flags.\n")
}

func run(env *cliEnv, args []string) int {
	if len(args) == 0 {
		usage(env.stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "-h", "--help", "help":
		usage(env.stdout)
		return 0
	}
	for _, c := range commands {
		if c.name == name {
			return c.run(env, args[1:])
		}
	}
	var names []string
	for _, c := range commands {
		names = append(names, c.name)
	}
	fmt.Fprintf(env.stderr, "switchboard: unknown command %q%s\n\n", name, suggest(name, names))
	usage(env.stderr)
	return 2
}

func suggest(name string, names []string) string {
	for _, n := range names {
		if strings.HasPrefix(n, name) || strings.HasPrefix(name, n) {
			return fmt.Sprintf(" (did you mean %q?)", n)
		}
	}
	return ""
}

// newFlags makes a flag set whose --help prints the command's usage to stdout.
func newFlags(env *cliEnv, name, argsUsage, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: %s\n\n%s\n", strings.TrimSpace("switchboard "+name+" [flags] "+argsUsage), about)
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintf(w, "\nFlags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses flags anywhere among the arguments ("graph ID --format dot" works as
// well as "graph --format dot ID"); "--" ends the flags. It returns (exit code, false) when
// the command should stop.
func parseFlags(fs *flag.FlagSet, env *cliEnv, args []string) (int, bool) {
	var positional []string
	// The flag package prints the usage itself on --help and on a bad flag (after the
	// error); we print it once, to stdout for --help and to stderr for an error.
	usage := fs.Usage
	fs.Usage = func() {}
	defer func() { fs.Usage = usage }()
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(env.stdout)
				usage()
				return 0, false
			}
			usage()
			return 2, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	// Re-parse with only the positional arguments left, so fs.Args() returns them.
	_ = fs.Parse(append([]string{"--"}, positional...))
	return 0, true
}
