package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/switchboard-sim/switchboard/engine"
)

// maxUnderstandLines bounds the replies read from standard input by understand.
const maxUnderstandLines = 10_000

// understood is one reply as understand reports it (--json).
type understood struct {
	Text    string               `json:"text"`
	Reading string               `json:"reading"`
	Typos   []string             `json:"typos,omitempty"`
	Node    string               `json:"node,omitempty"`
	Answer  *answerRead          `json:"answer,omitempty"`
	Intents []understoodIntent   `json:"intents"`
	Means   []string             `json:"means"`
	Watched []string             `json:"watched,omitempty"`
	all     []engine.IntentMatch // every intent, for the text output
}

type answerRead struct {
	Intent string `json:"intent"`
	Words  string `json:"words"`
}

type understoodIntent struct {
	engine.IntentMatch
	Watched bool     `json:"watched,omitempty"`
	Near    string   `json:"near,omitempty"`    // a phrase whose words are there with others between
	Between []string `json:"between,omitempty"` // those others
}

func cmdUnderstand(env *cliEnv, args []string) int {
	fs := newFlags(env, "understand", "SCENARIO [REPLY...]", `Show how a scenario reads trainee replies: the words the pipeline reads (contractions,
chat spellings and typos rewritten), then, for each intent the reply means or nearly
means, the phrase that matched and the words it matched, what a negation or an except:
phrase stopped, and a phrase whose words are there with others in the way. With --node,
also which intents that node's transitions watch (marked *) and what a bare yes or no
means there (yes_means, no_means). Replies are the arguments, or one per line on standard
input. --intents lists every intent with its phrases and where it is declared, the
shipped packs' included (a scenario's own intent of a pack's name replaces it).
SCENARIO is the id of a shipped scenario or a path to a scenario file.`)
	node := fs.String("node", "", "judge the replies at this node: mark the intents it watches, apply its yes_means/no_means")
	all := fs.Bool("all", false, "list every intent, not only those the reply means or nearly means")
	intents := fs.Bool("intents", false, "list the intents, their phrases and where each is declared, and exit")
	asJSON := fs.Bool("json", false, "print one JSON object per reply")
	if code, ok := parseFlags(fs, env, args); !ok {
		return code
	}
	if fs.NArg() < 1 {
		fmt.Fprintln(env.stderr, "switchboard understand: give a SCENARIO (an id or a path), then replies (or pipe them, one per line)")
		return 2
	}
	sc, code := loadOne(env, "understand", fs.Arg(0))
	if sc == nil {
		return code
	}
	var watched []string
	if *node != "" {
		w, _, ok := sc.Watched(*node)
		if !ok {
			ids := make([]string, len(sc.Nodes))
			for i, n := range sc.Nodes {
				ids[i] = n.ID
			}
			fmt.Fprintf(env.stderr, "switchboard understand: %s has no node %q%s\n", sc.ID, *node, engine.DidYouMean(*node, ids))
			return 2
		}
		watched = w
	}
	if *intents {
		printIntents(env, sc, watched)
		return 0
	}
	replies := fs.Args()[1:]
	if len(replies) == 0 {
		sc := bufio.NewScanner(env.stdin)
		sc.Buffer(make([]byte, 64<<10), engine.MaxMessageBytes+1)
		for sc.Scan() {
			if line := strings.TrimSpace(sc.Text()); line != "" {
				if len(replies) == maxUnderstandLines {
					fmt.Fprintf(env.stderr, "switchboard understand: more than %d replies on standard input; the rest are left out\n", maxUnderstandLines)
					break
				}
				replies = append(replies, line)
			}
		}
		if err := sc.Err(); err != nil {
			fmt.Fprintf(env.stderr, "switchboard understand: reading standard input: %v\n", err)
			return 1
		}
	}
	if len(replies) == 0 {
		fmt.Fprintln(env.stderr, "switchboard understand: no replies (give them as arguments, or one per line on standard input)")
		return 2
	}
	enc := json.NewEncoder(env.stdout)
	for i, text := range replies {
		u := understandOne(sc, text, *node, watched)
		if *asJSON {
			if err := enc.Encode(u); err != nil {
				fmt.Fprintf(env.stderr, "switchboard understand: %v\n", err)
				return 1
			}
			continue
		}
		if i > 0 {
			fmt.Fprintln(env.stdout)
		}
		printUnderstood(env, u, *all)
	}
	return 0
}

// understandOne explains text as the scenario reads it, at node when given.
func understandOne(sc *engine.Scenario, text, node string, watched []string) understood {
	words, typos := sc.Reading(text)
	u := understood{Text: text, Reading: strings.Join(words, " "), Typos: typos, Node: node, Watched: watched, Means: []string{}}
	if node != "" {
		if in, w := sc.AnswerAt(node, text); in != "" {
			u.Answer = &answerRead{Intent: in, Words: w}
		}
	}
	u.all = sc.Understand(text)
	for _, m := range u.all {
		ui := understoodIntent{IntentMatch: m, Watched: slices.Contains(watched, m.Intent)}
		if !m.Matched && len(m.Blocked) == 0 {
			if p, between, ok := sc.NearMiss(text, m.Intent); ok {
				ui.Near, ui.Between = p, between
			}
		}
		meant := m.Matched || u.Answer != nil && u.Answer.Intent == m.Intent
		if meant {
			u.Means = append(u.Means, m.Intent)
		}
		if meant || len(m.Blocked) > 0 || ui.Near != "" || ui.Watched {
			u.Intents = append(u.Intents, ui)
		}
	}
	return u
}

func printUnderstood(env *cliEnv, u understood, all bool) {
	w := env.stdout
	fmt.Fprintf(w, "> %s\n", u.Text)
	fmt.Fprintf(w, "  read as: %s\n", u.Reading)
	if len(u.Typos) > 0 {
		fmt.Fprintf(w, "  typos:   %s\n", strings.Join(u.Typos, ", "))
	}
	shown := map[string]bool{}
	for _, ui := range u.Intents {
		shown[ui.Intent] = true
		mark := " "
		if ui.Watched {
			mark = "*"
		}
		switch {
		case ui.Matched:
			var hits []string
			for _, h := range ui.Hits {
				hits = append(hits, fmt.Sprintf("%q matched phrase %q", h.Words, h.Phrase))
			}
			fmt.Fprintf(w, "%s yes  %-18s %s\n", mark, ui.Intent, strings.Join(hits, "; "))
		case u.Answer != nil && u.Answer.Intent == ui.Intent:
			fmt.Fprintf(w, "%s yes  %-18s %q answers the customer's question (%s's yes_means/no_means)\n", mark, ui.Intent, u.Answer.Words, u.Node)
		default:
			fmt.Fprintf(w, "%s no   %s\n", mark, ui.Intent)
		}
		for _, b := range ui.Blocked {
			fmt.Fprintf(w, "         not counted: %q matched phrase %q but %s\n", b.Words, b.Phrase, b.Reason)
		}
		if ui.Near != "" {
			fmt.Fprintf(w, "         nearly: %q stands between the words of %q\n", strings.Join(ui.Between, " "), ui.Near)
		}
	}
	if all {
		for _, m := range u.all {
			if !shown[m.Intent] {
				fmt.Fprintf(w, "  no   %s\n", m.Intent)
			}
		}
	}
	if len(u.Means) == 0 {
		fmt.Fprintf(w, "  means: nothing this scenario declares\n")
	} else {
		fmt.Fprintf(w, "  means: %s\n", strings.Join(u.Means, ", "))
	}
	if u.Node != "" {
		fmt.Fprintf(w, "  * watched at %s: %s\n", u.Node, orNone(u.Watched))
	}
}

func printIntents(env *cliEnv, sc *engine.Scenario, watched []string) {
	w := env.stdout
	for _, in := range sc.Intents {
		mark := " "
		if slices.Contains(watched, in.Name) {
			mark = "*"
		}
		fmt.Fprintf(w, "%s %s  (%s:%d)\n", mark, in.Name, in.Path, in.Line)
		fmt.Fprintf(w, "    phrases: %s\n", quoteAll(in.Phrases))
		if len(in.Except) > 0 {
			fmt.Fprintf(w, "    except:  %s\n", quoteAll(in.Except))
		}
	}
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

func orNone(ss []string) string {
	if len(ss) == 0 {
		return "none (only timers, or every transition is a catch-all)"
	}
	return strings.Join(ss, ", ")
}
