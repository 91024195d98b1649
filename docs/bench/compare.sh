#!/usr/bin/env bash
# compare.sh - run the inkjs performance anchor and our engine benchmarks, and print them
# side by side (see docs/performance.md, "Engine").
#
# Usage: docs/bench/compare.sh            (from anywhere; needs go, node, npm and the npm registry)
#
# Environment:
#   INKJS_DIR      the anchor's folder (bench.js, callcenter.ink); default ../shared/bench/inkjs
#                  relative to the repository root
#   INK_REPS       bench.js --reps      (default 3)
#   INK_PLAYS      bench.js --plays     (default 5000)
#   INK_INSTANCES  bench.js --instances (default 2000; 10000 needs ~6 GB of RAM)
#   INK_MEMREPS    bench.js --memreps   (default 1)
#   GO_COUNT       go test -count       (default 3)
#   GO_BENCHTIME   go test -benchtime   (default 1s)
#   KEEP_TMP=1     keep the temporary folder (npm project, raw outputs)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
inkjs_dir=${INKJS_DIR:-$root/../shared/bench/inkjs}
reps=${INK_REPS:-3}
plays=${INK_PLAYS:-5000}
instances=${INK_INSTANCES:-2000}
memreps=${INK_MEMREPS:-1}
count=${GO_COUNT:-3}
benchtime=${GO_BENCHTIME:-1s}

for tool in go node npm; do
	command -v "$tool" >/dev/null || { echo "compare.sh: $tool is not installed" >&2; exit 1; }
done
for f in bench.js callcenter.ink; do
	[[ -f $inkjs_dir/$f ]] || { echo "compare.sh: $inkjs_dir/$f not found (set INKJS_DIR)" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/inkjs-compare.XXXXXX")
if [[ ${KEEP_TMP:-} == 1 ]]; then
	echo "keeping $tmp" >&2
else
	trap 'rm -rf "$tmp"' EXIT
fi

# (a) inkjs, in a folder of its own (outside any git checkout, as its README asks).
cp "$inkjs_dir/bench.js" "$inkjs_dir/callcenter.ink" "$tmp/"
(
	cd "$tmp"
	npm init -y >/dev/null
	npm install --no-audit --no-fund --loglevel=error inkjs@2.4.0 >/dev/null
)
echo "== inkjs: node bench.js --reps $reps --plays $plays --instances $instances --memreps $memreps" >&2
(cd "$tmp" && node bench.js --reps "$reps" --plays "$plays" --instances "$instances" --memreps "$memreps") >"$tmp/ink.txt"
grep -v '^RESULT_JSON ' "$tmp/ink.txt" >&2

# (b) our engine.
gocmd=(go test -run '^$' -bench 'Playthrough|SessionBytes' -benchmem -count "$count" -benchtime "$benchtime" ./engine)
echo "== switchboard: ${gocmd[*]}" >&2
(cd "$root" && "${gocmd[@]}") >"$tmp/go.txt"
grep '^Benchmark' "$tmp/go.txt" >&2

# (c) side by side. Medians over the repetitions on both sides.
node - "$tmp/ink.txt" "$tmp/go.txt" <<'EOF'
const fs = require("fs");
const [inkFile, goFile] = process.argv.slice(2);
const line = fs.readFileSync(inkFile, "utf8").split("\n").find((l) => l.startsWith("RESULT_JSON "));
if (!line) { console.error("compare.sh: no RESULT_JSON line from bench.js"); process.exit(1); }
const ink = JSON.parse(line.slice("RESULT_JSON ".length));
const median = (a) => {
  const s = [...a].sort((x, y) => x - y), n = s.length;
  if (!n) return NaN;
  return n % 2 ? s[(n - 1) >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
// Go benchmark lines: name, iterations, then "value unit" pairs.
const metric = (name, unit) => {
  const vals = [];
  for (const l of fs.readFileSync(goFile, "utf8").split("\n")) {
    const f = l.trim().split(/\s+/);
    if (!f[0] || !f[0].replace(/-\d+$/, "").endsWith(name)) continue;
    for (let i = 2; i + 1 < f.length; i += 2) if (f[i + 1] === unit) vals.push(Number(f[i]));
  }
  if (!vals.length) { console.error(`compare.sh: no ${unit} for ${name} in go test output`); process.exit(1); }
  return median(vals);
};
const r = {
  inkSteps: median(ink.reuse.map((x) => x.stepsPerSec)),
  inkPlays: median(ink.reuse.map((x) => x.playsPerSec)),
  inkStepsPerPlay: median(ink.reuse.map((x) => x.stepsPerPlay)),
  inkFreshPlays: median(ink.fresh.map((x) => x.playsPerSec)),
  inkBytesAdvanced: median(ink.memory.advanced.map((x) => x.heapPerInstanceKB)) * 1024,
  inkBytesNew: median(ink.memory.new.map((x) => x.heapPerInstanceKB)) * 1024,
  goSteps: metric("BenchmarkPlaythrough", "steps/s"),
  goPlays: metric("BenchmarkPlaythrough", "plays/s"),
  goStepsPerPlay: metric("BenchmarkPlaythrough", "steps/play"),
  goNsPerStep: metric("BenchmarkPlaythrough", "ns/step"),
  goBytesMid: metric("BenchmarkSessionBytes/mid-call", "B/session"),
  goBytesStarted: metric("BenchmarkSessionBytes/started", "B/session"),
};
const fmt = (x, d = 0) => x.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
const rows = [
  ["", `inkjs ${ink.info.inkjs}`, "switchboard", "ratio"],
  ["steps/s (lines + choices)", fmt(r.inkSteps), fmt(r.goSteps), `${fmt(r.goSteps / r.inkSteps, 1)}x  ours/inkjs`],
  ["playthroughs/s", fmt(r.inkPlays), fmt(r.goPlays), `${fmt(r.goPlays / r.inkPlays, 1)}x  ours/inkjs`],
  ["steps per playthrough", fmt(r.inkStepsPerPlay, 2), fmt(r.goStepsPerPlay, 2), ""],
  ["ns per step", fmt(1e9 / r.inkSteps), fmt(r.goNsPerStep), ""],
  ["bytes per live session, mid-call", fmt(r.inkBytesAdvanced), fmt(r.goBytesMid), `${fmt(r.inkBytesAdvanced / r.goBytesMid, 0)}x  inkjs/ours`],
  ["bytes per live session, new", fmt(r.inkBytesNew), fmt(r.goBytesStarted), `${fmt(r.inkBytesNew / r.goBytesStarted, 0)}x  inkjs/ours`],
];
const w = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => row[i].length)));
console.log("");
for (const row of rows) console.log(`${row[0].padEnd(w[0])}  ${row[1].padStart(w[1])}  ${row[2].padStart(w[2])}  ${row[3]}`);
console.log("");
console.log(`inkjs: node ${ink.info.node}, ${ink.info.platform}, nproc ${ink.info.nproc}; ` +
  `steps/s is bench.js's "reused Story" figure (median of ${ink.reuse.length}); memory: ${ink.info.instances} live Story objects ` +
  `([advanced] and [new], heapUsed). switchboard: medians of go test -count ${"${COUNT}"}.`.replace("${COUNT}", process.env.GO_COUNT || "3"));
console.log(`Targets: steps/s >= 30x inkjs: ${r.goSteps / r.inkSteps >= 30 ? "met" : "NOT met"}; ` +
  `< 8 KiB per live session: ${r.goBytesMid < 8192 ? "met" : "NOT met"}.`);
EOF
