package api

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/web/live"
)

// metrics are the server's Prometheus metrics, in a registry of its own (several servers
// may live in one process, as in tests). GET /metrics serves them in the text format.
type metrics struct {
	reg    *prometheus.Registry
	live   *live.Metrics // the calls' counters
	commit prometheus.Histogram
	batch  prometheus.Histogram
	// The SQLite journal's acknowledgement log: the commits inputs wait for.
	logCommit prometheus.Histogram
	logBatch  prometheus.Histogram
}

// latencyBuckets span 100 µs to ~3 s.
var latencyBuckets = prometheus.ExponentialBuckets(0.0001, 2, 16)

func newMetrics(s *Server) *metrics {
	m := &metrics{
		reg:  prometheus.NewRegistry(),
		live: live.NewMetrics(latencyBuckets),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "switchboard_journal_commit_seconds",
			Help: "Journal transactions (group commit), BEGIN to COMMIT: PostgreSQL's, or SQLite's (behind its acknowledgement log).", Buckets: latencyBuckets}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "switchboard_journal_batch_writes",
			Help: "Writes committed per journal transaction.", Buckets: prometheus.ExponentialBuckets(1, 2, 12)}),
		logCommit: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "switchboard_journal_log_commit_seconds",
			Help: "SQLite journal: batches written to the acknowledgement log, write to fsync (the commit an input waits for).", Buckets: latencyBuckets}),
		logBatch: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "switchboard_journal_log_batch_writes",
			Help: "SQLite journal: writes acknowledged per batch of the acknowledgement log.", Buckets: prometheus.ExponentialBuckets(1, 2, 12)}),
	}
	m.reg.MustRegister(m.live.MessagesIn, m.live.MessagesOut, m.live.Errors, m.live.Turn, m.live.Recovered, m.commit, m.batch,
		m.logCommit, m.logBatch,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "switchboard_live_calls",
			Help: "Calls held in memory (open calls; studio calls until 10 minutes after their end)."},
			func() float64 { return float64(s.LiveCalls()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "switchboard_journal_backlog_writes",
			Help: "Journal writes waiting to be acknowledged, as admission control counts them (new calls are refused as busy past 1,024 that would take 1 s, or 4,096)."},
			func() float64 {
				if b, ok := s.journal.(journal.Backlogger); ok {
					return float64(b.Backlog())
				}
				return 0
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "switchboard_journal_apply_lag_writes",
			Help: "Writes acknowledged from the SQLite journal's acknowledgement log and not yet applied to its database."},
			func() float64 {
				if l, ok := s.journal.(interface{ ApplyLag() int }); ok {
					return float64(l.ApplyLag())
				}
				return 0
			}),
		collectors.NewGoCollector(),                                       // go_goroutines, memory, GC
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), // RSS, CPU, open fds
	)
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: nil})
}

// ObserveCommit records one journal commit: how many writes it held and how long it took.
// serve wires it to the SQLite journal's commit observer.
func (s *Server) ObserveCommit(writes int, took time.Duration) {
	s.metrics.batch.Observe(float64(writes))
	s.metrics.commit.Observe(took.Seconds())
}

// ObserveLogCommit records one batch of the SQLite journal's acknowledgement log: how many
// writes it acknowledged and how long its write and fsync took. serve wires it to the
// journal's log commit observer.
func (s *Server) ObserveLogCommit(writes int, took time.Duration) {
	s.metrics.logBatch.Observe(float64(writes))
	s.metrics.logCommit.Observe(took.Seconds())
}
