package track_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/track"
)

// FuzzLoad: any bytes give diagnostics or a track, never a panic; a track that loads has
// unlock rules naming only earlier steps, and evaluates.
func FuzzLoad(f *testing.F) {
	for _, dir := range []string{"testdata/bad", "testdata/ok", "../../scenarios/tracks"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var diags engine.Diagnostics
		tr := track.LoadBytes("f.yaml", data, testCatalog, &diags)
		if diags.HasErrors() {
			return
		}
		for i, s := range tr.Steps {
			for _, j := range s.Unlock.After {
				if j >= i {
					t.Fatalf("step %d waits for step %d", i, j)
				}
			}
		}
		var results []track.Result
		for _, s := range tr.Steps {
			results = append(results, track.Result{Scenario: s.Scenario, Overall: 1})
		}
		if p := track.Evaluate(tr, results); !p.Complete {
			t.Fatalf("passing every step leaves the track incomplete: %+v", p)
		}
	})
}
