package identity

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"cdp/transforms/sqltext"
)

// Relationships are built one kind at a time into a temp table, then
// de-duplicated into core.party_relationship: parties that are related but
// not the same. (One statement with all three kinds as a UNION lets DuckDB
// pick a plan that took minutes on a week of snapshots.) In the statements
// (cdp/transforms/sqltext), {run} is the run id, {shared_mobile_max} the
// largest shared-mobile group, and {scope} narrows an incremental run to the
// parties it rewrote.

// legalRepSQL: a company and the person whose resident ID is its legal
// representative's.
const legalRepSQL = `INSERT INTO cdp_rels
SELECT c.party_id, p.party_id, 'legal_representative', c.system || ':' || c.source_key
FROM core.party_xref c
JOIN (SELECT DISTINCT match_key, party_id FROM core.party_xref WHERE party_type = 'P' AND match_key IS NOT NULL) p
  ON p.match_key = 'R' || c.legal_rep_id
WHERE c.party_type = 'C' AND c.legal_rep_id IS NOT NULL {scope}`

// supplementarySQL: a supplementary card's holder and its primary holder,
// from the latest version of each account.
var supplementarySQL = `INSERT INTO cdp_rels
WITH accounts AS (
    SELECT * FROM (
        SELECT card_account_id, holder_id, primary_holder_id FROM raw.card_accounts {scope}
        QUALIFY row_number() OVER (PARTITION BY card_account_id
            ORDER BY ` + businessDateSQL + ` DESC, _load_id DESC, _source DESC) = 1)
    WHERE primary_holder_id IS NOT NULL AND primary_holder_id <> holder_id
)
SELECT h.party_id, ph.party_id, 'supplementary_card', 'card:' || a.card_account_id
FROM accounts a
JOIN core.party_xref h ON h.system = 'card' AND h.source_key = a.holder_id
JOIN core.party_xref ph ON ph.system = 'card' AND ph.source_key = a.primary_holder_id`

// sharedMobileSQL: persons of different parties sharing a mobile, in a
// group no bigger than a family.
const sharedMobileSQL = `INSERT INTO cdp_rels
WITH mobiles AS (
    SELECT mobile, party_id, min(system || ':' || source_key) AS ref
    FROM core.party_xref WHERE party_type = 'P' AND mobile_valid {scope} GROUP BY ALL
), families AS (
    SELECT mobile, string_agg(ref, ',' ORDER BY ref) AS refs FROM mobiles
    GROUP BY mobile HAVING count(*) BETWEEN 2 AND {shared_mobile_max}
), members AS (
    SELECT m.mobile, m.party_id FROM mobiles m SEMI JOIN families f ON f.mobile = m.mobile
)
SELECT a.party_id, b.party_id, 'shared_mobile', f.refs
FROM members a JOIN members b ON a.mobile = b.mobile AND a.party_id < b.party_id
JOIN families f ON f.mobile = a.mobile`

const relsTableSQL = `CREATE OR REPLACE TEMP TABLE cdp_rels (party_id VARCHAR, related_party_id VARCHAR, rel_type VARCHAR, evidence VARCHAR)`

const relsInsertSQL = `INSERT INTO core.party_relationship (party_id, related_party_id, rel_type, evidence, run_id)
SELECT party_id, related_party_id, rel_type, min(evidence), {run} FROM cdp_rels
WHERE party_id <> related_party_id {scope}
GROUP BY party_id, related_party_id, rel_type`

// relationshipsSQL rebuilds every relationship.
var relationshipsSQL = []scopedSQL{
	{q: `DELETE FROM core.party_relationship`}, {q: relsTableSQL},
	{q: legalRepSQL}, {q: supplementarySQL}, {q: sharedMobileSQL}, {q: relsInsertSQL},
}

// updateRelationshipsSQL redoes the relationships of the parties an
// incremental run rewrote: cdp_unify_affected holds those parties (old and
// new ids), cdp_unify_mobiles the mobiles their persons had before and have
// now. Shared-mobile relationships are redone for every party holding one
// of those mobiles, so a family group that grew past the limit loses its
// links.
var updateRelationshipsSQL = []scopedSQL{
	{q: `CREATE OR REPLACE TEMP TABLE cdp_unify_mobile_parties AS
	    SELECT DISTINCT party_id FROM core.party_xref
	    WHERE party_type = 'P' AND mobile_valid AND mobile IN (SELECT mobile FROM cdp_unify_mobiles)`},
	{q: `DELETE FROM core.party_relationship
	 WHERE rel_type <> 'shared_mobile' AND (party_id IN (SELECT party_id FROM cdp_unify_affected)
	    OR related_party_id IN (SELECT party_id FROM cdp_unify_affected))`},
	{q: `DELETE FROM core.party_relationship
	 WHERE rel_type = 'shared_mobile' AND (party_id IN (SELECT party_id FROM cdp_unify_mobile_parties)
	    OR related_party_id IN (SELECT party_id FROM cdp_unify_mobile_parties))`},
	{q: relsTableSQL},
	{q: legalRepSQL, scope: `AND (c.party_id IN (SELECT party_id FROM cdp_unify_affected)
	    OR p.party_id IN (SELECT party_id FROM cdp_unify_affected))`},
	{q: supplementarySQL, scope: `WHERE holder_id IN (SELECT source_key FROM core.party_xref WHERE system = 'card'
	        AND party_id IN (SELECT party_id FROM cdp_unify_affected))
	    OR primary_holder_id IN (SELECT source_key FROM core.party_xref WHERE system = 'card'
	        AND party_id IN (SELECT party_id FROM cdp_unify_affected))`},
	{q: sharedMobileSQL, scope: `AND mobile IN (SELECT mobile FROM core.party_xref WHERE party_type = 'P' AND mobile_valid
	    AND party_id IN (SELECT party_id FROM cdp_unify_mobile_parties))`},
	{q: relsInsertSQL, scope: `AND (rel_type <> 'shared_mobile' OR party_id IN (SELECT party_id FROM cdp_unify_mobile_parties)
	    OR related_party_id IN (SELECT party_id FROM cdp_unify_mobile_parties))`},
}

// scopedSQL is a relationship statement and what its {scope} placeholder
// narrows it to (empty: every party).
type scopedSQL struct{ q, scope string }

// rebuildRelationships replaces core.party_relationship and counts the
// relationships by type (on conn, inside the caller's transaction).
func rebuildRelationships(ctx context.Context, conn *sql.Conn, runID string, cfg Config) (map[string]int, error) {
	return relationships(ctx, conn, relationshipsSQL, runID, cfg)
}

// updateRelationships redoes the relationships of the parties an
// incremental run rewrote (see updateRelationshipsSQL).
func updateRelationships(ctx context.Context, conn *sql.Conn, runID string, cfg Config) (map[string]int, error) {
	return relationships(ctx, conn, updateRelationshipsSQL, runID, cfg)
}

func relationships(ctx context.Context, conn *sql.Conn, stmts []scopedSQL, runID string, cfg Config) (map[string]int, error) {
	for _, st := range stmts {
		vars := sqltext.Vars{"run": sqltext.Value(sqltext.String(runID)), "shared_mobile_max": sqltext.Value(strconv.Itoa(cfg.SharedMobileMax)),
			"scope": sqltext.Value(st.scope)}
		if _, err := conn.ExecContext(ctx, sqltext.MustFill(st.q, vars)); err != nil {
			return nil, fmt.Errorf("core.party_relationship: %w", err)
		}
	}
	rows, err := conn.QueryContext(ctx, `SELECT rel_type, count(*) FROM core.party_relationship GROUP BY ALL`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, rows.Err()
}
