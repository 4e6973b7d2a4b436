package synthbank

import (
	"bufio"
	"cmp"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// Ground truth: what the platform should discover from the feeds. Written as
// UTF-8 CSV (encoding/csv quoting) plus a README that explains it.

func (w *world) writeTruth(dir string, g *generation) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	write := func(name string, header []string, rows func(emit func(...string))) error {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		bw := bufio.NewWriterSize(f, 1<<16)
		cw := csv.NewWriter(bw)
		cw.Write(header)
		rows(func(v ...string) { cw.Write(v) })
		cw.Flush()
		if err := cw.Error(); err != nil {
			f.Close()
			return err
		}
		if err := bw.Flush(); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}

	err := write("parties.csv", []string{"party_id", "kind", "tier", "name", "id_no", "gender", "birth_date",
		"mobile", "annual_revenue", "aum"}, func(emit func(...string)) {
		for _, p := range w.parties {
			if p.company {
				emit(p.id, "company", p.tier.String(), p.name, p.idNo, "", "", p.mobile, money(p.revenue), "")
				continue
			}
			gender := "F"
			if p.male {
				gender = "M"
			}
			emit(p.id, "person", p.tier.String(), p.name, p.idNo, gender, p.birth.iso(), p.mobile, "", money(p.aum))
		}
	})
	if err != nil {
		return err
	}

	err = write("xref.csv", []string{"system", "source_key", "party_id"}, func(emit func(...string)) {
		for s := system(0); s < numSystems; s++ {
			for _, rec := range w.recs[s] {
				emit(systemNames[s], rec.key, rec.p.id)
			}
		}
	})
	if err != nil {
		return err
	}

	var behs []behaviourRow
	for _, res := range g.results {
		behs = append(behs, res.behaviours...)
	}
	slices.SortStableFunc(behs, func(a, b behaviourRow) int {
		return cmp.Or(cmp.Compare(a.p.idx, b.p.idx), cmp.Compare(a.beh, b.beh), cmp.Compare(a.sys, b.sys))
	})
	err = write("behaviours.csv", []string{"party_id", "behaviour", "system", "source_key", "detail"}, func(emit func(...string)) {
		for _, b := range behs {
			emit(b.p.id, behaviourNames[b.beh], systemNames[b.sys], b.key, b.detail)
		}
	})
	if err != nil {
		return err
	}

	// Occasions: a core or growth person's birthday, or such a company's
	// founding anniversary, on the window's last day or in the 30 after.
	err = write("occasions.csv", []string{"party_id", "occasion", "day", "days_to"}, func(emit func(...string)) {
		for _, p := range w.parties {
			if p.tier == tierBase {
				continue
			}
			from, what := p.birth, "birthday"
			if p.company {
				from, what = p.founded, "anniversary"
			}
			if from == 0 || from == noDay {
				continue
			}
			if next := nextAnniversary(from, w.end); next-w.end <= 30 {
				emit(p.id, what, next.iso(), strconv.Itoa(int(next-w.end)))
			}
		}
	})
	if err != nil {
		return err
	}

	err = write("ladder.csv", []string{"party_id", "daily_settlement"}, func(emit func(...string)) {
		for _, l := range w.ladder {
			emit(l.p.id, money(l.daily))
		}
	})
	if err != nil {
		return err
	}

	// The chain: suppliers whose planted major buyer's loan goes overdue,
	// and companies one payer brings most inflows to.
	err = write("downstream_risk.csv", []string{"supplier", "buyer"}, func(emit func(...string)) {
		for _, q := range w.parties {
			if p := w.majorOf[q]; p != nil {
				emit(q.id, p.id)
			}
		}
	})
	if err != nil {
		return err
	}
	err = write("buyer_concentration.csv", []string{"party_id", "payer_name", "share"}, func(emit func(...string)) {
		for _, c := range w.concentrated {
			emit(c.p.id, c.payer, strconv.FormatFloat(c.share, 'f', 4, 64))
		}
	})
	if err != nil {
		return err
	}

	// Supply-chain prospects (上下游获客): companies settling with 3 or more
	// client companies (core banking, as delivered), and their counterparties
	// to win — names at other banks paid or paying 3 or more times, and
	// client companies without an active loan.
	clients := map[string]*party{}
	for _, p := range w.parties {
		if p.company && p.in[sysCore] > 0 {
			clients[p.name] = p
		}
	}
	err = write("chain_prospects.csv", []string{"party_id", "leads", "other_banks", "clients_without_credit"}, func(emit func(...string)) {
		for _, p := range w.parties {
			seen := w.cpPayments[p]
			linked := 0
			for name := range seen {
				if q := clients[name]; q != nil && q != p {
					linked++
				}
			}
			if linked < chainAnchorMinClients {
				continue
			}
			outside, noCredit := 0, 0
			for name, n := range seen {
				switch q := clients[name]; {
				case q == nil && n >= chainLeadMinPayments:
					outside++
				case q != nil && q != p && !w.exposed[q] && n >= chainLeadMinPayments:
					noCredit++
				}
			}
			if outside+noCredit > 0 {
				emit(p.id, strconv.Itoa(outside+noCredit), strconv.Itoa(outside), strconv.Itoa(noCredit))
			}
		}
	})
	if err != nil {
		return err
	}

	// The external feed's planted cases.
	err = write("financial_deterioration.csv", []string{"party_id", "fiscal_year", "debt_ratio", "prior_debt_ratio", "net_profit", "operating_cash_flow"}, func(emit func(...string)) {
		for _, d := range w.ext.deteriorating {
			emit(d.p.id, strconv.Itoa(d.year), strconv.FormatFloat(d.ratio, 'f', 4, 64), strconv.FormatFloat(d.priorRatio, 'f', 4, 64), money(d.profit), money(d.ocf))
		}
	})
	if err != nil {
		return err
	}
	err = write("negative_news.csv", []string{"party_id", "events", "worst_severity"}, func(emit func(...string)) {
		for _, sp := range w.ext.spikes {
			emit(sp.p.id, strconv.Itoa(sp.events), strconv.Itoa(sp.worst))
		}
	})
	if err != nil {
		return err
	}
	err = write("industry_downturn.csv", []string{"party_id", "division"}, func(emit func(...string)) {
		for _, p := range w.ext.downturnHit {
			emit(p.id, w.ext.downturn[w.ext.downturnOf[p]])
		}
	})
	if err != nil {
		return err
	}

	err = write("service_neglected.csv", []string{"party_id", "tier"}, func(emit func(...string)) {
		for _, p := range w.parties {
			if w.neglected(p) {
				emit(p.id, [...]string{"core", "growth", "base"}[p.tier])
			}
		}
	})
	if err != nil {
		return err
	}

	links := append([]link(nil), w.links...)
	for _, p := range w.parties {
		if p.company && p.legalRep != nil && p.in[sysCredit] > 0 {
			links = append(links, link{p, p.legalRep, "legal_rep"})
		}
	}
	slices.SortStableFunc(links, func(a, b link) int {
		return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(a.a.idx, b.a.idx), cmp.Compare(a.b.idx, b.b.idx))
	})
	err = write("links.csv", []string{"party_a", "party_b", "kind"}, func(emit func(...string)) {
		for _, l := range links {
			emit(l.a.id, l.b.id, l.kind)
		}
	})
	if err != nil {
		return err
	}

	err = write("bad_rows.csv", []string{"file", "line", "reason"}, func(emit func(...string)) {
		for _, res := range g.results {
			for _, b := range res.bad {
				emit(b.file, strconv.Itoa(b.line), b.reason)
			}
		}
	})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "README.md"), []byte(truthReadme), 0o644)
}

const truthReadme = `# Ground truth of the synthetic bank

Written by ` + "`cdp gen`" + ` (package internal/synthbank) next to the feeds in ../feeds/.
The pipeline never reads these files; tests and evaluations compare the
pipeline's results against them. All files are UTF-8 CSV with a header row.

## parties.csv — the real-world parties

` + "`party_id, kind, tier, name, id_no, gender, birth_date, mobile, annual_revenue, aum`" + `

- kind: ` + "`person`" + ` (70%) or ` + "`company`" + ` (30%).
- tier: ` + "`core`" + ` 战略核心 (15%), ` + "`growth`" + ` 重点培育 (35%), ` + "`base`" + ` 潜力挖掘 (50%),
  exact within rounding overall and within each kind. Bands:

  | kind | measure | core | growth | base |
  | --- | --- | --- | --- | --- |
  | company | annual_revenue (CNY) | ≥ 500,000,000 (5亿) | 100,000,000 – 500,000,000 | < 100,000,000 |
  | person | aum (CNY) | ≥ 6,000,000 | 1,000,000 – 6,000,000 | < 1,000,000 |

  Values are drawn long-tailed (lognormal) inside each band and at least 5%
  away from the band edges, so market drift over the window never crosses a band.
- name, id_no, mobile: canonical values (simplified characters; 18-digit
  resident ID with a valid GB 11643 check character, or an 18-character USCC
  with a valid GB 32100 check character; mobile 1[3-9]XXXXXXXXX, or a landline
  for some companies). Family members who share a phone carry the same mobile.
- gender (M/F) and birth_date agree with the resident ID (persons only).
- annual_revenue: companies only, as reported in credit.customers.
- aum: persons only: the sum of the party's wealth investments and core
  banking deposits on the first delivered day (0.00 = no wealth
  relationship). Spread over two client records when the party has a
  duplicate wealth record.

## xref.csv — which source key belongs to which party

` + "`system, source_key, party_id`" + `: credit cust_no (C + 8 digits), wealth client_id
(W + 8 digits), card holder_id (H + 8 digits), ebank user_id (a login name),
core_banking cust_no (K + 10 digits). Each party is in 1 to 5 systems: core
banking knows every wealth client (their deposits) and every company (its
settlement account). About 1% of parties have two keys in one system (a
duplicate customer record), and 0.5% of core banking's. No key is shared by
two parties.

## links.csv — relationships between parties

` + "`party_a, party_b, kind`" + `:
- ` + "`legal_rep`" + `: company a's credit customer names person b as legal representative
  (legal_rep_name / legal_rep_id_no); listed for companies present in credit.
- ` + "`supplementary_card`" + `: person b holds a supplementary card whose
  primary_holder_id is a's holder_id.
- ` + "`shared_mobile`" + `: family member b uses a's mobile number.
- ` + "`supplier`" + `: company a pays company b (both core banking clients)
  regularly: EBANK settlements with counterparty_bank 本行, booked on both
  sides (a's OUT, b's IN) on about 60% of the days.

## behaviours.csv — planted behaviours

` + "`party_id, behaviour, system, source_key, detail`" + `: one row per system that
carries evidence of the behaviour (a behaviour may have rows from two systems).
Each party carries at most one behaviour. "Days" are the delivered business
days; "the last 3 days" are the last three of them. Definitions (planted
parties satisfy them; non-planted parties are kept clearly outside them):

Deposits are core banking's (deposits_D.dat); AUM is wealth investments plus
core banking deposits.

- aum_outflow: the party's wealth AUM on the last day is ≤ 70% of the first
  day's, through 2–3 REDEEM trades (fewer when Days < 4) whose money leaves the
  bank (40–65% of AUM in total).
  Others' AUM moves by a few percent at most (BUY/REDEEM move money between the
  demand deposit and products; maturing deposits roll over or are credited to
  the demand deposit).
- deposit_maturing: a TIME_DEPOSIT or LARGE_CD holding with amount_cny ≥
  1,000,000 and End < maturity_date ≤ End + 30 days. Others' deposits maturing
  in that window are < 500,000. target_subset=true marks planted clients with
  AUM ≥ 5,000,000 and risk_level ≥ C2 (the marketing target). The row names
  the core banking cust_no and acct_no (system core_banking).
- deposit_not_renewed: a core banking TIME_DEPOSIT ≥ 1,000,000 with
  auto_renew N matures on the middle day of the window and is paid to the
  demand account: it is absent from the later snapshots and no deposit names
  it in renewed_from. Every other deposit ≥ 500,000 that matures inside the
  window rolls over (auto_renew Y: a new account, renewed_from = the old one).
  Needs ≥ 3 days.
- new_large_deposit: a LARGE_CD ≥ 1,000,000 (36 months) opened on the
  middle day of the window from the client's demand account, renewed_from
  empty. Every other deposit was opened more than 30 days before the window,
  or is a rollover. Needs ≥ 3 days.
- settlement_drop: a company settling ≥ 150,000 CNY a day in core banking
  whose daily volume (IN and OUT amount_cny, all channels) falls to 20–40% of
  its usual from the day named in the detail (the middle of the window, or a
  week before its end) on. Others' daily volume is constant but for the
  supplier payments. Suggested rule: the last 3 days' average ≤ 50% of the
  earlier days' average (baseline ≥ 100,000). Needs ≥ 6 days.
- cash_outflow_anomaly: a company settling ≥ 150,000 CNY a day in core
  banking that pays out, on the window's last day but one, one extra EBANK
  settlement (往来款) of 4–6 × its daily volume (the detail names the day,
  the amount and the volume). Others' net outflow on a day never exceeds
  their daily volume plus supplier payments. Suggested rule: on one of the
  last 2 days, net outflow (OUT − IN) ≥ 2 × the average daily volume (IN and
  OUT) of the days before, and ≥ 300,000. Needs ≥ 6 days.
- cross_border_no_hedge: a CORPORATE ebank user with ≥ 2 cross-border events
  (FX_SETTLEMENT, or TRANSFER_OUT with cross_border=true) on every delivered
  event day, and no wealth holding with a product_code starting FXFWD or FXOPT.
  Every other company with ≥ 1 cross-border event per day on average holds such
  a hedge; the remaining companies have at most one cross-border event in the window.
- heavy_settlement_low_credit: a company whose CNY settlement volume
  (TRANSFER_IN + TRANSFER_OUT + BILL_PAY amounts) is ≥ 5,400,000 on every
  event day (planted average ≥ 6,000,000) while its ACTIVE credit loan balance
  is ≤ 2 × its average daily volume (most have no loan at all, a few are not
  in credit). Other companies settle ≤ 1,650,000 a day unless they hold a loan
  of ≥ 25 × their average daily volume. Suggested rule: average daily
  volume ≥ 5,000,000 and loan balance ≤ 5 × average daily volume.
- dormant_card: a primary ACTIVE card account with ≥ 1 PURCHASE on each day
  before the last 3 days and no transaction at all on the last 3 days. Every
  other account with any transaction before the last 3 days has a PURCHASE on
  each of the last 2 days. Needs ≥ 5 days.
- activity_drop: an ebank user whose events per day over the last 3 days
  average ≤ 30% of its own baseline (average over the earlier days; baseline
  ≥ 3 a day). Users with a baseline ≥ 2 a day otherwise stay within ±15% a day.
  Suggested rule: baseline ≥ 3/day and recent average ≤ 50% of baseline.
- early_repayment: a repayment row with principal_paid equal to the loan's
  remaining balance, paid more than a year before maturity_date; from that day
  the loan's balance is 0 and status SETTLED. Other loans settle only on their
  maturity date.
- loan_overdue: an ACTIVE loan whose due repayment row (day k) has an empty
  paid_date; from day k+1 overdue_days = days since due date, and from day k+2
  five_class moves from 1 to 2 (or 3). Other loans always have overdue_days 0
  and a five_class that never changes.
- premium_card_candidate: a person with wealth AUM ≥ 2,000,000 whose CLASSIC
  card account has PURCHASE spend ≥ 44,000 CNY over the window (all in CNY).
  Other persons with AUM ≥ 1,000,000 hold no CLASSIC card of their own (a
  supplementary card takes the primary's tier), and every other CLASSIC account
  spends < 26,000 CNY over the window (CLASSIC cards are domestic: CNY only). Suggested rule:
  AUM ≥ 2,000,000 and CLASSIC PURCHASE spend ≥ 30,000.
- company_new_loan: a company (cust_type C) loan whose start_date falls on a
  delivered day after the first; it appears in loans snapshots from that day.
  No other company loan starts inside the window.

## occasions.csv — birthdays and founding anniversaries coming up

` + "`party_id, occasion, day, days_to`" + `: every core or growth (planted tier) person
whose birthday, and every such company in the credit system whose founding
anniversary (credit customers' founded_on), falls on the window's last day
or in the 30 days after it (days_to 0–30), on day (a 29 February is the 28th
in other years). Suggested rule: the next anniversary of the golden record's
birth date, or of the company's founding day, 0–30 days ahead, for core and
growth parties.

## ladder.csv — companies to take up the ladder (结算 → 授信)

` + "`party_id, daily_settlement`" + `: every company with a core banking record
and an e-banking user but no credit record whose settlements (IN and OUT,
every channel, the rows delivered undamaged) average at least 50,000 CNY a
day over the window. Suggested rule: a company in core banking and e-banking
with no active loan, settling ≥ 50,000 a day over the days delivered.

## downstream_risk.csv — a supplier's major buyer in trouble

` + "`supplier, buyer`" + `: the buyer is a planted loan_overdue company that
also pays the supplier (a core banking client) about the supplier's daily
settlement volume every day — most of its inflows — by e-banking between two
accounts of the bank (links.csv lists the pair as supplier). Suggested rule:
a company whose largest buyer brings ≥ 30% of its inflows holds an overdue
loan or one classed 关注 or worse.

## buyer_concentration.csv — one payer brings most inflows

` + "`party_id, payer_name, share`" + `: every core banking company receiving at
least 50,000 CNY a day (the rows delivered undamaged) more than half of
whose inflows come from one counterparty (by name; the payers that are
clients of the bank by their party). Suggested rule: one buyer > 50% of
the inflows.

## chain_prospects.csv — a core enterprise's counterparties to win (上下游获客)

` + "`party_id, leads, other_banks, clients_without_credit`" + `: every company
whose core banking settlements over the window (the rows delivered
undamaged, payroll batches aside) name 3 or more of the bank's client
companies, with its leads: counterparties it paid or was paid by 3 or
more times that bank elsewhere (by name), and client companies without an
active loan on the last day. Suggested rule: a company linked to ≥ 3 client
companies; its counterparties with ≥ 3 payments that are not clients, or
are clients without credit.

## financial_deterioration.csv, negative_news.csv, industry_downturn.csv — the external feed

The vendor (external feed) covers 97% of the bank's companies, by their
unified social credit code, and some 2% more that are not the bank's.

` + "`party_id, fiscal_year, debt_ratio, prior_debt_ratio, net_profit, operating_cash_flow`" + `:
companies whose latest fiscal year's debt ratio (liabilities ÷ assets) is
0.72–0.88, up at least 0.12 on the year before (0.50–0.60), with a net loss, a negative
operating cash flow or both. Every other company's debt ratio stays within
0.20–0.66 every year. Suggested rule: debt ratio ≥ 70%, up ≥ 10 points, and a
loss or a negative operating cash flow.

` + "`party_id, events, worst_severity`" + `: companies with 3 to 5 NEGATIVE
opinion events of severity 3–5 (lawsuits, penalties, debt, management) in
the window's last ten days, and no other serious one. Every other company
has at most one negative event of severity 3 or more in the 60 days before
the window and the window. Suggested rule: 3 or more negative events of severity ≥ 3 in 30
days.

` + "`party_id, division`" + `: the companies with an active loan on the last
day in the two divisions whose prosperity index turns down: its last four
months published (on the 10th of the next month) run 104–106, 102.5–103.5,
100.3–101.2 and 95.5–98.5. Every other division's index stays within
101–115. Suggested rule: a division below 100 from 100 or above the month
before, falling two months running; its companies with an active loan.

## bad_rows.csv — rows damaged on purpose

` + "`file, line, reason`" + `: file relative to ../feeds (e.g. credit/customers_20261114.csv),
line = 1-based physical line in the (decompressed) text where the header is
line 1, reason = the contract reject reason code. Counted in the .ok row counts.
Parquet files have no bad rows. Kinds: credit customers — malformed_row (a
field missing), bad_date (2026-02-30), bad_type (annual_revenue "12,3a"),
bad_encoding (bytes 0x81 0x20 in the name), missing_required (empty cust_no),
bad_enum (cust_type X); credit repayments — malformed_row, bad_date, bad_type;
core banking customers — bad_date (open_date 20260230), bad_enum (cust_type
X), bad_encoding (0x81 0x20 in the name), each inside its fixed-width field;
core banking settlements — bad_type (amount "12,3a"), bad_date (txn_time
2026-02-30 10:00:00); line = the 1-based line (no header);
card holders and txns — malformed_row (an extra field), bad_type ("abc"),
bad_date (20260230 / 2026-13-01 00:00:00); ebank event archives —
malformed_row (a truncated object), missing_required (no user_id), bad_enum
(event_type UNKNOWN). Stream copies of events are never damaged.

## The contact feed, and crm_outcomes.csv / crm_rates.csv

The contact center (feeds/contact) delivers every line's contacts (about 10%
of core parties a day, 3% of growth, 0.6% of base; visits, calls, WeChat,
SMS, e-mail; purposes marketing, service, care, risk) and consent changes
(0.4% of parties a day: opt-outs per channel, opt-ins, and do-not-contact
requests), naming each customer by a source key (core banking's, else
credit's, else the first it has). The first day's contacts file also
carries the contacts since the start of its quarter (the CRM's initial
load), so the service standards are judged on whole periods. Beside the
random contacts, each customer's RM plans the service contacts its tier's
standard asks for (战略核心 4 a month with 2 visits, 重点培育 2 with 1,
潜力挖掘 3 a quarter with 1; sometimes one more), on days in the first 60%
of the period; the customers of service_neglected.csv (15%) get none of
them: those are the customers the service reminders should name. Contacts are
made by the customer's service team: the risk specialist for the credit
line, the product specialist for corporate marketing, the advisor for
wealth and private banking, else the RM. The roster (team_D.csv, the whole
of it every day) gives core and growth customers a team: the RM; for
companies a product and a risk specialist (and an investment-banking one
for core companies; one company in ten changes risk specialist halfway
through the days, the old assignment ending the day before); for persons
an investment advisor. It writes no outcomes: a bank's CRM
answers cdp's signals. ` + "`cdp demo`" + ` plays that CRM after the first day: it
reads the signal events from the broker (knowing only their ce_id and
body), answers each signal on crm.outcomes (accepted, then unreachable or
contacted; a contacted cross-sell customer is interested, declines, or
rarely complains; an interested one may convert) and writes here what it
answered (crm_outcomes.csv: outcome_id, ce_id, signal_id, rule_id, status,
amount) and the rates it planted per rule (crm_rates.csv: p_contact,
p_interest, p_decline, p_convert).
`

// nextAnniversary is the first anniversary of d on or after day on (a 29
// February falls on the 28th in other years, as DuckDB's date arithmetic
// has it).
func nextAnniversary(d, on day) day {
	y, _, _ := on.civil()
	_, dm, dd := d.civil()
	at := func(year int) day {
		if dm == 2 && dd == 29 && !(year%4 == 0 && (year%100 != 0 || year%400 == 0)) {
			return dayOf(year, 2, 28)
		}
		return dayOf(year, dm, dd)
	}
	if a := at(y); a >= on {
		return a
	}
	return at(y + 1)
}
