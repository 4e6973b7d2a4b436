package pipeline

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"cdp/connectors/files"
	"cdp/connectors/rows"
	"cdp/pipeline/config"
)

// LateWindow is how many due business days back a feed is checked.
const LateWindow = 7

// LateFeed is a file that was due (its contract's expected:) and has not
// loaded: for one feed, entity and business day.
type LateFeed struct {
	Feed, Entity string
	Day          time.Time // the business day the file is for
	Due          time.Time
	// Pending: a file for the day is there but waits for its control file,
	// or failed to load.
	Pending bool
}

// Overdue is how long past due the file is at now.
func (l LateFeed) Overdue(now time.Time) time.Duration { return now.Sub(l.Due) }

// LateFeeds lists the files due by now and not loaded, oldest first, for
// every enabled files feed whose contract declares expected: arrivals.
// Days before the entity's first load are not counted (the feed had not
// started), except the newest due day of a feed that never loaded.
func LateFeeds(ctx context.Context, p *Project, db *sql.DB, now time.Time) ([]LateFeed, error) {
	loc, err := rows.Location(p.Warehouse.TimeZone)
	if err != nil {
		return nil, err
	}
	var out []LateFeed
	for i := range p.Feeds {
		f := &p.Feeds[i]
		if !*f.Enabled || f.Spec() == nil || f.Kind != config.KindFiles {
			continue
		}
		for _, e := range f.Spec().Entities {
			if e.Expected == nil || !slices.Contains(f.Entities, e.Name) {
				continue
			}
			pattern := e.Pattern
			if p, ok := f.Patterns[e.Name]; ok {
				pattern = p
			}
			loaded, waiting, first, err := arrivals(ctx, db, f.Name, e.ID(), pattern)
			if err != nil {
				return nil, err
			}
			days := e.Expected.DueDays(now, loc, LateWindow)
			for k, day := range days {
				ymd := day.Format("20060102")
				if loaded[ymd] || first == "" && k > 0 || first != "" && ymd < first {
					continue
				}
				out = append(out, LateFeed{Feed: f.Name, Entity: e.ID(), Day: day, Due: e.Expected.Due(day, loc), Pending: waiting[ymd]})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b LateFeed) int { return a.Due.Compare(b.Due) })
	return out, nil
}

// arrivals reads which business days of a feed's entity loaded, which
// wait (a file there but pending or failed), and the first day loaded; the
// day is the one the file's name carries by the entity's pattern.
func arrivals(ctx context.Context, db *sql.DB, feed, entity, pattern string) (loaded, waiting map[string]bool, first string, err error) {
	rs, err := db.QueryContext(ctx, `SELECT source, bool_or(status IN ('loaded', 'superseded')) FROM ops.loads
		WHERE feed = ? AND entity = ? AND kind = 'file' GROUP BY 1`, feed, entity)
	if err != nil {
		return nil, nil, "", fmt.Errorf("arrivals of %s: %w", entity, err)
	}
	defer rs.Close()
	loaded, waiting = map[string]bool{}, map[string]bool{}
	for rs.Next() {
		var source string
		var ok bool
		if err := rs.Scan(&source, &ok); err != nil {
			return nil, nil, "", fmt.Errorf("arrivals of %s: %w", entity, err)
		}
		day := files.BusinessDate(pattern, strings.TrimPrefix(source, feed+"/"))
		switch {
		case day == "":
		case ok:
			loaded[day] = true
			if first == "" || day < first {
				first = day
			}
		default:
			waiting[day] = true
		}
	}
	return loaded, waiting, first, rs.Err()
}
