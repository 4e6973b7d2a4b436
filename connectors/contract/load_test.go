package contract_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"cdp/connectors/contract"
)

// The built-in contracts, read from YAML, give the raw tables the Go
// contracts they replaced gave: testdata/raw_tables.sql is the DDL those
// wrote, column for column and type for type, plus the optional columns
// later versions added (credit 2: founded_on, prior_year_revenue; wealth and card 2: the fee fields). The fifth,
// core banking, the contact center and the external feed were born in YAML.
func TestBuiltins_GiveTheRawTablesOfTheGoContracts(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("testdata", "raw_tables.sql"))
	if err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	for _, e := range contract.Entities {
		if e.Feed != "core_banking" && e.Feed != "contact" && e.Feed != "external" {
			got.WriteString(e.CreateTableSQL() + ";\n")
		}
	}
	if got.String() != string(want) {
		t.Errorf("the raw tables changed:\n%s\nwant\n%s", got.String(), want)
	}
	if n := len(contract.Feeds()); n != 7 {
		t.Errorf("%d built-in feeds, want 7", n)
	}
	for _, e := range contract.Entities {
		for _, c := range e.Columns {
			if c.ZH == "" || c.EN == "" {
				t.Errorf("%s.%s: no description in Chinese and English", e.ID(), c.Name)
			}
		}
		if e.ZH == "" || e.EN == "" {
			t.Errorf("%s: no description in Chinese and English", e.ID())
		}
	}
}

// Every problem in a contract file is reported with the file, the line
// and what is wrong; all of them at once.
func TestLoad_ProblemsNameFileLineAndColumn(t *testing.T) {
	fsys := fstest.MapFS{
		"bad.yaml": {Data: []byte(`feed: core_banking
entities:
  - name: deposits
    format: fixd
    pattern: dep_{D}.dat
    unique_key: acct
    columns:
      - {name: acct_no, type: string, required: true}
      - {name: balance, type: "decimal(40,2)"}
      - {name: kind, type: enum}
      - {name: opened, type: datetime}
      - {name: acct_no, type: string}
      - {name: holder_id, type: string, pii: secret}
      - {name: order, type: string}
  - name: ledger
    format: fixed
    width_unit: words
    pattern: led_{D}.dat
    columns:
      - {name: acct_no, type: string}
      - {name: amount, type: int, width: 12}
  - name: notes
    format: csv
    pattern: notes_{D}.csv
    columns:
      - {name: note, type: string, width: 40}
`)},
		"typo.yaml": {Data: []byte("feed: x\nentities:\n  - name: a\n    formt: csv\n")},
		"who.yaml": {Data: []byte(`feed: crm
entities:
  - name: contacts
    format: csv
    pattern: c_{D}.csv
    expected: {by: "25:00", lag: -1}
    key: [contact]
    identity:
      key: contact
      party_type: {column: kind}
      attributes: {name: full_name, shoe_size: size}
      trust: {mobile: 0, colour: 1}
    columns:
      - {name: contact_id, type: string, required: true}
      - {name: full_name, type: string}
`)},
		"comma.yaml": {Data: []byte("feed: y\nentities:\n  - name: a\n    columns:\n      - {name: b, type: decimal(18,2)}\n")},
	}
	_, err := contract.Load(fsys)
	if err == nil {
		t.Fatal("a contract full of mistakes loaded")
	}
	for _, want := range []string{
		`bad.yaml:4: core_banking.deposits: format: "fixd" is not one of csv, delimited, parquet, jsonl, fixed`,
		`bad.yaml:6: core_banking.deposits: unique_key: "acct" is not a column of the entity`,
		`bad.yaml:9: core_banking.deposits.balance: type decimal(40,2): the precision must be 1 to 18`,
		`bad.yaml:10: core_banking.deposits.kind: type enum needs values: [...]`,
		`bad.yaml:11: core_banking.deposits.opened: type "datetime" is not string, int, decimal(p,s), date, timestamp, bool or enum`,
		`bad.yaml:12: core_banking.deposits.acct_no: column declared twice`,
		`bad.yaml:13: core_banking.deposits.holder_id: pii: "secret" is not one of id_number, phone, name, free_text`,
		`bad.yaml:14: core_banking.deposits.order: name: "order" is a reserved word of SQL`,
		`bad.yaml:17: core_banking.ledger: width_unit: "words" is not bytes or chars`,
		`bad.yaml:20: core_banking.ledger.acct_no: width: a fixed-width column needs its width (at least 1)`,
		`bad.yaml:26: core_banking.notes.note: width: only a fixed-width entity's columns have widths`,
		`typo.yaml:4: unknown key "formt"`,
		`who.yaml:6: crm.contacts: expected: by: "25:00" is not a time of day HH:MM`,
		`who.yaml:7: crm.contacts: key: "contact" is not a column of the entity`,
		`who.yaml:8: crm.contacts: identity: key: "contact" is not a column of the entity`,
		`who.yaml:8: crm.contacts: identity: party_type.column: "kind" is not a column of the entity (or give const: P)`,
		`who.yaml:8: crm.contacts: identity: attributes.shoe_size: not an identity attribute`,
		`who.yaml:8: crm.contacts: identity: trust.colour: trust ranks are for default, name, id_no, birth_date, mobile, other`,
		`who.yaml:8: crm.contacts: identity: trust.mobile: a rank is 1 (trusted first) or more`,
		`comma.yaml:5: unknown key "2)": inside { } a decimal type must be quoted, type: "decimal(18,2)"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q:\n%s", want, err)
		}
	}
}

// A project's own contract declares a feed the built-ins lack; a decimal
// may have any precision up to 18.
func TestLoad_AProjectFeed(t *testing.T) {
	fsys := fstest.MapFS{"dep.yaml": {Data: []byte(`feed: core_banking
zh: 核心银行系统
en: Core banking
entities:
  - name: deposits
    format: delimited
    pattern: dep_{D}.del
    snapshot: true
    columns:
      - {name: acct_no, type: string, required: true}
      - {name: rate, type: "decimal(9,5)"}
      - {name: kind, type: enum, values: [DEMAND, TIME]}
`)}}
	feeds, err := contract.Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	e := feeds[0].Entities[0]
	if e.Table() != "raw.core_banking_deposits" || e.Columns[1].SQL() != "DECIMAL(9,5)" || e.Columns[2].TypeName() != "enum" {
		t.Errorf("loaded %s: %+v", e.Table(), e.Columns)
	}
	if got := e.BatchSchema().Field(1).Type.String(); got != "decimal(9, 5)" {
		t.Errorf("the Arrow type of decimal(9,5) is %s", got)
	}
}
