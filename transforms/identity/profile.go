package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"cdp/pii"
	"cdp/transforms/identity/normal"
)

// Profile is one party as unification sees it: the golden record, its
// source records, its relationships and the merges and splits it went
// through.
type Profile struct {
	PartyID string           `json:"party_id"`
	Lookup  string           `json:"lookup"` // how the argument was resolved
	Party   map[string]any   `json:"party"`
	Records []map[string]any `json:"source_records"`
	Related []map[string]any `json:"relationships"`
	Events  []map[string]any `json:"identity_events"`
	Others  []string         `json:"other_matches,omitempty"` // further parties the argument matched
	Masked  bool             `json:"masked"`
	// View is the party's mart.customer_360 row, once cdp view has built it.
	View map[string]any `json:"customer_360,omitempty"`
}

// ErrNoParty is returned when nothing matches the lookup.
var ErrNoParty = errors.New("no party matches")

var partyIDPattern = regexp.MustCompile(`^P\d{10}$`)

// LookupProfile finds a party by party id (following merges), resident ID
// or credit code, mobile, or exact name, and loads its profile. PII (ID
// numbers, mobiles) is masked unless unmask is set.
func LookupProfile(ctx context.Context, db *sql.DB, arg string, unmask bool) (*Profile, error) {
	return LookupProfileWith(ctx, db, arg, LookupOptions{Unmask: unmask})
}

// LookupOptions shape a profile lookup.
type LookupOptions struct {
	Unmask bool // show ID numbers and mobiles whole
	// Visible, if set, keeps those of ids the reader may see (a user
	// limited to branches): the lookup finds no other party, answering as
	// if it did not exist, and a relationship to another party keeps that
	// party's id but not its name.
	Visible func(ctx context.Context, ids []string) ([]string, error)
}

// HiddenName stands for the name of a related party the reader may not see.
const HiddenName = "(outside your scope)"

// LookupProfileWith is LookupProfile with options.
func LookupProfileWith(ctx context.Context, db *sql.DB, arg string, o LookupOptions) (*Profile, error) {
	unmask := o.Unmask
	arg = strings.TrimSpace(arg)
	ids, how, err := resolve(ctx, db, arg)
	if err == nil && o.Visible != nil && len(ids) > 0 {
		ids, err = o.Visible(ctx, ids)
	}
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%w %q (tried party id, resident ID, credit code, mobile and name)", ErrNoParty, maskArg(arg))
	}
	p := &Profile{PartyID: ids[0], Lookup: how, Others: ids[1:], Masked: !unmask}
	// Masks by the PII policy's classification of the table's columns.
	masker := func(table string) func(col string, v any) any {
		return func(col string, v any) any {
			s, ok := v.(string)
			if !ok || unmask {
				return v
			}
			return pii.Mask(pii.ClassOf("core", table, col), s)
		}
	}
	rows, err := queryMaps(ctx, db, `SELECT * EXCLUDE (fingerprint) FROM core.party WHERE party_id = ?`, masker("party"), p.PartyID)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%w %q", ErrNoParty, p.PartyID)
	}
	p.Party = rows[0]
	if p.Records, err = queryMaps(ctx, db, `SELECT system, source_key, name, id_no, id_valid, id_problem, birth_date, mobile,
		rule, round(score, 4) AS score, matched_to, business_date FROM core.party_xref WHERE party_id = ? ORDER BY system, source_key`, masker("party_xref"), p.PartyID); err != nil {
		return nil, err
	}
	if p.Related, err = queryMaps(ctx, db, `SELECT r.rel_type, CASE WHEN r.party_id = ? THEN r.related_party_id ELSE r.party_id END AS other_party,
		o.name AS other_name, CASE WHEN r.party_id = ? THEN 'from' ELSE 'to' END AS direction, r.evidence
		FROM core.party_relationship r
		JOIN core.party o ON o.party_id = CASE WHEN r.party_id = ? THEN r.related_party_id ELSE r.party_id END
		WHERE ? IN (r.party_id, r.related_party_id) ORDER BY 1, 2`, masker("party_relationship"), p.PartyID, p.PartyID, p.PartyID, p.PartyID); err != nil {
		return nil, err
	}
	if o.Visible != nil {
		if err := hideRelated(ctx, p.Related, o.Visible); err != nil {
			return nil, err
		}
	}
	// The 360° view, when it has been built (cdp view).
	var has360 bool
	if err := db.QueryRowContext(ctx, `SELECT count(*) > 0 FROM duckdb_tables() WHERE schema_name = 'mart' AND table_name = 'customer_360'`).Scan(&has360); err == nil && has360 {
		rows, err := queryMaps(ctx, db, `SELECT * EXCLUDE (party_id, name, id_no_masked, mobile_masked) FROM mart.customer_360 WHERE party_id = ?`,
			func(_ string, v any) any { return v }, p.PartyID)
		if err != nil {
			return nil, err
		}
		if len(rows) > 0 {
			p.View = rows[0]
		}
	}
	if p.Events, err = queryMaps(ctx, db, `SELECT run_id, happened_at, kind, old_party_id, new_party_id, records FROM ops.identity_events
		WHERE ? IN (old_party_id, new_party_id) ORDER BY happened_at, kind`, masker("identity_events"), p.PartyID); err != nil {
		return nil, err
	}
	return p, nil
}

// hideRelated replaces the name and evidence of related parties the reader
// may not see.
func hideRelated(ctx context.Context, related []map[string]any, visible func(context.Context, []string) ([]string, error)) error {
	var others []string
	for _, r := range related {
		if id, ok := r["other_party"].(string); ok {
			others = append(others, id)
		}
	}
	if len(others) == 0 {
		return nil
	}
	seen, err := visible(ctx, others)
	if err != nil {
		return err
	}
	for _, r := range related {
		if id, _ := r["other_party"].(string); !slices.Contains(seen, id) {
			r["other_name"], r["evidence"] = HiddenName, nil
		}
	}
	return nil
}

// resolve turns the argument into party ids and says how.
func resolve(ctx context.Context, db *sql.DB, arg string) ([]string, string, error) {
	q := func(query string, args ...any) ([]string, error) {
		rows, err := db.QueryContext(ctx, query, args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, rows.Err()
	}
	if partyIDPattern.MatchString(strings.ToUpper(arg)) {
		id := strings.ToUpper(arg)
		ids, err := q(`SELECT party_id FROM core.party WHERE party_id = ?`, id)
		if err != nil || len(ids) > 0 {
			return ids, "party id", err
		}
		// Merged or split away: follow the log to where its records went.
		ids, err = q(`SELECT new_party_id FROM ops.identity_events WHERE old_party_id = ?
			GROUP BY new_party_id ORDER BY sum(records) DESC, new_party_id`, id)
		return ids, "party id " + id + " (merged or split since; following ops.identity_events)", err
	}
	if pid := normal.ResidentID(arg); pid.Valid {
		ids, err := q(`SELECT DISTINCT party_id FROM core.party_xref WHERE id_no = ? ORDER BY 1`, pid.ID)
		return ids, "resident ID", err
	}
	if c := normal.CreditCode(arg); c.Valid {
		ids, err := q(`SELECT DISTINCT party_id FROM core.party_xref WHERE id_no = ? OR id_no = ? ORDER BY 1`, c.Code, c.OrgCode)
		return ids, "credit code", err
	}
	if m := normal.Mobile(arg); m.Kind == normal.MobileCN {
		ids, err := q(`SELECT party_id FROM core.party_xref WHERE mobile = ? GROUP BY party_id ORDER BY count(*) DESC, party_id`, m.Number)
		return ids, "mobile", err
	}
	ids, err := q(`SELECT party_id FROM core.party WHERE name = ? OR name = ? ORDER BY source_records DESC, party_id`,
		normal.PersonName(arg), normal.CompanyName(arg))
	if err == nil && len(ids) == 0 {
		ids, err = q(`SELECT DISTINCT party_id FROM core.party_xref WHERE source_key = ? ORDER BY 1`, arg)
		return ids, "source key", err
	}
	return ids, "name", err
}

func queryMaps(ctx context.Context, db *sql.DB, query string, mask func(string, any) any, args ...any) ([]map[string]any, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		m := make(map[string]any, len(cols))
		for i, c := range cols {
			m[c] = mask(c, vals[i])
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// maskArg hides an identifier the user typed before it reaches an error.
func maskArg(s string) string {
	if m := normal.Mobile(s); m.Kind == normal.MobileCN {
		return pii.MaskMobile(m.Number)
	}
	digits := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	if digits >= 7 {
		return pii.MaskID(s)
	}
	return s
}
