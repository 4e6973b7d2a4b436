package schedules

import (
	"github.com/prometheus/client_golang/prometheus"

	"cdp/pipeline"
)

// Metrics are the scheduler's Prometheus series. A nil *Metrics records
// nothing.
type Metrics struct {
	runs         *prometheus.CounterVec
	rows         *prometheus.CounterVec
	rejects      *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	running      *prometheus.GaugeVec
	lastSuccess  *prometheus.GaugeVec
	alerts       *prometheus.CounterVec
	stageSeconds *prometheus.HistogramVec
	stageRows    *prometheus.CounterVec
	stageErrors  *prometheus.CounterVec
}

// NewMetrics registers the scheduler's series with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cdp_job_runs_total",
			Help: "Job attempts by job and final status (success, failed, skipped)."}, []string{"job", "status"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cdp_job_rows_total",
			Help: "Rows written by a job's stages."}, []string{"job"}),
		rejects: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cdp_job_rejects_total",
			Help: "Rows rejected by a job's stages (ops.rejects)."}, []string{"job"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "cdp_job_duration_seconds",
			Help: "Wall time of job attempts.", Buckets: prometheus.ExponentialBuckets(1, 2, 14)}, []string{"job"}),
		running: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "cdp_job_running",
			Help: "1 while an attempt of the job runs."}, []string{"job"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "cdp_job_last_success_timestamp_seconds",
			Help: "Unix time the job last succeeded."}, []string{"job"}),
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cdp_job_alerts_total",
			Help: "Jobs that failed for good (every retry used) and raised the alert."}, []string{"job"}),
		stageSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "cdp_stage_duration_seconds",
			Help: "Wall time of pipeline stages.", Buckets: prometheus.ExponentialBuckets(0.25, 2, 16)}, []string{"stage"}),
		stageRows: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cdp_stage_rows_total",
			Help: "Rows written by stage (loaded, modelled, changed, decided or published)."}, []string{"stage"}),
		stageErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cdp_stage_errors_total",
			Help: "Failed stage runs; stage=\"publish\" counts publish errors."}, []string{"stage"}),
	}
	reg.MustRegister(m.runs, m.rows, m.rejects, m.duration, m.running, m.lastSuccess, m.alerts, m.stageSeconds, m.stageRows, m.stageErrors)
	return m
}

func (m *Metrics) started(job string) {
	if m != nil {
		m.running.WithLabelValues(job).Set(1)
	}
}

func (m *Metrics) run(r Run) {
	if m == nil {
		return
	}
	m.runs.WithLabelValues(r.Job, r.Status).Inc()
	if r.Status == StatusSkipped {
		return
	}
	m.running.WithLabelValues(r.Job).Set(0)
	m.rows.WithLabelValues(r.Job).Add(float64(r.Rows))
	m.rejects.WithLabelValues(r.Job).Add(float64(r.Rejects))
	m.duration.WithLabelValues(r.Job).Observe(r.Seconds())
	if r.Status == StatusSuccess {
		m.lastSuccess.WithLabelValues(r.Job).Set(float64(r.EndedAt.Unix()))
	}
}

func (m *Metrics) stage(job string, r pipeline.Result, err error) {
	if m == nil {
		return
	}
	m.stageSeconds.WithLabelValues(r.Stage).Observe(r.Seconds)
	m.stageRows.WithLabelValues(r.Stage).Add(float64(r.Rows))
	if err != nil {
		m.stageErrors.WithLabelValues(r.Stage).Inc()
	}
}

func (m *Metrics) alerted(job string) {
	if m != nil {
		m.alerts.WithLabelValues(job).Inc()
	}
}
