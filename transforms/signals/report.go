package signals

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"cdp/warehouse"
)

// The funnel of the signal loop: how far the signals went once the CRM
// answered (mart.signal_outcomes, a view over mart.signals, the outbox and
// the contact feed).

// ReportBy are the groupings of a funnel report and the column of
// mart.signal_outcomes each groups by.
var ReportBy = map[string]string{
	"rule": "rule_id", "kind": "kind", "tier": "tier", "branch": "branch_code", "rm": "rm_id",
	"member": "owner_id", "role": "team_role", "week": "CAST(date_trunc('week', opened_on) AS VARCHAR)",
}

// ReportOptions choose a funnel report.
type ReportOptions struct {
	By       string    // a key of ReportBy; default rule
	From, To time.Time // signals opened on these days (zero: no bound)
	// Scope, when it limits, keeps the signals of the parties it allows
	// (mart.party_owner): a scoped user's funnel, as the SQL endpoint
	// shows it to them.
	Scope warehouse.PartyScope
	// Lang names the rules (by rule) in zh (default) or en.
	Lang string
}

// FunnelRow is one group's funnel.
type FunnelRow struct {
	Group               string  `json:"group"`
	Name                string  `json:"name,omitempty"` // the rule's name (by rule)
	Signals             int64   `json:"signals"`
	Published           int64   `json:"published"`
	Contacted           int64   `json:"contacted"`
	Interested          int64   `json:"interested"`
	Converted           int64   `json:"converted"`
	Declined            int64   `json:"declined"`
	ExpiredUncontacted  int64   `json:"expired_uncontacted"`
	ContactRate         float64 `json:"contact_rate"`    // contacted ÷ published
	ConversionRate      float64 `json:"conversion_rate"` // converted ÷ contacted
	ConvertedAmount     float64 `json:"converted_amount"`
	MedianDaysToContact float64 `json:"median_days_to_contact"` // from the signal's business day; 0 when none was contacted
}

// Funnel is a funnel report.
type Funnel struct {
	By    string      `json:"by"`
	From  string      `json:"from,omitempty"`
	To    string      `json:"to,omitempty"`
	Rows  []FunnelRow `json:"rows"`
	Total FunnelRow   `json:"total"`
}

// Report reads the funnel of the signals opened in the window, by one
// grouping, and its total.
func Report(ctx context.Context, db *sql.DB, o ReportOptions) (*Funnel, error) {
	if o.By == "" {
		o.By = "rule"
	}
	col, ok := ReportBy[o.By]
	if !ok {
		keys := make([]string, 0, len(ReportBy))
		for k := range ReportBy {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return nil, fmt.Errorf("signals report --by %q: want one of %s", o.By, strings.Join(keys, ", "))
	}
	f := &Funnel{By: o.By}
	where, args := dayWindow("opened_on", o.From, o.To, &f.From, &f.To)
	where += " AND " + o.Scope.PartiesSQL("party_id")
	nameCol := "name_zh"
	if o.Lang == "en" {
		nameCol = "name_en"
	}
	q := fmt.Sprintf(`SELECT grp, coalesce((SELECT any_value(%[4]s) FROM mart.signal_rules r WHERE r.rule_id = grp AND %[5]t), ''), * EXCLUDE (grp) FROM (
		SELECT grp, %[1]s, false AS total FROM (
			SELECT coalesce(CAST(%[2]s AS VARCHAR), '(none)') AS grp, * FROM mart.signal_outcomes WHERE %[3]s) GROUP BY grp
		UNION ALL
		SELECT 'total', %[1]s, true FROM mart.signal_outcomes WHERE %[3]s)
		ORDER BY total, grp`, funnelColumns, col, where, nameCol, o.By == "rule")
	rows, err := db.QueryContext(ctx, q, append(args, args...)...)
	if err != nil {
		return nil, fmt.Errorf("signals report: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r FunnelRow
		var total bool
		if err := rows.Scan(&r.Group, &r.Name, &r.Signals, &r.Published, &r.Contacted, &r.Interested, &r.Converted, &r.Declined,
			&r.ExpiredUncontacted, &r.ConvertedAmount, &r.MedianDaysToContact, &total); err != nil {
			return nil, err
		}
		if r.Published > 0 {
			r.ContactRate = float64(r.Contacted) / float64(r.Published)
		}
		if r.Contacted > 0 {
			r.ConversionRate = float64(r.Converted) / float64(r.Contacted)
		}
		if total {
			r.Group = "total"
			f.Total = r
			continue
		}
		f.Rows = append(f.Rows, r)
	}
	return f, rows.Err()
}

// funnelColumns are a group's figures, then whether the row is the total.
const funnelColumns = `count(*), count(published_at), count(contacted_at), count(interested_at), count(converted_at),
	count(declined_at), count(*) FILTER (state = 'expired'), CAST(coalesce(sum(converted_amount), 0) AS DOUBLE),
	coalesce(median(epoch(contacted_at - CAST(opened_on AS TIMESTAMPTZ)) / 86400.0), 0)`

// dayWindow is the condition keeping rows whose column falls from from to
// to (a zero one is no bound) and its arguments; it writes the bounds
// given, as YYYY-MM-DD, to fromText and toText.
func dayWindow(column string, from, to time.Time, fromText, toText *string) (string, []any) {
	where, args := "true", []any{}
	if !from.IsZero() {
		*fromText = from.Format(time.DateOnly)
		where += " AND " + column + " >= CAST(? AS DATE)"
		args = append(args, *fromText)
	}
	if !to.IsZero() {
		*toText = to.Format(time.DateOnly)
		where += " AND " + column + " <= CAST(? AS DATE)"
		args = append(args, *toText)
	}
	return where, args
}
