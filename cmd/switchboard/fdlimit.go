package main

import "fmt"

// Open files and live calls. Each live call holds one open file, its websocket, besides
// what the server keeps open for itself (the journal's files, the listener, the HTTP
// requests of pages, starts and metrics). A server whose open-file limit is reached can
// accept no connection at all: new calls, reconnects, health checks and the journal's
// next log segment all fail or wait. So serve caps --max-calls below the limit, and a
// start past the cap is refused as the floor refuses any start past --max-calls (503,
// too_many_calls, Retry-After), which a client can act on.

// defaultMaxCalls is serve's --max-calls when none is given, as far as the open-file limit
// holds them: one instance carries a training floor (docs/performance.md measures 19,000
// calls in about 420 MB on a 2-core machine). With a smaller open-file limit, the default
// is what the limit holds.
const defaultMaxCalls = 20_000

// maxFileReserve is how many open files serve keeps for itself, beyond one per live
// call: the journal (SQLite's database, WAL and shared memory, per pooled connection; the
// acknowledgement log's segments and lock), the listener, and the HTTP requests and
// supervisors' websockets that come and go. With a small limit it keeps a quarter instead.
const maxFileReserve = 256

// callsWithinFiles returns how many live calls fit in an open-file limit of limit files.
func callsWithinFiles(limit uint64) int {
	reserve := min(limit/4, maxFileReserve)
	return int(min(limit-reserve, uint64(1<<31-1)))
}

// filesForCalls returns the smallest open-file limit within which calls live calls fit
// (callsWithinFiles, which never decreases as the limit grows).
func filesForCalls(calls int) uint64 {
	n := uint64(max(calls, 0))
	lo, hi := n, 2*n+4*maxFileReserve // callsWithinFiles(hi) >= n
	for lo < hi {
		mid := lo + (hi-lo)/2
		if callsWithinFiles(mid) >= calls {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// maxCallsFor returns the live-call limit serve runs with when asked for asked calls (0:
// the default), under an open-file limit of limit files (known false: the system has
// none), and what to log about it: a warning when the calls asked for do not fit, a note
// when the default is held down by the limit, nothing otherwise.
func maxCallsFor(asked int, limit uint64, known bool) (calls int, warning, note string) {
	if asked == 0 {
		calls = defaultMaxCalls
		if known {
			if most := callsWithinFiles(limit); most < calls {
				note = fmt.Sprintf("live calls are capped at %d by this process's open-file limit (%d: one file per call, %d kept for the server); raise the limit (ulimit -n, or LimitNOFILE= under systemd) to %d for the default %d",
					most, limit, limit-uint64(most), filesForCalls(calls), calls)
				calls = most
			}
		}
		return calls, "", note
	}
	if known {
		if most := callsWithinFiles(limit); asked > most {
			return most, fmt.Sprintf("--max-calls %d is more than this process's open files allow: each live call holds one (its websocket) and the server keeps %d for itself, so calls are capped at %d; raise the limit (ulimit -n, or LimitNOFILE= under systemd) to %d to allow them all",
				asked, limit-uint64(most), most, filesForCalls(asked)), ""
		}
	}
	return asked, "", ""
}
