package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"cdp/connectors/contract"
	"cdp/internal/sqltest"
	"cdp/internal/synthbank"
	"cdp/warehouse"
)

const branchContract = `feed: branch
zh: 网点系统
en: Branch system
entities:
  - name: visits
    zh: 到店
    en: Branch visits
    format: delimited
    pattern: visits_{D}.del
    columns:
      - {name: visit_id, type: string, required: true, zh: 到店编号, en: visit id}
      - {name: cust_no, type: string, required: true, zh: 客户号, en: customer number}
      - {name: visited_at, type: timestamp, required: true, zh: 到店时间, en: when}
      - {name: purpose, type: enum, values: [DEPOSIT, WEALTH, LOAN], zh: 事由, en: purpose}
      - {name: fee, type: "decimal(10,4)", zh: 手续费, en: fee charged}
`

// A feed the project declares in its own contracts folder lands in
// raw.<feed>_<entity> with the guarantees of the built-in feeds: its table
// made at the first load, typed values, rejects with their reasons and
// lines, rows in = loaded + rejected, a rerun that loads nothing twice and a
// correction that replaces the file's rows.
func TestIngest_AProjectsOwnFeed(t *testing.T) {
	p := newProject(t, `contracts: [contracts]
`)
	p.withContract("  - {name: branch, kind: files, path: feeds/branch}\n", "branch.yaml", branchContract)
	data := "visit_id|cust_no|visited_at|purpose|fee\n" +
		"V1|C1|2026-11-20 09:30:00|WEALTH|1.2345\n" +
		"V2|C2|2026-11-20 10:00:00|GOSSIP|0\n" +
		"V3||2026-11-20 10:30:00|LOAN|0\n" +
		"V4|C4|2026-11-20 11:00:00|DEPOSIT|12.34567\n" +
		"V5|C5|2026-11-20 11:30:00||\n"
	p.deliver("branch/visits_20261120.del", []byte(data), 5)
	rep, err := p.ingest("branch")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failed()) != 0 {
		t.Fatalf("failed: %+v", rep.Failed())
	}
	got := p.rejects("branch/visits_20261120.del")
	want := []reject{{3, contract.ReasonEnum}, {4, contract.ReasonMissing}, {5, contract.ReasonType}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("rejects %v, want %v", got, want)
	}
	if n := p.count(`SELECT count(*) FROM raw.branch_visits WHERE visit_id = 'V1' AND fee = 1.2345 AND purpose = 'WEALTH'
		AND visited_at = TIMESTAMPTZ '2026-11-20 09:30:00+08'`); n != 1 {
		t.Fatal("V1 did not load with its typed values")
	}
	if n := p.count(`SELECT count(*) FROM raw.branch_visits`); n != 2 {
		t.Fatalf("%d rows loaded, want 2 (5 in, 3 rejected)", n)
	}
	if n := p.count(`SELECT rows_in - rows_loaded - rows_rejected FROM ops.loads WHERE source = 'branch/visits_20261120.del'`); n != 0 {
		t.Fatalf("rows in - loaded - rejected = %d", n)
	}
	// A rerun loads nothing twice; a corrected file replaces the rows.
	if _, err := p.ingest("branch"); err != nil {
		t.Fatal(err)
	}
	if n := p.count(`SELECT count(*) FROM raw.branch_visits`); n != 2 {
		t.Fatalf("a rerun left %d rows", n)
	}
	p.deliver("branch/visits_20261120.del", []byte("visit_id|cust_no|visited_at|purpose|fee\nV1|C1|2026-11-20 09:30:00|WEALTH|1.5\n"), 1)
	if _, err := p.ingest("branch"); err != nil {
		t.Fatal(err)
	}
	if n := p.count(`SELECT count(*) FROM raw.branch_visits WHERE fee = 1.5`); n != 1 || p.count(`SELECT count(*) FROM raw.branch_visits`) != 1 {
		t.Fatal("the correction did not replace the file's rows")
	}
}

// A project contract that breaks the rules, or takes a built-in feed's
// name, stops the project from loading, naming the file and line.
func TestLoadProject_ContractProblemsNameFileAndLine(t *testing.T) {
	p := newProject(t, "contracts: [contracts]\n")
	if err := os.MkdirAll(filepath.Join(p.dir, "contracts"), 0o755); err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(branchContract, "type: timestamp", "type: datetime", 1)
	if err := os.WriteFile(filepath.Join(p.dir, "contracts", "branch.yaml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadProject(filepath.Join(p.dir, "cdp.yaml"))
	if err == nil || !strings.Contains(err.Error(), `contracts/branch.yaml:13: branch.visits.visited_at: type "datetime" is not`) {
		t.Fatalf("a broken contract: %v", err)
	}
	if err := os.WriteFile(filepath.Join(p.dir, "contracts", "branch.yaml"), []byte(strings.Replace(branchContract, "feed: branch", "feed: card", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadProject(filepath.Join(p.dir, "cdp.yaml"))
	if err == nil || !strings.Contains(err.Error(), `contracts/branch.yaml:1: feed card is declared in 03_card.yaml already`) {
		t.Fatalf("a contract taking a built-in feed's name: %v", err)
	}
}

// A fixed-width GBK feed the project declares loads through the pipeline:
// Chinese names decoded, padding trimmed, a line of another width a
// reject naming both widths.
func TestIngest_AFixedWidthGBKFeed(t *testing.T) {
	p := newProject(t, "contracts: [contracts]\n")
	cfg := filepath.Join(p.dir, "cdp.yaml")
	yaml, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	yaml = []byte(strings.Replace(string(yaml), "feeds:\n", "feeds:\n  - {name: core, kind: files, path: feeds/core, encoding: gbk}\n", 1))
	if err := os.WriteFile(cfg, yaml, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(p.dir, "contracts"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.dir, "contracts", "core.yaml"), []byte(`feed: core
zh: 核心银行系统
en: Core banking
entities:
  - name: deposits
    zh: 存款账户
    en: Deposit accounts
    format: fixed
    pattern: DEP_{D}.dat
    columns:
      - {name: acct_no, type: string, required: true, width: 10, zh: 账号, en: account}
      - {name: holder, type: string, width: 12, pii: name, zh: 户名, en: holder}
      - {name: balance, type: "decimal(18,2)", width: 12, zh: 余额, en: balance}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	data := gbk(t, "0000000001张三          1234567.89\r\n"+
		"0000000002北京星河科技       -5.00\r\n"+
		"0000000003李四  1.00\r\n")
	p.deliver("core/DEP_20261120.dat", data, 3)
	rep, err := p.ingest("core")
	if err != nil || len(rep.Failed()) != 0 {
		t.Fatalf("ingest: %v %+v", err, rep.Failed())
	}
	if n := p.count(`SELECT count(*) FROM raw.core_deposits WHERE (acct_no = '0000000001' AND holder = '张三' AND balance = 1234567.89)
		OR (acct_no = '0000000002' AND holder = '北京星河科技' AND balance = -5)`); n != 2 {
		t.Fatalf("%d of the 2 good lines loaded with their values", n)
	}
	var detail string
	p.query(func(w *warehouse.Warehouse) {
		sqltest.Row(t, w.DB(), `SELECT reason || ': ' || detail FROM ops.rejects WHERE source = 'core/DEP_20261120.dat' AND line = 3`).Scan(&detail)
	})
	if detail != "malformed_row: 20 bytes wide, the layout is 34" {
		t.Fatalf("the short line's reject: %q", detail)
	}
}

// Contract evolution end to end: a column added at version 2 is added to
// the loaded table (old rows NULL, new rows filled), each load records the
// contract version it used, and a type change is refused with what to do.
func TestIngest_ContractEvolution(t *testing.T) {
	p := newProject(t, "contracts: [contracts]\n")
	p.withContract("  - {name: branch, kind: files, path: feeds/branch}\n", "branch.yaml", branchContract)
	writeContract := func(text string) { p.writeContract("branch.yaml", text) }
	p.deliver("branch/visits_20261120.del", []byte("visit_id|cust_no|visited_at|purpose|fee\nV1|C1|2026-11-20 09:30:00|WEALTH|1.2\n"), 1)
	if rep, err := p.ingest("branch"); err != nil || len(rep.Failed()) > 0 {
		t.Fatalf("first load: %v %+v", err, rep)
	}

	v2 := strings.Replace(branchContract, "feed: branch\n", "feed: branch\nversion: 2\n", 1) +
		"      - {name: channel, type: enum, values: [COUNTER, VIP], zh: 渠道, en: where}\n"
	writeContract(v2)
	p.deliver("branch/visits_20261121.del", []byte("visit_id|cust_no|visited_at|purpose|fee|channel\nV2|C2|2026-11-21 09:30:00|LOAN|0|VIP\n"), 1)
	if rep, err := p.ingest("branch"); err != nil || len(rep.Failed()) > 0 {
		t.Fatalf("load after adding a column: %v %+v", err, rep)
	}
	if n := p.count(`SELECT count(*) FROM raw.branch_visits WHERE (visit_id = 'V1' AND channel IS NULL) OR (visit_id = 'V2' AND channel = 'VIP')`); n != 2 {
		t.Fatalf("%d rows as expected after the addition, want 2", n)
	}
	var versions []string
	p.query(func(w *warehouse.Warehouse) {
		for scan := range sqltest.Rows(t, w.DB(), `SELECT split_part(contract_version, '/', 1) FROM ops.loads WHERE feed = 'branch' ORDER BY load_id`) {
			var v string
			scan(&v)
			versions = append(versions, v)
		}
	})
	if !reflect.DeepEqual(versions, []string{"1", "2"}) {
		t.Fatalf("contract versions of the loads: %v", versions)
	}

	writeContract(strings.Replace(strings.Replace(v2, "version: 2", "version: 3", 1), `"decimal(10,4)"`, `"decimal(12,4)"`, 1))
	p.deliver("branch/visits_20261122.del", []byte("visit_id|cust_no|visited_at|purpose|fee|channel\nV3|C3|2026-11-22 09:30:00|LOAN|0|VIP\n"), 1)
	rep, err := p.ingest("branch")
	if err == nil || len(rep.Failed()) != 1 || !strings.Contains(rep.Failed()[0].Err.Error(), "column fee is DECIMAL(10,4) in the warehouse but DECIMAL(12,4) in the contract") {
		t.Fatalf("a type change: %v %+v", err, rep.Failed())
	}
	if n := p.count(`SELECT count(*) FROM raw.branch_visits`); n != 2 {
		t.Fatalf("%d rows after the refused change", n)
	}
}

const crmContract = `feed: crm
zh: 客户关系管理系统
en: CRM
entities:
  - name: contacts
    zh: 联系人
    en: Contacts
    format: delimited
    pattern: contacts_{D}.del
    key: [contact_id]
    snapshot: true
    identity:
      key: contact_id
      party_type: {const: P}
      attributes: {name: full_name, id_no: cert_no, mobile: phone}
      trust: {default: 5, mobile: 1}
    columns:
      - {name: contact_id, type: string, required: true, zh: 联系人编号, en: contact id}
      - {name: full_name, type: string, pii: name, zh: 姓名, en: name}
      - {name: cert_no, type: string, pii: id_number, zh: 证件号码, en: ID number}
      - {name: phone, type: string, pii: phone, zh: 手机, en: mobile}
`

// A system declared only in a project's contract takes part in
// unification: its records join the credit record with the same resident
// ID, and its mobile wins the golden record by its trust rank.
func TestUnify_AProjectContractsCustomers(t *testing.T) {
	p := newProject(t, "contracts: [contracts]\n")
	p.withContract("  - {name: crm, kind: files, path: feeds/crm}\n", "crm.yaml", crmContract)
	id := "11010119900307123"
	id += string(synthbank.ResidentCheck(id)) // a valid resident ID: a deterministic key
	p.deliver("credit/customers_20261120.csv", gbk(t, creditCustomerHeader+"\n"+strings.Replace(customerRow("C1", "P", "张伟", "1990-03-07", ""), "110101199003074578", id, 1)+"\n"), 1)
	p.deliver("crm/contacts_20261120.del", []byte("contact_id|full_name|cert_no|phone\nK1|张伟|"+id+"|13900139000\n"), 1)
	if rep, err := p.ingest(); err != nil || len(rep.Failed()) > 0 {
		t.Fatalf("%v %+v", err, rep)
	}
	c := p.config()
	if got := identitySystems(c); !reflect.DeepEqual(got, []string{"card", "core_banking", "credit", "crm", "ebank", "wealth"}) {
		t.Fatalf("unification sources %v", got)
	}
	p.query(func(w *warehouse.Warehouse) {
		env := &Env{Project: c, W: w, Logger: quiet}
		if _, err := Run(context.Background(), env, "unify"); err != nil {
			t.Fatal(err)
		}
		var parties int
		var mobile string
		sqltest.Row(t, w.DB(), `SELECT count(DISTINCT x.party_id), any_value(p.mobile) FROM core.party_xref x JOIN core.party p USING (party_id)
			WHERE (x.system, x.source_key) IN (('credit', 'C1'), ('crm', 'K1'))`).Scan(&parties, &mobile)
		if parties != 1 || mobile != "13900139000" {
			t.Fatalf("%d parties for C1 and K1 (want one), golden mobile %s (want the CRM's, trusted first for mobiles)", parties, mobile)
		}
	})
}

func identitySystems(p *Project) []string {
	var out []string
	for _, s := range p.Identity.Sources {
		out = append(out, s.System)
	}
	slices.Sort(out)
	return out
}

// A contract's expected: arrivals: the files due by now and not loaded are
// late, from the feed's first load on; a file that is there but waits for
// its control file is late and says so; loading it ends the lateness.
func TestLateFeeds(t *testing.T) {
	p := newProject(t, "contracts: [contracts]\n")
	expected := strings.Replace(branchContract, "    pattern: visits_{D}.del\n", "    pattern: visits_{D}.del\n    expected: {by: \"06:00\", lag: 1}\n", 1)
	p.withContract("  - {name: branch, kind: files, path: feeds/branch}\n", "branch.yaml", expected)
	visit := func(day string) []byte {
		return []byte("visit_id|cust_no|visited_at|purpose|fee\nV" + day + "|C1|" + day[:4] + "-" + day[4:6] + "-" + day[6:] + " 09:30:00|LOAN|0\n")
	}
	p.deliver("branch/visits_20261118.del", visit("20261118"), 1) // Wednesday
	p.write("branch/visits_20261120.del", visit("20261120"))      // Friday's, without its control file yet
	if _, err := p.ingest("branch"); err != nil && !errors.Is(err, ErrUnitsFailed) {
		t.Fatal(err)
	}
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 11, 23, 7, 0, 0, 0, shanghai) // Monday 07:00: Thursday's and Friday's files are due
	c := p.config()
	var late []LateFeed
	var err error
	p.query(func(w *warehouse.Warehouse) {
		if late, err = LateFeeds(context.Background(), c, w.DB(), now); err != nil {
			t.Fatal(err)
		}
	})
	var got []string
	for _, l := range late {
		got = append(got, fmt.Sprintf("%s %s %s due %s pending=%v", l.Feed, l.Entity, l.Day.Format("01-02"), l.Due.In(shanghai).Format("01-02 15:04"), l.Pending))
	}
	want := []string{"branch branch.visits 11-19 due 11-20 06:00 pending=false", "branch branch.visits 11-20 due 11-21 06:00 pending=true"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("late\n got %q\nwant %q", got, want)
	}
	p.deliver("branch/visits_20261119.del", visit("20261119"), 1)
	p.deliver("branch/visits_20261120.del", visit("20261120"), 1)
	if _, err := p.ingest("branch"); err != nil {
		t.Fatal(err)
	}
	p.query(func(w *warehouse.Warehouse) {
		if late, err = LateFeeds(context.Background(), c, w.DB(), now); err != nil || len(late) != 0 {
			t.Fatalf("after the files loaded: %v %+v", err, late)
		}
	})
}

// The external feed (vendors' statements, public opinion, industry
// indices) rejects what its columns cannot hold, each row with its line
// and reason, and never quotes the credit code (an identifier) in the
// reject's detail; the rows it can hold load.
func TestIngest_TheExternalFeedRejectsWhatItCannotHold(t *testing.T) {
	p := newProject(t, "")
	fin := "credit_code,company_name,fiscal_year,report_date,revenue,net_profit,total_assets,total_liabilities,operating_cash_flow,provider\n" +
		"91110105123456789X,甲公司,2025,2026-04-20,100.00,5.00,200.00,120.00,6.00,v\n" +
		"9111010512345678,乙公司,2025,2026-04-20,100.00,5.00,200.00,120.00,6.00,v\n" + // 16 characters
		"91110105123456780Y,丙公司,1066,2026-04-20,100.00,5.00,200.00,120.00,6.00,v\n" + // no year of ours
		"91110105123456781Z,丁公司,2025,2026-04-20,100.00,5.00,-1.00,120.00,6.00,v\n" // negative assets
	p.deliver("external/financials_20261120.csv", []byte(fin), 4)
	op := `{"event_id":"E1","credit_code":"91110105123456789X","event_date":"2026-11-19","sentiment":"NEGATIVE","severity":4,"topic":"LITIGATION","title":"甲公司被诉"}
{"event_id":"E2","credit_code":"91110105123456789X","event_date":"2026-11-19","sentiment":"NEGATIVE","severity":9,"topic":"DEBT"}
{"event_id":"E3","credit_code":"91110105123456789X","event_date":"2026-11-19","sentiment":"ANGRY","severity":2}
`
	p.deliver("external/opinion_20261120.jsonl", []byte(op), 3)
	ind := "division,month,prosperity_index,provider\nC26,2026-10-01,98.50,v\nC2,2026-10-01,101.00,v\n"
	p.deliver("external/industry_20261120.csv", []byte(ind), 2)
	rep, err := p.ingest("external")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failed()) != 0 {
		t.Fatalf("failed: %+v", rep.Failed())
	}
	for source, want := range map[string][]reject{
		"external/financials_20261120.csv": {{3, contract.ReasonValue}, {4, contract.ReasonValue}, {5, contract.ReasonValue}},
		"external/opinion_20261120.jsonl":  {{2, contract.ReasonValue}, {3, contract.ReasonEnum}},
		"external/industry_20261120.csv":   {{3, contract.ReasonValue}},
	} {
		if got := p.rejects(source); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: rejects %v, want %v", source, got, want)
		}
	}
	if n := p.count(`SELECT count(*) FROM ops.rejects WHERE detail LIKE '%9111010512345678%'`); n != 0 {
		t.Errorf("%d rejects quote a credit code", n)
	}
	for table, want := range map[string]int64{"raw.external_financials": 1, "raw.external_opinion": 1, "raw.external_industry": 1} {
		if n := p.count(`SELECT count(*) FROM ` + table); n != want {
			t.Errorf("%s: %d rows, want %d", table, n, want)
		}
	}
}
