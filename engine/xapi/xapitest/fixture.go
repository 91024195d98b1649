package xapitest

import (
	"time"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/journal"
)

// FixtureScenario is a small scenario for tests of records: 300 words a minute, a rule for
// interrupting and one for apologising, and a refund ending.
const FixtureScenario = `id: refund
title: Refund call
brief: A customer wants a refund.
lesson: Let the customer finish, then apologise.
persona: {name: Pat, wpm: 300}
intents:
  apology: ["sorry"]
  refund: ["refund"]
scores:
  care: {max: 2}
pass: 0.5
start: ring
rules:
  - id: interrupting
    when: interrupted
    feedback: You spoke over {name}.
  - id: apology
    when: said("apology")
    score: {care: 1}
    feedback: Good apology.
  - id: slow_answer
    when: event == "answer" && ringing > 5
    feedback: The phone rang for a long time.
nodes:
  ring:
    ring: true
    transitions:
      - {when: 'event == "answer"', to: greet}
  greet:
    say: Hello, my kettle broke after one day and I want my money back.
    model: I'm sorry it broke so soon. I'll refund you right away.
    transitions:
      - {when: 'said("refund")', to: done, score: {care: 1}}
      - {when: 'event == "say"', to: again}
  again:
    say: [{text: "So what will you do?", emotion: annoyed}]
    transitions:
      - {when: 'said("refund")', to: done, score: {care: 1}}
      - {when: 'event == "say"', to: again}
  done:
    say: Thank you.
    end: {title: Done, outcome: resolved, text: "{name} got a refund."}
`

// FixtureCall is a finished call of FixtureScenario: answered after 1.2 s, the customer
// interrupted after two words, then an apology with a refund. It started at Created.
func FixtureCall(id string, created time.Time) (journal.Call, []journal.Entry, *journal.Result) {
	c := journal.Call{ID: id, ScenarioID: "refund", Title: "Refund call", Hash: "fixture",
		Sources: []engine.SourceFile{{Path: "refund.yaml", Data: []byte(FixtureScenario)}},
		Seed:    7, Trainee: "Kim", Created: created}
	entries := []journal.Entry{
		{Seq: 1, ClientID: "a", Event: engine.Event{Type: engine.EventAnswer, At: 1200}},
		{Seq: 2, ClientID: "b", Event: engine.Event{Type: engine.EventSay, At: 1700, Text: "Hold on"}},
		{Seq: 3, ClientID: "c", Event: engine.Event{Type: engine.EventSay, At: 4500, Text: "I'm so sorry. I'll refund you now."}},
	}
	res := &journal.Result{Ended: created.Add(6 * time.Second)}
	return c, entries, res
}
