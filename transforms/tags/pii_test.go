package tags_test

import (
	"context"
	"testing"
	"testing/fstest"

	"cdp/internal/sqltest"
	"cdp/internal/testbank"
	"cdp/transforms/tags"
)

// A tag whose value carries a mobile reaches tag-change events masked, as
// every event does, unless publish.allow_pii lets it through; mart.tags
// keeps the value as computed.
func TestRun_TagChangeEventsMaskPII(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 300, Days: 2, Seed: 28})
	ctx := context.Background()
	run := func(sql string, allowPII bool) *tags.RunSummary {
		t.Helper()
		cat, err := tags.Load(fstest.MapFS{"contact.yaml": {Data: []byte(`category: natural
owner: test
tags:
  - id: contact
    name_zh: 联系
    name_en: Contact
    type: string
    description: how to reach the party
    sql: ` + sql + "\n")}})
		if err != nil {
			t.Fatal(err)
		}
		s, err := tags.Run(ctx, b.W, cat, tags.RunOptions{Logger: testbank.Quiet, AllowPII: allowPII})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	const clear = `regexp_matches(data, '\b1[3-9]\d{9}\b')`
	const masked = `regexp_matches(data, '\b1[3-9]\d\*{4}\d{4}\b')`
	events := func(producer string) (n, inClear, isMasked int64) {
		t.Helper()
		sqltest.Row(t, b.W.DB(), `SELECT count(*), count(*) FILTER (`+clear+`), count(*) FILTER (`+masked+`)
			FROM ops.outbox WHERE producer = ?`, producer).Scan(&n, &inClear, &isMasked)
		return
	}
	var mobiles int64 // parties with a mainland mobile: each gets an event carrying it
	sqltest.Row(t, b.W.DB(), `SELECT count(*) FROM core.party WHERE regexp_full_match(mobile, '1[3-9]\d{9}')`).Scan(&mobiles)
	if mobiles == 0 {
		t.Fatal("no party has a mobile")
	}
	run(`SELECT party_id, 'none' AS value FROM core.party`, false) // the baseline: no events
	s := run(`SELECT party_id, 'call ' || mobile AS value FROM core.party WHERE mobile IS NOT NULL`, false)
	if n, inClear, isMasked := events(s.RunID); n != s.Events || inClear != 0 || isMasked != mobiles {
		t.Errorf("masked run: %d events (run says %d), %d with a mobile in clear, %d masked, want %d", n, s.Events, inClear, isMasked, mobiles)
	}
	var kept int64
	sqltest.Row(t, b.W.DB(), `SELECT count(*) FROM mart.tags WHERE tag_id = 'contact' AND regexp_matches(value, '^call 1[3-9]\d{9}$')`).Scan(&kept)
	if kept == 0 {
		t.Errorf("mart.tags lost the computed values")
	}
	s = run(`SELECT party_id, 'ring ' || mobile AS value FROM core.party WHERE mobile IS NOT NULL`, true)
	if n, inClear, _ := events(s.RunID); n != s.Events || inClear != mobiles {
		t.Errorf("allow_pii run: %d events (run says %d), %d with the mobile in clear, want %d", n, s.Events, inClear, mobiles)
	}
}
