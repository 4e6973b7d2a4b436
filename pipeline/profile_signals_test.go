package pipeline_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"cdp/internal/sqltest"
	"cdp/internal/testbank"
	"cdp/pipeline"
)

// The 360 and cdp.profile carry each party's open signals: after the
// signals stage the 360's open_signals are mart.signals' open ones, the
// parties whose signals moved get a profile event carrying them (with the
// reason), and a view rebuild after that sends no profile event again.
func TestSignals_OpenSignalsReachThe360AndTheProfile(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 400, Days: 2, Seed: 43})
	db := b.W.DB()
	b.Run(t, "tags", "tiers", "view")
	var day string
	sqltest.Row(t, db, `SELECT CAST(max(as_of) AS VARCHAR) FROM mart.customer_360`).Scan(&day)
	env := b.Env()
	var err error
	if env.AsOf, err = time.Parse(time.DateOnly, day); err != nil {
		t.Fatal(err)
	}
	var profiles, parties int
	sqltest.Row(t, db, `SELECT (SELECT count(*) FROM ops.outbox WHERE topic = 'cdp.profile'), (SELECT count(*) FROM mart.customer_360)`).Scan(&profiles, &parties)
	if _, err := pipeline.Run(context.Background(), env, "signals"); err != nil {
		t.Fatal(err)
	}
	var open, in360, mismatched int
	sqltest.Row(t, db, `SELECT (SELECT count(DISTINCT party_id) FROM mart.signals WHERE status IN ('open', 'updated')),
		(SELECT count(*) FROM mart.customer_360 WHERE len(open_signals) > 0),
		(SELECT count(*) FROM mart.customer_360 c FULL JOIN (SELECT party_id, list(rule_id ORDER BY rule_id) AS rules FROM mart.signals
		    WHERE status IN ('open', 'updated') GROUP BY party_id) s USING (party_id)
		 WHERE list_sort([x.rule_id FOR x IN coalesce(c.open_signals, [])]) IS DISTINCT FROM coalesce(s.rules, []))`).Scan(&open, &in360, &mismatched)
	if open == 0 || in360 != open || mismatched != 0 {
		t.Fatalf("%d parties with open signals, %d in the 360, %d whose lists differ", open, in360, mismatched)
	}
	// one profile event for each party whose open signals moved (none had
	// any before), and the others' summaries, unchanged, looked at no more
	var refreshed, state int
	sqltest.Row(t, db, `SELECT (SELECT count(*) FROM ops.outbox WHERE topic = 'cdp.profile') - ?, (SELECT count(*) FROM ops.profile_state)`, profiles).Scan(&refreshed, &state)
	if refreshed != open || state != parties {
		t.Errorf("the refresh queued %d profile events for %d parties whose open signals moved; the profile state holds %d of %d parties", refreshed, open, state, parties)
	}
	var party, rule, reason string
	sqltest.Row(t, db, `SELECT party_id, rule_id, reason FROM mart.signals WHERE status IN ('open', 'updated') ORDER BY party_id, rule_id LIMIT 1`).Scan(&party, &rule, &reason)
	var body string
	sqltest.Row(t, db, `SELECT data FROM ops.outbox WHERE topic = 'cdp.profile' AND key = ? ORDER BY seq DESC LIMIT 1`, party).Scan(&body)
	if !strings.Contains(body, `"rule_id":"`+rule+`"`) || !strings.Contains(body, `"open_signals":[`) {
		t.Errorf("%s's latest profile lacks its open signal %s:\n%s", party, rule, body)
	}
	var before, after int
	sqltest.Row(t, db, `SELECT count(*) FROM ops.outbox WHERE topic = 'cdp.profile'`).Scan(&before)
	b.Run(t, "view")
	sqltest.Row(t, db, `SELECT count(*) FROM ops.outbox WHERE topic = 'cdp.profile'`).Scan(&after)
	if after != before {
		t.Errorf("a view rebuild with nothing new queued %d profile events", after-before)
	}
}
