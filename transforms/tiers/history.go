package tiers

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	"cdp/outbox"
	"cdp/warehouse"
)

// Tier history and movements. Every build compares each party's new tier
// with its current one (the open row of mart.tier_history) and, in the
// build's transaction:
//
//   - records what moved in mart.tier_changes: a party's first tier
//     (direction new), a move up or down, a party gone (merged away);
//   - closes the history rows of the parties that moved (valid_to = the
//     day) and opens their new ones;
//   - queues one event per moved party on cdp.tiers.changes
//     (schemas/tier-change.json), except on the first build, which only
//     records the baseline.
//
// The comparison is with each party's current tier, so an unchanged
// rebuild writes nothing, and a second build of the same day that moves a
// party again replaces the tier that began that day rather than closing
// it with an empty interval (the move is recorded, and sent, as from the
// tier the first build gave). An event's id hashes the party, the day and
// the move, and one already in the outbox is not queued again. A build for
// a day before the history's newest day leaves the history alone and says
// so: history goes forward in business time.

// TierChangesTopic is the topic tier-change events go to.
const TierChangesTopic = "cdp.tiers.changes"

// History is what a build did to the tier history.
type History struct {
	Baseline bool  `json:"baseline"` // the first build: every party's first tier, no events
	Skipped  bool  `json:"skipped"`  // the build's day is before the history's newest: left alone
	Changes  int64 `json:"changes"`  // parties whose tier moved (or appeared, or went)
	Up       int64 `json:"up"`
	Down     int64 `json:"down"`
	Events   int64 `json:"events"`
}

// recordHistory updates mart.tier_history and mart.tier_changes from
// mart.value_tier on conn, inside the caller's transaction.
func recordHistory(ctx context.Context, conn *sql.Conn, cfg Config, runID string, log *slog.Logger) (*History, error) {
	h := &History{}
	var asOf, newest sql.NullString
	if err := conn.QueryRowContext(ctx, `SELECT CAST(max(as_of) AS VARCHAR), (SELECT CAST(max(valid_from) AS VARCHAR) FROM mart.tier_history)
		FROM mart.value_tier`).Scan(&asOf, &newest); err != nil {
		return nil, fmt.Errorf("mart.tier_history: %w", err)
	}
	if !asOf.Valid {
		return h, nil // no parties
	}
	if newest.Valid && newest.String > asOf.String {
		h.Skipped = true
		log.Warn("tier history not updated: the build's day is before the history's newest", "as_of", asOf.String, "history_to", newest.String)
		return h, nil
	}
	lit := warehouse.Literal
	day, run := "DATE "+lit(asOf.String), lit(runID)
	h.Baseline = !newest.Valid
	stmts := []string{
		`CREATE OR REPLACE TEMP TABLE cdp_tier_diff AS
		 SELECT coalesce(n.party_id, o.party_id) AS party_id, n.party_type,
		        o.tier AS old_tier, o.tier_zh AS old_tier_zh, n.tier AS new_tier, n.tier_zh AS new_tier_zh,
		        CASE WHEN o.party_id IS NULL THEN 'new' WHEN n.party_id IS NULL THEN 'gone'
		             WHEN n.tier_rank < ` + rankSQL("o.tier") + ` THEN 'up' ELSE 'down' END AS direction,
		        n.tier_basis AS basis, CAST(n.basis_value AS DECIMAL(20, 2)) AS basis_value,
		        ` + cfg.reasonSQL("n") + ` AS reason
		 FROM mart.value_tier n
		 FULL JOIN (SELECT * FROM mart.tier_history WHERE valid_to IS NULL) o USING (party_id)
		 WHERE o.party_id IS NULL OR n.party_id IS NULL OR o.tier <> n.tier`,
		`INSERT INTO mart.tier_changes SELECT ` + run + `, ` + day + `, party_id, party_type, old_tier, new_tier, direction, basis, basis_value, reason
		 FROM cdp_tier_diff`,
		// A tier that began today and moves again today is replaced.
		`DELETE FROM mart.tier_history h USING cdp_tier_diff d
		 WHERE h.party_id = d.party_id AND h.valid_to IS NULL AND h.valid_from = ` + day,
		`UPDATE mart.tier_history h SET valid_to = ` + day + ` FROM cdp_tier_diff d
		 WHERE h.party_id = d.party_id AND h.valid_to IS NULL`,
		`INSERT INTO mart.tier_history SELECT party_id, new_tier, new_tier_zh, ` + day + `, NULL, reason, ` + run + `
		 FROM cdp_tier_diff WHERE new_tier IS NOT NULL`,
	}
	for _, q := range stmts {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("tier history: %w", err)
		}
	}
	if err := conn.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (direction = 'up'), count(*) FILTER (direction = 'down') FROM cdp_tier_diff`).
		Scan(&h.Changes, &h.Up, &h.Down); err != nil {
		return nil, err
	}
	if h.Baseline {
		return h, nil
	}
	var err error
	id := outbox.IDSQL("'tiers'", "party_id", lit(asOf.String), "coalesce(old_tier, '')", "coalesce(new_tier, '')")
	h.Events, err = outbox.EnqueueSQL(ctx, conn, `SELECT * FROM (SELECT `+id+` AS event_id,
		       `+lit(TierChangesTopic)+` AS topic, party_id AS key, 'cdp.tier.changed' AS type, '/cdp/tiers' AS source,
		       party_id AS subject, now() AS time,
		       CAST(json_object('party_id', party_id, 'party_type', party_type, 'as_of', `+lit(asOf.String)+`, 'run_id', `+run+`,
		            'old_tier', old_tier, 'old_tier_zh', old_tier_zh, 'new_tier', new_tier, 'new_tier_zh', new_tier_zh,
		            'direction', direction, 'basis', basis, 'basis_value', CAST(basis_value AS DOUBLE), 'reason', reason) AS VARCHAR) AS data,
		       `+run+` AS producer
		FROM cdp_tier_diff) WHERE event_id NOT IN (SELECT event_id FROM ops.outbox WHERE topic = `+lit(TierChangesTopic)+`)`, "key")
	if err != nil {
		return nil, fmt.Errorf("tier-change events: %w", err)
	}
	return h, nil
}

// rankSQL is a tier's rank (1 core, 2 growth, 3 base) as SQL.
func rankSQL(col string) string {
	return "CASE " + col + " WHEN 'core' THEN 1 WHEN 'growth' THEN 2 ELSE 3 END"
}

// reasonSQL is why a mart.value_tier row (aliased t) has its tier: the
// criteria that held (criteria_reason), or ListReason for a tier the
// approved list set.
func (c Config) reasonSQL(t string) string {
	list := "'approved key-account list (名单制): ' || " + t + ".list_reason || ' (approved by ' || " + t + ".list_approver" +
		" || coalesce(' on ' || CAST(" + t + ".list_approved_on AS VARCHAR), '') || coalesce(', until ' || CAST(" + t + ".list_valid_to AS VARCHAR), '')" +
		" || '); by the criteria: ' || " + t + ".computed_tier"
	return "CASE WHEN " + t + ".tier_source = 'list' THEN " + list + " ELSE " + t + ".criteria_reason END"
}
