//go:build unix

package engine_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/scenarios"
)

// BenchmarkUnderstand reads every corpus reply with its scenario's compiled lexicon: the
// cost of the matching pipeline alone, per message.
func BenchmarkUnderstand(b *testing.B) {
	files, _ := filepath.Glob("testdata/understanding/*.txt")
	type item struct {
		sc   *engine.Scenario
		text string
	}
	var items []item
	for _, f := range files {
		sc, diags := engine.Load(scenarios.FS, scenarios.Root+"/"+strings.TrimSuffix(filepath.Base(f), ".txt")+".yaml")
		if sc == nil {
			b.Fatal(diags.Error())
		}
		fh, err := os.Open(f)
		if err != nil {
			b.Fatal(err)
		}
		s := bufio.NewScanner(fh)
		for s.Scan() {
			if parts := strings.Split(s.Text(), "|"); len(parts) == 3 {
				items = append(items, item{sc, strings.TrimSpace(parts[2])})
			}
		}
		fh.Close()
	}
	if len(items) == 0 {
		b.Fatal("no corpus")
	}
	b.ResetTimer()
	i := 0
	c0 := cpuNanos()
	for b.Loop() {
		it := items[i%len(items)]
		it.sc.MatchIntents(it.text)
		i++
	}
	b.ReportMetric(float64(cpuNanos()-c0)/float64(max(i, 1)), "cpu-ns/op")
}

// cpuNanos is the process's CPU time: on a loaded machine it grows far less than wall time.
func cpuNanos() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}
