package schemas

import (
	"strings"
	"testing"
)

func TestValidate_AcceptsGoodBodiesAndNamesWhatIsWrong(t *testing.T) {
	good := `{"signal_id":"0123456789abcdef0123456789abcdef","state":"opened","rule_id":"r1","rule_name":"R","rule_name_zh":"规","kind":"churn",
		"party_id":"P1","score":80,"priority":"high","reason":"why","action":"do","evidence":{},"opened_on":"2026-11-20","valid_until":"2026-12-04","as_of":"2026-11-20",
		"owner_id":"RK30001","owner_type":"team_member","team_role":"RISK","assignees":[{"member_id":"RK30001","role":"RISK"},{"member_id":"RM10001","role":"RM"}]}`
	if err := Validate("cdp.signal.opened", []byte(good)); err != nil {
		t.Fatalf("a good signal: %v", err)
	}
	for _, c := range []struct{ typ, body, want string }{
		{"cdp.signal.opened", strings.Replace(good, `"score":80`, `"score":180`, 1), "maximum"},
		{"cdp.signal.opened", strings.Replace(good, `"state":"opened"`, `"state":"open"`, 1), "state"},
		{"cdp.signal.opened", strings.Replace(good, `"owner_type":"team_member"`, `"owner_type":"someone"`, 1), "owner_type"},
		{"cdp.signal.opened", strings.Replace(good, `"as_of":"2026-11-20"`, `"as_of":"2026-13-40"`, 1), "date"},
		{"cdp.signal.closed", strings.Replace(good, `"kind":"churn",`, `"kind":"churn","id_no":"x",`, 1), "id_no"},
		{"cdp.tags.changed", `{"party_id":"P1","as_of":"2026-11-20","run_id":"r","changes":[]}`, "minItems"},
		{"cdp.profile.updated", `{"party_id":"P1","party_type":"X","as_of":"2026-11-20"}`, "party_type"},
		{"cdp.unknown", `{}`, "no schema"},
		{"cdp.tags.changed", `{"party_id":`, "not JSON"},
	} {
		err := Validate(c.typ, []byte(c.body))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %.80s: err = %v, want one mentioning %q", c.typ, c.body, err, c.want)
		}
	}
	if err := Validate("cdp.tags.changed", []byte(`{"party_id":"P1","as_of":"2026-11-20","run_id":"r","changes":[{"tag_id":"aum","old_value":null,"new_value":"5"}]}`)); err != nil {
		t.Errorf("a good tag change: %v", err)
	}
}
