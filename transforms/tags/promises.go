package tags

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"cdp/pii"
	"cdp/transforms/core"
	"cdp/transforms/sqltext"
	"cdp/warehouse"
)

// PromiseCheck is what CheckPromises did.
type PromiseCheck struct {
	// Sampled is how many parties the values were compared for; Checked
	// how many tags held to their declaration, Unchecked why the others
	// were not checked (tag → why), Broken is how many failed.
	Sampled   int64
	Checked   int
	Broken    int
	Unchecked map[string]string
}

// CheckPromises holds every party-scoped tag of the catalog to what its
// declaration promises — what lets a run compute it for the parties whose
// rows changed only — on the warehouse as it is, as of business day asOf,
// for a random sample of parties (sample of them, at most half the bank;
// the same every time):
//   - scope: party: its values for the sample are those of its SQL with
//     every table keyed by party read for the sample's rows alone;
//   - windows: also with each window's table read inside the window alone
//     (the last N days up to the day; a snapshot's rows on its day), and,
//     over the same rows, as of the next day (those of the day that would
//     leave a window and of the day that would enter it taken away, the
//     snapshot delivered again): the value comes from the rows, not the
//     calendar.
//
// It compares what the data shows: a promise the warehouse's rows cannot
// break (no rows outside a window yet) passes. A broken promise is a
// Problem naming the tag's file and line, the sampled parties whose values
// moved and one of them.
func CheckPromises(ctx context.Context, db *sql.DB, cat *Catalog, asOf string, sample int) (*PromiseCheck, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	out := &PromiseCheck{Unchecked: map[string]string{}}
	const parties = "cdp_promise_sample"
	var bank int64
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM core.party`).Scan(&bank); err != nil {
		if warehouse.MissingInput(err) {
			err = fmt.Errorf("%w (run cdp unify and cdp model first)", err)
		}
		return nil, fmt.Errorf("sample of parties: %w", err)
	}
	// At most half the bank: the others' rows must be left out for a tag
	// that reads them to show it.
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE %s AS
		SELECT party_id FROM core.party USING SAMPLE reservoir(%d ROWS) REPEATABLE (17)`, parties, max(min(int64(sample), bank/2), 1))); err != nil {
		return nil, fmt.Errorf("sample of parties: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `DROP TABLE IF EXISTS `+parties) //nolint:errcheck // (the next check would replace it)
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM `+parties).Scan(&out.Sampled); err != nil {
		return nil, err
	}
	cols, err := warehouse.PartyTables(ctx, conn, "")
	if err != nil {
		return nil, err
	}
	day, err := time.Parse(time.DateOnly, asOf)
	if err != nil {
		return nil, fmt.Errorf("as of %q: %w", asOf, err)
	}
	next := day.AddDate(0, 0, 1).Format(time.DateOnly)
	fixed := core.AsOfFixed(ctx, conn, asOf)
	var probs Problems
	for _, t := range cat.Tags {
		if t.Scope != PartyScope {
			continue
		}
		why, err := keepsPromise(ctx, conn, t, cols, parties, asOf, next, fixed)
		switch {
		case err != nil:
			return nil, fmt.Errorf("%s:%d: %s: %w", t.File, t.SQLLine, t.ID, err)
		case why.unchecked != "":
			out.Unchecked[t.ID] = why.unchecked
		case why.broken != "":
			out.Broken++
			probs = append(probs, Problem{File: t.File, Line: t.Line, Item: t.ID, Msg: why.broken})
		default:
			out.Checked++
		}
	}
	if len(probs) > 0 {
		return out, probs
	}
	return out, nil
}

// verdict is one tag's check: why it was not checked, or what broke.
type verdict struct{ unchecked, broken string }

// keepsPromise checks one party-scoped tag (see CheckPromises).
func keepsPromise(ctx context.Context, conn *sql.Conn, t *Tag, cols map[string][]string, parties, asOf, next string, fixed sqltext.Vars) (verdict, error) {
	text, err := t.Fill(fixed)
	if err != nil {
		return verdict{}, err
	}
	lit := warehouse.Literal
	// each table keyed by party read for the sample, and what more cond
	// (by table) says
	through := func(cond map[string]string, relabel map[string]string) map[string]string {
		read := map[string]string{}
		for key := range cols {
			sel := "*"
			if d, ok := relabel[key]; ok {
				sel = "* REPLACE (DATE " + lit(d) + " AS " + snapshotColumn + ")"
			}
			q := "(SELECT " + sel + " FROM %s WHERE " + inParties(parties)
			if c, ok := cond[key]; ok {
				q += " AND " + c
			}
			read[key] = q + ")"
		}
		return read
	}
	values := func(q string) (map[string]string, error) {
		return keyed[string](ctx, conn, `SELECT party_id, coalesce(CAST(value AS VARCHAR), '<null>') FROM (`+q+`)
			WHERE party_id IN (SELECT party_id FROM `+parties+`)`)
	}
	// sqlText's values with its tables read through read, or why not
	// (what: which reading, for the reason)
	valuesThrough := func(sqlText string, read map[string]string, what string) (map[string]string, string, error) {
		q, why, err := readThrough(ctx, conn, sqlText, read)
		if err != nil || q == "" {
			return nil, why, err
		}
		v, err := values(q)
		if err != nil {
			return nil, what + ", it fails: " + firstLine(err.Error()), nil
		}
		return v, "", nil
	}
	// what broke when b's values are not a's ("" when they are)
	broke := func(promise string, a, b map[string]string, how string) string {
		n, p := moved(a, b)
		if n == 0 {
			return ""
		}
		return fmt.Sprintf("%s does not hold: %d of %d sampled parties' values move %s (party %s: %s, then %s)",
			promise, n, len(a), how, p, show(a, p), show(b, p))
	}
	whole, err := values(text)
	if err != nil {
		return verdict{}, fmt.Errorf("sql fails when run: %s", firstLine(err.Error()))
	}
	mine, why, err := valuesThrough(text, through(nil, nil), "its tables filtered to the sample")
	if mine == nil {
		return verdict{unchecked: why}, err
	}
	if b := broke("scope: party", whole, mine, "with only their own rows read"); b != "" {
		return verdict{broken: b}, nil
	}
	if len(t.Windows) == 0 {
		return verdict{}, nil
	}
	// Inside the windows alone, as of the day: a table's rows inside any of
	// its windows; and of those, without the days that would leave one
	// tomorrow (the two days' rows the same).
	inside, leaving := map[string]string{}, map[string]string{}
	relabel := map[string]string{}
	snapDays := map[string]string{}
	var tables []string
	in, leaves := map[string][]string{}, map[string][]string{}
	for _, win := range t.Windows {
		key := strings.ToLower(win.Table)
		if _, ok := in[key]; !ok {
			tables = append(tables, key)
		}
		if win.Snapshot {
			d, err := fixed["day"](win.Table)
			if err != nil {
				return verdict{}, err
			}
			in[key] = append(in[key], snapshotColumn+" = "+d)
			snapDays[win.Table] = d
			continue
		}
		d := "CAST(" + warehouse.Ident(win.Column) + " AS DATE)"
		from := fmt.Sprintf("DATE %s - %d", lit(asOf), win.Days-1)
		in[key] = append(in[key], fmt.Sprintf("%s >= %s AND %s <= DATE %s", d, from, d, lit(asOf)))
		leaves[key] = append(leaves[key], fmt.Sprintf("%s = %s", d, from))
	}
	for _, key := range tables {
		inside[key] = "(" + strings.Join(in[key], ") OR (") + ")"
		leaving[key] = inside[key]
		if len(leaves[key]) > 0 {
			leaving[key] = "(" + inside[key] + ") AND NOT (" + strings.Join(leaves[key], " OR ") + ")"
		}
	}
	within, why, err := valuesThrough(text, through(inside, nil), "its windows' rows alone")
	if within == nil {
		return verdict{unchecked: why}, err
	}
	if b := broke("windows", whole, within, "with only the rows inside the windows as of "+asOf+" read"); b != "" {
		return verdict{broken: b}, nil
	}
	// The same rows, as of the day and the next.
	a, why, err := valuesThrough(text, through(leaving, nil), "over the rows of both days")
	if a == nil {
		return verdict{unchecked: why}, err
	}
	nextVars := core.AsOf(next)
	for table := range snapDays {
		relabel[strings.ToLower(table)] = next
	}
	nextVars["day"] = func(table string) (string, error) {
		if _, ok := snapDays[table]; ok {
			return sqltext.Date(next), nil
		}
		return fixed["day"](table)
	}
	nextText, err := t.Fill(nextVars)
	if err != nil {
		return verdict{}, err
	}
	b, why, err := valuesThrough(nextText, through(leaving, relabel), "as of the next day")
	if b == nil {
		return verdict{unchecked: why}, err
	}
	return verdict{broken: broke("windows", a, b, "from "+asOf+" to "+next+" over the same rows")}, nil
}

// moved counts the parties whose value differs between a and b (or that
// one of them lacks), and names the first of them in order.
func moved(a, b map[string]string) (int, string) {
	n, first := 0, ""
	note := func(p string) {
		n++
		if first == "" || p < first {
			first = p
		}
	}
	for p, v := range a {
		if w, ok := b[p]; !ok || w != v {
			note(p)
		}
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			note(p)
		}
	}
	return n, first
}

// show is a party's value in m (ID numbers and mobiles in it masked), or
// that it has none.
func show(m map[string]string, party string) string {
	if v, ok := m[party]; ok {
		return pii.Redact(v)
	}
	return "no value"
}
