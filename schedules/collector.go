package schedules

import (
	"context"
	"database/sql"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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
