package tiers_test

import (
	"context"
	"crypto/md5"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cdp/internal/sqltest"
	"cdp/internal/testbank"
	"cdp/transforms/tiers"
)

// 名单制: an active entry of the newest list sets the party's tier (the
// floors' tier kept beside it, the reason naming the approval); an expired
// or pending entry, or one of an older list, does not; the list is in
// mart.key_account_list with each entry's status; when the entry lapses
// the party moves back, with an event. A list row naming a customer the
// warehouse does not know is rejected as it loads.
func TestBuild_ApprovedListOverridesTheTier(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 400, Days: 2, Seed: 7})
	db := b.W.DB()
	ctx := context.Background()
	cfg := tiers.Config{}.WithDefaults()
	if _, err := tiers.Build(ctx, b.W, cfg, testbank.Quiet); err != nil {
		t.Fatal(err)
	}
	var listed, expired, pending, asOf, compact, dayBefore string
	sqltest.Row(t, db, `SELECT (SELECT min(party_id) FROM mart.value_tier WHERE party_type = 'C' AND tier = 'base'),
		(SELECT min(party_id) FROM mart.value_tier WHERE party_type = 'P' AND tier = 'growth'),
		(SELECT min(party_id) FROM mart.value_tier WHERE party_type = 'P' AND tier = 'base'),
		CAST(max(as_of) AS VARCHAR), strftime(max(as_of), '%Y%m%d'), strftime(max(as_of) - 1, '%Y%m%d') FROM mart.value_tier`).
		Scan(&listed, &expired, &pending, &asOf, &compact, &dayBefore)
	// The generated bank's own list is replaced by the test's.
	if _, err := db.Exec(`DELETE FROM raw.contact_key_accounts`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO raw.contact_key_accounts (list_id, party_id, tier, reason, approver, approved_on, valid_from, valid_to, _source) VALUES
		('L0', ?, 'core', 'an older list', 'KAM009', NULL, DATE '2026-01-01', NULL, 'key_accounts_`+dayBefore+`.csv:2'),
		('L1', ?, 'core', '省重点项目牵头企业', 'KAM001', DATE '2026-10-01', DATE '2026-10-01', CAST(? AS DATE), 'key_accounts_`+compact+`.csv:2'),
		('L2', ?, 'core', 'a lapsed approval', 'KAM002', NULL, DATE '2026-06-01', CAST(? AS DATE) - 1, 'key_accounts_`+compact+`.csv:3'),
		('L3', ?, 'growth', 'from next week', 'KAM003', NULL, CAST(? AS DATE) + 5, NULL, 'key_accounts_`+compact+`.csv:4')`,
		pending, listed, asOf, expired, asOf, pending, asOf); err != nil {
		t.Fatal(err)
	}
	sum, err := tiers.Build(ctx, b.W, cfg, testbank.Quiet)
	if err != nil {
		t.Fatal(err)
	}
	var got string
	sqltest.Row(t, db, `SELECT string_agg(party_id || ' ' || tier || ' ' || tier_source || ' ' || computed_tier, '; ' ORDER BY party_id)
		FROM mart.value_tier WHERE party_id IN (?, ?, ?)`, listed, expired, pending).Scan(&got)
	want := map[string]string{listed: listed + " core list base", expired: expired + " growth computed growth", pending: pending + " base computed base"}
	for _, id := range []string{listed, expired, pending} {
		if !strings.Contains(got, want[id]) {
			t.Errorf("value tiers %q lack %q", got, want[id])
		}
	}
	// L0 is of an older list, not the one in force.
	if l := sum.List; l["active"] != 1 || l["expired"] != 1 || l["pending"] != 1 || l["applied"] != 1 {
		t.Errorf("list summary %v, want one entry active and applied, one expired, one pending", l)
	}
	var statuses string
	sqltest.Row(t, db, `SELECT string_agg(list_id || ':' || status || ':' || applied, ',' ORDER BY list_id) FROM mart.key_account_list`).Scan(&statuses)
	if statuses != "L1:active:true,L2:expired:false,L3:pending:false" {
		t.Errorf("mart.key_account_list: %s", statuses)
	}
	var reason string
	sqltest.Row(t, db, `SELECT reason FROM mart.tier_changes WHERE party_id = ? AND new_tier = 'core'`, listed).Scan(&reason)
	if want := tiers.ListReason("省重点项目牵头企业", "KAM001", "2026-10-01", asOf, "base"); reason != want {
		t.Errorf("the listed party's move: %q, want %q", reason, want)
	}

	// The next day the entry has lapsed: back to the floors' tier.
	if _, err := db.Exec(`INSERT INTO core.aum_daily BY NAME SELECT * REPLACE (as_of_date + 1 AS as_of_date) FROM core.aum_daily
		WHERE as_of_date = DATE '` + asOf + `'`); err != nil {
		t.Fatal(err)
	}
	if _, err := tiers.Build(ctx, b.W, cfg, testbank.Quiet); err != nil {
		t.Fatal(err)
	}
	var back, event string
	sqltest.Row(t, db, `SELECT tier || ' ' || tier_source FROM mart.value_tier WHERE party_id = ?`, listed).Scan(&back)
	sqltest.Row(t, db, `SELECT coalesce(string_agg(data::JSON->>'direction', ',' ORDER BY seq), '') FROM ops.outbox WHERE topic = ? AND key = ?`, tiers.TierChangesTopic, listed).Scan(&event)
	if back != "base computed" || event != "up,down" {
		t.Errorf("after the entry lapsed: %q, events %q; want base computed, up then down", back, event)
	}

	// A list row naming an unknown party id is rejected with its reason;
	// one naming an unknown customer key loads (the customer may come in
	// the same delivery), and the next build reports it.
	body := "list_id|party_id|system|source_key|tier|reason|approver|approved_on|valid_from|valid_to\n" +
		"L8|P9999999999|||core|a typo|KAM001||20261101|\n" +
		"L9||core_banking|NO-SUCH-KEY|core|another typo|KAM001||20261101|\n"
	path := filepath.Join(b.Dir, "feeds", "contact", "key_accounts_"+nextDay(t, compact)+".csv")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".ok", fmt.Appendf(nil, "%d|%x", 2, md5.Sum([]byte(body))), 0o644); err != nil {
		t.Fatal(err)
	}
	b.Run(t, "ingest")
	var rejected string
	sqltest.Row(t, db, `SELECT coalesce(string_agg(reason || ': ' || detail, '; '), '') FROM ops.rejects WHERE entity = 'contact.key_accounts'`).Scan(&rejected)
	if rejected != "unknown_party: party P9999999999 is no party of the warehouse" {
		t.Errorf("the unknown party's reject: %q", rejected)
	}
	if _, err := db.Exec(`INSERT INTO core.aum_daily BY NAME SELECT * REPLACE (as_of_date + 1 AS as_of_date) FROM core.aum_daily
		WHERE as_of_date = (SELECT max(as_of_date) FROM core.aum_daily)`); err != nil {
		t.Fatal(err)
	}
	last, err := tiers.Build(ctx, b.W, cfg, testbank.Quiet)
	if err != nil {
		t.Fatal(err)
	}
	var unknown string
	sqltest.Row(t, db, `SELECT coalesce(string_agg(list_id || ' ' || system || ':' || source_key, ','), '') FROM mart.key_account_list WHERE status = 'unknown_customer'`).Scan(&unknown)
	if unknown != "L9 core_banking:NO-SUCH-KEY" || last.List["unknown_customer"] != 1 {
		t.Errorf("unknown customers of the list: %q (summary %v)", unknown, last.List)
	}
}

// nextDay is the YYYYMMDD after d.
func nextDay(t *testing.T, d string) string {
	t.Helper()
	day, err := time.Parse("20060102", d)
	if err != nil {
		t.Fatal(err)
	}
	return day.AddDate(0, 0, 1).Format("20060102")
}
