package pipeline_test

import (
	"testing"

	"cdp/internal/sqltest"
	"cdp/internal/testbank"
)

// A warehouse from an older cdp, whose raw tables lack the columns a newer
// contract version added (card 2: txns.fee and txns.interchange), builds
// the core model before its next load: the model stage adds the columns,
// as a load would, and records the change.
func TestModel_AddsTheColumnsANewerContractDeclares(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 300, Days: 2, Seed: 41})
	db := b.W.DB()
	for _, q := range []string{
		`ALTER TABLE raw.card_txns DROP COLUMN fee`,
		`ALTER TABLE raw.card_txns DROP COLUMN interchange`,
		`DELETE FROM ops.contract_changes WHERE table_name = 'raw.card_txns'`,
		`INSERT INTO ops.contract_changes (table_name, version, fingerprint, change, applied_at) VALUES ('raw.card_txns', 1, 'old', 'baseline', now())`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	b.Run(t, "model")
	var cols, changes int
	sqltest.Row(t, db, `SELECT (SELECT count(*) FROM information_schema.columns WHERE table_schema = 'raw' AND table_name = 'card_txns' AND column_name IN ('fee', 'interchange')),
		(SELECT count(*) FROM ops.contract_changes WHERE table_name = 'raw.card_txns' AND change = 'add_column' AND version = 2)`).Scan(&cols, &changes)
	if cols != 2 || changes != 2 {
		t.Errorf("after the model: %d of the 2 new columns, %d recorded additions; want 2 and 2", cols, changes)
	}
	var txns int
	sqltest.Row(t, db, `SELECT count(*) FROM core.card_txn`).Scan(&txns)
	if txns == 0 {
		t.Error("no card transactions in the core model")
	}
}
