#!/usr/bin/env bash
# turnsplit.sh - where a turn's time goes, measured at both ends (docs/performance.md,
# "Where a turn waits, measured at both ends"). BINARY is switchboard built with
# docs/bench/turnsplit.patch applied: the server and the generator (and the generator's
# echo server) then note, for each say in a 15-second window, the wall-clock time of each
# stage, keyed by the trainee's port and the say's id; turnsplit.py joins them and prints
# the median, 90th percentile and mean of each stage.
#
#   git apply docs/bench/turnsplit.patch && go build -o /tmp/sb-split ./cmd/switchboard && git checkout .
#   docs/bench/turnsplit.sh /tmp/sb-split 5000          # our server, journal on tmpfs
#   docs/bench/turnsplit.sh /tmp/sb-split 5000 echo     # the echo baseline, same load
#
# Usage: turnsplit.sh BINARY LEVEL [ours|echo] [DATA] (DATA: the journal's folder, default
# /dev/shm/turnsplit, emptied first). Ramp 40 s, steady 40 s; the window opens 55 s in for
# ours, 140 s in for the echo (the generator runs its echo after ours). Run nothing else
# meanwhile.
set -euo pipefail
[[ $# -ge 2 ]] || { echo "usage: $0 BINARY LEVEL [ours|echo] [DATA]" >&2; exit 2; }
bin=$1 level=$2 mode=${3:-ours} dir=${4:-/dev/shm/turnsplit}
here=$(cd "$(dirname "$0")" && pwd)
ulimit -n 20000
rm -rf "$dir" && mkdir -p "$dir"
out=$(mktemp -d)
port=18995
now=$(date +%s)
if [[ $mode == echo ]]; then
	from=$((now + 140))
	to=$((from + 15))
	PROBE_OUT=$out/client PROBE_FROM=$from PROBE_TO=$to "$bin" loadgen --data "$dir" --levels "$level" --ramp 40s --steady 40s >"$out/loadgen" 2>&1
	mv "$out/client.echoserver" "$out/server"
else
	from=$((now + 55))
	to=$((from + 15))
	PROBE_OUT=$out/server PROBE_FROM=$from PROBE_TO=$to "$bin" serve --addr 127.0.0.1:$port --data "$dir" --max-calls 20000 --log-level warn >"$out/serve.log" 2>&1 &
	pid=$!
	sleep 1
	PROBE_OUT=$out/client PROBE_FROM=$from PROBE_TO=$to "$bin" loadgen --url http://127.0.0.1:$port --pid $pid --data "$dir" --levels "$level" --ramp 40s --steady 40s --echo=false >"$out/loadgen" 2>&1
	kill $pid && wait $pid || true
fi
grep -E '^\| (ours|echo) ' "$out/loadgen" | tail -1
python3 "$here/turnsplit.py" "$out/server" "$out/client" || { echo "the notes are in $out" >&2; exit 1; }
rm -rf "$out" "$dir"
