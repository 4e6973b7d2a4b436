package serve

import (
	"context"
	"database/sql"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"cdp/pipeline"
	"cdp/pipeline/config"
	"cdp/serve/pgserve"
)

// warehouseCollector reads the load ledgers' gauges from the warehouse at
// each scrape: rows loaded and rejected, and whether the warehouse answered.
type warehouseCollector struct {
	db              *sql.DB
	loaded, rejects *prometheus.Desc
	up              *prometheus.Desc
}

// NewWarehouseCollector is a Prometheus collector of the load ledgers.
func NewWarehouseCollector(db *sql.DB) prometheus.Collector {
	return &warehouseCollector{db: db,
		loaded: prometheus.NewDesc("cdp_rows_loaded_total", "Rows loaded into raw.* (ops.loads).", nil, nil),
		rejects: prometheus.NewDesc("cdp_rows_rejected_total",
			"Rows rejected at ingest with their reason (ops.rejects).", []string{"reason"}, nil),
		up: prometheus.NewDesc("cdp_warehouse_up", "1 when the warehouse answered the scrape's queries.", nil, nil),
	}
}

func (c *warehouseCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.loaded, c.rejects, c.up} {
		ch <- d
	}
}

func (c *warehouseCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var loaded int64
	err := c.db.QueryRowContext(ctx, `SELECT coalesce(sum(rows_loaded), 0) FROM ops.loads WHERE status = 'loaded'`).Scan(&loaded)
	var rejects []prometheus.Metric
	if err == nil {
		var rows *sql.Rows
		rows, err = c.db.QueryContext(ctx, `SELECT r.reason, count(*) FROM ops.rejects r JOIN ops.loads l USING (load_id)
			WHERE l.status = 'loaded' GROUP BY 1`)
		if err == nil {
			for rows.Next() {
				var reason string
				var n int64
				if err = rows.Scan(&reason, &n); err != nil {
					break
				}
				rejects = append(rejects, prometheus.MustNewConstMetric(c.rejects, prometheus.CounterValue, float64(n), reason))
			}
			if err == nil {
				err = rows.Err()
			}
			rows.Close()
		}
	}
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(c.loaded, prometheus.CounterValue, float64(loaded))
	for _, m := range rejects {
		ch <- m
	}
}

// arrivalCollector exposes the files due and not loaded (pipeline.LateFeeds)
// at each scrape.
type arrivalCollector struct {
	p             *pipeline.Project
	db            *sql.DB
	now           func() time.Time
	late, overdue *prometheus.Desc
}

// NewArrivalCollector is a Prometheus collector of late feeds.
func NewArrivalCollector(p *pipeline.Project, db *sql.DB, now func() time.Time) prometheus.Collector {
	labels := []string{"feed", "entity"}
	return &arrivalCollector{p: p, db: db, now: now,
		late:    prometheus.NewDesc("cdp_feed_late_files", "Files due by now (the contract's expected:) and not loaded, per feed and entity.", labels, nil),
		overdue: prometheus.NewDesc("cdp_feed_overdue_seconds", "How long past due the oldest late file is, per feed and entity.", labels, nil)}
}

func (c *arrivalCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.late; ch <- c.overdue }

func (c *arrivalCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	now := c.now()
	late, err := pipeline.LateFeeds(ctx, c.p, c.db, now)
	if err != nil {
		return // cdp_warehouse_up says the warehouse did not answer
	}
	type key struct{ feed, entity string }
	count := map[key]int{}
	oldest := map[key]time.Duration{}
	for _, l := range late {
		k := key{l.Feed, l.Entity}
		count[k]++
		oldest[k] = max(oldest[k], l.Overdue(now))
	}
	// Every entity with arrivals declared has a series, 0 when on time.
	for _, f := range c.p.Feeds {
		if !*f.Enabled || f.Spec() == nil || f.Kind != config.KindFiles {
			continue
		}
		for _, e := range f.Spec().Entities {
			if e.Expected == nil {
				continue
			}
			k := key{f.Name, e.ID()}
			ch <- prometheus.MustNewConstMetric(c.late, prometheus.GaugeValue, float64(count[k]), k.feed, k.entity)
			ch <- prometheus.MustNewConstMetric(c.overdue, prometheus.GaugeValue, oldest[k].Seconds(), k.feed, k.entity)
		}
	}
}

// sqlCollector exposes the SQL endpoint's counters to Prometheus.
type sqlCollector struct{ s *pgserve.Server }

var (
	sqlSessions = prometheus.NewDesc("cdp_sql_sessions", "Open SQL sessions.", nil, nil)
	sqlQueries  = prometheus.NewDesc("cdp_sql_queries_total", "SQL statements received, refused ones included.", nil, nil)
	sqlErrors   = prometheus.NewDesc("cdp_sql_query_errors_total", "SQL statements that failed (errors, timeouts, results over max_rows).", nil, nil)
	sqlRefused  = prometheus.NewDesc("cdp_sql_refused_total", "SQL statements refused as writes, file access, ATTACH, INSTALL/LOAD or SET.", nil, nil)
	sqlAuth     = prometheus.NewDesc("cdp_sql_auth_failures_total", "Failed SQL logins.", nil, nil)
	sqlRunning  = prometheus.NewDesc("cdp_sql_running", "SQL statements running, by role.", []string{"role"}, nil)
)

func (c sqlCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{sqlSessions, sqlQueries, sqlErrors, sqlRefused, sqlAuth, sqlRunning} {
		ch <- d
	}
}

func (c sqlCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.Stats()
	ch <- prometheus.MustNewConstMetric(sqlSessions, prometheus.GaugeValue, float64(st.Sessions))
	ch <- prometheus.MustNewConstMetric(sqlQueries, prometheus.CounterValue, float64(st.Queries))
	ch <- prometheus.MustNewConstMetric(sqlErrors, prometheus.CounterValue, float64(st.QueryErrors))
	ch <- prometheus.MustNewConstMetric(sqlRefused, prometheus.CounterValue, float64(st.Refused))
	ch <- prometheus.MustNewConstMetric(sqlAuth, prometheus.CounterValue, float64(st.AuthFailures))
	for role, snap := range st.Snapshots {
		ch <- prometheus.MustNewConstMetric(sqlRunning, prometheus.GaugeValue, float64(snap.Running), role)
	}
}
