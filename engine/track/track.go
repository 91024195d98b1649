// Package track reads, checks and evaluates training tracks: an ordered list of steps,
// each a scenario with a pass mark, some unlocked only after earlier steps are passed.
// The file format is documented in docs/tracks.md.
//
// The package is pure like engine: it reads files from an fs.FS, takes the scenario
// catalogue and a trainee's results as values, and has no clock, network or storage.
package track

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/switchboard-sim/switchboard/engine"
)

// Limits of a track file. A file over MaxSteps is reported and not loaded.
const (
	MaxSteps      = 50  // steps in one track
	MaxAfter      = 10  // steps one unlock rule may wait for
	MaxTitleRunes = 120 // a track's or a step's title
)

// Folder is where tracks live inside a scenario folder: scenarios/tracks/*.yaml.
const Folder = "tracks"

// Keys allowed at each level of a track file. docs/track.schema.json is checked against
// these lists by a test.
var (
	TrackKeys  = []string{"id", "title", "description", "length", "steps"}
	StepKeys   = []string{"id", "scenario", "title", "pass", "repeat", "unlock"}
	UnlockKeys = []string{"after"}
	// Repeats are the values of a step's repeat key.
	Repeats = []string{RepeatOnce, RepeatUntilPassed}
	// UnlockWords are the one-word values of a step's unlock key.
	UnlockWords = []string{UnlockStart, UnlockPrevious}
)

// Values of a step's repeat key.
const (
	// RepeatOnce (the default): one finished call completes the step, passed or not;
	// the trainee may retake it to improve the best score.
	RepeatOnce = "once"
	// RepeatUntilPassed: the step is complete only when a call passes it, and it stays
	// the trainee's next step until then.
	RepeatUntilPassed = "until-passed"
)

// One-word values of a step's unlock key.
const (
	// UnlockStart: the step is open from the start.
	UnlockStart = "start"
	// UnlockPrevious (the default after the first step): the step opens once the step
	// before it is complete.
	UnlockPrevious = "previous"
)

// Scenario is what a track needs to know of a scenario in the catalogue.
type Scenario struct {
	ID       string
	Title    string
	Pass     float64 // the scenario's own pass mark, the default of a step's
	LengthMS int64   // its typical length, 0 if it declares none
}

// Catalog holds the scenarios a track may name, by id.
type Catalog map[string]Scenario

// CatalogOf builds a catalogue from loaded scenarios.
func CatalogOf(scs []*engine.Scenario) Catalog {
	c := Catalog{}
	for _, sc := range scs {
		if sc == nil {
			continue
		}
		c[sc.ID] = Scenario{ID: sc.ID, Title: sc.Title, Pass: sc.Pass, LengthMS: sc.Card.LengthMS}
	}
	return c
}

func (c Catalog) ids() []string {
	ids := make([]string, 0, len(c))
	for id := range c {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Track is a loaded, checked track. It is immutable once loaded.
type Track struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	// LengthMS is the estimated length of the whole track: the declared length, or the
	// sum of the steps' scenarios' typical lengths.
	LengthMS int64 `json:"length_ms"`
	// LengthDeclared tells whether LengthMS was written in the file.
	LengthDeclared bool   `json:"length_declared"`
	Steps          []Step `json:"steps"`
	// Path is the track's file (for designers; the trainees' API leaves it out).
	Path string `json:"path,omitempty"`
}

// Step is one scenario of a track.
type Step struct {
	// ID names the step within its track: the id written, or the scenario's id.
	ID       string `json:"id"`
	Scenario string `json:"scenario"`
	// Title is the title written, or the scenario's.
	Title string `json:"title"`
	// Pass is the pass mark (0..1) an overall score must reach: the one written, or the
	// scenario's own.
	Pass float64 `json:"pass"`
	// Repeat is RepeatOnce or RepeatUntilPassed.
	Repeat string `json:"repeat"`
	// Unlock says when the step opens.
	Unlock Unlock `json:"unlock"`
	// LengthMS is the scenario's typical length, 0 if it declares none.
	LengthMS int64 `json:"length_ms"`
}

// Unlock is when a step opens: from the start, once the previous step is complete, or
// once each of After is passed.
type Unlock struct {
	// Kind is UnlockStart, UnlockPrevious or "after".
	Kind string `json:"kind"`
	// After holds the indexes of earlier steps that must be passed (Kind "after").
	After []int `json:"after,omitempty"`
}

// UnlockAfter is the Kind of an unlock rule that waits for named steps to be passed.
const UnlockAfter = "after"

// Step returns the step with the given id.
func (t *Track) Step(id string) (int, bool) {
	for i, s := range t.Steps {
		if s.ID == id {
			return i, true
		}
	}
	return -1, false
}

// IsTrackFile reports whether a path names a track: a .yaml file in a folder named
// tracks.
func IsTrackFile(p string) bool {
	ext := path.Ext(p)
	return (ext == ".yaml" || ext == ".yml") && path.Base(path.Dir(p)) == Folder
}

// Find lists the track files in root/tracks in fsys, sorted; none when the folder does
// not exist.
func Find(fsys fs.FS, root string) ([]string, error) {
	dir := path.Join(root, Folder)
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	var out []string
	for _, e := range entries {
		p := path.Join(dir, e.Name())
		if !e.IsDir() && IsTrackFile(p) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Load reads and checks the track at name in fsys against the scenario catalogue. It
// returns every problem found; the track is nil when any is an error.
func Load(fsys fs.FS, name string, cat Catalog) (*Track, engine.Diagnostics) {
	var diags engine.Diagnostics
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		diags = append(diags, engine.Diagnostic{Path: name, Line: 1, Col: 1, Message: fmt.Sprintf("cannot read: %v", unwrapPathErr(err))})
		return nil, diags
	}
	t := LoadBytes(name, data, cat, &diags)
	diags.Sort()
	if diags.HasErrors() {
		return nil, diags
	}
	return t, diags
}

// LoadAll loads every track in root/tracks, and reports two tracks with the same id. It
// returns the tracks without errors, sorted by file, and every problem.
func LoadAll(fsys fs.FS, root string, cat Catalog) ([]*Track, engine.Diagnostics) {
	paths, err := Find(fsys, root)
	if err != nil {
		return nil, engine.Diagnostics{{Path: path.Join(root, Folder), Line: 1, Col: 1, Message: err.Error()}}
	}
	var all engine.Diagnostics
	var out []*Track
	first := map[string]string{}
	for _, p := range paths {
		t, diags := Load(fsys, p, cat)
		all = append(all, diags...)
		if t == nil {
			continue
		}
		if prev, ok := first[t.ID]; ok {
			all = append(all, t.DuplicateOf(fsys, prev))
			continue
		}
		first[t.ID] = p
		out = append(out, t)
	}
	return out, all
}

// DuplicateOf is the error for a track whose id the track at prev already has, at its
// id's line.
func (t *Track) DuplicateOf(fsys fs.FS, prev string) engine.Diagnostic {
	return engine.Diagnostic{Path: t.Path, Line: t.idLine(fsys), Col: 1,
		Message: fmt.Sprintf("track id %q is already used by %s; each track needs its own id", t.ID, prev)}
}

// idLine finds the line of the id key, for the duplicate-id diagnostic.
func (t *Track) idLine(fsys fs.FS) int {
	data, err := fs.ReadFile(fsys, t.Path)
	if err != nil {
		return 1
	}
	for i, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "id:") {
			return i + 1
		}
	}
	return 1
}

// stepSrc is where a step was written, for diagnostics after all steps are read.
type stepSrc struct {
	node    *yaml.Node // the step's mapping
	unlockN *yaml.Node // the unlock value, or nil
	after   []*yaml.Node
	idN     *yaml.Node
	unknown bool // its scenario is not in the catalogue (reported where it is named)
}

// LoadBytes checks a track read from data as if from name, appending problems to diags.
// The result is only valid when none of them is an error.
func LoadBytes(name string, data []byte, cat Catalog, diags *engine.Diagnostics) *Track {
	r := engine.NewFileReader(name, diags)
	t := &Track{Path: name}
	root := r.Parse(data)
	if root == nil {
		return t
	}
	pairs, ok := r.Mapping(root, "the track", TrackKeys)
	if !ok {
		return t
	}
	top := map[string]engine.KeyValue{}
	for _, p := range pairs {
		top[p.Key] = p
	}
	for _, req := range []string{"id", "title", "steps"} {
		if _, ok := top[req]; !ok {
			r.Errorf(root, "missing required key %q", req)
		}
	}
	if p, ok := top["id"]; ok {
		if s, ok := r.Str(p.Value, "id"); ok {
			if !engine.ValidID(s) {
				r.Errorf(p.Value, "id %q must be lower-case letters, digits and '-'", s)
			}
			t.ID = s
		}
	}
	if p, ok := top["title"]; ok {
		t.Title = title(r, p.Value, "title")
	}
	if p, ok := top["description"]; ok {
		if s, ok := r.Str(p.Value, "description"); ok {
			t.Description = strings.TrimSpace(s)
		}
	}
	if p, ok := top["length"]; ok {
		if ms, ok := r.Duration(p.Value, "length"); ok {
			if ms <= 0 {
				r.Errorf(p.Value, "length must be more than 0, the estimated time to work through the track, such as 30m")
			}
			t.LengthMS, t.LengthDeclared = ms, true
		}
	}
	if p, ok := top["steps"]; ok {
		readSteps(r, t, p.Value, cat)
	}
	if !t.LengthDeclared {
		for _, s := range t.Steps {
			t.LengthMS += s.LengthMS
		}
	}
	return t
}

func title(r *engine.FileReader, n *yaml.Node, what string) string {
	s, ok := r.Str(n, what)
	if !ok {
		return ""
	}
	s = strings.TrimSpace(s)
	if s == "" {
		r.Errorf(n, "%s must not be empty", what)
	} else if len([]rune(s)) > MaxTitleRunes {
		r.Errorf(n, "%s is %d characters; the limit is %d", what, len([]rune(s)), MaxTitleRunes)
	}
	return s
}

func readSteps(r *engine.FileReader, t *Track, n *yaml.Node, cat Catalog) {
	items, ok := r.List(n, "steps")
	if !ok {
		return
	}
	if len(items) == 0 {
		r.Errorf(n, "steps must list at least one step")
		return
	}
	if len(items) > MaxSteps {
		r.Errorf(n, "steps has %d entries; the limit is %d", len(items), MaxSteps)
		return
	}
	srcs := make([]stepSrc, len(items))
	for i, item := range items {
		t.Steps = append(t.Steps, readStep(r, i, item, cat, &srcs[i]))
	}
	// Step ids are unique.
	firstAt := map[string]int{}
	for i, s := range t.Steps {
		if s.ID == "" {
			continue
		}
		if j, ok := firstAt[s.ID]; ok {
			at := srcs[i].idN
			hint := ""
			if at == nil {
				at = srcs[i].node
				hint = "; give one of them an id"
			}
			r.Errorf(at, "step id %q is already used by step %d (line %d)%s", s.ID, j+1, srcs[j].node.Line, hint)
			continue
		}
		firstAt[s.ID] = i
	}
	resolveUnlocks(r, t, srcs, firstAt)
}

func readStep(r *engine.FileReader, i int, n *yaml.Node, cat Catalog, src *stepSrc) Step {
	s := Step{Repeat: RepeatOnce, Unlock: Unlock{Kind: UnlockPrevious}}
	if i == 0 {
		s.Unlock.Kind = UnlockStart
	}
	src.node = n
	what := fmt.Sprintf("step %d", i+1)
	pairs, ok := r.Mapping(n, what, StepKeys)
	if !ok {
		return s
	}
	kv := map[string]engine.KeyValue{}
	for _, p := range pairs {
		kv[p.Key] = p
	}
	var sc Scenario
	known := false
	if p, ok := kv["scenario"]; ok {
		if id, ok := r.Str(p.Value, what+".scenario"); ok {
			s.Scenario = id
			if sc, known = cat[id]; !known {
				src.unknown = true
				r.Errorf(p.Value, "unknown scenario %q%s", id, engine.DidYouMean(id, cat.ids()))
			}
		}
	} else {
		r.Errorf(n, "%s is missing required key \"scenario\"", what)
	}
	s.ID = s.Scenario
	if p, ok := kv["id"]; ok {
		src.idN = p.Value
		if id, ok := r.Str(p.Value, what+".id"); ok {
			if !engine.ValidID(id) {
				r.Errorf(p.Value, "step id %q must be lower-case letters, digits and '-'", id)
			}
			s.ID = id
		}
	}
	s.Title, s.Pass, s.LengthMS = sc.Title, sc.Pass, sc.LengthMS
	if p, ok := kv["title"]; ok {
		s.Title = title(r, p.Value, what+".title")
	}
	if p, ok := kv["pass"]; ok {
		if f, ok := r.Number(p.Value, what+".pass"); ok {
			if f <= 0 || f > 1 {
				r.Errorf(p.Value, "%s.pass must be more than 0 and at most 1 (the overall score a call must reach, such as 0.8)", what)
			} else {
				s.Pass = f
			}
		}
	}
	if p, ok := kv["repeat"]; ok {
		if v, ok := r.Str(p.Value, what+".repeat"); ok {
			if slices.Contains(Repeats, v) {
				s.Repeat = v
			} else {
				r.Errorf(p.Value, "%s.repeat %q must be one of %s%s", what, v, strings.Join(Repeats, ", "), engine.DidYouMean(v, Repeats))
			}
		}
	}
	if p, ok := kv["unlock"]; ok {
		src.unlockN = p.Value
		readUnlock(r, i, what, p.Value, &s, src)
	}
	return s
}

func readUnlock(r *engine.FileReader, i int, what string, n *yaml.Node, s *Step, src *stepSrc) {
	if n.Kind == yaml.ScalarNode {
		v, ok := r.Str(n, what+".unlock")
		if !ok {
			return
		}
		switch v {
		case UnlockStart:
			s.Unlock.Kind = UnlockStart
		case UnlockPrevious:
			if i == 0 {
				r.Errorf(n, "the first step has no previous step; write unlock: start, or leave unlock out")
				return
			}
			s.Unlock.Kind = UnlockPrevious
		default:
			r.Errorf(n, "%s.unlock %q must be start, previous or {after: [step ids]}%s", what, v, engine.DidYouMean(v, UnlockWords))
		}
		return
	}
	if n.Kind == yaml.SequenceNode {
		r.Errorf(n, "%s.unlock must be start, previous or {after: [step ids]}, not a list: write unlock: {after: [...]}", what)
		return
	}
	pairs, ok := r.Mapping(n, what+".unlock", UnlockKeys)
	if !ok || len(pairs) == 0 {
		if ok && len(n.Content) == 0 {
			r.Errorf(n, "%s.unlock must be start, previous or {after: [step ids]}", what)
		}
		return
	}
	v := pairs[0].Value
	var items []*yaml.Node
	if v.Kind == yaml.ScalarNode {
		items = []*yaml.Node{v}
	} else if items, ok = r.List(v, what+".unlock.after"); !ok {
		return
	}
	if len(items) == 0 {
		r.Errorf(v, "%s.unlock.after lists no steps; to open the step from the start write unlock: start", what)
		return
	}
	if len(items) > MaxAfter {
		r.Errorf(v, "%s.unlock.after has %d entries; the limit is %d", what, len(items), MaxAfter)
		return
	}
	s.Unlock.Kind = UnlockAfter
	src.after = items
}

// resolveUnlocks turns unlock.after step ids into indexes, reporting unknown ids, a
// step waiting for itself or for a later step, and cycles.
func resolveUnlocks(r *engine.FileReader, t *Track, srcs []stepSrc, index map[string]int) {
	ids := make([]string, 0, len(index))
	for id := range index {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	edges := make([][]int, len(t.Steps)) // step -> steps it waits for, including later ones
	for i := range t.Steps {
		s := &t.Steps[i]
		if s.Unlock.Kind != UnlockAfter {
			continue
		}
		seen := map[string]bool{}
		for _, n := range srcs[i].after {
			id, ok := r.Str(n, fmt.Sprintf("step %d.unlock.after", i+1))
			if !ok {
				continue
			}
			if seen[id] {
				r.Errorf(n, "step %q is listed twice in unlock.after", id)
				continue
			}
			seen[id] = true
			j, ok := index[id]
			switch {
			case !ok:
				if c, near := engine.Closest(id, ids); near && srcs[index[c]].unknown && srcs[index[c]].idN == nil {
					// "after: [ignored-phone]" with step 1's scenario misspelt "ignored-phon":
					// the misspelling is the mistake, not this reference.
					r.Errorf(n, "unknown step %q in unlock.after: step %d is %q, whose scenario is unknown; fix its scenario there and this reference works", id, index[c]+1, c)
					continue
				}
				r.Errorf(n, "unknown step %q in unlock.after%s", id, engine.DidYouMean(id, ids))
			case j == i:
				r.Errorf(n, "step %q waits for itself, so it can never unlock", id)
			case j > i:
				edges[i] = append(edges[i], j)
				r.Errorf(n, "step %q comes later in the track (step %d of %d); a step can only wait for earlier steps: move it up or drop it here", id, j+1, len(t.Steps))
			default:
				s.Unlock.After = append(s.Unlock.After, j)
				edges[i] = append(edges[i], j)
			}
		}
		slices.Sort(s.Unlock.After)
	}
	for _, cyc := range cycles(edges) {
		names := make([]string, 0, len(cyc)+1)
		for _, k := range cyc {
			names = append(names, fmt.Sprintf("%q", t.Steps[k].ID))
		}
		names = append(names, fmt.Sprintf("%q", t.Steps[cyc[0]].ID))
		at := srcs[cyc[0]].unlockN
		r.Errorf(at, "unlock rules form a cycle: %s waits for %s; none of these steps can ever unlock", names[0], strings.Join(names[1:], ", which waits for "))
	}
}

// cycles returns each elementary cycle once, found by depth-first search from the lowest
// index, starting at its lowest step. Tracks are small (MaxSteps), so this is cheap.
func cycles(edges [][]int) [][]int {
	var out [][]int
	seen := map[string]bool{}
	state := make([]int, len(edges)) // 0 new, 1 on stack, 2 done
	var stack []int
	var visit func(v int)
	visit = func(v int) {
		state[v] = 1
		stack = append(stack, v)
		for _, w := range edges[v] {
			switch state[w] {
			case 0:
				visit(w)
			case 1:
				k := slices.Index(stack, w)
				cyc := slices.Clone(stack[k:])
				// Rotate to start at the lowest index, so each cycle is reported once.
				m := slices.Index(cyc, slices.Min(cyc))
				cyc = append(cyc[m:], cyc[:m]...)
				key := fmt.Sprint(cyc)
				if !seen[key] {
					seen[key] = true
					out = append(out, cyc)
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[v] = 2
	}
	for v := range edges {
		if state[v] == 0 {
			visit(v)
		}
	}
	return out
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}
