package view_test

import (
	"context"
	"strings"
	"testing"

	"cdp/internal/sqltest"
	"cdp/internal/testbank"
	"cdp/transforms/tags"
	"cdp/transforms/tiers"
	"cdp/transforms/view"
	"cdp/warehouse"
)

// TestBuild_OneMaskedRowPerPartyAgreeingWithItsSources: the 360 view has one
// row per party, never shows a full ID number or mobile, and agrees with the
// tables it summarises.
func TestBuild_OneMaskedRowPerPartyAgreeingWithItsSources(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 1500, Days: 3, Seed: 4})
	ctx := context.Background()
	cat, err := tags.Load(tags.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tags.Run(ctx, b.W, cat, tags.RunOptions{Logger: testbank.Quiet}); err != nil {
		t.Fatal(err)
	}
	if _, err := tiers.Build(ctx, b.W, tiers.Config{}, testbank.Quiet); err != nil {
		t.Fatal(err)
	}
	sum, err := view.Build(ctx, b.W, view.Options{Logger: testbank.Quiet})
	if err != nil {
		t.Fatal(err)
	}
	db := b.W.DB()
	var parties, distinct int64
	sqltest.Row(t, db, `SELECT count(*), count(DISTINCT party_id) FROM core.party`).Scan(&parties, &distinct)
	if sum.Parties != parties || parties != distinct {
		t.Errorf("%d rows in the view for %d parties", sum.Parties, parties)
	}
	checks := map[string]string{
		"a full ID number or mobile": `SELECT count(*) FROM mart.customer_360 v JOIN core.party p USING (party_id)
			WHERE v.id_no_masked = p.id_no OR v.mobile_masked = p.mobile
			   OR (p.id_no IS NOT NULL AND position('*' IN v.id_no_masked) = 0)`,
		"an AUM other than the core model's newest day": `SELECT count(*) FROM mart.customer_360 v
			LEFT JOIN core.aum_daily a ON a.party_id = v.party_id AND a.as_of_date = v.as_of
			WHERE v.aum <> coalesce(a.aum, 0)`,
		"a tier other than mart.value_tier's": `SELECT count(*) FROM mart.customer_360 v JOIN mart.value_tier t USING (party_id)
			WHERE v.tier IS DISTINCT FROM t.tier`,
		"a different number of tags than mart.tags": `SELECT count(*) FROM mart.customer_360 v
			LEFT JOIN (SELECT party_id, count(*) AS n FROM mart.tags GROUP BY ALL) t USING (party_id)
			WHERE cardinality(v.tags) <> coalesce(t.n, 0)`,
		"a credit exposure other than the active loans'": `SELECT count(*) FROM mart.customer_360 v
			LEFT JOIN (SELECT party_id, sum(balance) AS b FROM core.loan WHERE status = 'ACTIVE' GROUP BY ALL) l USING (party_id)
			WHERE v.credit_exposure <> coalesce(l.b, 0)`,
		// Why the tier: the tier history's current reason, and its source.
		"a tier reason other than the tier history's": `SELECT count(*) FROM mart.customer_360 v
			LEFT JOIN mart.tier_history h ON h.party_id = v.party_id AND h.valid_to IS NULL
			WHERE v.tier_reason IS DISTINCT FROM h.reason OR v.tier_source NOT IN ('computed', 'list')`,
		// mart.party_owner: one row per party; the RM, else the golden
		// record's branch, else the branch of the first record delivered.
		"a party without exactly one owner row": `SELECT count(*) FROM core.party p
			FULL JOIN (SELECT party_id, count(*) AS n FROM mart.party_owner GROUP BY ALL) o USING (party_id)
			WHERE o.n IS DISTINCT FROM 1 OR p.party_id IS NULL`,
		"an owner other than the golden record's RM and branch": `SELECT count(*) FROM mart.party_owner o JOIN core.party p USING (party_id)
			WHERE o.owner_rm IS DISTINCT FROM nullif(p.rm_id, '')
			   OR (nullif(p.branch_code, '') IS NOT NULL AND o.owner_branch IS DISTINCT FROM p.branch_code)
			   OR o.owner_rule IS DISTINCT FROM CASE WHEN nullif(p.rm_id, '') IS NOT NULL THEN 'rm'
			        WHEN nullif(p.branch_code, '') IS NOT NULL THEN 'golden_branch'
			        WHEN o.owner_branch IS NOT NULL THEN 'oldest_record_branch' END`,
		"a branch-less golden record owned by another branch than its first record's": `SELECT count(*) FROM mart.party_owner o JOIN core.party p USING (party_id)
			WHERE nullif(p.branch_code, '') IS NULL AND o.owner_branch IS DISTINCT FROM
			  (SELECT arg_min(x.branch_code, (coalesce(x.business_date, ''), x.system, x.source_key)) FROM core.party_xref x
			   WHERE x.party_id = p.party_id AND nullif(x.branch_code, '') IS NOT NULL)`,
		// mart.party_team: the latest roster's assignments valid on the
		// 360's day (the generator ends one company in ten's first risk
		// assignment halfway), the golden record's RM where the roster
		// names none; party_owner lists the members.
		"a roster RM beside a golden-record RM": `SELECT count(*) FROM (SELECT party_id FROM mart.party_team WHERE role = 'RM'
			GROUP BY party_id HAVING count(DISTINCT source) > 1)`,
		"a golden-record RM other than the golden record's": `SELECT count(*) FROM mart.party_team t JOIN core.party p USING (party_id)
			WHERE t.source = 'golden_record' AND t.member_id IS DISTINCT FROM p.rm_id`,
		"an assignment not valid on the day": `SELECT count(*) FROM mart.party_team
			WHERE valid_from > as_of OR valid_to < as_of OR (source = 'roster' AND roster_date > as_of)`,
		"a party with two risk specialists at once": `SELECT count(*) FROM (SELECT party_id FROM mart.party_team WHERE role = 'RISK'
			GROUP BY party_id HAVING count(*) > 1)`,
		"an assignment of an older roster": `SELECT count(*) FROM mart.party_team
			WHERE source = 'roster' AND roster_date <> (SELECT max(roster_date) FROM core.team_member)`,
		"team members other than mart.party_team's": `SELECT count(*) FROM mart.party_owner o
			LEFT JOIN (SELECT party_id, list(DISTINCT member_id ORDER BY member_id) AS m FROM mart.party_team GROUP BY ALL) t USING (party_id)
			WHERE o.team_members <> coalesce(t.m, [])`,
	}
	for what, q := range checks {
		var n int64
		if err := db.QueryRow(q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if n != 0 {
			t.Errorf("%d rows show %s", n, what)
		}
	}
	var withHoldings, withCards, withTags int64
	sqltest.Row(t, db, `SELECT count(*) FILTER (aum > 0), count(*) FILTER (card_accounts > 0), count(*) FILTER (cardinality(tags) > 0) FROM mart.customer_360`).Scan(&withHoldings, &withCards, &withTags)
	if withHoldings == 0 || withCards == 0 || withTags == 0 {
		t.Errorf("view lacks data: %d with AUM, %d with cards, %d with tags", withHoldings, withCards, withTags)
	}
	var roles, ended, rosterParties int64
	sqltest.Row(t, db, `SELECT count(DISTINCT role) FILTER (source = 'roster'), count(DISTINCT party_id) FILTER (source = 'roster')
		FROM mart.party_team`).Scan(&roles, &rosterParties)
	sqltest.Row(t, db, `SELECT count(*) FROM core.team_member WHERE valid_to < DATE '2026-11-20'`).Scan(&ended)
	if roles != 5 || rosterParties == 0 || ended == 0 {
		t.Errorf("the roster: %d roles, %d parties with a team, %d ended assignments delivered; want all 5 roles and some of each", roles, rosterParties, ended)
	}
	// A user scoped to a member sees exactly the parties of their teams.
	var member string
	var inScope, teamParties int64
	sqltest.Row(t, db, `SELECT member_id FROM mart.party_team WHERE role = 'ADVISOR' GROUP BY ALL ORDER BY count(*) DESC LIMIT 1`).Scan(&member)
	scope := warehouse.PartyScope{Members: []string{member}}
	sqltest.Row(t, db, `SELECT count(*) FROM mart.customer_360 WHERE `+scope.PartiesSQL("party_id")).Scan(&inScope)
	sqltest.Row(t, db, `SELECT count(DISTINCT party_id) FROM mart.party_team WHERE member_id = ?`, member).Scan(&teamParties)
	if inScope != teamParties || inScope == 0 {
		t.Errorf("member %s's scope holds %d parties, their teams %d", member, inScope, teamParties)
	}
	if !strings.HasPrefix(sum.AsOf, "2026-11-20") {
		t.Errorf("as of %s, want the newest snapshot day 2026-11-20", sum.AsOf)
	}

	// Profile events: one per party on the first build, none with an ID
	// number or mobile; an unchanged rebuild queues nothing; a party that
	// changed is queued again, and one gone gets a deletion.
	var events, pii int64
	sqltest.Row(t, db, `SELECT count(*), count(*) FILTER (o.data LIKE '%' || p.id_no || '%' OR o.data LIKE '%' || p.mobile || '%')
		FROM ops.outbox o JOIN core.party p ON p.party_id = o.key WHERE o.topic = 'cdp.profile'`).Scan(&events, &pii)
	if events != parties || sum.Profiles != parties || pii != 0 {
		t.Errorf("first build: %d profile events (summary %d) for %d parties, %d with PII", events, sum.Profiles, parties, pii)
	}
	again, err := view.Build(ctx, b.W, view.Options{Logger: testbank.Quiet})
	if err != nil {
		t.Fatal(err)
	}
	if again.Profiles != 0 || again.Deleted != 0 {
		t.Errorf("unchanged rebuild queued %d profiles, %d deletions; want none", again.Profiles, again.Deleted)
	}
	// Built in four ranges of party ids (as the memory budget splits a big
	// bank's), the 360 is the same table row for row, and nothing changed.
	print360 := func() (n int64, h string) {
		sqltest.Row(t, db, `SELECT count(*), md5(string_agg(CAST(x AS VARCHAR), '|' ORDER BY x.party_id))
			FROM (SELECT * EXCLUDE (tags), list_sort(map_entries(tags)) AS tag_entries FROM mart.customer_360) x`).Scan(&n, &h)
		return n, h
	}
	whole, wholePrint := print360()
	parted, err := view.Build(ctx, b.W, view.Options{Logger: testbank.Quiet, Parts: 4})
	if err != nil {
		t.Fatal(err)
	}
	if n, p := print360(); n != whole || p != wholePrint || parted.Parties != whole || parted.Profiles != 0 || parted.Deleted != 0 {
		t.Errorf("in four parts: %d rows (print %s) against %d (%s) in one; %d profiles, %d deletions queued", n, p, whole, wholePrint, parted.Profiles, parted.Deleted)
	}
	var changed, gone string
	sqltest.Row(t, db, `SELECT min(party_id), max(party_id) FROM core.party`).Scan(&changed, &gone)
	if _, err := db.Exec(`UPDATE core.party SET rm_id = 'RM-NEW' WHERE party_id = ?`, changed); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DELETE FROM core.party WHERE party_id = ?`, gone); err != nil {
		t.Fatal(err)
	}
	third, err := view.Build(ctx, b.W, view.Options{Logger: testbank.Quiet, RunID: "third"})
	if err != nil {
		t.Fatal(err)
	}
	var got string
	sqltest.Row(t, db, `SELECT string_agg(type || ' ' || key || ' ' || coalesce(json_extract_string(nullif(data, ''), '$.rm_id'), '-'), ', ' ORDER BY seq)
		FROM ops.outbox WHERE producer = 'third'`).Scan(&got)
	if want := "cdp.profile.updated " + changed + " RM-NEW, cdp.profile.deleted " + gone + " -"; got != want || third.Profiles != 1 || third.Deleted != 1 {
		t.Errorf("after one change and one removal the outbox got %q; want %q", got, want)
	}
	// publish.allow_pii adds the full ID number and mobile to the summaries.
	if _, err := view.Build(ctx, b.W, view.Options{Logger: testbank.Quiet, RunID: "pii", AllowPII: true}); err != nil {
		t.Fatal(err)
	}
	var withID, carrying int64
	sqltest.Row(t, db, `SELECT count(*), count(*) FILTER (json_extract_string(o.data, '$.id_no') = p.id_no)
		FROM ops.outbox o JOIN core.party p ON p.party_id = o.key WHERE o.producer = 'pii' AND p.id_no IS NOT NULL`).Scan(&withID, &carrying)
	if withID == 0 || carrying != withID {
		t.Errorf("with allow_pii, %d of %d summaries of parties with an ID number carry it", carrying, withID)
	}
}
