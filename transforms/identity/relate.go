package identity

import (
	"context"
	"database/sql"
	"fmt"

	"cdp/warehouse"
)

// relationshipsSQL rebuilds core.party_relationship from core.party_xref and
// the latest card accounts snapshot: parties that are related but not the
// same. %[1]s is the run id literal, %[2]d the largest shared-mobile group.
const relationshipsSQL = `
DELETE FROM core.party_relationship;
INSERT INTO core.party_relationship (party_id, related_party_id, rel_type, evidence, run_id)
WITH accounts AS (
    -- the latest version of each account first, then only supplementary ones
    SELECT * FROM (
        SELECT card_account_id, holder_id, primary_holder_id FROM raw.card_accounts
        QUALIFY row_number() OVER (PARTITION BY card_account_id
            ORDER BY ` + businessDateSQL + ` DESC, _load_id DESC, _source DESC) = 1)
    WHERE primary_holder_id IS NOT NULL AND primary_holder_id <> holder_id
), mobiles AS (
    SELECT mobile, party_id, min(system || ':' || source_key) AS ref
    FROM core.party_xref WHERE party_type = 'P' AND mobile_valid GROUP BY ALL
), families AS (
    SELECT mobile, string_agg(ref, ',' ORDER BY ref) AS refs FROM mobiles
    GROUP BY mobile HAVING count(*) BETWEEN 2 AND %[2]d
), rels AS (
    -- a company and the person whose resident ID is its legal representative's
    SELECT c.party_id, p.party_id AS related_party_id, 'legal_representative' AS rel_type,
           c.system || ':' || c.source_key AS evidence
    FROM core.party_xref c JOIN core.party_xref p ON p.match_key = 'R' || c.legal_rep_id AND p.party_type = 'P'
    WHERE c.party_type = 'C' AND c.legal_rep_id IS NOT NULL
    UNION ALL
    -- a supplementary card's holder and its primary holder
    SELECT h.party_id, ph.party_id, 'supplementary_card', 'card:' || a.card_account_id
    FROM accounts a
    JOIN core.party_xref h ON h.system = 'card' AND h.source_key = a.holder_id
    JOIN core.party_xref ph ON ph.system = 'card' AND ph.source_key = a.primary_holder_id
    UNION ALL
    -- persons of different parties sharing a mobile, in a group no bigger than a family
    SELECT a.party_id, b.party_id, 'shared_mobile', f.refs
    FROM mobiles a JOIN mobiles b ON a.mobile = b.mobile AND a.party_id < b.party_id
    JOIN families f ON f.mobile = a.mobile
)
SELECT party_id, related_party_id, rel_type, min(evidence), %[1]s FROM rels
WHERE party_id <> related_party_id
GROUP BY party_id, related_party_id, rel_type`

// updateRelationshipsSQL redoes the relationships of the parties an
// incremental run rewrote, the same way relationshipsSQL does for all:
// cdp_unify_affected holds those parties (old and new ids), cdp_unify_mobiles
// the mobiles their persons had before and have now. Shared-mobile
// relationships are redone for every party holding one of those mobiles, so
// a family group that grew past the limit loses its links.
const updateRelationshipsSQL = `
CREATE OR REPLACE TEMP TABLE cdp_unify_mobile_parties AS
    SELECT DISTINCT party_id FROM core.party_xref
    WHERE party_type = 'P' AND mobile_valid AND mobile IN (SELECT mobile FROM cdp_unify_mobiles);
DELETE FROM core.party_relationship
WHERE rel_type <> 'shared_mobile' AND (party_id IN (SELECT party_id FROM cdp_unify_affected)
    OR related_party_id IN (SELECT party_id FROM cdp_unify_affected));
DELETE FROM core.party_relationship
WHERE rel_type = 'shared_mobile' AND (party_id IN (SELECT party_id FROM cdp_unify_mobile_parties)
    OR related_party_id IN (SELECT party_id FROM cdp_unify_mobile_parties));
INSERT INTO core.party_relationship (party_id, related_party_id, rel_type, evidence, run_id)
WITH cards AS (
    SELECT source_key FROM core.party_xref
    WHERE system = 'card' AND party_id IN (SELECT party_id FROM cdp_unify_affected)
), accounts AS (
    SELECT * FROM (
        SELECT card_account_id, holder_id, primary_holder_id FROM raw.card_accounts
        WHERE holder_id IN (SELECT source_key FROM cards) OR primary_holder_id IN (SELECT source_key FROM cards)
        QUALIFY row_number() OVER (PARTITION BY card_account_id
            ORDER BY ` + businessDateSQL + ` DESC, _load_id DESC, _source DESC) = 1)
    WHERE primary_holder_id IS NOT NULL AND primary_holder_id <> holder_id
), mobiles AS (
    SELECT mobile, party_id, min(system || ':' || source_key) AS ref
    FROM core.party_xref WHERE party_type = 'P' AND mobile_valid AND mobile IN (
        SELECT mobile FROM core.party_xref WHERE party_type = 'P' AND mobile_valid
            AND party_id IN (SELECT party_id FROM cdp_unify_mobile_parties))
    GROUP BY ALL
), families AS (
    SELECT mobile, string_agg(ref, ',' ORDER BY ref) AS refs FROM mobiles
    GROUP BY mobile HAVING count(*) BETWEEN 2 AND %[2]d
), rels AS (
    SELECT c.party_id, p.party_id AS related_party_id, 'legal_representative' AS rel_type,
           c.system || ':' || c.source_key AS evidence
    FROM core.party_xref c JOIN core.party_xref p ON p.match_key = 'R' || c.legal_rep_id AND p.party_type = 'P'
    WHERE c.party_type = 'C' AND c.legal_rep_id IS NOT NULL AND c.party_id IN (SELECT party_id FROM cdp_unify_affected)
    UNION ALL
    SELECT c.party_id, p.party_id, 'legal_representative', c.system || ':' || c.source_key
    FROM core.party_xref c JOIN core.party_xref p ON p.match_key = 'R' || c.legal_rep_id AND p.party_type = 'P'
    WHERE c.party_type = 'C' AND c.legal_rep_id IS NOT NULL AND p.party_id IN (SELECT party_id FROM cdp_unify_affected)
    UNION ALL
    SELECT h.party_id, ph.party_id, 'supplementary_card', 'card:' || a.card_account_id
    FROM accounts a
    JOIN core.party_xref h ON h.system = 'card' AND h.source_key = a.holder_id
    JOIN core.party_xref ph ON ph.system = 'card' AND ph.source_key = a.primary_holder_id
    UNION ALL
    SELECT a.party_id, b.party_id, 'shared_mobile', f.refs
    FROM mobiles a JOIN mobiles b ON a.mobile = b.mobile AND a.party_id < b.party_id
    JOIN families f ON f.mobile = a.mobile
    WHERE a.party_id IN (SELECT party_id FROM cdp_unify_mobile_parties)
       OR b.party_id IN (SELECT party_id FROM cdp_unify_mobile_parties)
)
SELECT party_id, related_party_id, rel_type, min(evidence), %[1]s FROM rels
WHERE party_id <> related_party_id
GROUP BY party_id, related_party_id, rel_type`

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

func relationships(ctx context.Context, conn *sql.Conn, query, runID string, cfg Config) (map[string]int, error) {
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(query, warehouse.Literal(runID), cfg.SharedMobileMax)); err != nil {
		return nil, fmt.Errorf("core.party_relationship: %w", err)
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
