#!/usr/bin/env bash
# abq.sh - alternate switchboard binaries under the same load generator, without the echo
# baseline (quicker than ab.sh; for comparing servers with each other). Each run starts
# BINARY serve with its journal in a fresh folder under DATA, drives it with LOADGEN's
# `loadgen --url --echo=false --scenario SCENARIO`, and prints the generator's row.
#
# Usage: docs/bench/abq.sh LOADGEN DATA LEVEL RUNS SCENARIO BINARY...
#   e.g. docs/bench/abq.sh /tmp/sb-new /dev/shm/abq 10000 2 slow-clerk /tmp/sb-old /tmp/sb-new
# RAMP (default 20s) and STEADY (default 30s) set the windows.
#
# Run nothing else meanwhile: the machine's two cores are shared by the server and the
# generator.
set -euo pipefail
[[ $# -ge 6 ]] || { echo "usage: $0 LOADGEN DATA LEVEL RUNS SCENARIO BINARY..." >&2; exit 2; }
loadgen=$1 data=$2 level=$3 runs=$4 scenario=$5
shift 5
ulimit -n 20000
port=18980
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
		out=$("$loadgen" loadgen --url "http://127.0.0.1:$port" --pid "$pid" --levels "$level" \
			--ramp "${RAMP:-20s}" --steady "${STEADY:-30s}" --echo=false --scenario "$scenario" 2>&1)
		kill "$pid" && wait "$pid" || true
		echo "run $r $(basename "$bin"): $(tail -1 <<<"$out")"
		rm -rf "$dir"
	done
done
