package warehouse

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"cdp/pii"
)

// ExportSchemas are the layers an export may write; raw and ops stay in
// the warehouse.
var ExportSchemas = []string{"core", "mart"}

// exportFileBytes is the size at which a table's partition rolls over to a
// further file (data_1.parquet …): large enough for few files, small enough
// for Spark and Trino to split the work.
const exportFileBytes = "512MB"

// ExportOptions say what to export, where, and for which business date.
type ExportOptions struct {
	Dir string // the export root; created when missing
	// Date labels the partition (dt=): the business date (pipeline.BusinessDay
	// for the core model's newest day). Required.
	Date    time.Time
	Schemas []string // layers to export; default ExportSchemas
	// Tables are globs over schema.table ("mart.*", "core.party"); one
	// without a dot matches a table name in every schema. Empty: every
	// table. A glob that matches no table is an error.
	Tables []string
	// Unmask writes ID numbers and mobiles in full; by default they are
	// masked the way mart.customer_360 masks them.
	Unmask  bool
	Version string // the cdp version recorded in the manifest
	Logger  *slog.Logger
	// Progress, when set, is called as each table starts and once at the
	// end, with the rows written so far and the (estimated) rows in all.
	Progress func(table string, done, total int64)
}

// ExportReport is what an export wrote.
type ExportReport struct {
	Dir      string          `json:"dir"`
	Date     string          `json:"date"`
	Unmasked bool            `json:"unmasked"` // ID numbers and mobiles written in full
	Tables   []ExportedTable `json:"tables"`
	Rows     int64           `json:"rows"`
	Bytes    int64           `json:"bytes"`
	Manifest string          `json:"manifest"`
	Seconds  float64         `json:"seconds"`
}

// ExportedTable is one table's partition.
type ExportedTable struct {
	Table    string         `json:"table"` // schema.table
	Path     string         `json:"path"`  // the partition folder, relative to the export root
	Files    int            `json:"files"`
	Rows     int64          `json:"rows"`
	Bytes    int64          `json:"bytes"`
	Columns  []ExportColumn `json:"columns"`
	Masked   []string       `json:"masked,omitempty"`   // PII columns written masked
	Unmasked []string       `json:"unmasked,omitempty"` // PII columns written in full (Unmask)
	Replaced bool           `json:"replaced"`           // an earlier export of this date was replaced
}

// ExportColumn is a column as written to Parquet (the dt partition column
// is in the folder name, not in the files).
type ExportColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// ExportManifest is DIR/_manifest/dt=<date>.json: every table exported for
// the date, the latest export of each.
type ExportManifest struct {
	Date      string          `json:"date"`
	Version   string          `json:"cdp_version,omitempty"`
	Warehouse string          `json:"warehouse"`
	WrittenAt time.Time       `json:"written_at"`
	Tables    []ExportedTable `json:"tables"`
}

// exportTable is one table to write: what to select and what it holds.
type exportTable struct {
	schema, name string
	columns      []ExportColumn
	selectList   []string // column expressions, masks applied
	masked, full []string
	estimate     int64
}

func (t exportTable) qualified() string { return t.schema + "." + t.name }

// partition is the table's partition folder for a date, relative to the
// export root, with forward slashes.
func (t exportTable) partition(date string) string {
	return path.Join(t.schema, t.name, "dt="+date)
}

// Export writes the core and mart tables to o.Dir as Parquet in Hive-style
// daily full-snapshot partitions, the way out of the warehouse when one
// machine is no longer enough; Spark, Trino and DuckDB read them as they are:
//
//	DIR/<schema>/<table>/dt=<YYYY-MM-DD>/data_0.parquet   (data_1 … for large tables)
//	DIR/_manifest/dt=<YYYY-MM-DD>.json                     (written last)
//
// Guarantees:
//   - An export of a date replaces that date's partition of every table it
//     writes and leaves other dates alone: rows are never doubled.
//   - Every table is first written under DIR/.tmp-<pid>/, all in one DuckDB
//     read transaction (one consistent snapshot); only when every table is
//     written are the partitions renamed into place. A failure or cancel
//     before that leaves the earlier partitions as they were and nothing
//     half-written visible (readers skip the hidden staging folder).
//   - The manifest is written after the renames: a partition newer than its
//     manifest entry means an export died during the renames.
//   - ID numbers and mobiles are masked unless o.Unmask.
func (w *Warehouse) Export(ctx context.Context, o ExportOptions) (ExportReport, error) {
	start := time.Now()
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	if o.Dir == "" {
		return ExportReport{}, errors.New("export: no folder to export to")
	}
	schemas, err := exportSchemas(o.Schemas)
	if err != nil {
		return ExportReport{}, err
	}
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return ExportReport{}, err
	}
	defer conn.Close()
	date, err := exportDate(o.Date)
	if err != nil {
		return ExportReport{}, err
	}
	warnStaleMart(ctx, conn, date, log)
	tables, err := planExport(ctx, conn, schemas, o.Tables, o.Unmask)
	if err != nil {
		return ExportReport{}, err
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return ExportReport{}, fmt.Errorf("export to %s: %w", o.Dir, err)
	}
	warnLeftovers(o.Dir, log)
	staging := filepath.Join(o.Dir, fmt.Sprintf(".tmp-%d", os.Getpid()))
	if err := os.RemoveAll(staging); err != nil {
		return ExportReport{}, fmt.Errorf("export staging %s: %w", staging, err)
	}
	defer os.RemoveAll(staging)

	rep := ExportReport{Dir: o.Dir, Date: date, Unmasked: o.Unmask}
	rep.Tables, err = stageTables(ctx, conn, tables, date, staging, o.Progress)
	if err != nil {
		return ExportReport{}, fmt.Errorf("export to %s (nothing replaced): %w", o.Dir, err)
	}
	// Past this point the work is done: the renames are quick and are not
	// cancelled half-way.
	for i := range rep.Tables {
		et := &rep.Tables[i]
		if et.Replaced, err = publishPartition(o.Dir, staging, et.Path); err != nil {
			return ExportReport{}, err
		}
		rep.Rows += et.Rows
		rep.Bytes += et.Bytes
	}
	manifest, err := writeManifest(o.Dir, staging, ExportManifest{
		Date: date, Version: o.Version, Warehouse: w.path, WrittenAt: time.Now().UTC(), Tables: rep.Tables,
	})
	if err != nil {
		return ExportReport{}, err
	}
	rep.Manifest = manifest
	rep.Seconds = time.Since(start).Seconds()
	if o.Unmask {
		log.Warn("export wrote ID numbers and mobiles in full (--unmask)", "dir", o.Dir, "date", date)
	}
	log.Info("warehouse exported", "dir", o.Dir, "date", date, "tables", len(rep.Tables), "rows", rep.Rows, "bytes", rep.Bytes, "seconds", rep.Seconds)
	return rep, nil
}

// stageTables writes every table's partition under the staging folder in
// one read transaction, so that all come from the same snapshot.
func stageTables(ctx context.Context, conn *sql.Conn, tables []exportTable, date, staging string, progress func(string, int64, int64)) ([]ExportedTable, error) {
	if progress == nil {
		progress = func(string, int64, int64) {}
	}
	var total, done int64
	for _, t := range tables {
		total += t.estimate
	}
	var out []ExportedTable
	err := InTx(ctx, conn, func() error {
		for _, t := range tables {
			progress(t.qualified(), done, max(total, done))
			et, err := stageTable(ctx, conn, t, date, staging)
			if err != nil {
				return err
			}
			done += et.Rows
			out = append(out, et)
		}
		return nil
	})
	if err == nil {
		err = ctx.Err() // cancelled as the transaction ended
	}
	if err != nil {
		return nil, err
	}
	progress("", done, done)
	return out, nil
}

// exportSchemas checks the layers asked for.
func exportSchemas(asked []string) ([]string, error) {
	if len(asked) == 0 {
		return slices.Clone(ExportSchemas), nil
	}
	for _, s := range asked {
		if !slices.Contains(ExportSchemas, s) {
			return nil, fmt.Errorf("export schema %q: want %s (raw and ops stay in the warehouse)", s, strings.Join(ExportSchemas, " or "))
		}
	}
	return asked, nil
}

// exportDate is the partition's business date, which the caller decides
// (the business date rule belongs to the core model, not to storage).
func exportDate(asked time.Time) (string, error) {
	if asked.IsZero() {
		return "", errors.New("export: no business date to label the partition with (ExportOptions.Date)")
	}
	return asked.Format(time.DateOnly), nil
}

// warnStaleMart warns when the mart stages last ran for another day than
// the one the partition is labelled with: the labels would then mislead.
func warnStaleMart(ctx context.Context, conn *sql.Conn, date string, log *slog.Logger) {
	for _, runs := range []string{"ops.tag_runs", "ops.signal_runs"} {
		var last sql.NullString
		err := conn.QueryRowContext(ctx, `SELECT CAST(max(as_of) AS VARCHAR) FROM `+runs).Scan(&last)
		if err == nil && last.Valid && last.String != date {
			log.Warn("the mart was built for another day than the export's date", "runs", runs, "last_run_as_of", last.String, "export_date", date)
		}
	}
}

// warnLeftovers names staging folders a killed export left behind.
func warnLeftovers(dir string, log *slog.Logger) {
	left, _ := filepath.Glob(filepath.Join(dir, ".tmp-*"))
	for _, l := range left {
		if l != filepath.Join(dir, fmt.Sprintf(".tmp-%d", os.Getpid())) {
			log.Warn("staging folder left by an export that did not finish; no reader sees it, delete it", "folder", l)
		}
	}
}

// planExport lists the tables of the schemas that the globs select, with
// their columns and the masks to apply.
func planExport(ctx context.Context, conn *sql.Conn, schemas, globs []string, unmask bool) ([]exportTable, error) {
	for _, g := range globs {
		if _, err := path.Match(exportGlob(g), ""); err != nil {
			return nil, fmt.Errorf("table filter %q: %w", g, err)
		}
	}
	all, err := listTables(ctx, conn, schemas)
	if err != nil {
		return nil, err
	}
	var tables []exportTable
	matched := make([]bool, len(globs))
	for _, t := range all {
		if selected(t.qualified(), globs, matched) {
			tables = append(tables, t)
		}
	}
	for i, g := range globs {
		if !matched[i] {
			return nil, fmt.Errorf("table filter %q matches no table in %s", g, strings.Join(schemas, ", "))
		}
	}
	if len(tables) == 0 {
		return nil, fmt.Errorf("no table to export in %s", strings.Join(schemas, ", "))
	}
	for i := range tables {
		if err := addColumns(ctx, conn, &tables[i], unmask); err != nil {
			return nil, err
		}
	}
	return tables, nil
}

// listTables lists the tables of the schemas, with DuckDB's estimate of
// their rows.
func listTables(ctx context.Context, conn *sql.Conn, schemas []string) ([]exportTable, error) {
	quoted := make([]string, len(schemas))
	for i, s := range schemas {
		quoted[i] = Literal(s)
	}
	rows, err := conn.QueryContext(ctx, `SELECT schema_name, table_name, estimated_size FROM duckdb_tables()
		WHERE database_name = current_database() AND NOT temporary AND schema_name IN (`+strings.Join(quoted, ", ")+`)
		ORDER BY schema_name, table_name`)
	if err != nil {
		return nil, fmt.Errorf("list the tables to export: %w", err)
	}
	defer rows.Close()
	var tables []exportTable
	for rows.Next() {
		var t exportTable
		if err := rows.Scan(&t.schema, &t.name, &t.estimate); err != nil {
			return nil, err
		}
		if strings.ContainsAny(t.name, `/\`) || strings.HasPrefix(t.name, ".") {
			return nil, fmt.Errorf("table %s: its name cannot be a folder name", t.qualified())
		}
		tables = append(tables, t)
	}
	return tables, rows.Err()
}

// exportGlob makes a table-name-only glob match that name in every schema.
func exportGlob(g string) string {
	if !strings.Contains(g, ".") {
		return "*." + g
	}
	return g
}

// selected reports whether any glob matches table (all do when there are
// none), marking in matched the globs that did.
func selected(table string, globs []string, matched []bool) bool {
	if len(globs) == 0 {
		return true
	}
	hit := false
	for i, g := range globs {
		if ok, _ := path.Match(exportGlob(g), table); ok {
			hit = true
			if matched != nil {
				matched[i] = true
			}
		}
	}
	return hit
}

// addColumns reads the table's columns into its select list, masking those
// whose names say they hold an ID number or a phone.
func addColumns(ctx context.Context, conn *sql.Conn, t *exportTable, unmask bool) error {
	rows, err := conn.QueryContext(ctx, `SELECT column_name, data_type FROM duckdb_columns()
		WHERE database_name = current_database() AND schema_name = ? AND table_name = ? ORDER BY column_index`, t.schema, t.name)
	if err != nil {
		return fmt.Errorf("columns of %s: %w", t.qualified(), err)
	}
	defer rows.Close()
	for rows.Next() {
		var column, typ string
		if err := rows.Scan(&column, &typ); err != nil {
			return err
		}
		t.addColumn(column, typ, unmask)
	}
	return rows.Err()
}

// addColumn adds one column to the select list.
func (t *exportTable) addColumn(column, typ string, unmask bool) {
	ident := Ident(column)
	class := pii.ClassOf(t.schema, t.name, column)
	switch {
	case !class.Masked():
		t.selectList = append(t.selectList, ident)
	case unmask:
		t.selectList = append(t.selectList, ident)
		t.full = append(t.full, column)
	default:
		value := ident
		if typ != "VARCHAR" {
			// A phone kept as a number, or JSON, is masked as text.
			value, typ = "CAST("+ident+" AS VARCHAR)", "VARCHAR"
		}
		t.selectList = append(t.selectList, pii.MaskSQL(class, value)+" AS "+ident)
		t.masked = append(t.masked, column)
	}
	t.columns = append(t.columns, ExportColumn{Name: column, Type: typ})
}

// stageTable writes one table's partition under the staging folder.
func stageTable(ctx context.Context, conn *sql.Conn, t exportTable, date, staging string) (ExportedTable, error) {
	rel := t.partition(date)
	dir := filepath.Join(staging, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return ExportedTable{}, fmt.Errorf("export %s: %w", t.qualified(), err)
	}
	copySQL := fmt.Sprintf(`COPY (SELECT %s FROM %s.%s) TO %s (FORMAT parquet, COMPRESSION zstd, FILE_SIZE_BYTES %s)`,
		strings.Join(t.selectList, ", "), Ident(t.schema), Ident(t.name), Literal(dir), Literal(exportFileBytes))
	res, err := conn.ExecContext(ctx, copySQL)
	if err != nil {
		return ExportedTable{}, fmt.Errorf("export %s: %w", t.qualified(), err)
	}
	rows, err := res.RowsAffected()
	if err != nil {
		return ExportedTable{}, fmt.Errorf("export %s: %w", t.qualified(), err)
	}
	files, bytes, err := folderSize(dir)
	if err != nil {
		return ExportedTable{}, fmt.Errorf("export %s: %w", t.qualified(), err)
	}
	return ExportedTable{
		Table: t.qualified(), Path: rel, Files: files, Rows: rows, Bytes: bytes,
		Columns: t.columns, Masked: t.masked, Unmasked: t.full,
	}, nil
}

// folderSize counts the files in dir and their bytes.
func folderSize(dir string) (files int, bytes int64, err error) {
	err = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files++
		bytes += info.Size()
		return nil
	})
	return files, bytes, err
}

// publishPartition moves a staged partition into place, replacing the one
// an earlier export of the date left there. The earlier one is moved aside
// first and put back if the move fails, so the folder always holds one
// whole partition (for the instant between the two renames, none).
func publishPartition(root, staging, rel string) (replaced bool, err error) {
	rel = filepath.FromSlash(rel)
	final := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return false, fmt.Errorf("export partition %s: %w", final, err)
	}
	aside := filepath.Join(staging, "replaced", rel)
	if _, err := os.Stat(final); err == nil {
		if err := os.MkdirAll(filepath.Dir(aside), 0o755); err != nil {
			return false, fmt.Errorf("export partition %s: %w", final, err)
		}
		if err := os.Rename(final, aside); err != nil {
			return false, fmt.Errorf("export partition %s: move the earlier export aside: %w", final, err)
		}
		replaced = true
	}
	if err := os.Rename(filepath.Join(staging, rel), final); err != nil {
		if replaced {
			err = errors.Join(err, os.Rename(aside, final))
		}
		return false, fmt.Errorf("export partition %s: %w", final, err)
	}
	return replaced, nil
}

// ManifestPath is the manifest of a date's export under root.
func ManifestPath(root, date string) string {
	return filepath.Join(root, "_manifest", "dt="+date+".json")
}

// writeManifest writes the date's manifest, keeping the entries of tables
// this export did not write from the earlier manifest of the same date,
// and returns its path. It is written to the staging folder and renamed,
// so a reader never sees half of it.
func writeManifest(root, staging string, m ExportManifest) (string, error) {
	target := ManifestPath(root, m.Date)
	if b, err := os.ReadFile(target); err == nil {
		var earlier ExportManifest
		if json.Unmarshal(b, &earlier) == nil {
			for _, t := range earlier.Tables {
				if !slices.ContainsFunc(m.Tables, func(n ExportedTable) bool { return n.Table == t.Table }) {
					m.Tables = append(m.Tables, t)
				}
			}
			slices.SortFunc(m.Tables, func(a, b ExportedTable) int { return strings.Compare(a.Table, b.Table) })
		}
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return "", err
	}
	tmp := filepath.Join(staging, "manifest.json")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return "", fmt.Errorf("export manifest: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return "", fmt.Errorf("export manifest: %w", err)
	}
	if err := os.Rename(tmp, target); err != nil {
		return "", fmt.Errorf("export manifest: %w", err)
	}
	return target, nil
}
