package identity

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"cdp/transforms/identity/normal"
	"cdp/warehouse"
)

// Systems in their default trust order: the credit system's KYC is the most
// thorough, e-banking self-registration the least.
var Systems = []string{"credit", "wealth", "card", "ebank"}

// record is one source customer record: the latest version of a source key
// across the snapshots loaded, raw and normalised.
type record struct {
	system, key string
	ptype       string // P | C
	// raw attributes, as delivered (SQL NULL as "")
	name, idType, idNo, mobile, birth                  string
	industry, revenue, legalRepName, legalRepID        string
	employer, income, riskLevel, segment, rmID, branch string
	bizDate                                            string
	loadID                                             int64
	// normalised
	nName, nAlt, nID, idProblem, matchKey, nBirth, nMobile string
	idValid, mobileValid, hanName                          bool
	gender                                                 string
	hash                                                   uint64
}

// ref is "system:source_key", how records are named in lineage columns.
func (r *record) ref() string { return r.system + ":" + r.key }

// sourceQuery selects the latest version of every source customer record.
// The business date comes from the snapshot's file name (customers_20261120.csv,
// dt=2026-11-20); a later load of the same date (a correction) wins.
const sourceQuery = `
WITH src AS (
    SELECT 'credit' AS system, cust_no AS source_key, cust_type AS party_type, name, id_type, id_no, mobile,
           CAST(birth_date AS VARCHAR) AS birth_date, industry_code, CAST(annual_revenue AS VARCHAR) AS annual_revenue,
           legal_rep_name, legal_rep_id_no, NULL AS employer, NULL AS annual_income, NULL AS risk_level,
           NULL AS segment, rm_id, branch_code, _source, _load_id
    FROM raw.credit_customers
    UNION ALL
    SELECT 'wealth', client_id, CASE WHEN id_type IN ('USCC', 'ORG_CODE', 'OTHER') THEN 'C' ELSE 'P' END,
           name, id_type, id_no, mobile, NULL, NULL, NULL, NULL, NULL, NULL, NULL, risk_level, segment, rm_id, NULL,
           _source, _load_id
    FROM raw.wealth_clients
    UNION ALL
    SELECT 'card', holder_id, 'P', name, id_type, id_no, mobile, CAST(birth_date AS VARCHAR), NULL, NULL, NULL, NULL,
           employer, CAST(annual_income AS VARCHAR), NULL, NULL, NULL, NULL, _source, _load_id
    FROM raw.card_holders
    UNION ALL
    SELECT 'ebank', user_id, CASE WHEN user_type = 'CORPORATE' THEN 'C' ELSE 'P' END, name,
           NULL, id_no, mobile, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, _source, _load_id
    FROM raw.ebank_users
)
SELECT system, source_key, party_type, name, id_type, id_no, mobile, birth_date, industry_code, annual_revenue,
       legal_rep_name, legal_rep_id_no, employer, annual_income, risk_level, segment, rm_id, branch_code,
       replace(regexp_extract(_source, '(\d{4}-?\d{2}-?\d{2})', 1), '-', '') AS business_date, _load_id
FROM src
QUALIFY row_number() OVER (PARTITION BY system, source_key ORDER BY business_date DESC, _load_id DESC) = 1
ORDER BY system, source_key`

// readRecords loads every source record, normalised.
func readRecords(ctx context.Context, conn *sql.Conn) ([]*record, error) {
	var out []*record
	err := warehouse.QueryArrow(ctx, conn, sourceQuery, func(b arrow.RecordBatch) error {
		str := func(c int) *array.String { return b.Column(c).(*array.String) }
		get := func(a *array.String, i int) string {
			if a.IsNull(i) {
				return ""
			}
			// Value points into the batch, which is released after fn.
			return strings.Clone(a.Value(i))
		}
		cols := make([]*array.String, 19)
		for c := range cols {
			cols[c] = str(c)
		}
		loads := b.Column(19).(*array.Int64)
		for i := 0; i < int(b.NumRows()); i++ {
			r := &record{
				system: get(cols[0], i), key: get(cols[1], i), ptype: get(cols[2], i),
				name: get(cols[3], i), idType: get(cols[4], i), idNo: get(cols[5], i), mobile: get(cols[6], i),
				birth: get(cols[7], i), industry: get(cols[8], i), revenue: get(cols[9], i),
				legalRepName: get(cols[10], i), legalRepID: get(cols[11], i), employer: get(cols[12], i),
				income: get(cols[13], i), riskLevel: get(cols[14], i), segment: get(cols[15], i),
				rmID: get(cols[16], i), branch: get(cols[17], i), bizDate: get(cols[18], i),
				loadID: loads.Value(i),
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read source records: %w", err)
	}
	return out, nil
}

// normalise fills the normalised fields and the change hash of r.
func (r *record) normalise() {
	h := fnv.New64a()
	for _, s := range []string{r.ptype, r.name, r.idType, r.idNo, r.mobile, r.birth, r.industry, r.revenue,
		r.legalRepName, r.legalRepID, r.employer, r.income, r.riskLevel, r.segment, r.rmID, r.branch} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	r.hash = h.Sum64()

	if r.ptype == "C" {
		r.nName = normal.CompanyName(r.name)
		c := normal.CreditCode(r.idNo)
		r.nID, r.idValid, r.idProblem = c.Code, c.Valid, c.Problem
		if c.Valid && c.OrgCode != "" {
			// The organisation code is inside every credit code: it joins
			// a company keyed by either.
			r.matchKey = "O" + c.OrgCode
		} else if c.Valid {
			r.matchKey = "L" + c.Code
		}
	} else {
		r.nName = normal.PersonName(r.name)
		if r.idType == "PASSPORT" {
			r.nID = normal.CreditCode(r.idNo).Code // cleaned: spaces out, upper case
			r.idProblem = "passport"
		} else {
			p := normal.ResidentID(r.idNo)
			r.nID, r.idValid, r.idProblem = p.ID, p.Valid, p.Problem
			if p.Valid {
				r.matchKey = "R" + p.ID
				switch p.Male {
				case 1:
					r.gender = "M"
				case 2:
					r.gender = "F"
				}
			}
			r.nBirth = p.Birth
		}
		if b := normBirth(r.birth); b != "" {
			if r.nBirth == "" || !r.idValid {
				r.nBirth = b
			}
		}
	}
	r.nAlt = normal.Pinyin(r.nName)
	r.hanName = hasHan(r.nName)
	m := normal.Mobile(r.mobile)
	r.nMobile, r.mobileValid = m.Number, m.Kind == normal.MobileCN
}

// normBirth turns a DATE rendered as text into YYYY-MM-DD.
func normBirth(s string) string {
	if len(s) >= 10 {
		return s[:10]
	}
	return ""
}

func hasHan(s string) bool {
	for _, r := range s {
		if r >= 0x4E00 && r <= 0x9FFF || r >= 0x3400 && r <= 0x4DBF {
			return true
		}
	}
	return false
}
