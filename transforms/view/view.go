// Package view builds mart.customer_360: one wide row per party describing
// the customer whole — masked identity, tier and scores, holdings by product
// type, AUM and its 30/90-day trend, credit exposure and worst five-class,
// cards and spend, digital activity, relationships, tags and relationship
// manager. It reads the core model, mart.value_tier and mart.tags, and is
// rebuilt whole in one statement. Beside it, mart.party_team names each
// party's service team (the contact feed's roster as of the 360's day) and
// mart.party_owner its owning RM, branch and team members, which cdp serve
// scopes users by.
//
// The same transaction puts a profile summary of every party whose summary
// changed into the outbox, for the compacted cdp.profile topic, and a
// deletion (a tombstone) for every party that no longer exists (merged).
package view

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"cdp/outbox"
	cdppii "cdp/pii"
	"cdp/warehouse"
)

//go:embed customer_360.sql
var customer360SQL string

//go:embed party_owner.sql
var partyOwnerSQL string

//go:embed party_team.sql
var partyTeamSQL string

// bytesPerParty is what DuckDB may hold for one party while it builds the
// 360 (every source's aggregate, the tags as a map, the joins): the build
// of 731k parties fitted DuckDB's 11.3 GiB, that of 1M parties did not, so
// about 15 KiB; twice that leaves room. A part is as many parties as
// DuckDB's part of the memory budget holds at that rate.
const bytesPerParty = 32 << 10

// minPart is the fewest parties a part holds, whatever the budget.
const minPart = 50_000

var partRef = regexp.MustCompile(`\{part:([A-Za-z_][A-Za-z_0-9.]*)\}`)

// partBounds splits the parties into parts by party id: the first id of
// every part but the first ("" for the first), one part when all fit. parts
// > 0 asks for that many.
func partBounds(ctx context.Context, conn *sql.Conn, parts int, duckdb int64) ([]string, error) {
	var n int64
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM core.party`).Scan(&n); err != nil {
		if warehouse.MissingInput(err) {
			err = fmt.Errorf("%w (run cdp unify and cdp model first)", err)
		}
		return nil, err
	}
	if parts <= 0 {
		per := max(minPart, duckdb/bytesPerParty)
		parts = int((n + per - 1) / per)
	}
	bounds := []string{""}
	if parts <= 1 || n < int64(parts) {
		return bounds, nil
	}
	per := (n + int64(parts) - 1) / int64(parts)
	rows, err := conn.QueryContext(ctx, `SELECT party_id FROM (SELECT party_id, row_number() OVER (ORDER BY party_id) - 1 AS i FROM core.party)
		WHERE i > 0 AND i % ? = 0 ORDER BY party_id`, per)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		bounds = append(bounds, id)
	}
	return bounds, rows.Err()
}

// partSQL is the 360's query for part k: each {part:COLUMN} becomes the
// condition that COLUMN lies in the part's range of party ids.
func partSQL(bounds []string, k int) string {
	return partRef.ReplaceAllStringFunc(customer360SQL, func(m string) string {
		col := partRef.FindStringSubmatch(m)[1]
		var conds []string
		if bounds[k] != "" {
			conds = append(conds, col+" >= "+warehouse.Literal(bounds[k]))
		}
		if k+1 < len(bounds) {
			conds = append(conds, col+" < "+warehouse.Literal(bounds[k+1]))
		}
		if len(conds) == 0 {
			return "true"
		}
		return "(" + strings.Join(conds, " AND ") + ")"
	})
}

// ProfileTopic is the compacted topic of profile summaries.
const ProfileTopic = "cdp.profile"

// Options are one build's settings.
type Options struct {
	Logger *slog.Logger
	// AllowPII adds the full ID number and mobile to profile events; by
	// default they carry neither.
	AllowPII bool
	RunID    string
	// Parts splits the build into that many ranges of party ids; 0 lets
	// the memory budget decide (one part up to a few hundred thousand
	// parties, more beyond), so that DuckDB never holds the whole bank's
	// 360 at once.
	Parts int
}

// Summary is what a build did.
type Summary struct {
	Parties  int64   `json:"parties"`
	AsOf     string  `json:"as_of"`
	Profiles int64   `json:"profile_events"`
	Deleted  int64   `json:"profile_deletions"`
	Seconds  float64 `json:"seconds"`
}

// Build replaces mart.customer_360 and queues the changed profile summaries.
func Build(ctx context.Context, w *warehouse.Warehouse, o Options) (*Summary, error) {
	o, log, start := o.begin("view-")
	conn, err := w.DB().Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	s := &Summary{}
	var committing time.Time
	err = warehouse.InTx(ctx, conn, func() error {
		bounds, err := partBounds(ctx, conn, o.Parts, w.Budget().DuckDB)
		if err != nil {
			return fmt.Errorf("build mart.customer_360: %w", err)
		}
		for k := range bounds {
			t0 := time.Now()
			head := "CREATE OR REPLACE TABLE mart.customer_360 AS\n"
			if k > 0 {
				head = "INSERT INTO mart.customer_360\n"
			}
			if _, err := conn.ExecContext(ctx, head+partSQL(bounds, k)); err != nil {
				err = fmt.Errorf("build mart.customer_360 (part %d of %d): %w", k+1, len(bounds), err)
				if warehouse.MissingInput(err) {
					err = fmt.Errorf("%w (run cdp model, cdp tags run and cdp tiers first)", err)
				}
				return err
			}
			log.Debug("customer 360 rows built", "part", k+1, "of", len(bounds), "seconds", time.Since(t0).Seconds())
		}
		t0 := time.Now()
		if _, err := conn.ExecContext(ctx, partyTeamSQL); err != nil {
			return fmt.Errorf("build mart.party_team: %w", err)
		}
		log.Debug("customer 360 step", "step", "mart.party_team", "seconds", time.Since(t0).Seconds())
		t0 = time.Now()
		if _, err := conn.ExecContext(ctx, partyOwnerSQL); err != nil {
			return fmt.Errorf("build mart.party_owner: %w", err)
		}
		log.Debug("customer 360 step", "step", "mart.party_owner", "seconds", time.Since(t0).Seconds())
		err = queueProfiles(ctx, conn, o, s, log)
		committing = time.Now()
		return err
	})
	if err != nil {
		return nil, err
	}
	log.Debug("customer 360 step", "step", "commit", "seconds", time.Since(committing).Seconds())
	s.Seconds = time.Since(start).Seconds()
	log.Info("customer 360 built", "parties", s.Parties, "profile_events", s.Profiles, "profile_deletions", s.Deleted, "seconds", s.Seconds)
	return s, nil
}

// begin defaults o's logger and run id (prefix and the time) for a run
// starting now.
func (o Options) begin(prefix string) (Options, *slog.Logger, time.Time) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	start := time.Now()
	if o.RunID == "" {
		o.RunID = prefix + start.UTC().Format("20060102T150405.000")
	}
	return o, o.Logger, start
}

// RefreshSignals brings mart.customer_360's open_signals up to date with
// mart.signals after a signal run and queues the profile summaries that
// changed (only those: the signals of a party that moved). It does nothing
// before the first cdp view.
func RefreshSignals(ctx context.Context, w *warehouse.Warehouse, o Options) (*Summary, error) {
	o, log, start := o.begin("view-signals-")
	conn, err := w.DB().Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	s := &Summary{}
	var built bool
	if err := conn.QueryRowContext(ctx, `SELECT count(*) > 0 FROM duckdb_columns() WHERE schema_name = 'mart' AND table_name = 'customer_360'
		AND column_name = 'open_signals'`).Scan(&built); err != nil || !built {
		if err == nil {
			log.Warn("mart.customer_360 has no open_signals yet (built by an older cdp): run cdp view to add them")
		}
		return s, err
	}
	err = warehouse.InTx(ctx, conn, func() error {
		// Only the parties whose open signals moved: theirs are the only
		// summaries the refresh can change (the rest are as the 360's build
		// queued them, in the same transaction as it wrote the rows). A
		// summary that differs for another reason — the PII setting changed
		// between cdp view and the signals, a new cdp's summary fields —
		// goes out with the next cdp view.
		for _, q := range []string{
			`CREATE OR REPLACE TEMP TABLE cdp_open_moved AS
			 SELECT p.party_id, o.open_signals FROM mart.customer_360 p LEFT JOIN mart.party_open_signals o USING (party_id)
			 WHERE p.open_signals IS DISTINCT FROM o.open_signals`,
			`UPDATE mart.customer_360 c SET open_signals = n.open_signals FROM cdp_open_moved n WHERE c.party_id = n.party_id`,
		} {
			if _, err := conn.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("mart.customer_360 open_signals: %w", err)
			}
		}
		err := queueProfiles(ctx, conn, o, s, log, "cdp_open_moved")
		if _, derr := conn.ExecContext(ctx, `DROP TABLE IF EXISTS cdp_open_moved`); err == nil {
			err = derr
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	s.Seconds = time.Since(start).Seconds()
	log.Info("open signals in the 360 refreshed", "profile_events", s.Profiles, "seconds", s.Seconds)
	return s, nil
}

// queueProfiles counts the 360's parties into s and puts the summaries that differ from the last ones queued
// (ops.profile_state) into the outbox (schemas/profile.json). The hash
// leaves out as_of, so a new day alone sends nothing. With only (a table
// of party_id), it looks at those parties' summaries alone, and sends no
// deletions: the others are as they were queued.
func queueProfiles(ctx context.Context, conn *sql.Conn, o Options, s *Summary, log *slog.Logger, only ...string) error {
	if err := conn.QueryRowContext(ctx, `SELECT count(*), coalesce(CAST(max(as_of) AS VARCHAR), '') FROM mart.customer_360`).Scan(&s.Parties, &s.AsOf); err != nil {
		return err
	}
	pii, join, reason := "", "", cdppii.MaskSQL(cdppii.FreeText, "c.tier_reason")
	if o.AllowPII {
		reason = "c.tier_reason"
		pii, join = ", 'id_no', p.id_no, 'mobile', p.mobile", "LEFT JOIN core.party p USING (party_id)"
	}
	run := warehouse.Literal(o.RunID)
	where, state := "", `DELETE FROM ops.profile_state`
	if len(only) > 0 {
		where = ` WHERE c.party_id IN (SELECT party_id FROM ` + only[0] + `)`
		state = `DELETE FROM ops.profile_state WHERE party_id IN (SELECT party_id FROM cdp_profile)`
	}
	steps := []struct {
		what string
		run  func() error
	}{
		{"summaries", exec(ctx, conn, `CREATE OR REPLACE TEMP TABLE cdp_profile AS
		 SELECT party_id, as_of, body, md5(CAST(body AS VARCHAR)) AS hash FROM (
		   SELECT c.party_id, c.as_of, json_object(
		     'party_id', c.party_id, 'party_type', c.party_type, 'name', c.name, 'tier', c.tier, 'tier_zh', c.tier_zh,
		     'value_score', c.value_score, 'tier_source', c.tier_source, 'tier_reason', `+reason+`,
		     'tier_list_valid_to', CAST(c.tier_list_valid_to AS VARCHAR),
		     'contribution_band', c.contribution_band, 'contribution_last_month', c.contribution_last_month, 'lifecycle', c.lifecycle, 'segment', c.segment, 'risk_level', c.risk_level,
		     'aum', c.aum, 'aum_trend_30d_pct', c.aum_trend_30d_pct, 'aum_trend_90d_pct', c.aum_trend_90d_pct,
		     'deposits', c.deposits, 'product_types', c.product_types, 'credit_exposure', c.credit_exposure,
		     'worst_five_class', c.worst_five_class, 'card_accounts', c.card_accounts, 'best_card_tier', c.best_card_tier,
		     'digital_events_30d', c.digital_events_30d, 'systems', c.systems, 'related_parties', c.related_parties,
		     'chain_role', c.chain_role, 'open_signals', coalesce(to_json(c.open_signals), '[]'::JSON),
		     'rm_id', c.rm_id, 'branch_code', c.branch_code`+pii+`) AS body
		   FROM mart.customer_360 c `+join+where+`)`)},
		{"changed summaries", func() (err error) {
			// (the id names the summary it replaces and the run as well: a
			// summary can come back — a signal opens and closes — and must
			// be sent again; a rerun sends nothing, the state moved with it)
			s.Profiles, err = outbox.EnqueueSQL(ctx, conn, `SELECT `+outbox.IDSQL("'profile'", "n.party_id", "n.hash", "coalesce(s.hash, '')", run)+` AS event_id,
			        '`+ProfileTopic+`' AS topic, n.party_id AS key, 'cdp.profile.updated' AS type, '/cdp/profile' AS source,
			        n.party_id AS subject, now() AS time,
			        CAST(json_merge_patch(n.body, json_object('as_of', CAST(n.as_of AS VARCHAR))) AS VARCHAR) AS data, `+run+` AS producer
			 FROM cdp_profile n LEFT JOIN ops.profile_state s USING (party_id)
			 WHERE s.hash IS DISTINCT FROM n.hash`, "key")
			return err
		}},
		// Parties gone (merged into another): a deletion, sent as a
		// tombstone so compaction drops them.
		{"deletions", func() (err error) {
			if len(only) > 0 {
				return nil
			}
			s.Deleted, err = outbox.EnqueueSQL(ctx, conn, `SELECT `+outbox.IDSQL("'profile-deleted'", "s.party_id", "s.hash")+` AS event_id,
			        '`+ProfileTopic+`' AS topic, s.party_id AS key, 'cdp.profile.deleted' AS type, '/cdp/profile' AS source,
			        s.party_id AS subject, now() AS time, '' AS data, `+run+` AS producer
			 FROM ops.profile_state s ANTI JOIN cdp_profile n USING (party_id)`, "key")
			return err
		}},
		{"state", exec(ctx, conn, state)},
		{"state", exec(ctx, conn, `INSERT INTO ops.profile_state SELECT party_id, hash, as_of FROM cdp_profile`)},
		{"cleanup", exec(ctx, conn, `DROP TABLE cdp_profile`)},
	}
	for _, st := range steps {
		t0 := time.Now()
		if err := st.run(); err != nil {
			return fmt.Errorf("profile events: %s: %w", st.what, err)
		}
		log.Debug("profile events", "step", st.what, "seconds", time.Since(t0).Seconds())
	}
	return nil
}

// exec is a step running one statement.
func exec(ctx context.Context, conn *sql.Conn, q string) func() error {
	return func() error {
		_, err := conn.ExecContext(ctx, q)
		return err
	}
}
