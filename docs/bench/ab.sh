#!/usr/bin/env bash
# ab.sh - alternate switchboard binaries under the same load generator, with the echo
# baseline alongside each run (see docs/performance.md). Each run starts BINARY serve with
# its journal in a fresh folder under DATA, drives it with LOADGEN's `loadgen --url`, and
# prints the generator's last table (turn medians to the microsecond, their ratio to the
# echo's, memory per call).
#
# Usage: docs/bench/ab.sh LOADGEN DATA LEVEL RUNS BINARY...
#   e.g. docs/bench/ab.sh /tmp/sb-new /dev/shm/ab 2000 2 /tmp/sb-old /tmp/sb-new
# Environment: ECHO=false leaves the echo out (quicker, to compare servers with each other)
# and prints the server's row instead; SCENARIO (default the generator's, cheese-shop),
# RAMP (default 20s) and STEADY (default 30s) go to the generator.
#
# Run nothing else meanwhile: the machine's two cores are shared by the server, the
# generator and the echo.
set -euo pipefail
[[ $# -ge 5 ]] || { echo "usage: $0 LOADGEN DATA LEVEL RUNS BINARY..." >&2; exit 2; }
loadgen=$1 data=$2 level=$3 runs=$4
shift 4
echo=${ECHO:-true}
extra=()
[[ -n ${SCENARIO:-} ]] && extra+=(--scenario "$SCENARIO")
ulimit -n 20000
port=18990
for ((r = 1; r <= runs; r++)); do
	for bin in "$@"; do
		dir="$data/$(basename "$bin")-$r"
		rm -rf "$dir" && mkdir -p "$dir"
		"$bin" serve --addr "127.0.0.1:$port" --data "$dir" --max-calls 20000 --log-level warn >"$dir.log" 2>&1 &
		pid=$!
		for _ in $(seq 100); do
			curl -fs -o /dev/null "http://127.0.0.1:$port/healthz" && break
			sleep 0.1
		done
		out=$("$loadgen" loadgen --url "http://127.0.0.1:$port" --pid "$pid" --data "$dir" --levels "$level" \
			--ramp "${RAMP:-20s}" --steady "${STEADY:-30s}" --echo="$echo" "${extra[@]}" 2>&1)
		kill "$pid" && wait "$pid" || true
		if [[ $echo == false ]]; then
			row=$(grep '^| ours' <<<"$out" | tail -1)
		else
			row=$(grep -A2 'ours / echo' <<<"$out" | tail -1)
		fi
		echo "run $r $(basename "$bin"): $row"
		rm -rf "$dir"
	done
done
