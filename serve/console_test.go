package serve

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"cdp/internal/sqltest"
	"cdp/internal/testbank"
	"cdp/outbox"
	"cdp/schedules"
	"cdp/serve/console"
	"cdp/warehouse"
)

// consoleDaemon is a daemon over a loaded bank serving the console to ana
// (analyst) and eng (engineer), once a job has described the bank; audit
// receives the views. It returns the bank and the daemon's base URL.
func consoleDaemon(t *testing.T, audit func(console.View)) (*testbank.Bank, string) {
	b, base, _ := consoleDaemonWithTeam(t, audit)
	return b, base
}

// consoleDaemonWithTeam is consoleDaemon that also returns the team member
// the user tm is limited to.
func consoleDaemonWithTeam(t *testing.T, audit func(console.View)) (b *testbank.Bank, base, teamMember string) {
	t.Helper()
	b = testbank.Load(t, testbank.Options{Parties: 300, Days: 2, Seed: 31, BadRowRate: 0.01})
	p := testbank.WithConfig(t, b.Dir, "schedules:\n  jobs:\n    - {name: describe, stages: [tags, tiers, view, signals]}\n")
	var d *Daemon
	// br is limited to the branch with the most parties.
	var branch string
	sqltest.Row(t, b.W.DB(), `SELECT branch_code FROM core.party WHERE branch_code IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`).Scan(&branch)
	// tm is limited to the teams of the advisor on the most rosters.
	sqltest.Row(t, b.W.DB(), `SELECT member_id FROM raw.contact_team WHERE role = 'ADVISOR' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`).Scan(&teamMember)
	c, err := console.New(console.Options{DB: b.W.DB(), Logger: testbank.Quiet, Audit: audit,
		Users: map[string]console.User{"ana": {Password: "ana-pw", Role: console.RoleAnalyst}, "eng": {Password: "eng-pw", Role: console.RoleEngineer},
			"br": {Password: "br-pw", Role: console.RoleAnalyst, Scope: warehouse.PartyScope{Branches: []string{branch}}},
			"tm": {Password: "tm-pw", Role: console.RoleAnalyst, Scope: warehouse.PartyScope{Members: []string{teamMember}}}},
		Status: func(ctx context.Context) (*schedules.Status, error) {
			return schedules.ReadStatus(ctx, b.W.DB(), p.Project, d.Sched.Running(), 50)
		}})
	if err != nil {
		t.Fatal(err)
	}
	fired := make(chan *schedules.FireResult, 1)
	d = NewDaemon(p, b.W, DaemonOptions{Logger: testbank.Quiet, Console: c.Handler(), OnFire: func(r *schedules.FireResult) { fired <- r }})
	var stop func()
	base, stop = start(t, d)
	t.Cleanup(stop)
	if !d.Sched.FireAsync(schedules.Fire{Job: "describe", Trigger: schedules.TriggerManual}) {
		t.Fatal("the fire was not taken")
	}
	if r := awaitValue(t, "describe", fired); r.Status != schedules.StatusSuccess {
		t.Fatalf("describe: %s %v", r.Status, r.Err)
	}
	return b, base, teamMember
}

// The console: a login with the SQL endpoint's users, then runs, loads and
// rejects, the outbox and a customer card, with the figures the warehouse
// holds; an analyst never sees a full ID number; every view is audited.
func TestConsole_PagesBehindALogin(t *testing.T) {
	var mu sync.Mutex
	var views []console.View
	b, base, member := consoleDaemonWithTeam(t, func(v console.View) { mu.Lock(); views = append(views, v); mu.Unlock() })

	client := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	get := func(cl *http.Client, path string) (int, string, string) {
		t.Helper()
		resp, err := cl.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, resp.Header.Get("Location"), string(body)
	}
	login := func(cl *http.Client, user, pw string) int {
		t.Helper()
		resp, err := cl.PostForm(base+"/console/login", url.Values{"user": {user}, "password": {pw}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	anon := client()
	for _, path := range []string{"/console/", "/console/loads", "/console/outbox", "/console/customer?q=P0000000001"} {
		if code, loc, _ := get(anon, path); code != http.StatusSeeOther || loc != "/console/login" {
			t.Errorf("GET %s without a login: %d → %q, want a redirect to the login", path, code, loc)
		}
	}
	if code := login(anon, "ana", "wrong"); code != http.StatusUnauthorized {
		t.Errorf("a wrong password: %d, want 401", code)
	}
	if code := login(anon, "mallory", "ana-pw"); code != http.StatusUnauthorized {
		t.Errorf("an unknown user: %d, want 401", code)
	}

	ana := client()
	if code := login(ana, "ana", "ana-pw"); code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	if code, _, body := get(ana, "/console/"); code != 200 || !strings.Contains(body, "<td>describe</td>") || !strings.Contains(body, `class="success">success`) {
		t.Errorf("runs page: %d\n%s", code, body)
	}
	code, _, body := get(ana, "/console/loads")
	var feed, entity string
	var loaded int64
	sqltest.Row(t, b.W.DB(), `SELECT feed, entity, sum(rows_loaded) FROM ops.loads WHERE status = 'loaded' AND source LIKE '%20261120%'
		GROUP BY ALL ORDER BY 3 DESC LIMIT 1`).Scan(&feed, &entity, &loaded)
	row := "<td>20261120</td><td>" + feed + "</td><td>" + entity + "</td>"
	if code != 200 || !strings.Contains(body, row) || !strings.Contains(body, `<td class="num">`+strconv.FormatInt(loaded, 10)+"</td>") || !strings.Contains(body, "bad_date") {
		t.Errorf("loads page: %d, want %s with %d loaded and the reject reasons\n%s", code, row, loaded, body)
	}
	st, err := outbox.ReadStatus(context.Background(), b.W.DB())
	if err != nil {
		t.Fatal(err)
	}
	if code, _, body := get(ana, "/console/outbox"); code != 200 || !strings.Contains(body, `id="backlog">`+strconv.FormatInt(st.Backlog, 10)+"<") {
		t.Errorf("outbox page: %d, want backlog %d\n%s", code, st.Backlog, body)
	}

	// A party with signals and a valid resident ID.
	var party, idNo string
	sqltest.Row(t, b.W.DB(), `SELECT s.party_id, p.id_no FROM mart.signals s JOIN core.party p USING (party_id)
		WHERE p.party_type = 'P' AND length(p.id_no) = 18 ORDER BY s.party_id LIMIT 1`).Scan(&party, &idNo)
	fullID := regexp.MustCompile(`\b\d{17}[\dXx]\b`)
	code, _, body = get(ana, "/console/customer?q="+party)
	if code != 200 || !strings.Contains(body, `id="party">`+party) || !strings.Contains(body, "<td>churn") && !strings.Contains(body, "<td>cross_sell") && !strings.Contains(body, "<td>risk") {
		t.Errorf("customer card of %s: %d\n%s", party, code, body)
	}
	if m := fullID.FindString(body); m != "" || strings.Contains(body, idNo) {
		t.Errorf("an unmasked ID number on the analyst's customer card: %q", m)
	}
	eng := client()
	login(eng, "eng", "eng-pw")
	if _, _, body := get(eng, "/console/customer?q="+party); !strings.Contains(body, idNo) {
		t.Errorf("the engineer's customer card does not show the ID number")
	}
	var parties int64
	sqltest.Row(t, b.W.DB(), `SELECT parties FROM ops.identity_runs ORDER BY started_at DESC LIMIT 1`).Scan(&parties)
	if code, _, body := get(ana, "/console/identity"); code != 200 || !strings.Contains(body, "<td>resident_id</td>") ||
		!strings.Contains(body, `<td class="num">`+strconv.FormatInt(parties, 10)+"</td>") {
		t.Errorf("identity page: %d, want the rules and %d parties\n%s", code, parties, body)
	}
	if code, _, body := get(ana, "/console/catalog"); code != 200 || !strings.Contains(body, "<code>churn_settlement_drop</code>") ||
		!strings.Contains(body, "<code>settlement_volume_30d</code>") ||
		!strings.Contains(body, "<td>party<br><small>core.settlement.txn_time, 30 days</small></td>") ||
		!strings.Contains(body, "<td><code>gender</code></td><td>natural</td><td>性别 · Gender</td><td>enum</td><td>current</td><td>party</td>") {
		t.Errorf("catalog page: %d\n%s", code, body)
	}
	if code, _, _ := get(ana, "/console/customer?q=nobody-at-all"); code != http.StatusNotFound {
		t.Errorf("an unknown customer: %d, want 404", code)
	}
	// The card explains the tier with the criteria it met or missed, and
	// shows the tag history.
	var tier string
	sqltest.Row(t, b.W.DB(), `SELECT tier_zh FROM mart.value_tier WHERE party_id = ?`, party).Scan(&tier)
	if !strings.Contains(body, `id="tier"><strong>`+tier) || !regexp.MustCompile(`id="tier-reasons"><li>(AUM|annual revenue) CNY [\d,.]+ [≥<] the (core|growth) floor`).MatchString(body) ||
		!strings.Contains(body, `id="tag-history"`) || !strings.Contains(body, `<table id="tier-history"><tr><th>tier</th><th>from</th><th>to</th><th>why</th></tr>
<tr><td>`+tier) {
		t.Errorf("the customer card's tier %s and its reasons, the tag history:\n%s", tier, body)
	}

	// The funnel counts every signal; a party's card shows the contacts
	// every line made with it.
	var signalsN int64
	sqltest.Row(t, b.W.DB(), `SELECT count(*) FROM mart.signals`).Scan(&signalsN)
	if code, _, body := get(ana, "/console/funnel?by=tier"); code != 200 ||
		!strings.Contains(body, `<tr id="funnel-total"><th>total</th><td class="num">`+strconv.FormatInt(signalsN, 10)+"</td>") {
		t.Errorf("funnel page: %d, want %d signals in total\n%s", code, signalsN, body)
	}
	// Service coverage by RM: the customers with a standard.
	var withStandard int64
	sqltest.Row(t, b.W.DB(), `SELECT count(*) FROM mart.service_coverage`).Scan(&withStandard)
	if code, _, body := get(ana, "/console/coverage"); code != 200 || withStandard == 0 || !strings.Contains(body, `id="coverage"`) ||
		strings.Count(body, "<tr><td>") == 0 {
		t.Errorf("coverage page: %d with %d customers with a standard\n%s", code, withStandard, body)
	}
	// Key accounts: the tier mix as mart.value_tier has it, the approved
	// list's entries with their status.
	var companiesCore, listed, listEntries int64
	sqltest.Row(t, b.W.DB(), `SELECT count(*) FILTER (party_type = 'C' AND tier = 'core'), count(*) FILTER (party_type = 'C' AND tier = 'core' AND tier_source = 'list'),
		(SELECT count(*) FROM mart.key_account_list) FROM mart.value_tier`).Scan(&companiesCore, &listed, &listEntries)
	if code, _, body := get(ana, "/console/keyaccounts"); code != 200 ||
		!strings.Contains(body, fmt.Sprintf("<tr><td>companies</td><td>战略核心 core</td><td>%d</td><td>%d</td>", companiesCore, listed)) ||
		strings.Count(body, `<td>KA0`) != int(listEntries) || listEntries == 0 || !strings.Contains(body, `id="tier-data"`) {
		t.Errorf("key accounts page: %d; want %d core companies, %d by the list, %d list entries\n%s", code, companiesCore, listed, listEntries, body)
	}
	// ... and what each tier brings (mart.contribution_12m), with the
	// concentration curve's data; the card shows a party's months.
	var coreCompanies string
	sqltest.Row(t, b.W.DB(), `SELECT printf('%,.0f', sum(contribution_12m)) FROM mart.contribution_12m WHERE party_type = 'C' AND tier = 'core'`).Scan(&coreCompanies)
	if _, _, body := get(ana, "/console/keyaccounts"); !strings.Contains(body, `<td>companies</td><td>core</td>`) ||
		!strings.Contains(body, `<td class="num">`+coreCompanies+`</td>`) || !strings.Contains(body, `id="curve-data"`) || !strings.Contains(body, `top 15%`) {
		t.Errorf("key accounts page: want the core companies' contribution %s and the curve\n%s", coreCompanies, body)
	}
	var earner, earnerMonth, earnerTotal string
	sqltest.Row(t, b.W.DB(), `SELECT party_id, strftime(month, '%Y-%m'), printf('%,.2f', contribution) FROM mart.contribution ORDER BY contribution DESC, party_id LIMIT 1`).
		Scan(&earner, &earnerMonth, &earnerTotal)
	if code, _, body := get(ana, "/console/customer?q="+earner); code != 200 ||
		!regexp.MustCompile(`id="contribution">.*\n<tr><td>`+earnerMonth+`</td>(<td class="num">[^<]*</td>){6}<td class="num">`+earnerTotal+`</td>`).MatchString(body) {
		t.Errorf("the contribution on %s's card: %d, want %s in %s\n%s", earner, code, earnerTotal, earnerMonth, body)
	}
	// The external feed on a company's card: its statements, latest year
	// first, and its public opinion.
	var company, fy, ratio string
	sqltest.Row(t, b.W.DB(), `SELECT party_id, CAST(max(fiscal_year) AS VARCHAR), printf('%.1f%%', 100 * arg_max(debt_ratio, fiscal_year))
		FROM core.company_financials WHERE party_id IN (SELECT party_id FROM core.opinion_event) GROUP BY 1 ORDER BY 1 LIMIT 1`).Scan(&company, &fy, &ratio)
	if code, _, body := get(ana, "/console/customer?q="+company); code != 200 ||
		!regexp.MustCompile(`id="statements">.*\n<tr><td>`+fy+`</td>(<td class="num">[^<]*</td>){2}<td class="num">`+ratio+`</td>`).MatchString(body) ||
		!strings.Contains(body, `id="opinion"`) {
		t.Errorf("the statements and opinion on %s's card: %d, want fiscal %s with debt ratio %s\n%s", company, code, fy, ratio, body)
	}
	var contacted, line string
	sqltest.Row(t, b.W.DB(), `SELECT party_id, arg_max(business_line, contact_time) FROM core.contact WHERE party_id IS NOT NULL GROUP BY 1 ORDER BY 1 LIMIT 1`).Scan(&contacted, &line)
	if code, _, body := get(ana, "/console/customer?q="+contacted); code != 200 || !regexp.MustCompile(`id="contacts">.*\n<tr><td>[^<]+</td><td>`+line+`</td>`).MatchString(body) {
		t.Errorf("the contacts on %s's card: %d, want a %s contact\n%s", contacted, code, line, body)
	}

	// A user limited to a branch finds its parties only, as if no other
	// existed, and may not open the whole-bank pages.
	br := client()
	login(br, "br", "br-pw")
	var mine, other string
	sqltest.Row(t, b.W.DB(), `SELECT (SELECT min(party_id) FROM mart.party_owner WHERE owner_branch = b),
		(SELECT min(s.party_id) FROM mart.signals s JOIN mart.party_owner o USING (party_id) WHERE o.owner_branch IS DISTINCT FROM b)
		FROM (SELECT min(owner_branch) FILTER (WHERE owner_branch = (SELECT branch_code FROM core.party WHERE branch_code IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1)) AS b FROM mart.party_owner)`).Scan(&mine, &other)
	if code, _, body := get(br, "/console/customer?q="+mine); code != 200 || !strings.Contains(body, `id="party">`+mine) {
		t.Errorf("the branch user's own party %s: %d\n%s", mine, code, body)
	}
	if code, _, body := get(br, "/console/customer?q="+other); code != http.StatusNotFound || strings.Contains(body, `id="party"`) {
		t.Errorf("another branch's party %s for the branch user: %d, want 404\n%s", other, code, body)
	}
	for _, page := range []string{"/console/loads", "/console/outbox", "/console/identity"} {
		if code, _, _ := get(br, page); code != http.StatusForbidden {
			t.Errorf("%s for the branch user: %d, want 403", page, code)
		}
	}
	var ofBranch int64
	sqltest.Row(t, b.W.DB(), `SELECT count(*) FROM mart.signal_outcomes WHERE party_id IN (SELECT party_id FROM mart.party_owner
		WHERE owner_branch = (SELECT branch_code FROM core.party WHERE branch_code IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1))`).Scan(&ofBranch)
	if _, _, body := get(br, "/console/funnel"); !strings.Contains(body, `<tr id="funnel-total"><th>total</th><td class="num">`+strconv.FormatInt(ofBranch, 10)+"</td>") {
		t.Errorf("the branch user's funnel: want %d signals of the branch\n%s", ofBranch, body)
	}
	if _, _, body := get(br, "/console/catalog"); strings.Contains(body, `href="/console/loads"`) {
		t.Errorf("the branch user's menu links the whole-bank pages")
	}

	// A team member's login: the customers of their teams, with the team
	// on the card; others do not exist for them; their funnel and
	// coverage count their teams' customers.
	tm := client()
	login(tm, "tm", "tm-pw")
	var served, notServed string
	var servedSignals int64
	sqltest.Row(t, b.W.DB(), `SELECT (SELECT min(party_id) FROM mart.party_team WHERE member_id = ?),
		(SELECT min(party_id) FROM core.party WHERE party_id NOT IN (SELECT party_id FROM mart.party_team WHERE member_id = ?)),
		(SELECT count(*) FROM mart.signal_outcomes WHERE party_id IN (SELECT party_id FROM mart.party_team WHERE member_id = ?))`,
		member, member, member).Scan(&served, &notServed, &servedSignals)
	if code, _, body := get(tm, "/console/customer?q="+served); code != 200 || !strings.Contains(body, `<td>投资顾问 (ADVISOR)</td><td>`+member+`</td>`) {
		t.Errorf("the team member's customer %s: %d, want the card with its team\n%s", served, code, body)
	}
	if code, _, _ := get(tm, "/console/customer?q="+notServed); code != http.StatusNotFound {
		t.Errorf("a customer outside the member's teams: %d, want 404", code)
	}
	if _, _, body := get(tm, "/console/funnel?by=member"); !strings.Contains(body, `<tr id="funnel-total"><th>total</th><td class="num">`+strconv.FormatInt(servedSignals, 10)+"</td>") {
		t.Errorf("the team member's funnel: want %d signals of their teams' customers\n%s", servedSignals, body)
	}
	if code, _, body := get(tm, "/console/coverage?by=member"); code != 200 || !strings.Contains(body, "<td>"+member+" 投资顾问</td>") {
		t.Errorf("the team member's coverage by member: %d\n%s", code, body)
	}

	mu.Lock()
	defer mu.Unlock()
	seen := map[string]int{}
	for _, v := range views {
		seen[v.Page+"/"+v.Outcome]++
	}
	if seen["login/refused"] != 2 || seen["login/ok"] != 4 || seen["loads/ok"] != 1 || seen["customer/ok"] < 3 || seen["runs/refused"] != 1 ||
		seen["loads/refused"] != 2 { // anonymous, and the branch user
		t.Errorf("audited views %v", seen)
	}
}
