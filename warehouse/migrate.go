package warehouse

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"strings"

	"cdp/connectors/contract"
	"cdp/pii"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one versioned schema change. Versions only grow; a released
// migration is never edited, a change is a new migration.
type migration struct {
	version int
	name    string
	sql     func() (string, error)
}

func fileMigration(version int, file string) migration {
	return migration{version: version, name: file, sql: func() (string, error) {
		b, err := migrationFiles.ReadFile("migrations/" + file)
		return string(b), err
	}}
}

// migrations in order. Migration 3 creates the built-in raw tables from
// the contracts this cdp embeds; after that, a contract's columns change only
// by a versioned addition, which EnsureRawTable applies (and records in
// ops.contract_changes) before a feed's first load under the new version.
var migrations = []migration{
	fileMigration(1, "0001_layers.sql"),
	fileMigration(2, "0002_ops_ledgers.sql"),
	{version: 3, name: "raw tables from the feed contract", sql: func() (string, error) {
		var b strings.Builder
		for _, e := range contract.Entities {
			b.WriteString(e.CreateTableSQL())
			b.WriteString(";\n")
		}
		return b.String(), nil
	}},
	fileMigration(4, "0004_file_mtime.sql"),
	fileMigration(5, "0005_identity.sql"),
	fileMigration(6, "0006_tags.sql"),
	fileMigration(7, "0007_signals.sql"),
	fileMigration(8, "0008_job_runs.sql"),
	fileMigration(9, "0009_model_builds.sql"),
	fileMigration(10, "0010_tag_inputs.sql"),
	fileMigration(11, "0011_table_prints.sql"),
	fileMigration(12, "0012_outbox_checked.sql"),
	// The PII masks as DuckDB macros (cdp/pii); migrate also re-creates them
	// on every open, so a warehouse always masks as this cdp's pii package.
	{version: 13, name: "pii masks: mask_id, mask_mobile, mask_text", sql: func() (string, error) { return pii.MacrosSQL, nil }},
	fileMigration(14, "0014_contract_versions.sql"),
	fileMigration(15, "0015_feed_alerts.sql"),
	// The core banking feed became built in: its raw tables, for warehouses
	// migrated past 3 before it (IF NOT EXISTS: a newer warehouse already
	// has them from migration 3).
	{version: 16, name: "raw tables of the built-in core_banking contract", sql: func() (string, error) {
		return rawTablesSQL("core_banking"), nil
	}},
	// The contact center feed: its raw tables, and the loop's tables and
	// views over them and the signals.
	{version: 17, name: "the contact feed and the signal loop", sql: func() (string, error) {
		loop, err := migrationFiles.ReadFile("migrations/0017_signal_loop.sql")
		return rawTablesSQL("contact") + string(loop), err
	}},
	fileMigration(18, "0018_signal_lift.sql"),
	// Service teams: the contact feed's roster table, then the views over it.
	{version: 19, name: "service teams: the roster, owners of signals, coverage by member", sql: func() (string, error) {
		teams, err := migrationFiles.ReadFile("migrations/0019_service_teams.sql")
		return rawTablesSQL("contact") + fileDateMacro + string(teams), err
	}},
	fileMigration(20, "0020_tier_history.sql"),
	// 名单制: the contact feed's key-account list table, then its views.
	{version: 21, name: "the approved key-account list", sql: func() (string, error) {
		list, err := migrationFiles.ReadFile("migrations/0021_key_account_list.sql")
		return rawTablesSQL("contact") + string(list), err
	}},
	fileMigration(22, "0022_contribution.sql"),
	fileMigration(23, "0023_open_signals.sql"),
	fileMigration(24, "0024_external.sql"),
	fileMigration(25, "0025_party_prints.sql"),
	fileMigration(26, "0026_contribution_prints.sql"),
	fileMigration(27, "0027_team_latest_roster.sql"),
}

// fileDateMacro defines core.file_date(source): the business date of a
// raw row, as a DATE, from its _source (SnapshotDateOfSQL's date; NULL
// when the file name carries none). The contact feed's snapshot entities
// (the roster, the approved list) take the file of a day with it.
var fileDateMacro = "CREATE OR REPLACE MACRO core.file_date(source) AS CAST(try_strptime(nullif(" + SnapshotDateOfSQL("source") + ", ''), '%Y%m%d') AS DATE);\n"

// rawTablesSQL creates the raw tables of one built-in contract feed.
func rawTablesSQL(feed string) string {
	var b strings.Builder
	for _, e := range contract.Entities {
		if e.Feed == feed {
			b.WriteString(e.CreateTableSQL())
			b.WriteString(";\n")
		}
	}
	return b.String()
}

// SchemaVersion is the version a fully migrated warehouse has.
func SchemaVersion() int { return migrations[len(migrations)-1].version }

func (w *Warehouse) migrate(ctx context.Context) error {
	if _, err := w.db.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS ops;
		CREATE TABLE IF NOT EXISTS ops.schema_migrations (
			version INTEGER NOT NULL, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)`); err != nil {
		return fmt.Errorf("migrate %s: %w", w.path, err)
	}
	var current sql.NullInt64
	if err := w.db.QueryRowContext(ctx, "SELECT max(version) FROM ops.schema_migrations").Scan(&current); err != nil {
		return fmt.Errorf("migrate %s: %w", w.path, err)
	}
	if int(current.Int64) > SchemaVersion() {
		return fmt.Errorf("warehouse %s is at schema version %d, newer than this cdp (%d): upgrade cdp", w.path, current.Int64, SchemaVersion())
	}
	for _, m := range migrations {
		if m.version <= int(current.Int64) {
			continue
		}
		stmt, err := m.sql()
		if err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
		tx, err := w.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO ops.schema_migrations VALUES (?, ?, now())", m.version, m.name); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
	}
	// The masks are code, not schema: the ones of this cdp, whatever
	// version created the warehouse (a test holds them to pii's Go masks).
	if _, err := w.db.ExecContext(ctx, pii.MacrosSQL); err != nil {
		return fmt.Errorf("pii masks in %s: %w", w.path, err)
	}
	return nil
}
