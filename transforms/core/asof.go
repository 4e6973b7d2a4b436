package core

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"cdp/transforms/sqltext"
)

// The business date: the core model's newest snapshot day is the date every
// dated stage (tags, signals) and export runs as of unless told another.

// SnapshotTables are the core tables that keep a version of their rows per
// snapshot day (as_of_date). A dated tag or rule reads one as of its day
// with {day:TABLE}; the other core tables are events (dated by their own
// time columns) or the current state.
var SnapshotTables = []string{"core.aum_daily", "core.holding_daily", "core.loan_daily"}

// AsOf is what the SQL of a dated evaluation as of day (YYYY-MM-DD) may use:
//
//	{as_of}       the day, a DATE
//	{day:TABLE}   the newest snapshot day of TABLE (one of SnapshotTables)
//	              on or before it: the day's snapshot, or the last one
//	              before a day without a delivery
func AsOf(day string) sqltext.Vars {
	date := sqltext.Date(day)
	return sqltext.Vars{
		"as_of": sqltext.Value(date),
		"day": func(table string) (string, error) {
			if !slices.Contains(SnapshotTables, table) {
				return "", fmt.Errorf("{day:TABLE} is for a snapshot table (%s)", strings.Join(SnapshotTables, ", "))
			}
			return "(SELECT max(as_of_date) FROM " + table + " WHERE as_of_date <= " + date + ")", nil
		},
	}
}

// AsOfFixed is AsOf with each {day:TABLE} the snapshot day itself, read
// from q on first use (a DATE literal; NULL before the table's first
// snapshot), not a subquery over TABLE: the same values, for SQL whose
// tables are read through a filter (a subquery over the filtered rows
// could find an older day).
func AsOfFixed(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, day string) sqltext.Vars {
	vars := AsOf(day)
	sub := vars["day"]
	days := map[string]string{}
	vars["day"] = func(table string) (string, error) {
		if d, ok := days[table]; ok {
			return d, nil
		}
		s, err := sub(table)
		if err != nil {
			return "", err
		}
		var d sql.NullString
		if err := q.QueryRowContext(ctx, `SELECT CAST(`+s+` AS VARCHAR)`).Scan(&d); err != nil {
			return "", fmt.Errorf("the snapshot day of %s: %w", table, err)
		}
		days[table] = "CAST(NULL AS DATE)"
		if d.Valid {
			days[table] = sqltext.Date(d.String)
		}
		return days[table], nil
	}
	return vars
}

// NewestSnapshotDay is the newest business day in core.aum_daily
// (YYYY-MM-DD), the date dated stages and exports default to. Never today:
// a run dated today on an empty warehouse would refuse every later run for
// the real (earlier) business dates.
func NewestSnapshotDay(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (string, error) {
	var newest sql.NullString
	if err := q.QueryRowContext(ctx, `SELECT CAST(max(as_of_date) AS VARCHAR) FROM core.aum_daily`).Scan(&newest); err != nil {
		return "", fmt.Errorf("newest snapshot day: %w (build the core model first: cdp model)", err)
	}
	if !newest.Valid {
		return "", errors.New("no snapshot day in core.aum_daily: ingest the feeds and run cdp unify and cdp model first")
	}
	return newest.String, nil
}

// BusinessDate resolves the business date (YYYY-MM-DD) a dated run
// describes: asOf when given, else the newest snapshot day. A date before
// the newest as_of in runs (a run table) is refused: such runs only move
// forward.
func BusinessDate(ctx context.Context, conn *sql.Conn, asOf time.Time, runs string) (string, error) {
	day := asOf.Format(time.DateOnly)
	if asOf.IsZero() {
		newest, err := NewestSnapshotDay(ctx, conn)
		if err != nil {
			return "", fmt.Errorf("the as-of date: %w, or give --as-of", err)
		}
		day = newest
	}
	var last sql.NullString
	if err := conn.QueryRowContext(ctx, `SELECT CAST(max(as_of) AS VARCHAR) FROM `+runs).Scan(&last); err != nil {
		return "", fmt.Errorf("%s: %w", runs, err)
	}
	if last.Valid && day < last.String {
		return "", fmt.Errorf("as of %s is before the last run's %s: history only moves forward (cdp tags eval and cdp signals eval look at a past day without writing it)", day, last.String)
	}
	return day, nil
}
