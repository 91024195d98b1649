#!/usr/bin/env python3
"""cgdiff.py - per-say cache misses by function, from two cachegrind runs of
BenchmarkSayCold that differ only in their iteration count (docs/performance.md, "Three
levers that did not move the turn; where a cold say's cache misses are"). The
difference between the runs, divided by the difference in iterations, cancels what
both runs share (loading the scenario, the test binary's start) and leaves what one
say costs.

  go test -c -o /tmp/engine.test ./engine && cd engine
  for n in 100 1100; do
    valgrind --tool=cachegrind --cache-sim=yes --LL=2097152,16,64 \\
      --cachegrind-out-file=/tmp/cg-$n.out /tmp/engine.test -test.run '^$' \\
      -test.bench 'BenchmarkSayCold/cold-16MB$' -test.benchtime ${n}x
  done
  python3 docs/bench/cgdiff.py /tmp/cg-100.out /tmp/cg-1100.out 1000 DLmr   # data
  python3 docs/bench/cgdiff.py /tmp/cg-100.out /tmp/cg-1100.out 1000 ILmr   # code

--LL=2097152,16,64 simulates this machine's 2 MiB L2 per core as the last level (its
260 MiB L3 is shared with other machines); a "miss" is then a line fetched from L3 or
memory. The benchmark function's own misses (its 16 MiB sweep) are listed but left out
of the total; the runtime's include the benchmark's StopTimer/StartTimer around the sweep.
"""
import collections
import sys


def load(path):
    events, fn = None, None
    agg = collections.defaultdict(lambda: collections.Counter())
    with open(path) as f:
        for line in f:
            if line.startswith("events:"):
                events = line.split()[1:]
            elif line.startswith("fn="):
                fn = line[3:].strip()
            elif fn and line[:1].isdigit():
                for name, v in zip(events, line.split()[1:]):
                    agg[fn][name] += int(v)
    return agg


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: cgdiff.py FEWER.out MORE.out ITERATIONS [EVENT] (EVENT: DLmr, ILmr, D1mr, Ir...)")
    a, b, n = load(sys.argv[1]), load(sys.argv[2]), float(sys.argv[3])
    key = sys.argv[4] if len(sys.argv) > 4 else "DLmr"
    rows = []
    for fn in set(a) | set(b):
        d = {e: (b[fn][e] - a[fn][e]) / n for e in ("Ir", "D1mr", "DLmr", "ILmr")}
        rows.append((d[key], d, fn))
    rows.sort(key=lambda r: -r[0])
    total = sum(r[0] for r in rows if "BenchmarkSayCold" not in r[2])
    print(f"{key} per say, all functions but the benchmark's: {total:.0f}")
    print(f"{key:>8} {'Ir':>8}  function")
    for v, d, fn in rows[:40]:
        print(f"{v:8.1f} {d['Ir']:8.0f}  {fn}")


if __name__ == "__main__":
    main()
