package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"cdp/pipeline"
	"cdp/warehouse"
)

func newExportCmd(g *globals) *cobra.Command {
	var o warehouse.ExportOptions
	var date, schemas, tables string
	cmd := &cobra.Command{
		Use:   "export --to DIR",
		Short: "Write the core and mart tables as Parquet, one dt=<business date> partition per table, for Spark, Trino and DuckDB",
		Long: `export writes every core and mart table as zstd Parquet in Hive-style daily
full-snapshot partitions:

  DIR/<schema>/<table>/dt=<YYYY-MM-DD>/data_0.parquet
  DIR/_manifest/dt=<YYYY-MM-DD>.json   tables, rows, bytes, columns, masks, cdp version

The date is the warehouse's business date (the newest snapshot day in
core.aum_daily) unless --date labels it. Exporting a date again replaces
that date's partitions; other dates stay beside them. Tables are written to
a hidden DIR/.tmp-<pid> folder and moved into place only when all are
written, so a failure or Ctrl-C never leaves a half-written partition.

ID numbers and mobiles (columns named like id_no, legal_rep_id, match_key,
mobile, phone) are masked as in mart.customer_360: ID numbers keep their
first 6 and last 4 characters, mobiles their first 3 and last 4. --unmask
writes them in full.`,
		Example: `  cdp export --to /data/cdp
  cdp export --to /data/cdp --tables 'mart.*,core.party' --date 2026-11-20
  duckdb -c "SELECT dt, count(*) FROM read_parquet('/data/cdp/mart/customer_360/*/*.parquet', hive_partitioning=true) GROUP BY dt"`,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			if date != "" {
				d, err := time.Parse(time.DateOnly, date)
				if err != nil {
					return fmt.Errorf("--date %q: want YYYY-MM-DD", date)
				}
				o.Date = d
			}
			o.Schemas = splitList(schemas)
			o.Tables = splitList(tables)
			return nil
		},
	}
	projectCmd(g, cmd, func(ctx context.Context, _ *pipeline.Project, w *warehouse.Warehouse) (warehouse.ExportReport, error) {
		prog := pipeline.TerminalProgress(os.Stderr)
		defer prog.Done()
		o.Logger, o.Version, o.Progress = g.logger, cdpVersion(), exportProgress(prog)
		if o.Date.IsZero() {
			day, err := pipeline.BusinessDay(ctx, w)
			if err != nil {
				return warehouse.ExportReport{}, fmt.Errorf("the business date to export: %w, or give --date", err)
			}
			o.Date = day
		}
		return w.Export(ctx, o)
	}, printExport)
	f := cmd.Flags()
	f.StringVar(&o.Dir, "to", "", "export folder (created when missing)")
	f.StringVar(&date, "date", "", "business date YYYY-MM-DD labelling the partitions (default: the newest snapshot day)")
	f.StringVar(&schemas, "schemas", strings.Join(warehouse.ExportSchemas, ","), "layers to export")
	f.StringVar(&tables, "tables", "", "only tables matching these globs over schema.table, e.g. 'mart.*,core.party'")
	f.BoolVar(&o.Unmask, "unmask", false, "write ID numbers and mobiles in full (default: masked)")
	cmd.MarkFlagRequired("to")
	return cmd
}

// exportProgress shows an export's rows on a progress bar, one bar per table.
func exportProgress(p pipeline.Progress) func(table string, done, total int64) {
	return func(table string, done, total int64) {
		p.Done()
		if table != "" {
			p.Start("export "+table, total)
			p.Set(done)
		}
	}
}

// cdpVersion is the binary's version as the build recorded it: the module
// version (Go stamps one from the VCS), else the VCS revision.
func cdpVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision" && len(s.Value) >= 12:
			rev = s.Value[:12]
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = "+dirty"
		}
	}
	if rev == "" {
		return ""
	}
	return "devel " + rev + dirty
}

func printExport(w io.Writer, r warehouse.ExportReport) {
	fmt.Fprintf(w, "exported %d tables as of %s to %s: %d rows, %.1f MB in %.1fs\n",
		len(r.Tables), r.Date, r.Dir, r.Rows, float64(r.Bytes)/1e6, r.Seconds)
	var masked, full []string
	for _, t := range r.Tables {
		note := ""
		if t.Replaced {
			note = "  (replaced)"
		}
		fmt.Fprintf(w, "  %-28s %10d rows %10.2f MB  %s%s\n", t.Table, t.Rows, float64(t.Bytes)/1e6, t.Path, note)
		if len(t.Masked) > 0 {
			masked = append(masked, fmt.Sprintf("%s (%s)", t.Table, strings.Join(t.Masked, ", ")))
		}
		if len(t.Unmasked) > 0 {
			full = append(full, fmt.Sprintf("%s (%s)", t.Table, strings.Join(t.Unmasked, ", ")))
		}
	}
	switch {
	case len(full) > 0:
		fmt.Fprintf(w, "PII UNMASKED (--unmask): full ID numbers and mobiles in %s; protect this folder as customer data\n", strings.Join(full, ", "))
	case len(masked) > 0:
		fmt.Fprintf(w, "PII masked (ID numbers keep first 6 and last 4, mobiles first 3 and last 4) in %s; --unmask writes them in full\n", strings.Join(masked, ", "))
	}
	fmt.Fprintf(w, "manifest %s\n", r.Manifest)
	fmt.Fprintf(w, "read with DuckDB: SELECT * FROM read_parquet('%s', hive_partitioning=true)\n",
		filepath.Join(r.Dir, "mart", "customer_360", "*", "*.parquet"))
}
