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
GROUP BY party_id, related_party_id, rel_type
ORDER BY party_id, related_party_id, rel_type`

// rebuildRelationships replaces core.party_relationship and counts the
// relationships by type (on conn, inside the caller's transaction).
func rebuildRelationships(ctx context.Context, conn *sql.Conn, runID string, cfg Config) (map[string]int, error) {
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(relationshipsSQL, warehouse.Literal(runID), cfg.SharedMobileMax)); err != nil {
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
