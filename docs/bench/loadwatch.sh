#!/usr/bin/env bash
# loadwatch.sh: run `switchboard loadgen` at one level against a server started here with
# the profiler, and every 2 s print the journal's commits in that interval (how many, their
# mean time, writes per commit), the live calls, the journal's backlog (as admission
# control counts it), the writes acknowledged and not yet applied to SQLite, and the sizes of the journal file and its
# WAL; the first time commits average over 100 ms, take a 6 s CPU profile and a goroutine
# dump. See docs/performance.md, "No goroutine per call".
#
# usage: docs/bench/loadwatch.sh BINARY LEVEL DATA_DIR OUT_DIR
#   e.g. go build -o /tmp/sb ./cmd/switchboard
#        docs/bench/loadwatch.sh /tmp/sb 19000 /dev/shm/lw /tmp/lw
# The server's environment passes through (e.g. GOMAXPROCS=4 docs/bench/loadwatch.sh …).
set -euo pipefail
bin=$1 level=$2 data=$3 out=$4
addr=127.0.0.1:18970
rm -rf "$data" "$out"
mkdir -p "$out"
"$bin" serve --addr "$addr" --data "$data" --pprof --max-calls $((level + level / 10 + 10)) \
  --log-level warn >"$out/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
sleep 2
(
  prev_c=0 prev_s=0 prev_w=0 profiled=0
  while kill -0 $pid 2>/dev/null; do
    sleep 2
    m=$(curl -s -m 2 "http://$addr/metrics") || continue
    c=$(awk '/^switchboard_journal_commit_seconds_count/{print $2}' <<<"$m")
    s=$(awk '/^switchboard_journal_commit_seconds_sum/{print $2}' <<<"$m")
    w=$(awk '/^switchboard_journal_batch_writes_sum/{print $2}' <<<"$m")
    live=$(awk '/^switchboard_live_calls /{print $2}' <<<"$m")
    backlog=$(awk '/^switchboard_journal_backlog_writes /{print $2}' <<<"$m")
    lag=$(awk '/^switchboard_journal_apply_lag_writes /{print $2}' <<<"$m")
    wal=$(stat -c %s "$data"/*-wal 2>/dev/null | head -1 || true)
    db=$(stat -c %s "$data"/*.db 2>/dev/null | head -1 || true)
    line=$(awk -v c="$c" -v pc="$prev_c" -v s="$s" -v ps="$prev_s" -v w="$w" -v pw="$prev_w" \
      'BEGIN { n = c - pc; if (n > 0) printf "commits %d mean %.2f ms writes/commit %.1f", n, (s - ps) * 1000 / n, (w - pw) / n; else printf "commits 0" }')
    echo "$(date -u +%T) live $live $line backlog ${backlog:-0} lag ${lag:-0} wal ${wal:-0} db ${db:-0}"
    slow=$(awk -v c="$c" -v pc="$prev_c" -v s="$s" -v ps="$prev_s" 'BEGIN { print (c > pc && (s - ps) * 1000 / (c - pc) > 100) ? 1 : 0 }')
    if [ "$profiled" = 0 ] && [ "$slow" = 1 ]; then
      profiled=1
      curl -s -m 10 -o "$out/cpu.pb.gz" "http://$addr/debug/pprof/profile?seconds=6"
      curl -s -o "$out/goroutines.txt" "http://$addr/debug/pprof/goroutine?debug=1"
      echo "profiled: $out/cpu.pb.gz, $out/goroutines.txt"
    fi
    prev_c=$c prev_s=$s prev_w=$w
  done
) >"$out/watch.txt" 2>&1 &
"$bin" loadgen --url "http://$addr" --pid $pid --levels "$level" --echo=false --ramp 40s --steady 40s >"$out/loadgen.txt" 2>&1
kill $pid
wait $pid 2>/dev/null || true
grep '^|' "$out/loadgen.txt"
echo "every 2 s: $out/watch.txt"
