package signals_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"cdp/internal/sqltest"
	"cdp/internal/testbank"
	"cdp/transforms/signals"
)

// One contact policy across the lines: a customer the wealth line called
// on twice this week gets no cross-sell from cdp; a decline holds the same
// product back for 30 days and no other; a complaint holds all marketing
// for 90; a do-not-contact request holds it all; alerts pass, the policy
// noted; every held hit is logged with the policy that stopped it.
func TestRun_ContactPolicyAcrossLines(t *testing.T) {
	w, rules := lifecycleBank(t)
	db := w.DB()
	for _, q := range []string{
		`INSERT INTO core.party (party_id, party_type, name, source_records, fingerprint)
		 SELECT 'P' || range, 'P', 'name ' || range, 1, range FROM range(1, 7)`,
		// P1: two marketing visits from the wealth line this week (the
		// limit is 2), one service call that does not count.
		`INSERT INTO raw.contact_contacts (contact_id, party_id, business_line, channel, contact_time, purpose, product) VALUES
		 ('C1', 'P1', 'WEALTH', 'VISIT', TIMESTAMPTZ '2026-11-03 10:00:00+08', 'MARKETING', 'WMP'),
		 ('C2', 'P1', 'WEALTH', 'PHONE', TIMESTAMPTZ '2026-11-04 10:00:00+08', 'MARKETING', 'FUND'),
		 ('C3', 'P2', 'CARD', 'PHONE', TIMESTAMPTZ '2026-11-04 10:00:00+08', 'SERVICE', NULL)`,
		// P2 declined p_xs_a on 11-01; P3 complained on 10-20 (with the
		// churn alert exempt); P4 asked not to be contacted; P5 opted out of
		// SMS only; P6 complained 100 days ago.
		`INSERT INTO raw.contact_outcomes (outcome_id, task_id, party_id, status, product, outcome_time) VALUES
		 ('O1', 'T1', 'P2', 'DECLINED', 'p_xs_a', TIMESTAMPTZ '2026-11-01 10:00:00+08'),
		 ('O2', 'T2', 'P3', 'COMPLAINT', NULL, TIMESTAMPTZ '2026-10-20 10:00:00+08'),
		 ('O3', 'T3', 'P6', 'COMPLAINT', NULL, TIMESTAMPTZ '2026-07-28 10:00:00+08')`,
		`INSERT INTO raw.contact_consents (consent_id, party_id, channel, consent, effective_at) VALUES
		 ('S1', 'P4', 'ALL', 'DO_NOT_CONTACT', TIMESTAMPTZ '2026-10-01 10:00:00+08'),
		 ('S2', 'P5', 'SMS', 'OPT_OUT', TIMESTAMPTZ '2026-10-01 10:00:00+08')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	d, e := day(t, w, rules, "2026-11-05",
		"xs_a P1 50", "xs_a P2 50", "xs_b P2 60", "xs_a P3 50", "ch_a P3 40", "xs_a P4 50", "xs_a P5 50", "xs_a P6 50")
	same(t, "decisions", d, "xs_a/P1/capped", "xs_a/P2/held", "xs_b/P2/opened", "xs_a/P3/held", "ch_a/P3/opened",
		"xs_a/P4/held", "xs_a/P5/opened", "xs_a/P6/opened")
	same(t, "events", e, "cdp.signal.opened xs_b/P2", "cdp.signal.opened ch_a/P3", "cdp.signal.opened xs_a/P5", "cdp.signal.opened xs_a/P6")
	details := map[string]string{}
	for scan := range sqltest.Rows(t, db, `SELECT rule_id || '/' || party_id, coalesce(detail, '') FROM mart.signal_decisions`) {
		var k, v string
		scan(&k, &v)
		details[k] = v
	}
	for k, want := range map[string]string{
		"xs_a/P1": "contact_limit: 2 marketing contacts in 7 days, the limit 2: 0 cross-sell signals and 2 by the lines (WEALTH VISIT 2026-11-03, WEALTH PHONE 2026-11-04)",
		"xs_a/P2": "decline_quiet: declined p_xs_a on 2026-11-01; not offered again for 30 days",
		"xs_a/P3": "complaint_quiet: complaint on 2026-10-20; no marketing for 90 days after one",
		"ch_a/P3": "exempt from the contact policy (an alert): complaint_quiet: complaint on 2026-10-20",
		"xs_a/P4": "do_not_contact: the customer asked not to be contacted",
	} {
		if !strings.HasPrefix(details[k], want) {
			t.Errorf("%s: %q, want %q…", k, details[k], want)
		}
	}
	// The SMS opt-out travels with the signal for the CRM.
	var opted string
	sqltest.Row(t, db, `SELECT CAST(data::JSON->'opted_out_channels' AS VARCHAR) FROM ops.outbox WHERE key = 'P5'`).Scan(&opted)
	if opted != `["SMS"]` {
		t.Errorf("P5's event: opted_out_channels %s", opted)
	}
	// A month on the decline has lapsed; the complaint has not.
	d, _ = day(t, w, rules, "2026-12-02", "xs_a P2 50", "xs_a P3 50")
	same(t, "a month on", d, "xs_a/P2/opened", "xs_a/P3/held", "xs_b/P2/closed", "ch_a/P3/expired", "xs_a/P5/closed", "xs_a/P6/closed")
	// P5's closing is sent with the opt-out too, though its rule no longer
	// fires (the policy is read for the open signals' parties as well as
	// the hits').
	sqltest.Row(t, db, `SELECT CAST(data::JSON->'opted_out_channels' AS VARCHAR) FROM ops.outbox WHERE key = 'P5' AND type = 'cdp.signal.closed'`).Scan(&opted)
	if opted != `["SMS"]` {
		t.Errorf("P5's closing event: opted_out_channels %s", opted)
	}
}

// Per channel: a rule that names its channel is held back for a customer
// who opted out of marketing on it, and capped once the channel's limit is
// used up by the lines' contacts on it or by cdp's own signals on it;
// a rule naming no channel is not.
func TestRun_ContactPolicyPerChannel(t *testing.T) {
	withChannel := func(id, channel string) string {
		r := testRule(id, 30)
		if channel != "" {
			r = strings.Replace(r, "    action: act\n", "    action: act\n    channel: "+channel+"\n", 1)
		}
		return r
	}
	w, rules := ruleBank(t, map[string][]string{"cross_sell": {withChannel("xs_sms", "SMS"), withChannel("xs_sms2", "SMS"),
		withChannel("xs_phone", "PHONE"), withChannel("xs_any", "")}})
	db := w.DB()
	for _, q := range []string{
		`INSERT INTO core.party (party_id, party_type, name, source_records, fingerprint) SELECT 'P' || range, 'P', 'n', 1, range FROM range(1, 4)`,
		// P1 opted out of SMS marketing; the card line texted P2 an offer
		// this week.
		`INSERT INTO raw.contact_consents (consent_id, party_id, channel, consent, effective_at) VALUES
		 ('S1', 'P1', 'SMS', 'OPT_OUT', TIMESTAMPTZ '2026-10-01 10:00:00+08')`,
		`INSERT INTO raw.contact_contacts (contact_id, party_id, business_line, channel, contact_time, purpose, product) VALUES
		 ('C1', 'P2', 'CARD', 'SMS', TIMESTAMPTZ '2026-11-03 10:00:00+08', 'MARKETING', 'PLATINUM')`,
		`INSERT INTO main.hits VALUES ('xs_sms', 'P1', 60, 'a'), ('xs_phone', 'P1', 50, 'b'), ('xs_any', 'P1', 40, 'c'),
		 ('xs_sms', 'P2', 60, 'd'), ('xs_phone', 'P2', 50, 'e'), ('xs_sms', 'P3', 60, 'f'), ('xs_sms2', 'P3', 55, 'g')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	cfg := signals.Config{CrossSellCap: 5, Holdout: signals.Holdout{Kinds: map[string]float64{"cross_sell": 0}},
		ContactPolicy: signals.ContactPolicy{ChannelCaps: map[string]int{"SMS": 1}}}
	if _, err := signals.Run(context.Background(), w, rules, cfg, signals.RunOptions{AsOf: time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC), RunID: "r1", Logger: testbank.Quiet}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for scan := range sqltest.Rows(t, db, `SELECT rule_id || '/' || party_id || '/' || decision || ' ' || coalesce(detail, '') FROM mart.signal_decisions ORDER BY ALL`) {
		var s string
		scan(&s)
		got = append(got, s)
	}
	same(t, "decisions", got,
		"xs_any/P1/opened ",
		"xs_phone/P1/opened ",
		"xs_phone/P2/opened ",
		"xs_sms/P1/held opted_out: the customer opted out of SMS marketing on 2026-10-01",
		"xs_sms/P2/capped contact_limit: 1 SMS marketing contacts in 7 days, the SMS limit 1: 0 cross-sell signals and 1 by the lines; higher scores went first",
		"xs_sms/P3/opened ",
		"xs_sms2/P3/capped contact_limit: 1 SMS marketing contacts in 7 days, the SMS limit 1: 1 cross-sell signals and 0 by the lines; higher scores went first")
	var channel string
	sqltest.Row(t, db, `SELECT data::JSON->>'channel' FROM ops.outbox WHERE key = 'P3'`).Scan(&channel)
	if channel != "SMS" {
		t.Errorf("xs_sms/P3's event names channel %q, want SMS", channel)
	}
}
