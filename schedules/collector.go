package schedules

import (
	"context"
	"database/sql"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// warehouseCollector reads the ledgers' gauges from the warehouse at each
// scrape: outbox backlog and its oldest event, publish errors, rows loaded
// and rejected.
type warehouseCollector struct {
	db                                          *sql.DB
	backlog, oldest, pubErrors, loaded, rejects *prometheus.Desc
	up                                          *prometheus.Desc
}

// NewWarehouseCollector is a Prometheus collector of the warehouse ledgers.
func NewWarehouseCollector(db *sql.DB) prometheus.Collector {
	return &warehouseCollector{db: db,
		backlog: prometheus.NewDesc("cdp_outbox_backlog", "Events in ops.outbox not yet acknowledged by Kafka.", nil, nil),
		oldest: prometheus.NewDesc("cdp_outbox_oldest_age_seconds",
			"Age of the oldest event waiting in ops.outbox (0 when empty).", nil, nil),
		pubErrors: prometheus.NewDesc("cdp_outbox_publish_errors",
			"Waiting events whose last publish attempt failed (ops.outbox.last_error).", nil, nil),
		loaded: prometheus.NewDesc("cdp_rows_loaded_total", "Rows loaded into raw.* (ops.loads).", nil, nil),
		rejects: prometheus.NewDesc("cdp_rows_rejected_total",
			"Rows rejected at ingest with their reason (ops.rejects).", []string{"reason"}, nil),
		up: prometheus.NewDesc("cdp_warehouse_up", "1 when the warehouse answered the scrape's queries.", nil, nil),
	}
}

func (c *warehouseCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.backlog, c.oldest, c.pubErrors, c.loaded, c.rejects, c.up} {
		ch <- d
	}
}

func (c *warehouseCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var backlog, pubErrors int64
	var oldest float64
	var loaded int64
	err := c.db.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM ops.outbox WHERE published_at IS NULL),
		(SELECT coalesce(epoch(now()) - epoch(min(created_at)), 0) FROM ops.outbox WHERE published_at IS NULL),
		(SELECT count(*) FROM ops.outbox WHERE published_at IS NULL AND last_error IS NOT NULL),
		(SELECT coalesce(sum(rows_loaded), 0) FROM ops.loads WHERE status = 'loaded')`).Scan(&backlog, &oldest, &pubErrors, &loaded)
	if err == nil {
		var rows *sql.Rows
		rows, err = c.db.QueryContext(ctx, `SELECT r.reason, count(*) FROM ops.rejects r JOIN ops.loads l USING (load_id)
			WHERE l.status = 'loaded' GROUP BY 1`)
		if err == nil {
			for rows.Next() {
				var reason string
				var n int64
				if rows.Scan(&reason, &n) == nil {
					ch <- prometheus.MustNewConstMetric(c.rejects, prometheus.CounterValue, float64(n), reason)
				}
			}
			err = rows.Err()
			rows.Close()
		}
	}
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(c.backlog, prometheus.GaugeValue, float64(backlog))
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, oldest)
	ch <- prometheus.MustNewConstMetric(c.pubErrors, prometheus.GaugeValue, float64(pubErrors))
	ch <- prometheus.MustNewConstMetric(c.loaded, prometheus.CounterValue, float64(loaded))
}
