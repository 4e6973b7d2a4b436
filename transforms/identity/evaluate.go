package identity

import (
	"context"
	"database/sql"
	"fmt"

	"cdp/transforms/identity/match"
	"cdp/warehouse"
)

// Evaluation compares core.party_xref with a ground-truth file.
type Evaluation struct {
	match.Metrics
	Records   int `json:"records"`   // source records in both
	Unmatched int `json:"unmatched"` // truth records the warehouse does not hold
}

// EvaluateTruth scores the current unification against a truth CSV with the
// columns system, source_key, party_id (the synthetic bank's
// truth/xref.csv). It is for tests, benchmarks and the demo; the pipeline
// itself never reads ground truth.
func EvaluateTruth(ctx context.Context, db *sql.DB, truthCSV string) (*Evaluation, error) {
	rows, err := db.QueryContext(ctx, fmt.Sprintf(`
		SELECT x.party_id, t.party_id FROM core.party_xref x
		JOIN read_csv(%s, header = true, all_varchar = true) t USING (system, source_key)
		ORDER BY x.system, x.source_key`, warehouse.Literal(truthCSV)))
	if err != nil {
		return nil, fmt.Errorf("evaluate against %s: %w", truthCSV, err)
	}
	defer rows.Close()
	ids := map[string]int32{}
	var cluster []int32
	var truth []string
	for rows.Next() {
		var pred, t string
		if err := rows.Scan(&pred, &t); err != nil {
			return nil, err
		}
		id, ok := ids[pred]
		if !ok {
			id = int32(len(ids))
			ids[pred] = id
		}
		cluster = append(cluster, id)
		truth = append(truth, t)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	ev := &Evaluation{Metrics: match.Evaluate(cluster, truth, nil), Records: len(cluster)}
	var total int
	if err := db.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM read_csv(%s, header = true, all_varchar = true)`,
		warehouse.Literal(truthCSV))).Scan(&total); err != nil {
		return nil, err
	}
	ev.Unmatched = total - len(cluster)
	return ev, nil
}
