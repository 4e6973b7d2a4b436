package core

import (
	"bytes"
	"context"
	"database/sql"
	_ "embed"
	"encoding/csv"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"cdp/transforms/sqltext"
	"cdp/warehouse"
)

// industryGroupsCSV maps GB/T 4754-2017 codes (a division, two digits after
// the section letter, or a group or class under it) to the industry groups
// the key-account criteria and tags speak of: 高新技术 high_tech, 绿色
// green, 高耗能 energy_intensive (the six energy-intensive industries of
// the national statistics), 新能源 new_energy, 医药 pharma. A company
// belongs to the groups of the longest code its industry code starts with
// (solar power D4416 is green and new energy, coal-fired power D4411 only
// energy-intensive as division D44).
//
//go:embed industry_groups.csv
var industryGroupsCSV []byte

// IndustryGroups are the group ids of industry_groups.csv, in order.
var IndustryGroups = []string{"high_tech", "green", "energy_intensive", "new_energy", "pharma"}

// referenceSQL (re)creates what the core build ships as reference data and
// the definitions over it: core.industry_group (the CSV),
// core.party_industry_group (each company's groups) and the
// core.enterprise_stage macro.
func referenceSQL() (string, error) {
	rows, err := csv.NewReader(bytes.NewReader(industryGroupsCSV)).ReadAll()
	if err != nil {
		return "", fmt.Errorf("industry_groups.csv: %w", err)
	}
	var vals []string
	for i, r := range rows[1:] {
		if len(r) != 4 || r[0] == "" || !strings.Contains(" "+strings.Join(IndustryGroups, " ")+" ", " "+r[1]+" ") {
			return "", fmt.Errorf("industry_groups.csv line %d: want code, a group of %v, its Chinese name and what the code is, not %q", i+2, IndustryGroups, r)
		}
		vals = append(vals, fmt.Sprintf("(%s, %s, %s, %s)", warehouse.Literal(r[0]), warehouse.Literal(r[1]), warehouse.Literal(r[2]), warehouse.Literal(r[3])))
	}
	return `CREATE OR REPLACE TABLE core.industry_group AS SELECT * FROM (VALUES ` + strings.Join(vals, ", ") + `) t(code, group_id, group_zh, what);
-- each company's industry code (core.company_profile, else the golden
-- record's) and its GB/T 4754 division (section letter and two digits)
CREATE OR REPLACE VIEW core.party_industry AS
SELECT party_id, code AS industry_code, CASE WHEN regexp_matches(code, '^[A-T][0-9]{2}') THEN left(code, 3) END AS division
FROM (
    SELECT p.party_id, upper(replace(coalesce(arg_max(c.industry_code, (c.last_seen, c.load_id, c.cust_no)), p.industry_code), ' ', '')) AS code
    FROM core.party p LEFT JOIN core.company_profile c USING (party_id)
    WHERE p.party_type = 'C' GROUP BY p.party_id, p.industry_code)
WHERE code <> '';
-- each company's industry groups: those of the longest code of the table
-- its industry code starts with
CREATE OR REPLACE VIEW core.party_industry_group AS
WITH hits AS (
    SELECT c.party_id, c.industry_code, g.code, g.group_id, g.group_zh,
           max(length(g.code)) OVER (PARTITION BY c.party_id) AS longest
    FROM core.party_industry c JOIN core.industry_group g ON starts_with(c.industry_code, g.code)
)
SELECT party_id, industry_code, group_id, group_zh FROM hits WHERE length(code) = longest;
-- 初创 startup (founded less than three years before day d), 成长 growth
-- (revenue up 20% or more on the year before), else 成熟 mature; NULL
-- when neither the founding day nor last year's revenue is known
CREATE OR REPLACE MACRO core.enterprise_stage(founded_on, revenue, prior_revenue, d) AS
    CASE WHEN founded_on IS NOT NULL AND founded_on > CAST(d AS DATE) - INTERVAL 3 YEAR THEN 'startup'
         WHEN prior_revenue > 0 AND revenue >= prior_revenue * 1.2 THEN 'growth'
         WHEN founded_on IS NOT NULL OR prior_revenue > 0 THEN 'mature' END;
`, nil
}

//go:embed chain_link.sql
var chainLinkSQL string

//go:embed party_group.sql
var partyGroupSQL string

// chainBytesPerFlow is what DuckDB may hold for one payment while it builds
// core.chain_link (the payments, their counterparties' keys, the pairs'
// sums): about 300 bytes measured on 395k payments (the build fitted 120
// MB, not 100); twice that leaves room. A part is as many payments as
// DuckDB's part of the memory budget holds at that rate.
const chainBytesPerFlow = 640

// chainParts is how many parts the build of core.chain_link takes: one
// while the year's payments up to day (a DATE literal; settlements, and
// e-banking transfers and bill payments, of every party: a bound) fit
// DuckDB's part of the budget at chainBytesPerFlow, more beyond; duckdb ≤
// 0 (no budget) means one.
func chainParts(ctx context.Context, conn *sql.Conn, duckdb int64, day string) (int, error) {
	if duckdb <= 0 {
		return 1, nil
	}
	var flows int64
	if err := conn.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM core.settlement WHERE CAST(txn_time AS DATE) > `+day+` - 365) +
		(SELECT count(*) FROM core.digital_event WHERE event_type IN ('TRANSFER_IN', 'TRANSFER_OUT', 'BILL_PAY') AND CAST(ts AS DATE) > `+day+` - 365)`).Scan(&flows); err != nil {
		return 0, err
	}
	return int(max(1, (flows*chainBytesPerFlow+duckdb-1)/duckdb)), nil
}

// companyNameKeySQL is core.company_name_key(name): a company name as
// counterparties are matched by — full-width brackets as half-width, no
// spaces or dots, upper case.
const companyNameKeySQL = `CREATE OR REPLACE MACRO core.company_name_key(n) AS
    nullif(upper(regexp_replace(replace(replace(n, '（', '('), '）', ')'), '[\s.·]+', '', 'g')), '');
`

// externalSQL (re)creates the external feed's industry indices,
// core.industry_index (one row per GB/T 4754 division and month, the
// month's first day; the delivery of the latest business day, then the
// latest load, wins, so a revision replaces the first estimate; a few rows
// a division, rebuilt whole), core.industry_outlook (each division's latest
// three consecutive months and where they point, for the divisions the
// vendor still reports: the latest within two months of the newest month
// delivered) and core.party_financials (one row per party and fiscal year:
// a company known under two codes keeps the newer delivery).
var externalSQL = `CREATE OR REPLACE TABLE core.industry_index AS
SELECT upper(division) AS division, CAST(date_trunc('month', month) AS DATE) AS month, prosperity_index, provider,
       _source AS source_ref, _load_id AS load_id
FROM raw.external_industry
QUALIFY row_number() OVER (PARTITION BY upper(division), date_trunc('month', month)
    ORDER BY ` + warehouse.SnapshotDateSQL("") + ` DESC, _load_id DESC, _source DESC) = 1;
-- turning_down: below 100 now from 100 or above the month before, falling
-- two months running; declining: falling two months running; improving:
-- rising two months running (a move is one of more than 0.1 points); else
-- stable
CREATE OR REPLACE VIEW core.industry_outlook AS
WITH newest AS (
    SELECT max(month) AS m FROM core.industry_index
), m AS (
    SELECT division, month, prosperity_index AS idx, row_number() OVER (PARTITION BY division ORDER BY month DESC) AS k
    FROM core.industry_index
), d AS (
    SELECT division, max(month) FILTER (k = 1) AS month, max(month) FILTER (k = 3) AS first_month,
           max(idx) FILTER (k = 1) AS latest, max(idx) FILTER (k = 2) AS prev1, max(idx) FILTER (k = 3) AS prev2
    FROM m WHERE k <= 3 GROUP BY division HAVING count(*) = 3
)
SELECT division, month, latest, prev1, prev2,
       CASE WHEN latest < 100 AND prev1 >= 100 AND latest < prev1 - 0.1 AND prev1 < prev2 - 0.1 THEN 'turning_down'
            WHEN latest < prev1 - 0.1 AND prev1 < prev2 - 0.1 THEN 'declining'
            WHEN latest > prev1 + 0.1 AND prev1 > prev2 + 0.1 THEN 'improving'
            ELSE 'stable' END AS outlook
FROM d, newest
WHERE date_diff('month', first_month, month) = 2 AND month >= newest.m - INTERVAL 2 MONTH;
CREATE OR REPLACE VIEW core.party_financials AS
SELECT * FROM core.company_financials WHERE party_id IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY party_id, fiscal_year ORDER BY load_id DESC, credit_code) = 1;
`

// writeReference runs referenceSQL, chain_link.sql (in parts: as DuckDB's
// part of the memory budget, duckdb bytes, needs, or parts when > 0),
// party_group.sql and externalSQL on conn, logging each one's time and the
// process's peak RSS.
func writeReference(ctx context.Context, conn *sql.Conn, duckdb int64, parts int, log *slog.Logger) error {
	t0 := time.Now()
	done := func(what string) {
		log.Debug("core model reference table", "table", what, "seconds", round(time.Since(t0).Seconds()), "peak_rss_mib", warehouse.PeakRSS()>>20)
		t0 = time.Now()
	}
	q, err := referenceSQL()
	if err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("core reference data (industry groups, enterprise stage): %w", err)
	}
	done("core.industry_group")
	var day sql.NullString
	if err := conn.QueryRowContext(ctx, `SELECT CAST(max(CAST(txn_time AS DATE)) AS VARCHAR) FROM core.settlement`).Scan(&day); err != nil {
		return fmt.Errorf("core.chain_link (the industry chain): its day: %w", err)
	}
	d := "CAST(NULL AS DATE)"
	if day.Valid {
		d = "DATE " + warehouse.Literal(day.String)
	}
	if _, err := conn.ExecContext(ctx, companyNameKeySQL); err != nil {
		return fmt.Errorf("core.company_name_key: %w", err)
	}
	if parts <= 0 {
		var err error
		if parts, err = chainParts(ctx, conn, duckdb, d); err != nil {
			return fmt.Errorf("core.chain_link (the industry chain): its parts: %w", err)
		}
	}
	for k := range parts {
		into := "CREATE OR REPLACE TABLE core.chain_link AS"
		if k > 0 {
			into = "INSERT INTO core.chain_link"
		}
		chain := sqltext.MustFill(chainLinkSQL, sqltext.Vars{
			"day":  sqltext.Value(d),
			"into": sqltext.Value(into),
			"part": func(col string) (string, error) {
				if parts == 1 {
					return "true", nil
				}
				return fmt.Sprintf("hash(%s) %% %d = %d", col, parts, k), nil
			},
		})
		if _, err := conn.ExecContext(ctx, chain); err != nil {
			return fmt.Errorf("core.chain_link (the industry chain, part %d of %d): %w", k+1, parts, err)
		}
	}
	if _, err := conn.ExecContext(ctx, partyGroupSQL); err != nil {
		return fmt.Errorf("core.party_group: %w", err)
	}
	done(fmt.Sprintf("core.chain_link (%d parts)", parts))
	if _, err := conn.ExecContext(ctx, externalSQL); err != nil {
		return fmt.Errorf("core.industry_index (the external feed's industry indices): %w", err)
	}
	done("core.industry_index")
	return nil
}
