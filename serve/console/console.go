// Package console is the web console of cdp serve, for operators and
// analysts: what ran, what was loaded and rejected and why, the outbox, and
// one customer with the reasons behind their signals. Pages are rendered on
// the server from Go templates embedded in the binary (no JavaScript build
// step, nothing fetched at run time), behind a login with the SQL
// endpoint's users, and masked by role: an analyst never sees a full ID
// number or mobile. Every page view is audited like a SQL statement.
package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"cdp/outbox"
	"cdp/pii"
	"cdp/schedules"
	"cdp/transforms/identity"
	"cdp/transforms/signals"
	"cdp/transforms/tags"
	"cdp/transforms/tiers"
	"cdp/warehouse"
)

//go:embed templates/*.html
var templateFiles embed.FS

// Apache ECharts 5.6.0 (the "common" build: line, bar, pie), from npm, with
// its licence; and the script that draws the pages' charts from the JSON
// they carry. Served from the binary: nothing is fetched at run time.
//
//go:embed static
var staticFiles embed.FS

// chart is one chart's data, drawn by static/charts.js.
type chart struct {
	Kind   string        `json:"kind"` // line, bar, stacked, pie
	X      []string      `json:"x"`
	Series []chartSeries `json:"series"`
}

type chartSeries struct {
	Name string    `json:"name"`
	Data []float64 `json:"data"`
}

// Roles of the console's users, the SQL endpoint's.
const (
	RoleAnalyst  = "analyst"
	RoleEngineer = "engineer"
)

// User is one login.
type User struct {
	Password string
	Role     string
	// Scope limits an analyst to the parties its branches or RMs own or
	// its team members serve (mart.party_owner), as on the SQL endpoint:
	// the customer card finds no other party, and the whole-bank pages
	// (loads, outbox, identity) are refused.
	Scope warehouse.PartyScope
}

// wholeBankPages show figures and rows of every party; a scoped user may
// not open them.
var wholeBankPages = map[string]bool{"loads": true, "outbox": true, "identity": true}

// View is one page view, for the audit log.
type View struct {
	Time    time.Time
	User    string
	Role    string
	Remote  string
	Page    string
	Millis  int64
	Outcome string // ok, refused, failed
	Error   string
}

// Options configure the console.
type Options struct {
	DB     *sql.DB // the warehouse
	Users  map[string]User
	Status func(context.Context) (*schedules.Status, error)
	// Catalog and Rules are documented on the catalog page; nil: the
	// built-in ones.
	Catalog *tags.Catalog
	Rules   *signals.Rules
	// Tiers are the floors the customer card explains a tier with; zero:
	// the defaults.
	Tiers  tiers.Config
	Audit  func(View) // may be nil
	Logger *slog.Logger
	// SessionTTL bounds a login; default 8 hours.
	SessionTTL time.Duration
	Now        func() time.Time
}

// Console serves /console/.
type Console struct {
	o    Options
	tmpl *template.Template

	mu       sync.Mutex
	sessions map[string]session // by cookie value
}

type session struct {
	user, role string
	scope      warehouse.PartyScope // what a scoped user is limited to
	expires    time.Time
}

const cookieName = "cdp_console"

// New makes the console.
func New(o Options) (*Console, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 8 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Tiers = o.Tiers.WithDefaults()
	tmpl, err := template.New("").Funcs(template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.Format("2006-01-02 15:04:05")
		},
		"pct": func(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) },
		"dur": func(a, b time.Time) string {
			if a.IsZero() || b.IsZero() {
				return ""
			}
			return b.Sub(a).Round(time.Millisecond).String()
		},
		"show": func(v any) string {
			if v == nil {
				return ""
			}
			return fmt.Sprint(v)
		},
	}).ParseFS(templateFiles, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("console templates: %w", err)
	}
	return &Console{o: o, tmpl: tmpl, sessions: map[string]session{}}, nil
}

// Handler serves the console under /console/.
func (c *Console) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFiles, "static")
	files := http.StripPrefix("/console/static/", http.FileServer(http.FS(static)))
	mux.Handle("GET /console/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	}))
	mux.HandleFunc("GET /console/login", func(w http.ResponseWriter, r *http.Request) {
		c.render(w, http.StatusOK, "login", map[string]any{})
	})
	mux.HandleFunc("POST /console/login", c.login)
	mux.HandleFunc("POST /console/logout", func(w http.ResponseWriter, r *http.Request) {
		if ck, err := r.Cookie(cookieName); err == nil {
			c.mu.Lock()
			delete(c.sessions, ck.Value)
			c.mu.Unlock()
		}
		http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/console/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
		http.Redirect(w, r, "/console/login", http.StatusSeeOther)
	})
	mux.Handle("GET /console/{$}", c.page("runs", c.runs))
	mux.Handle("GET /console/loads", c.page("loads", c.loads))
	mux.Handle("GET /console/outbox", c.page("outbox", c.outbox))
	mux.Handle("GET /console/customer", c.page("customer", c.customer))
	mux.Handle("GET /console/identity", c.page("identity", c.identity))
	mux.Handle("GET /console/catalog", c.page("catalog", c.catalog))
	mux.Handle("GET /console/funnel", c.page("funnel", c.funnel))
	mux.Handle("GET /console/coverage", c.page("coverage", c.coverage))
	mux.Handle("GET /console/keyaccounts", c.page("keyaccounts", c.keyAccounts))
	return mux
}

// login checks a user's password (constant time, an unknown user like a
// wrong password) and starts a session.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	start := c.o.Now()
	name, password := r.PostFormValue("user"), r.PostFormValue("password")
	u, known := c.o.Users[name]
	want := sha256.Sum256([]byte(u.Password + "\x00" + name))
	got := sha256.Sum256([]byte(password + "\x00" + name))
	if !known || subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
		c.audit(View{Time: start, User: name, Remote: r.RemoteAddr, Page: "login", Outcome: "refused", Error: "password authentication failed"})
		c.o.Logger.Warn("console login refused", "user", name, "remote", r.RemoteAddr)
		c.render(w, http.StatusUnauthorized, "login", map[string]any{"Error": "Wrong user or password."})
		return
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		http.Error(w, "no randomness for a session", http.StatusInternalServerError)
		return
	}
	token := hex.EncodeToString(b)
	c.mu.Lock()
	c.sessions[token] = session{user: name, role: u.Role, scope: u.Scope, expires: c.o.Now().Add(c.o.SessionTTL)}
	c.mu.Unlock()
	c.audit(View{Time: start, User: name, Role: u.Role, Remote: r.RemoteAddr, Page: "login", Outcome: "ok"})
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: token, Path: "/console/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, MaxAge: int(c.o.SessionTTL.Seconds())})
	http.Redirect(w, r, "/console/", http.StatusSeeOther)
}

// sessionOf is the request's logged-in session, if any.
func (c *Console) sessionOf(r *http.Request) (session, bool) {
	ck, err := r.Cookie(cookieName)
	if err != nil {
		return session{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.sessions[ck.Value]
	if ok && c.o.Now().After(s.expires) {
		delete(c.sessions, ck.Value)
		return session{}, false
	}
	return s, ok
}

// page wraps a page: a login is required, the view is audited, and an
// error is shown rather than half a page.
func (c *Console) page(name string, fill func(*http.Request, session, map[string]any) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := c.sessionOf(r)
		if !ok {
			c.audit(View{Time: c.o.Now(), Remote: r.RemoteAddr, Page: name, Outcome: "refused", Error: "not logged in"})
			http.Redirect(w, r, "/console/login", http.StatusSeeOther)
			return
		}
		start := c.o.Now()
		data := map[string]any{"User": s.user, "Role": s.role, "Page": name, "Scoped": s.scope.Scoped()}
		if s.scope.Scoped() && wholeBankPages[name] {
			data["Error"] = "This page shows the whole bank; your login is limited to " + s.scope.String() + "."
			c.audit(View{Time: start, User: s.user, Role: s.role, Remote: r.RemoteAddr, Page: name, Outcome: "refused", Error: "whole-bank page for a scoped user"})
			c.render(w, http.StatusForbidden, "denied", data)
			return
		}
		err := fill(r, s, data)
		v := View{Time: start, User: s.user, Role: s.role, Remote: r.RemoteAddr, Page: name, Millis: c.o.Now().Sub(start).Milliseconds(), Outcome: "ok"}
		status := http.StatusOK
		if err != nil {
			v.Outcome, v.Error = "failed", pii.Redact(err.Error())
			data["Error"] = v.Error
			status = http.StatusInternalServerError
			if errors.Is(err, identity.ErrNoParty) {
				status, v.Outcome = http.StatusNotFound, "ok"
			}
		}
		c.audit(v)
		c.render(w, status, name, data)
	})
}

func (c *Console) audit(v View) {
	if c.o.Audit != nil {
		c.o.Audit(v)
	}
}

func (c *Console) render(w http.ResponseWriter, status int, name string, data map[string]any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'")
	w.WriteHeader(status)
	if err := c.tmpl.ExecuteTemplate(w, name+".html", data); err != nil {
		c.o.Logger.Error("console page", "page", name, "error", err)
	}
}

// runs: the jobs that ran, their outcomes, and the next fires.
func (c *Console) runs(r *http.Request, _ session, data map[string]any) error {
	st, err := c.o.Status(r.Context())
	if err != nil {
		return err
	}
	for i := range st.Runs {
		st.Runs[i].Error = pii.Redact(st.Runs[i].Error)
	}
	data["Status"] = st
	// Durations over time, per job, oldest first.
	byJob := map[string]map[int]float64{}
	var x []string
	for i := len(st.Runs) - 1; i >= 0; i-- {
		r := st.Runs[i]
		if r.EndedAt.IsZero() {
			continue
		}
		if byJob[r.Job] == nil {
			byJob[r.Job] = map[int]float64{}
		}
		byJob[r.Job][len(x)] = r.EndedAt.Sub(r.StartedAt).Seconds()
		x = append(x, r.StartedAt.Format("01-02 15:04"))
	}
	ch := chart{Kind: "line", X: x}
	for _, job := range slices.Sorted(maps.Keys(byJob)) {
		s := chartSeries{Name: job, Data: make([]float64, len(x))}
		for i := range x {
			s.Data[i] = byJob[job][i]
		}
		ch.Series = append(ch.Series, s)
	}
	data["DurationChart"] = ch
	return nil
}

// loadRow is one feed entity's loads of one day.
type loadRow struct {
	Feed, Entity, Day           string
	Files, In, Loaded, Rejected int64
}

// rejectRow is a rejected row to look at.
type rejectRow struct {
	Position, Reason, Detail, Raw string
}

// loads: rows in, loaded and rejected per feed, entity and day; rejects by
// reason, and the latest rejected rows with their positions (IDs and
// mobiles in them masked).
func (c *Console) loads(r *http.Request, _ session, data map[string]any) error {
	ctx := r.Context()
	rows, err := c.o.DB.QueryContext(ctx, `SELECT feed, entity, coalesce(regexp_extract(source, '(\d{8})', 1), CAST(CAST(started_at AS DATE) AS VARCHAR)) AS day,
		count(*), sum(rows_in), sum(rows_loaded), sum(rows_rejected)
		FROM ops.loads WHERE status = 'loaded' GROUP BY ALL ORDER BY day DESC, feed, entity LIMIT 200`)
	if err != nil {
		return fmt.Errorf("loads: %w", err)
	}
	var loads []loadRow
	for rows.Next() {
		var l loadRow
		if err := rows.Scan(&l.Feed, &l.Entity, &l.Day, &l.Files, &l.In, &l.Loaded, &l.Rejected); err != nil {
			rows.Close()
			return err
		}
		loads = append(loads, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	reasons := map[string]int64{}
	rows, err = c.o.DB.QueryContext(ctx, `SELECT reason, count(*) FROM ops.rejects r JOIN ops.loads l USING (load_id) WHERE l.status = 'loaded' GROUP BY ALL`)
	if err != nil {
		return fmt.Errorf("rejects: %w", err)
	}
	for rows.Next() {
		var reason string
		var n int64
		if err := rows.Scan(&reason, &n); err != nil {
			rows.Close()
			return err
		}
		reasons[reason] = n
	}
	rows.Close()
	var samples []rejectRow
	rows, err = c.o.DB.QueryContext(ctx, `SELECT r.position, r.reason, coalesce(r.detail, ''), coalesce(r.raw, '') FROM ops.rejects r
		JOIN ops.loads l USING (load_id) WHERE l.status = 'loaded' AND r.reason <> 'duplicate_key' ORDER BY r.load_id DESC, r.line LIMIT 50`)
	if err != nil {
		return fmt.Errorf("reject samples: %w", err)
	}
	for rows.Next() {
		var s rejectRow
		if err := rows.Scan(&s.Position, &s.Reason, &s.Detail, &s.Raw); err != nil {
			rows.Close()
			return err
		}
		s.Detail, s.Raw = pii.Redact(s.Detail), pii.Redact(s.Raw)
		samples = append(samples, s)
	}
	rows.Close()
	keys := make([]string, 0, len(reasons))
	for k := range reasons {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return reasons[keys[i]] > reasons[keys[j]] })
	type reasonCount struct {
		Reason string
		Rows   int64
	}
	var byReason []reasonCount
	for _, k := range keys {
		byReason = append(byReason, reasonCount{k, reasons[k]})
	}
	data["Loads"], data["Reasons"], data["Samples"] = loads, byReason, samples
	perDay := map[string][2]float64{}
	for _, l := range loads {
		v := perDay[l.Day]
		v[0] += float64(l.Loaded)
		v[1] += float64(l.Rejected)
		perDay[l.Day] = v
	}
	days := slices.Sorted(maps.Keys(perDay))
	loadChart := chart{Kind: "stacked", X: days, Series: []chartSeries{{Name: "loaded", Data: make([]float64, len(days))}, {Name: "rejected", Data: make([]float64, len(days))}}}
	for i, d := range days {
		loadChart.Series[0].Data[i], loadChart.Series[1].Data[i] = perDay[d][0], perDay[d][1]
	}
	data["LoadChart"] = loadChart
	return rows.Err()
}

// outbox: what waits for Kafka, the oldest event and the last error.
func (c *Console) outbox(r *http.Request, _ session, data map[string]any) error {
	st, err := outbox.ReadStatus(r.Context(), c.o.DB)
	if err != nil {
		return err
	}
	st.LastError = pii.Redact(st.LastError)
	data["Outbox"] = st
	ch := chart{Kind: "stacked", Series: []chartSeries{{Name: "waiting"}, {Name: "published"}}}
	for _, t := range st.Topics {
		ch.X = append(ch.X, t.Topic)
		ch.Series[0].Data = append(ch.Series[0].Data, float64(t.Backlog))
		ch.Series[1].Data = append(ch.Series[1].Data, float64(t.Published))
	}
	data["OutboxChart"] = ch
	return nil
}

// signalRow is an open signal of the customer shown.
type signalRow struct {
	Rule, Kind, Status, Reason, Evidence string
	Score                                float64
}

// customer: one party by party id, ID number, mobile, name or source key:
// the golden record, its source records and the rule that joined each,
// relationships, tags and open signals with their reasons.
func (c *Console) customer(r *http.Request, s session, data map[string]any) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	data["Query"] = pii.Redact(q)
	if q == "" {
		return nil
	}
	o := identity.LookupOptions{Unmask: s.role == RoleEngineer}
	if s.scope.Scoped() {
		o.Visible = func(ctx context.Context, ids []string) ([]string, error) { return c.visible(ctx, s.scope, ids) }
	}
	p, err := identity.LookupProfileWith(r.Context(), c.o.DB, q, o)
	if err != nil {
		return err
	}
	data["Profile"] = p
	data["Party"] = sortedFields(p.Party)
	tags, err := c.o.DB.QueryContext(r.Context(), `SELECT tag_id, coalesce(value, '') FROM mart.tags WHERE party_id = ? ORDER BY tag_id`, p.PartyID)
	if err != nil {
		return fmt.Errorf("tags: %w", err)
	}
	var tagRows [][2]string
	for tags.Next() {
		var t [2]string
		if err := tags.Scan(&t[0], &t[1]); err != nil {
			tags.Close()
			return err
		}
		tagRows = append(tagRows, t)
	}
	tags.Close()
	data["Tags"] = tagRows
	if err := c.tierOf(r.Context(), p.PartyID, data); err != nil {
		return err
	}
	history, err := c.o.DB.QueryContext(r.Context(), `SELECT tag_id, coalesce(value, ''), CAST(valid_from AS VARCHAR), coalesce(CAST(valid_to AS VARCHAR), '')
		FROM mart.tag_history WHERE party_id = ? ORDER BY valid_from DESC, tag_id LIMIT 200`, p.PartyID)
	if err != nil {
		return fmt.Errorf("tag history: %w", err)
	}
	var historyRows [][4]string
	for history.Next() {
		var h [4]string
		if err := history.Scan(&h[0], &h[1], &h[2], &h[3]); err != nil {
			history.Close()
			return err
		}
		historyRows = append(historyRows, h)
	}
	history.Close()
	if err := history.Err(); err != nil {
		return err
	}
	data["TagHistory"] = historyRows
	// The loop: who serves the customer (the service team), what the lines
	// did with them, what the CRM answered, and what the contact policy
	// held back.
	for _, q := range []struct{ key, sql string }{
		{"TierHistory", `SELECT tier_zh || ' (' || tier || ')', CAST(valid_from AS VARCHAR), coalesce(CAST(valid_to AS VARCHAR), 'now'), coalesce(reason, '')
			FROM mart.tier_history WHERE party_id = ? ORDER BY valid_from DESC LIMIT 20`},
		{"Contribution", `SELECT strftime(month, '%Y-%m'), CAST(days AS VARCHAR), printf('%,.2f', loan_nii), printf('%,.2f', deposit_nii),
			printf('%,.2f', fee_wealth_sales + fee_wealth_management), printf('%,.2f', fee_card + fee_card_interchange),
			printf('%,.2f', fee_settlement + fee_fx + fee_bill + fee_cash_management), printf('%,.2f', contribution),
			printf('%,.2f', loan_interest_difference)
			FROM mart.contribution WHERE party_id = ? ORDER BY month DESC LIMIT 12`},
		{"Chain", `SELECT CASE link_type WHEN 'buyer' THEN 'buyer (pays it)' ELSE 'supplier (it pays)' END,
			coalesce(counterparty_id, ''), coalesce(counterparty_name, ''), printf('%.1f%%', 100 * share), printf('%,.0f', volume_12m), CAST(payments AS VARCHAR),
			CASE WHEN other_bank THEN 'another bank' ELSE 'our client' END
			FROM core.chain_link WHERE party_id = ? AND source = 'core_banking' ORDER BY link_type, share DESC LIMIT 20`},
		{"Statements", `SELECT CAST(fiscal_year AS VARCHAR), coalesce(printf('%,.0f', revenue), ''), coalesce(printf('%,.0f', net_profit), ''),
			coalesce(printf('%.1f%%', 100 * debt_ratio), ''), coalesce(printf('%,.0f', operating_cash_flow), ''),
			coalesce(CAST(report_date AS VARCHAR), ''), coalesce(provider, '')
			FROM core.company_financials WHERE party_id = ? ORDER BY fiscal_year DESC LIMIT 5`},
		{"Opinion", `SELECT CAST(event_date AS VARCHAR), sentiment, coalesce(CAST(severity AS VARCHAR), ''), coalesce(topic, ''), coalesce(media, ''), coalesce(title, '')
			FROM core.opinion_event WHERE party_id = ? ORDER BY event_date DESC, event_id LIMIT 20`},
		{"Team", `SELECT role_zh || ' (' || role || ')', member_id, CASE source WHEN 'roster' THEN 'roster of ' || CAST(roster_date AS VARCHAR) ELSE 'golden record (no RM on the roster)' END,
			coalesce(CAST(valid_from AS VARCHAR), ''), coalesce(CAST(valid_to AS VARCHAR), '') FROM mart.party_team WHERE party_id = ? ORDER BY role <> 'RM', role, member_id`},
		{"Contacts", `SELECT strftime(contact_time, '%Y-%m-%d %H:%M'), business_line, channel, purpose, coalesce(product, ''), coalesce(rm_id, ''),
			CASE WHEN ce_id IS NULL THEN '' ELSE 'answers a cdp signal' END FROM core.contact WHERE party_id = ? ORDER BY contact_time DESC LIMIT 50`},
		{"Outcomes", `SELECT strftime(outcome_time, '%Y-%m-%d %H:%M'), status, coalesce(product, ''), coalesce(CAST(amount AS VARCHAR), ''),
			coalesce(signal_id, ''), coalesce(task_id, '') FROM core.outcome WHERE party_id = ? ORDER BY outcome_time DESC LIMIT 50`},
		{"Consents", `SELECT channel, arg_max(consent, effective_at), strftime(max(effective_at), '%Y-%m-%d') FROM core.consent
			WHERE party_id = ? GROUP BY channel ORDER BY channel`},
		{"Held", `SELECT CAST(as_of AS VARCHAR), rule_id, decision, coalesce(detail, '') FROM mart.signal_decisions
			WHERE party_id = ? AND decision IN ('held', 'capped', 'suppressed') ORDER BY as_of DESC, rule_id LIMIT 50`},
	} {
		rows, err := c.stringRows(r.Context(), q.sql, p.PartyID)
		if err != nil {
			return fmt.Errorf("%s: %w", strings.ToLower(q.key), err)
		}
		if s.role != RoleEngineer {
			for _, row := range rows {
				for i := range row {
					row[i] = pii.Redact(row[i])
				}
			}
		}
		data[q.key] = rows
	}
	// The reasons in Chinese, as the RMs read them; ?lang=en in English.
	reasonCol := "coalesce(reason_zh, reason, '')"
	if r.URL.Query().Get("lang") == "en" {
		reasonCol = "coalesce(reason, '')"
	}
	sig, err := c.o.DB.QueryContext(r.Context(), `SELECT rule_id, kind, status, CAST(score AS DOUBLE), `+reasonCol+`, coalesce(CAST(evidence AS VARCHAR), '')
		FROM mart.signals WHERE party_id = ? ORDER BY score DESC, rule_id`, p.PartyID)
	if err != nil {
		return fmt.Errorf("signals: %w", err)
	}
	var signals []signalRow
	for sig.Next() {
		var x signalRow
		if err := sig.Scan(&x.Rule, &x.Kind, &x.Status, &x.Score, &x.Reason, &x.Evidence); err != nil {
			sig.Close()
			return err
		}
		if s.role != RoleEngineer {
			x.Reason, x.Evidence = pii.Redact(x.Reason), pii.Redact(x.Evidence)
		}
		signals = append(signals, x)
	}
	sig.Close()
	data["Signals"] = signals
	return sig.Err()
}

// stringRows runs a query whose columns are all text.
func (c *Console) stringRows(ctx context.Context, query string, args ...any) ([][]string, error) {
	rows, err := c.o.DB.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]string
	for rows.Next() {
		row := make([]string, len(cols))
		ptrs := make([]any, len(cols))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// tierRow is a party's tier with the reasons for it.
type tierRow struct {
	Tier, TierZH, Lifecycle string
	Score                   float64
	RFM                     int64
	Reasons                 []string
}

// tierOf puts the party's tier (mart.value_tier) and its reasons in data.
func (c *Console) tierOf(ctx context.Context, party string, data map[string]any) error {
	var t tierRow
	var criteria, computed, source, listReason, approver, approvedOn, validTo string
	var historical, potential, strategic float64
	err := c.o.DB.QueryRowContext(ctx, `SELECT coalesce(criteria_reason, ''), tier, tier_zh, coalesce(lifecycle, ''),
		coalesce(historical, 0), coalesce(potential, 0), coalesce(strategic, 0), coalesce(value_score, 0), coalesce(rfm, 0),
		coalesce(computed_tier, tier), coalesce(tier_source, 'computed'), coalesce(list_reason, ''), coalesce(list_approver, ''),
		coalesce(CAST(list_approved_on AS VARCHAR), ''), coalesce(CAST(list_valid_to AS VARCHAR), '')
		FROM mart.value_tier WHERE party_id = ?`, party).Scan(&criteria, &t.Tier, &t.TierZH, &t.Lifecycle,
		&historical, &potential, &strategic, &t.Score, &t.RFM, &computed, &source, &listReason, &approver, &approvedOn, &validTo)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // not tiered yet (cdp tiers)
	}
	if err != nil {
		return fmt.Errorf("tier: %w", err)
	}
	// The criteria's reason is for the tier they give; an approved list
	// entry that set another comes first.
	t.Reasons = []string{criteria, c.o.Tiers.ScoreReason(historical, potential, strategic, t.Score)}
	if source == "list" {
		t.Reasons = append([]string{pii.Redact(tiers.ListReason(listReason, approver, approvedOn, validTo, computed))}, t.Reasons...)
	}
	data["Tier"] = t
	return nil
}

// visible keeps those of ids a scoped user may see, in order: the parties
// their branches or RMs own or their team members serve (mart.party_owner).
func (c *Console) visible(ctx context.Context, scope warehouse.PartyScope, ids []string) ([]string, error) {
	rows, err := c.o.DB.QueryContext(ctx, `SELECT party_id FROM mart.party_owner
		WHERE list_contains(CAST(? AS VARCHAR[]), party_id) AND `+scope.OwnedSQL(), warehouse.ListLiteral(ids))
	if err != nil {
		return nil, fmt.Errorf("the parties of your scope (mart.party_owner; run cdp view): %w", err)
	}
	defer rows.Close()
	ok := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ok[id] = true
	}
	var out []string
	for _, id := range ids {
		if ok[id] {
			out = append(out, id)
		}
	}
	return out, rows.Err()
}

// funnel: how far the signals went once the CRM answered, by rule, kind,
// tier, branch, RM or week; a scoped user's own branches and RMs only.
func (c *Console) funnel(r *http.Request, s session, data map[string]any) error {
	by := r.URL.Query().Get("by")
	if _, ok := signals.ReportBy[by]; !ok {
		by = "rule"
	}
	o := signals.ReportOptions{By: by, Scope: s.scope}
	f, err := signals.Report(r.Context(), c.o.DB, o)
	if err != nil {
		return err
	}
	data["By"], data["Funnel"] = by, f
	data["Groupings"] = []string{"rule", "kind", "tier", "branch", "rm", "member", "role", "week"}
	ch := chart{Kind: "bar", Series: []chartSeries{{Name: "published"}, {Name: "contacted"}, {Name: "interested"}, {Name: "converted"}}}
	for _, row := range f.Rows {
		ch.X = append(ch.X, row.Group)
		for i, v := range []int64{row.Published, row.Contacted, row.Interested, row.Converted} {
			ch.Series[i].Data = append(ch.Series[i].Data, float64(v))
		}
	}
	data["FunnelChart"] = ch
	if !s.scope.Scoped() { // the lift is a whole-bank figure
		lift, err := signals.Lift(r.Context(), c.o.DB, signals.LiftOptions{})
		if err != nil {
			return err
		}
		data["Lift"] = lift
	}
	return nil
}

// keyAccounts: the tier mix (by the floors and by the approved list), who
// moved tier and why in the last 30 days, and the approved list with its
// expiries; a scoped user's own customers only.
func (c *Console) keyAccounts(r *http.Request, s session, data map[string]any) error {
	ctx := r.Context()
	mine := s.scope.PartiesSQL("party_id")
	mix, err := c.stringRows(ctx, `SELECT CASE party_type WHEN 'C' THEN 'companies' ELSE 'persons' END, tier_zh || ' ' || tier,
			CAST(count(*) AS VARCHAR), CAST(count(*) FILTER (tier_source = 'list') AS VARCHAR),
			printf('%.1f%%', 100.0 * count(*) / sum(count(*)) OVER (PARTITION BY party_type))
		FROM mart.value_tier WHERE `+mine+` GROUP BY party_type, tier, tier_zh, tier_rank ORDER BY party_type DESC, tier_rank`)
	if err != nil {
		return fmt.Errorf("tier mix (mart.value_tier; run cdp tiers): %w", err)
	}
	ch := chart{Kind: "stacked", Series: []chartSeries{{Name: "战略核心 core"}, {Name: "重点培育 growth"}, {Name: "潜力挖掘 base"}}}
	for _, kind := range []string{"persons", "companies"} {
		ch.X = append(ch.X, kind)
		for i, tier := range []string{"core", "growth", "base"} {
			n := 0.0
			for _, row := range mix {
				if row[0] == kind && strings.HasSuffix(row[1], " "+tier) {
					fmt.Sscan(row[2], &n)
				}
			}
			ch.Series[i].Data = append(ch.Series[i].Data, n)
		}
	}
	moves, err := c.stringRows(ctx, `SELECT CAST(as_of AS VARCHAR), party_id, coalesce(old_tier, ''), coalesce(new_tier, ''), direction, coalesce(reason, '')
		FROM mart.tier_changes WHERE direction IN ('up', 'down') AND as_of > (SELECT max(as_of) FROM mart.tier_changes) - 30 AND `+mine+`
		ORDER BY as_of DESC, direction, party_id LIMIT 200`)
	if err != nil {
		return fmt.Errorf("tier moves (mart.tier_changes): %w", err)
	}
	list, err := c.stringRows(ctx, `SELECT list_id, coalesce(party_id, ''), tier, status, CASE WHEN applied THEN 'yes' ELSE 'no' END,
			coalesce(computed_tier, ''), approver || coalesce(' on ' || CAST(approved_on AS VARCHAR), ''), CAST(valid_from AS VARCHAR),
			coalesce(CAST(valid_to AS VARCHAR), 'until revoked'),
			CASE WHEN status = 'active' AND valid_to IS NOT NULL AND valid_to - as_of <= 30 THEN 'soon' ELSE '' END,
			coalesce(CAST(valid_to - as_of AS VARCHAR), ''), coalesce(system || ':' || source_key, ''), reason
		FROM mart.key_account_list WHERE `+s.scope.PartiesSQL("party_id")+`
		ORDER BY status = 'active' DESC, valid_to NULLS LAST, list_id LIMIT 500`)
	if err != nil {
		return fmt.Errorf("the approved list (mart.key_account_list): %w", err)
	}
	if s.role != RoleEngineer {
		for _, rows := range [][][]string{moves, list} {
			for _, row := range rows {
				for i := range row {
					row[i] = pii.Redact(row[i])
				}
			}
		}
	}
	data["Mix"], data["TierChart"], data["Moves"], data["List"] = mix, ch, moves, list
	// What the tiers bring, and how concentrated it is (of the user's own
	// customers when scoped).
	rep, err := tiers.ReadReport(ctx, c.o.DB, mine)
	if err != nil {
		return err
	}
	var byTier [][]string
	for _, t := range rep.ByTier {
		byTier = append(byTier, []string{map[string]string{"P": "persons", "C": "companies"}[t.PartyType], t.Tier,
			fmt.Sprint(t.Parties), money(t.Contribution), fmt.Sprintf("%.1f%%", 100*t.Share), money(t.PerParty)})
	}
	curve := chart{Kind: "line", Series: []chartSeries{{Name: "all"}, {Name: "persons"}, {Name: "companies"}}}
	for i, typ := range []string{"", "P", "C"} {
		for _, step := range rep.Concentration {
			if step.PartyType == typ {
				if i == 0 {
					curve.X = append(curve.X, fmt.Sprintf("top %d%%", step.Percent))
				}
				curve.Series[i].Data = append(curve.Series[i].Data, math.Round(1000*step.Share)/10)
			}
		}
	}
	data["Contribution"], data["ByTier"], data["CurveChart"] = rep, byTier, curve
	return nil
}

// money formats CNY with thousands separators and no cents.
func money(v float64) string { return message.NewPrinter(language.English).Sprintf("%.0f", v) }

// coverageBy are the groupings of the coverage page: the party's RM, its
// branch, or each member of its service team (mart.party_team).
var coverageBy = map[string]string{"rm": "c.rm_id", "branch": "c.branch_code", "member": "t.member_id || ' ' || t.role_zh"}

// coverage: the service standards by tier, met or not, by RM, branch or
// team member (mart.service_coverage as of the last signal run); a scoped
// user's own parties only.
func (c *Console) coverage(r *http.Request, s session, data map[string]any) error {
	by := r.URL.Query().Get("by")
	if coverageBy[by] == "" {
		by = "rm"
	}
	data["By"] = by
	from := "mart.service_coverage c"
	if by == "member" {
		from += " JOIN mart.party_team t USING (party_id)"
	}
	rows, err := c.stringRows(r.Context(), `SELECT coalesce(`+coverageBy[by]+`, '(none)'), CAST(count(*) AS VARCHAR),
			CAST(count(*) FILTER (c.status = 'met') AS VARCHAR), CAST(count(*) FILTER (c.status = 'on_track') AS VARCHAR),
			CAST(count(*) FILTER (c.status = 'at_risk') AS VARCHAR), CAST(count(*) FILTER (c.status = 'incomplete') AS VARCHAR),
			printf('%.1f%%', 100.0 * count(*) FILTER (c.status = 'met') / count(*)), coalesce(CAST(max(c.as_of) AS VARCHAR), '')
		FROM `+from+` WHERE `+s.scope.PartiesSQL("c.party_id")+`
		GROUP BY 1 ORDER BY count(*) FILTER (c.status = 'at_risk') DESC, 1 LIMIT 200`)
	if err != nil {
		return fmt.Errorf("service coverage: %w", err)
	}
	data["Coverage"] = rows
	return nil
}

// identityRun is one unification run.
type identityRun struct {
	RunID, Mode                                           string
	Started                                               time.Time
	Records, Pairs, Matched, Parties, New, Merges, Splits int64
}

// identity: how unification is doing: parties, merges and splits per run,
// the sizes of the clusters, and the identifiers not trusted.
func (c *Console) identity(r *http.Request, _ session, data map[string]any) error {
	ctx := r.Context()
	rows, err := c.o.DB.QueryContext(ctx, `SELECT run_id, mode, started_at, coalesce(records, 0), coalesce(candidate_pairs, 0),
		coalesce(matched_pairs, 0), coalesce(parties, 0), coalesce(new_parties, 0), coalesce(merges, 0), coalesce(splits, 0)
		FROM ops.identity_runs ORDER BY started_at DESC LIMIT 30`)
	if err != nil {
		return fmt.Errorf("identity runs: %w", err)
	}
	var runs []identityRun
	for rows.Next() {
		var x identityRun
		if err := rows.Scan(&x.RunID, &x.Mode, &x.Started, &x.Records, &x.Pairs, &x.Matched, &x.Parties, &x.New, &x.Merges, &x.Splits); err != nil {
			rows.Close()
			return err
		}
		runs = append(runs, x)
	}
	rows.Close()
	type count struct {
		Key string
		N   int64
	}
	list := func(q string) ([]count, error) {
		rows, err := c.o.DB.QueryContext(ctx, q)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []count
		for rows.Next() {
			var x count
			if err := rows.Scan(&x.Key, &x.N); err != nil {
				return nil, err
			}
			out = append(out, x)
		}
		return out, rows.Err()
	}
	sizes, err := list(`SELECT CAST(source_records AS VARCHAR), count(*) FROM core.party GROUP BY source_records ORDER BY source_records`)
	if err != nil {
		return fmt.Errorf("cluster sizes: %w", err)
	}
	problems, err := list(`SELECT coalesce(id_problem, 'no ID'), count(*) FROM core.party_xref WHERE NOT coalesce(id_valid, false) GROUP BY ALL ORDER BY 2 DESC`)
	if err != nil {
		return fmt.Errorf("identifiers not trusted: %w", err)
	}
	rules, err := list(`SELECT rule, count(*) FROM core.party_xref GROUP BY ALL ORDER BY 2 DESC`)
	if err != nil {
		return fmt.Errorf("rules: %w", err)
	}
	data["Runs"], data["Sizes"], data["Problems"], data["Rules"] = runs, sizes, problems, rules
	sizeChart := chart{Kind: "bar", Series: []chartSeries{{Name: "parties"}}}
	for _, s := range sizes {
		sizeChart.X = append(sizeChart.X, s.Key)
		sizeChart.Series[0].Data = append(sizeChart.Series[0].Data, float64(s.N))
	}
	tiers, err := list(`SELECT coalesce(tier, 'none'), count(*) FROM mart.value_tier GROUP BY ALL ORDER BY 1`)
	if err != nil {
		tiers = nil // before the first tiers run
	}
	tierChart := chart{Kind: "pie", Series: []chartSeries{{Name: "parties"}}}
	for _, t := range tiers {
		tierChart.X = append(tierChart.X, t.Key)
		tierChart.Series[0].Data = append(tierChart.Series[0].Data, float64(t.N))
	}
	data["SizeChart"], data["TierChart"], data["Tiers"] = sizeChart, tierChart, tiers
	return nil
}

// catalog: the tags and signal rules, what each means and the SQL behind it.
func (c *Console) catalog(_ *http.Request, _ session, data map[string]any) error {
	cat, rules := c.o.Catalog, c.o.Rules
	if cat == nil {
		var err error
		if cat, err = tags.Load(tags.Builtin()); err != nil {
			return err
		}
	}
	if rules == nil {
		var err error
		if rules, err = signals.Load(signals.Builtin(), nil); err != nil {
			return err
		}
	}
	data["Tags"], data["SignalRules"] = cat.Tags, rules.Rules
	return nil
}

type field struct {
	Name  string
	Value any
}

func sortedFields(m map[string]any) []field {
	out := make([]field, 0, len(m))
	for k, v := range m {
		out = append(out, field{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
