package serve

import (
	"context"
	"database/sql"
	"time"

	"github.com/prometheus/client_golang/prometheus"

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
