// Package pii is the one PII policy of cdp: which columns hold personal
// identifiers, and how they are masked wherever they leave the core tables
// — the 360 view, exports, signals and their events, profiles, and logs.
//
// The policy:
//   - ID numbers (resident IDs, credit and organisation codes, the identity
//     match key that embeds them) keep their first 6 and last 4 characters;
//     an identifier of 10 characters or fewer is masked whole.
//   - Mobiles and phone numbers keep their first 3 and last 4 digits; one of
//     7 characters or fewer is masked whole.
//   - Free text (reject rows, unknown fields, signal reasons and evidence)
//     has the resident IDs and mainland mobiles inside it masked the same way.
//   - Names are personal data but not identifiers: relationship managers and
//     analysts need them to serve the customer, so they are not masked.
//
// The same masks exist in Go (MaskID, MaskMobile, Redact) and in DuckDB as
// macros (mask_id, mask_mobile, mask_text; MacrosSQL, created by a
// warehouse migration). Every column of the warehouse whose name looks like
// it holds PII is classified in one list (Columns); a test holds the list
// against every table of a fully built warehouse.
package pii

import (
	"path"
	"regexp"
	"strings"
)

// Class is what kind of personal data a column holds.
type Class string

// The classes.
const (
	IDNumber Class = "id_number" // masked: first 6 and last 4 characters
	Phone    Class = "phone"     // masked: first 3 and last 4 digits
	FreeText Class = "free_text" // IDs and mobiles inside it masked
	Name     Class = "name"      // personal, not masked (see the package doc)
	None     Class = ""          // not personal data
)

// Masked reports whether values of the class are masked when they leave
// the core tables.
func (c Class) Masked() bool { return c == IDNumber || c == Phone || c == FreeText }

// Columns classifies every column of the warehouse whose name looks like
// personal data (LooksPersonal), by schema.table.column; a table part may
// be a glob. A column named like PII that is not personal data is listed
// as None, so that the list is complete and a new column must be placed.
var Columns = map[string]Class{
	// raw: as delivered by the feeds.
	"raw.*.id_no":                          IDNumber,
	"raw.*.id_type":                        None,
	"raw.credit_customers.legal_rep_id_no": IDNumber,
	"raw.*.mobile":                         Phone,
	"raw.*.name":                           Name,
	"raw.credit_customers.legal_rep_name":  Name,
	"raw.*._extra":                         FreeText, // fields the contract does not know: anything
	"raw.*.merchant_name":                  None,
	"raw.*.product_name":                   None,
	"raw.*.counterparty_name":              Name,     // a person or a company paid
	"raw.*.counterparty_acct":              IDNumber, // their account number: masked like an ID
	// the external feed: companies by credit code, headlines that may name people
	"raw.external_*.credit_code":          IDNumber,
	"raw.external_*.company_name":         Name,
	"raw.external_opinion.title":          FreeText,
	"core.company_financials.credit_code": IDNumber,
	"core.opinion_event.credit_code":      IDNumber,
	"core.opinion_event.title":            FreeText,
	"core.company_code.org_code":          IDNumber, // an organisation code
	// core: identity.
	"core.party.id_no":               IDNumber,
	"core.party.id_type":             None,
	"core.party.id_valid":            None,
	"core.party.id_source":           None,
	"core.party.mobile":              Phone,
	"core.party.mobile_source":       None,
	"core.party.name":                Name,
	"core.party.name_source":         None,
	"core.party.legal_rep_name":      Name,
	"core.party_xref.id_no":          IDNumber,
	"core.party_xref.id_type":        None,
	"core.party_xref.id_valid":       None,
	"core.party_xref.id_problem":     None,
	"core.party_xref.legal_rep_id":   IDNumber,
	"core.party_xref.legal_rep_name": Name,
	"core.party_xref.match_key":      IDNumber, // "R" + the resident ID
	"core.party_xref.mobile":         Phone,
	"core.party_xref.mobile_valid":   None,
	"core.party_xref.name":           Name,
	"core.*.merchant_name":           None,
	"core.*.product_name":            None,
	"core.*.counterparty_name":       Name,
	"core.*.counterparty_acct":       IDNumber,
	// mart: masked already where it matters.
	"mart.customer_360.id_no_masked":          IDNumber, // masking again changes nothing
	"mart.customer_360.mobile_masked":         Phone,
	"mart.customer_360.id_type":               None,
	"mart.customer_360.id_valid":              None,
	"mart.customer_360.name":                  Name,
	"mart.customer_360.legal_representatives": None, // a count
	"mart.signals.reason":                     FreeText,
	"mart.signals.reason_zh":                  FreeText,
	"mart.signals.sent_reason":                FreeText,
	"mart.signals.sent_reason_zh":             FreeText,
	"mart.signals.evidence":                   FreeText,
	// scratch: what cdp tags eval and cdp signals eval leave to look at,
	// masked as the runs mask (reasons and evidence by publish.allow_pii).
	"scratch.signal_hits.reason":       FreeText,
	"scratch.signal_hits.evidence":     FreeText,
	"core.party_relationship.evidence": None, // system:source_key of the record that shows it
	"mart.signal_decisions.detail":     None, // why: scores, dates, caps
	"ops.rejects.reason":               None, // a reason code
	"ops.identity_events.detail":       None, // counts and party ids
	"ops.model_builds.reason":          None,
	// Tier reasons: the basis against the floors, or the approved list's
	// reason as a person typed it.
	"mart.tier_history.reason":        FreeText,
	"mart.tier_changes.reason":        FreeText,
	"mart.value_tier.list_reason":     FreeText,
	"mart.value_tier.criteria_reason": None, // the criteria with the party's figures, written by cdp
	"mart.key_account_list.reason":    FreeText,
	"raw.contact_key_accounts.reason": FreeText,
	"core.key_account_entry.reason":   FreeText,
	"mart.customer_360.tier_reason":   FreeText,
	// ops: ledgers.
	"ops.rejects.raw":                    FreeText, // the rejected row's text
	"ops.rejects.detail":                 FreeText, // may quote the bad value
	"ops.outbox.data":                    FreeText,
	"ops.table_prints.table_name":        None,
	"ops.party_prints.table_name":        None,
	"ops.party_print_columns.table_name": None,
	"ops.schema_migrations.name":         None,
	// A contract change: the raw table and the column added with its type.
	"ops.contract_changes.table_name": None,
	"ops.contract_changes.detail":     None,
	// The rule set of the last signal run: rules' names, no customer's.
	"mart.signal_rules.name_zh": None,
	"mart.signal_rules.name_en": None,
}

// looksPersonal matches column names that may hold personal data: the
// patterns a column must be classified for.
var looksPersonal = regexp.MustCompile(`(?i)(^|_)(id_no|id_number|id_type|id_valid|id_source|id_problem|cert_no|legal_rep|match_key|` +
	`mobile|phone|tel|email|address|addr|name|raw|_?extra|reason|evidence|detail|data)($|_)`)

// LooksPersonal reports whether a column's name suggests personal data.
func LooksPersonal(column string) bool { return looksPersonal.MatchString(column) }

// Patterns of identifier and phone column names, for columns outside the
// list (a query's result, a table added later).
var (
	idColumn    = regexp.MustCompile(`(?i)(^|_)(id_no|id_number|cert_no|legal_rep_id|match_key)($|_)`)
	phoneColumn = regexp.MustCompile(`(?i)(^|_)(mobile|phone|tel)($|_)`)
)

// ClassOfName classifies a column by its name alone: a name holding an
// identifier or phone word (id_no, legal_rep_id, match_key, mobile, phone,
// tel …, also with a prefix or suffix) is one, else None. It errs on the
// side of masking; for a query's result columns (signal evidence, say) and
// columns not in Columns.
func ClassOfName(column string) Class {
	switch {
	case idColumn.MatchString(column):
		return IDNumber
	case phoneColumn.MatchString(column):
		return Phone
	}
	return None
}

// ClassOf classifies a column of the warehouse: by Columns, else by its
// name.
func ClassOf(schema, table, column string) Class {
	if c, ok := Listed(schema, table, column); ok {
		return c
	}
	return ClassOfName(column)
}

// Listed finds a column in Columns.
func Listed(schema, table, column string) (Class, bool) {
	key := strings.ToLower(schema + "." + table + "." + column)
	if c, ok := Columns[key]; ok {
		return c, true
	}
	for pattern, c := range Columns {
		if ok, _ := path.Match(pattern, key); ok && strings.Contains(pattern, "*") {
			return c, true
		}
	}
	return None, false
}

// MaskID keeps the first six and last four characters of an identifier
// (110105********002X); one of ten characters or fewer is masked whole.
func MaskID(s string) string {
	r := []rune(s)
	if len(r) <= 10 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:6]) + strings.Repeat("*", len(r)-10) + string(r[len(r)-4:])
}

// MaskMobile keeps the first three and last four digits (138****5678); one
// of seven characters or fewer is masked whole.
func MaskMobile(s string) string {
	r := []rune(s)
	if len(r) <= 7 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:3]) + strings.Repeat("*", len(r)-7) + string(r[len(r)-4:])
}

// Mask masks a value of a class; values of other classes are returned as
// they are.
func Mask(c Class, s string) string {
	switch c {
	case IDNumber:
		return MaskID(s)
	case Phone:
		return MaskMobile(s)
	case FreeText:
		return Redact(s)
	}
	return s
}

// Identifiers inside free text: a mainland resident ID number (18
// characters, or the old 15 digits), a unified social credit code (18
// characters of its alphabet, the region code's six digits third to
// eighth) and a mainland mobile (with or without separators).
var (
	residentID = regexp.MustCompile(`\b\d{17}[\dXx]\b|\b\d{15}\b`)
	creditCode = regexp.MustCompile(`\b[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}\b`)
	mobile     = regexp.MustCompile(`\b1[3-9]\d[- ]?\d{4}[- ]?\d{4}\b`)
)

// Redact masks the resident IDs, credit codes and mobiles inside free text.
func Redact(s string) string {
	s = residentID.ReplaceAllStringFunc(s, MaskID)
	s = creditCode.ReplaceAllStringFunc(s, MaskID)
	return mobile.ReplaceAllStringFunc(s, MaskMobile)
}

// MacrosSQL creates the DuckDB macros that mask in SQL exactly as MaskID,
// MaskMobile and Redact do in Go (a test holds them together). NULL stays
// NULL.
const MacrosSQL = `
CREATE OR REPLACE MACRO mask_id(s) AS
    CASE WHEN length(s) > 10 THEN left(s, 6) || repeat('*', length(s) - 10) || right(s, 4)
         WHEN s IS NOT NULL THEN repeat('*', length(s)) END;
CREATE OR REPLACE MACRO mask_mobile(s) AS
    CASE WHEN length(s) > 7 THEN left(s, 3) || repeat('*', length(s) - 7) || right(s, 4)
         WHEN s IS NOT NULL THEN repeat('*', length(s)) END;
CREATE OR REPLACE MACRO mask_text(s) AS
    -- every identifier is 11 characters or more, with four digits in a
    -- row: shorter text, or text without them (most tag values: codes,
    -- counts, small amounts, names), is returned without the seven
    -- replacements
    CASE WHEN length(s) < 11 OR NOT regexp_matches(s, '\d{4}') THEN s ELSE
    regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(s,
      '\b(\d{6})\d{8}(\d{3}[\dXx])\b', '\1********\2', 'g'),
      '\b(\d{6})\d{5}(\d{4})\b', '\1*****\2', 'g'),
      '\b([0-9A-HJ-NPQRTUWXY]{2}\d{4})\d{2}[0-9A-HJ-NPQRTUWXY]{6}([0-9A-HJ-NPQRTUWXY]{4})\b', '\1********\2', 'g'),
      '\b(1[3-9]\d)\d{4}(\d{4})\b', '\1****\2', 'g'),
      '\b(1[3-9]\d)[- ]\d{4}(\d{4})\b', '\1*****\2', 'g'),
      '\b(1[3-9]\d)\d{4}[- ](\d{4})\b', '\1*****\2', 'g'),
      '\b(1[3-9]\d)[- ]\d{4}[- ](\d{4})\b', '\1******\2', 'g') END;
`

// MaskSQL is the SQL expression masking expr (a VARCHAR) by class, or expr
// itself for a class that is not masked.
func MaskSQL(c Class, expr string) string {
	switch c {
	case IDNumber:
		return "mask_id(" + expr + ")"
	case Phone:
		return "mask_mobile(" + expr + ")"
	case FreeText:
		return "mask_text(" + expr + ")"
	}
	return expr
}

// Policy is what the project allows out unmasked (cdp.yaml).
type Policy struct {
	// InEvents lets ID numbers and mobiles into published events (profile
	// summaries, signal reasons and evidence): publish.allow_pii.
	InEvents bool
}
