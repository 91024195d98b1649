package engine_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/scenarios"
)

// seedFiles adds every YAML file under testdata and the shipped library to the corpus.
func seedFiles(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.yaml")
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	_ = fs.WalkDir(scenarios.FS, scenarios.Root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if data, err := fs.ReadFile(scenarios.FS, p); err == nil {
				f.Add(data)
			}
		}
		return nil
	})
	f.Add([]byte("a: &x [*x, *x]\nb: *x\n"))
	f.Add([]byte("nodes: {a: {say: '{', transitions: [{when: '(((', to: a}]}}\n"))
}

// FuzzLoad: no input makes the loader panic or hang, and a loaded scenario plays.
func FuzzLoad(f *testing.F) {
	seedFiles(f)
	pack, _ := fs.ReadFile(scenarios.FS, "scenarios/rules/listening.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fstest.MapFS{"rules/listening.yaml": {Data: pack}, "x.yaml": {Data: data}}
		sc, diags := engine.Load(fsys, "x.yaml")
		for _, d := range diags {
			if d.Line < 1 || d.Col < 1 || d.Message == "" {
				t.Fatalf("diagnostic without a position or message: %+v", d)
			}
		}
		if sc == nil {
			if !diags.HasErrors() {
				t.Fatal("no scenario and no error")
			}
			return
		}
		s := sc.NewSession(1, "")
		outs := s.Start(nil)
		for i, ev := range []engine.Event{
			{Type: engine.EventAnswer, At: 1000},
			{Type: engine.EventSay, At: 1500, Text: "sorry, hello"},
			{Type: engine.EventChoose, At: 9000, Index: 0},
			{Type: engine.EventTimeout, At: 60_000},
			{Type: engine.EventHangup, At: 70_000},
		} {
			outs, _ = s.Apply(ev, outs)
			_ = i
		}
		_ = sc.Dot()
		_ = sc.Mermaid()
	})
}

// FuzzTests: the test-file parser never panics.
func FuzzTests(f *testing.F) {
	files, _ := filepath.Glob("testdata/ok/*.test.yaml")
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("- {name: x, steps: [listen, {wait: 1s}, {say: hi}], expect: {scores: {care: '>= x'}}}"))
	sc, diags := engine.Load(os.DirFS("testdata"), "ok/semantics.yaml")
	if sc == nil {
		f.Fatal(diags)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var d engine.Diagnostics
		cases := engine.ParseTests("x.test.yaml", data, sc, &d)
		if d.HasErrors() {
			return
		}
		for _, c := range cases {
			engine.RunTest(sc, c)
		}
	})
}

// FuzzSession: any sequence of events is handled without panicking, and time never makes
// a session accept an event before the previous one.
func FuzzSession(f *testing.F) {
	f.Add([]byte{0, 10, 1, 20, 2, 30, 3, 40}, "sorry, here is a refund")
	f.Add([]byte{1, 0, 1, 0, 4, 255, 5, 1}, "\xff")
	sc, diags := engine.Load(os.DirFS("testdata"), "ok/semantics.yaml")
	if sc == nil {
		f.Fatal(diags)
	}
	types := []engine.EventType{engine.EventAnswer, engine.EventSay, engine.EventChoose, engine.EventHangup, engine.EventTimeout, engine.EventWhisper, "bogus"}
	f.Fuzz(func(t *testing.T, script []byte, text string) {
		s := sc.NewSession(3, text)
		outs := s.Start(nil)
		var at int64
		for i := 0; i+1 < len(script); i += 2 {
			at += int64(script[i+1]) * 100
			ev := engine.Event{Type: types[int(script[i])%len(types)], At: at, Text: text, Index: int(script[i+1]) % 4}
			before := s.Now()
			var err error
			outs, err = s.Apply(ev, outs)
			if err == nil && s.Now() < before {
				t.Fatal("time went backwards")
			}
		}
	})
}
