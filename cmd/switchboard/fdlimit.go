package main

// Open files and live calls. Each live call holds one open file, its websocket, besides
// what the server keeps open for itself (the journal's files, the listener, the HTTP
// requests of pages, starts and metrics). A server whose open-file limit is reached can
// accept no connection at all: new calls, reconnects, health checks and the journal's
// next log segment all fail or wait. So serve caps --max-calls below the limit, and a
// start past the cap is refused as the floor refuses any start past --max-calls (503,
// too_many_calls, Retry-After), which a client can act on.

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
