// Package contract is the machine-readable form of ../shared/FEEDS.md: the four
// bank feeds, their entities, file layouts and typed columns.
//
// It is the one place that says what a feed row is. The connectors parse and
// validate against it, the warehouse derives its raw.<feed>_<entity> tables from
// it, and the synthetic bank writes files that satisfy it. Changing a column here
// changes all three; nothing else hard-codes a feed's columns.
package contract

import (
	"fmt"
	"strings"
)

// Type is the warehouse type a feed column is parsed into.
type Type int

const (
	String    Type = iota // VARCHAR
	Int                   // BIGINT
	Decimal               // DECIMAL(18,2): money, never float
	Rate                  // DECIMAL(12,6): interest rates and ratios
	Date                  // DATE, delivered as YYYY-MM-DD or YYYYMMDD
	Timestamp             // TIMESTAMPTZ; China time unless the value carries an offset
	Bool                  // BOOLEAN
)

// SQL is the DuckDB type of the column in raw.*.
func (t Type) SQL() string {
	switch t {
	case Int:
		return "BIGINT"
	case Decimal:
		return "DECIMAL(18,2)"
	case Rate:
		return "DECIMAL(12,6)"
	case Date:
		return "DATE"
	case Timestamp:
		return "TIMESTAMPTZ"
	case Bool:
		return "BOOLEAN"
	default:
		return "VARCHAR"
	}
}

func (t Type) String() string {
	switch t {
	case Int:
		return "integer"
	case Decimal:
		return "decimal(18,2)"
	case Rate:
		return "decimal(12,6)"
	case Date:
		return "date"
	case Timestamp:
		return "timestamp"
	case Bool:
		return "boolean"
	default:
		return "string"
	}
}

// Format is how an entity's files are laid out on disk.
type Format string

const (
	CSV       Format = "csv"       // RFC 4180, header row, delimiter and encoding from config
	Delimited Format = "delimited" // header row, no quoting, delimiter escaped as "\|"
	Parquet   Format = "parquet"   // one folder per business date, Hive layout
	JSONL     Format = "jsonl"     // one JSON object per line; ".gz" files are gunzipped
)

// Column is one field of a feed entity.
type Column struct {
	Name string
	Type Type
	// Required values must be present and non-empty; a row without one is rejected.
	Required bool
	// Optional columns may be absent from a file's header; all others must be
	// present or the whole file fails.
	Optional bool
	// Enum, when set, lists the only values accepted.
	Enum []string
}

// Entity is one kind of row a feed delivers, landing in raw.<Feed>_<Name>.
type Entity struct {
	Feed   string
	Name   string
	Format Format
	// Pattern is the file name relative to the feed folder; {D} is YYYYMMDD and
	// {DATE} is YYYY-MM-DD.
	Pattern string
	// Snapshot entities are full daily snapshots; the rest are daily increments.
	Snapshot bool
	Columns  []Column
	// UniqueKey, when set, is a column whose value is loaded at most once across
	// all sources of the entity (ebank events arrive on the stream and in the
	// archive). Later copies are rejected as duplicate_key.
	UniqueKey string
}

// Table is the warehouse table the entity lands in.
func (e *Entity) Table() string { return "raw." + e.Feed + "_" + e.Name }

// ID is "feed.entity".
func (e *Entity) ID() string { return e.Feed + "." + e.Name }

// Column returns the column by name.
func (e *Entity) Column(name string) (Column, bool) {
	for _, c := range e.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// Lineage columns every raw table carries after the contract's columns.
var Lineage = []struct{ Name, SQL, Doc string }{
	{"_extra", "JSON", "fields the contract does not know, kept as a JSON object (NULL when none)"},
	{"_load_id", "BIGINT", "the ops.loads row that brought this row in"},
	{"_source", "VARCHAR", "file:line, or topic/partition/offset"},
	{"_ingested_at", "TIMESTAMPTZ", "when the load committed"},
}

var (
	idTypes     = []string{"ID_CARD", "PASSPORT", "USCC", "ORG_CODE", "HK_MACAO_PASS", "TAIWAN_PASS", "OTHER"}
	currencies  = []string{"CNY", "USD", "EUR", "HKD", "JPY", "GBP", "SGD", "AUD"}
	riskLevels  = []string{"C1", "C2", "C3", "C4", "C5"}
	productRisk = []string{"R1", "R2", "R3", "R4", "R5"}
)

func col(name string, t Type) Column { return Column{Name: name, Type: t} }
func req(name string, t Type) Column { return Column{Name: name, Type: t, Required: true} }
func enum(name string, required bool, values ...string) Column {
	return Column{Name: name, Type: String, Required: required, Enum: values}
}

// Entities lists every feed entity in load order (parents before children).
var Entities = []*Entity{
	{Feed: "credit", Name: "customers", Format: CSV, Pattern: "customers_{D}.csv", Snapshot: true, Columns: []Column{
		req("cust_no", String), enum("cust_type", true, "P", "C"), col("name", String),
		enum("id_type", false, idTypes...), col("id_no", String), col("mobile", String),
		col("birth_date", Date), col("industry_code", String), col("annual_revenue", Decimal),
		col("legal_rep_name", String), col("legal_rep_id_no", String), col("rm_id", String),
		col("branch_code", String), col("open_date", Date), col("update_time", Timestamp),
	}},
	{Feed: "credit", Name: "loans", Format: CSV, Pattern: "loans_{D}.csv", Snapshot: true, Columns: []Column{
		req("loan_no", String), req("cust_no", String), col("product_code", String),
		col("product_name", String), enum("currency", true, currencies...),
		req("contract_amount", Decimal), req("balance", Decimal), col("interest_rate", Rate),
		col("start_date", Date), col("maturity_date", Date),
		enum("five_class", true, "1", "2", "3", "4", "5"), col("overdue_days", Int),
		enum("status", true, "ACTIVE", "SETTLED", "WRITTEN_OFF"),
	}},
	{Feed: "credit", Name: "repayments", Format: CSV, Pattern: "repayments_{D}.csv", Columns: []Column{
		req("loan_no", String), req("due_date", Date), col("paid_date", Date),
		req("principal_due", Decimal), col("principal_paid", Decimal), col("interest_paid", Decimal),
	}},
	{Feed: "wealth", Name: "clients", Format: Parquet, Pattern: "clients/dt={DATE}/*.parquet", Snapshot: true, Columns: []Column{
		req("client_id", String), col("name", String), enum("id_type", false, idTypes...),
		col("id_no", String), col("mobile", String), enum("risk_level", false, riskLevels...),
		col("risk_assessed_on", Date), enum("segment", false, "MASS", "AFFLUENT", "PRIVATE"),
		col("rm_id", String),
	}},
	{Feed: "wealth", Name: "holdings", Format: Parquet, Pattern: "holdings/dt={DATE}/*.parquet", Snapshot: true, Columns: []Column{
		req("client_id", String), req("product_code", String),
		enum("product_type", true, "DEMAND", "TIME_DEPOSIT", "LARGE_CD", "WMP", "FUND", "INSURANCE", "TRUST", "PRIVATE_FUND"),
		enum("currency", true, currencies...), req("amount_cny", Decimal), col("open_date", Date),
		col("maturity_date", Date), enum("product_risk", false, productRisk...), req("as_of_date", Date),
	}},
	{Feed: "wealth", Name: "trades", Format: Parquet, Pattern: "trades/dt={DATE}/*.parquet", Columns: []Column{
		req("trade_id", String), req("client_id", String), col("product_code", String),
		enum("side", true, "BUY", "REDEEM", "MATURE"), req("amount_cny", Decimal),
		req("trade_time", Timestamp), col("channel", String),
	}},
	{Feed: "card", Name: "holders", Format: Delimited, Pattern: "holders_{D}.del", Snapshot: true, Columns: []Column{
		req("holder_id", String), col("name", String), enum("id_type", false, idTypes...),
		col("id_no", String), col("mobile", String), col("birth_date", Date), col("employer", String),
		col("annual_income", Decimal),
	}},
	{Feed: "card", Name: "accounts", Format: Delimited, Pattern: "accounts_{D}.del", Snapshot: true, Columns: []Column{
		req("card_account_id", String), req("holder_id", String), col("primary_holder_id", String),
		enum("product_tier", true, "CLASSIC", "GOLD", "PLATINUM", "DIAMOND", "INFINITE"),
		col("credit_limit", Decimal), col("open_date", Date),
		enum("status", true, "ACTIVE", "FROZEN", "CLOSED"), col("card_last4", String),
	}},
	{Feed: "card", Name: "txns", Format: Delimited, Pattern: "txns_{D}.del", Columns: []Column{
		req("txn_id", String), req("card_account_id", String), req("txn_time", Timestamp),
		req("amount", Decimal), enum("currency", true, currencies...), col("mcc", String),
		col("merchant_name", String), col("country_code", String),
		enum("channel", false, "POS", "ONLINE", "ATM"),
		enum("txn_type", true, "PURCHASE", "CASH", "REFUND", "REPAYMENT"),
	}},
	{Feed: "ebank", Name: "users", Format: JSONL, Pattern: "users_{D}.jsonl", Snapshot: true, Columns: []Column{
		req("user_id", String), enum("user_type", true, "PERSONAL", "CORPORATE"), col("name", String),
		col("id_no", String), col("mobile", String), col("registered_at", Timestamp),
		col("status", String),
	}},
	{Feed: "ebank", Name: "events", Format: JSONL, Pattern: "events_{D}.jsonl.gz", UniqueKey: "event_id", Columns: []Column{
		req("event_id", String), req("user_id", String), req("ts", Timestamp),
		enum("channel", true, "APP", "WEB", "CORP_WEB", "WECHAT"),
		enum("event_type", true, "LOGIN", "TRANSFER_OUT", "TRANSFER_IN", "FX_SETTLEMENT", "BILL_PAY", "PRODUCT_VIEW", "PAYROLL"),
		optional(col("amount", Decimal)), optional(enum("currency", false, currencies...)),
		optional(col("counterparty_name", String)), optional(col("counterparty_bank", String)),
		optional(col("cross_border", Bool)), optional(col("product_code", String)),
	}},
}

func optional(c Column) Column { c.Optional = true; return c }

// Feeds lists the feed names in contract order.
func Feeds() []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range Entities {
		if !seen[e.Feed] {
			seen[e.Feed] = true
			out = append(out, e.Feed)
		}
	}
	return out
}

// Lookup finds an entity by feed and name.
func Lookup(feed, name string) (*Entity, error) {
	for _, e := range Entities {
		if e.Feed == feed && e.Name == name {
			return e, nil
		}
	}
	return nil, fmt.Errorf("no entity %s.%s in the feed contract", feed, name)
}

// OfFeed returns the feed's entities in load order.
func OfFeed(feed string) []*Entity {
	var out []*Entity
	for _, e := range Entities {
		if e.Feed == feed {
			out = append(out, e)
		}
	}
	return out
}

// FileName renders the entity's pattern for a business date given as YYYYMMDD.
func (e *Entity) FileName(yyyymmdd string) string {
	iso := yyyymmdd
	if len(yyyymmdd) == 8 {
		iso = yyyymmdd[:4] + "-" + yyyymmdd[4:6] + "-" + yyyymmdd[6:]
	}
	return strings.NewReplacer("{D}", yyyymmdd, "{DATE}", iso).Replace(e.Pattern)
}

// CreateTableSQL is the DDL of the entity's raw table.
func (e *Entity) CreateTableSQL() string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s (\n", e.Table())
	for _, c := range e.Columns {
		fmt.Fprintf(&b, "    %s %s,\n", c.Name, c.Type.SQL())
	}
	for i, l := range Lineage {
		sep := ","
		if i == len(Lineage)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "    %s %s%s\n", l.Name, l.SQL, sep)
	}
	b.WriteString(")")
	return b.String()
}

// Reject is one input row that did not load, with where it was and why.
type Reject struct {
	// Position is human-readable: "credit/customers_20261120.csv:17" or
	// "ebank.events/3/1234".
	Position  string
	Line      int64 // file line (1 = header), 0 for streams
	Partition int32 // stream partition, -1 for files
	Offset    int64 // stream offset, -1 for files
	Reason    string
	Detail    string
	Raw       string // the row as delivered, decoded to UTF-8 where possible
}
