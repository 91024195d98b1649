package library

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// idRE is what a new scenario's id must look like (the engine's rule for ids).
var idRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// NewScenario writes a new scenario and its test file from the template, named after id
// (id.yaml and id.test.yaml), and returns the scenario's path.
func (l *Library) NewScenario(id, title string) (string, error) {
	if !idRE.MatchString(id) || len(id) > 64 {
		return "", fmt.Errorf("%w: the id %q must be lower-case letters, digits and '-'", ErrBadPath, id)
	}
	if _, taken := l.EntryByID(id); taken {
		return "", fmt.Errorf("%w: a scenario already has the id %q", ErrExists, id)
	}
	title = strings.TrimSpace(title)
	if title == "" {
		title = id
	}
	p := id + ".yaml"
	if err := l.Create(p, []byte(fmt.Sprintf(scenarioTemplate, id, strconv.Quote(title)))); err != nil {
		return "", err
	}
	tp := id + ".test.yaml"
	if _, exists := l.File(tp); !exists {
		if err := l.Create(tp, []byte(testTemplate)); err != nil {
			return p, err
		}
	}
	return p, nil
}

const scenarioTemplate = `# A new scenario: the customer calls, the trainee answers and helps.
# Edit the lines and add nodes; the studio checks everything as you type.
id: %s
title: %s
brief: A customer calls with a question. Answer promptly and help them.
lesson: Pick up quickly, listen, and say what you will do.
persona: {name: Sam, wpm: 160, mood: 0}
intents:
  greet: ["hello", "good morning", "how can i help"]
  help: ["i can", "let me", "i will"]
scores:
  courtesy: {max: 2}
start: ring
nodes:
  ring:
    ring: true
    transitions:
      - {when: 'event == "answer"', to: ask}
      - {after: 30s, to: missed}
  ask:
    say: Hi, I have a quick question about my order. Can you help?
    choices: ["Hello! Let me look that up for you.", "What?"]
    transitions:
      - {when: 'said("help") && said("greet")', to: thanks, score: {courtesy: 2}}
      - {when: 'said("help")', to: thanks, score: {courtesy: 1}}
      - {when: 'true', to: annoyed}
  thanks:
    say: Great, thank you so much.
    end: {title: Customer helped, outcome: resolved, text: The customer got help.}
  annoyed:
    say: Never mind, I'll try somewhere else.
    end: {title: Customer gave up, outcome: lost, text: The customer gave up.}
  missed:
    end: {title: Nobody answered, outcome: lost, text: Nobody answered the phone.}
`

const testTemplate = `- name: helpful answer resolves the call
  steps:
    - answer: 2s
    - say: Hello! Let me look that up for you.
  expect: {ending: thanks, passed: true}
- name: an unclear answer loses the customer
  steps:
    - answer: 2s
    - say: What?
  expect: {ending: annoyed, outcome: lost}
- name: nobody answers
  steps:
    - wait: 31s
  expect: {ending: missed, outcome: lost}
`

// Seed copies the scenario library in from (the files under root, e.g. the shipped
// library) into dir, if dir does not exist yet. It reports whether it copied.
func Seed(dir string, from fs.FS, root string) (bool, error) {
	if _, err := os.Stat(dir); err == nil {
		return false, nil
	}
	tmp := dir + ".seeding"
	_ = os.RemoveAll(tmp)
	err := fs.WalkDir(from, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, root), "/")
		if rel == "" {
			return os.MkdirAll(tmp, 0o755)
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(tmp, filepath.FromSlash(rel)), 0o755)
		}
		if ext := path.Ext(p); ext != ".yaml" && ext != ".yml" {
			return nil
		}
		b, err := fs.ReadFile(from, p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(tmp, filepath.FromSlash(rel)), b, 0o644)
	})
	if err == nil {
		err = os.Rename(tmp, dir) // all or nothing
	}
	if err != nil {
		_ = os.RemoveAll(tmp)
		return false, fmt.Errorf("copying the shipped scenarios to %s: %w", dir, err)
	}
	return true, nil
}
