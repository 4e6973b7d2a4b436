package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// testExtension is the pipeline's stages, without the stages' own sections
// (their problems are tested with the pipeline's project).
var testExtension = Extension{Stages: []string{"ingest", "unify", "model", "tags", "tiers", "view", "signals", "publish"}}

// parseError parses src as cdp.yaml and returns the error text, failing the
// test when it parses.
func parseError(t *testing.T, src string) string {
	t.Helper()
	p, err := Parse("cdp.yaml", []byte(src), testExtension)
	if err == nil {
		t.Fatalf("parsed without error: %+v", p)
	}
	return err.Error()
}

func mustParse(t *testing.T, src string) *Project {
	t.Helper()
	p, err := Parse("cdp.yaml", []byte(src), testExtension)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return p
}

func TestLoad_DefaultsFillEveryOmittedKey(t *testing.T) {
	p := mustParse(t, `
feeds:
  - name: credit
    path: feeds/credit
  - name: wealth
    path: feeds/wealth
  - name: card
    path: feeds/card
  - name: ebank
    path: feeds/ebank
  - name: ebank_stream
    contract: ebank
    kind: kafka
    topic: ebank.events
    enabled: false
`)
	yes := true
	wantTop := Project{
		Warehouse: Warehouse{Path: "warehouse.duckdb", TimeZone: "Asia/Shanghai"},
		Kafka: Kafka{ClientID: "cdp", Embedded: Embedded{
			Listen: "127.0.0.1:19092", DataDir: "kafka-data", Partitions: 6,
		}},
		Ingest: Ingest{MemoryLimit: "64MB", StreamBatch: 50000, RequireOK: &yes},
	}
	if !reflect.DeepEqual(p.Warehouse, wantTop.Warehouse) {
		t.Errorf("warehouse = %+v, want %+v", p.Warehouse, wantTop.Warehouse)
	}
	if !reflect.DeepEqual(p.Kafka, wantTop.Kafka) {
		t.Errorf("kafka = %+v, want %+v", p.Kafka, wantTop.Kafka)
	}
	if !reflect.DeepEqual(p.Ingest, wantTop.Ingest) {
		t.Errorf("ingest = %+v, want %+v", p.Ingest, wantTop.Ingest)
	}
	if !p.Ingest.RequiresOK() {
		t.Error("RequiresOK() = false, want true by default")
	}

	type feedDefaults struct{ Contract, Kind, Format, Encoding, Delimiter, Entity, Entities string }
	want := map[string]feedDefaults{
		"credit":       {"credit", "files", "csv", "gb18030", ",", "", "customers,loans,repayments"},
		"wealth":       {"wealth", "files", "parquet", "utf-8", "", "", "clients,holdings,trades"},
		"card":         {"card", "files", "delimited", "utf-8", "|", "", "holders,accounts,txns"},
		"ebank":        {"ebank", "files", "jsonl", "utf-8", "", "", "users,events"},
		"ebank_stream": {"ebank", "kafka", "jsonl", "utf-8", "", "events", ""},
	}
	for _, f := range p.Feeds {
		got := feedDefaults{f.Contract, f.Kind, f.Format, f.Encoding, f.Delimiter, f.Entity, strings.Join(f.Entities, ",")}
		if got != want[f.Name] {
			t.Errorf("feed %s defaults = %+v, want %+v", f.Name, got, want[f.Name])
		}
	}
	if f, _ := p.Feed("credit"); !f.IsEnabled() {
		t.Error("credit: IsEnabled() = false, want true by default")
	}
	if f, _ := p.Feed("ebank_stream"); f.IsEnabled() {
		t.Error("ebank_stream: IsEnabled() = true, want false as written")
	}
}

func TestLoad_EmptyFileIsAllDefaults(t *testing.T) {
	for _, src := range []string{"", "# nothing yet\n", "---\n"} {
		p := mustParse(t, src)
		if p.Warehouse.Path != "warehouse.duckdb" || p.Ingest.MemoryLimit != "64MB" || len(p.Feeds) != 0 {
			t.Errorf("Parse(%q) = %+v, want defaults and no feeds", src, p)
		}
	}
}

func TestLoad_RelativePathsResolveAgainstTheProjectDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bank")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "cdp.yaml")
	src := "warehouse:\n  path: data/wh.duckdb\nfeeds:\n  - name: card\n    path: ../drop/card\n  - name: wealth\n    path: /srv/wealth\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir()) // the working directory must not matter

	p, err := Load(file, testExtension)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ got, want string }{
		{p.Path, file},
		{p.Dir, dir},
		{p.WarehousePath(), filepath.Join(dir, "data", "wh.duckdb")},
		{p.Resolve(p.Feeds[0].Path), filepath.Join(filepath.Dir(dir), "drop", "card")},
		{p.Resolve(p.Feeds[1].Path), "/srv/wealth"},
		{p.Resolve(""), ""},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestLoad_RelativeFileNameStaysRelativeInErrors(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile("cdp.yaml", []byte("warehouse:\n  threads: -1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load("cdp.yaml", testExtension)
	if got, want := fmt.Sprint(err), "cdp.yaml:2:3: warehouse.threads: must be 0 (all cores) or more, not -1"; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}

func TestLoad_MissingFileNamesPathAndSuggestsInit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cdp.yaml")
	_, err := Load(path, testExtension)
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a *config.Error", err, err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is(err, fs.ErrNotExist) = false for %v", err)
	}
	want := path + `: no project file here; run "cdp init" to write a starter one`
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err.Error(), want)
	}
}

func TestLoad_UnknownKeyNamesLineAndField(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"top level", "warehouse:\n  path: w.duckdb\nfeed:\n  - name: credit\n",
			`cdp.yaml:3:1: feed: unknown key "feed" (did you mean "feeds"?)`},
		{"nested", "kafka:\n  tls:\n    enable: true\n",
			`cdp.yaml:3:5: kafka.tls.enable: unknown key "enable" (did you mean "enabled"?)`},
		{"in a feed", "feeds:\n  - name: credit\n    path: feeds/credit\n  - name: card\n    path: feeds/card\n    encodng: utf-8\n",
			`cdp.yaml:6:5: feeds[1].encodng: unknown key "encodng" (did you mean "encoding"?)`},
		{"nothing close lists the keys", "ingest:\n  parallelism: 4\n",
			`cdp.yaml:2:3: ingest.parallelism: unknown key "parallelism" (want memory_limit, workers, stream_batch or require_ok)`},
		{"key not read from yaml", "feeds:\n  - name: credit\n    path: x\n    line: 3\n",
			`cdp.yaml:4:5: feeds[0].line: unknown key "line" (did you mean "kind"?)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseError(t, tt.src); got != tt.want {
				t.Errorf("error =\n  %s\nwant\n  %s", got, tt.want)
			}
		})
	}
}

func TestLoad_DuplicateFeedName(t *testing.T) {
	src := `feeds:
  - name: credit
    path: feeds/credit
  - name: card
    path: feeds/card
  - name: credit
    path: feeds/credit2
`
	want := `cdp.yaml:6:5: feeds[2].name: feed "credit" is already declared at line 2`
	if got := parseError(t, src); got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}

func TestLoad_DuplicateKeyIsAnError(t *testing.T) {
	src := "warehouse:\n  path: a.duckdb\n  threads: 2\n  path: b.duckdb\n"
	want := `cdp.yaml:4:3: warehouse.path: is written twice (first at line 2)`
	if got := parseError(t, src); got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}

// yaml.v3 alone would report the line where the enclosing block starts, or
// no line at all; these are the lines of the mistakes.
func TestLoad_SyntaxErrorHasTheLineOfTheMistake(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"bad indent", "warehouse:\n  path: w.duckdb\n  threads: 2\n time_zone: UTC\n",
			"cdp.yaml:4: YAML syntax: did not find expected key"},
		{"tab indent", "warehouse:\n  path: w.duckdb\n\tthreads: 2\n",
			"cdp.yaml:3: YAML syntax: found a tab character that violates indentation"},
		{"misaligned list item", "feeds:\n  - name: credit\n    path: x\n\n   - name: card\n",
			"cdp.yaml:5: YAML syntax: did not find expected '-' indicator"},
		{"error on line one", "warehouse: path: x\n",
			"cdp.yaml:1: YAML syntax: mapping values are not allowed in this context"},
		{"unterminated quote", "feeds:\n  - name: credit\n    path: 'feeds/credit\n",
			"cdp.yaml:3: YAML syntax: found unexpected end of stream"},
		{"valid multi-line list before the mistake", "kafka:\n  brokers: [\n    k1:9092,\n    k2:9092]\nfeeds:\n  - name: credit\n   path: x\n",
			"cdp.yaml:7: YAML syntax: did not find expected '-' indicator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("cdp.yaml", []byte(tt.src), testExtension)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T) is not a *config.Error", err, err)
			}
			if err.Error() != tt.want {
				t.Errorf("error =\n  %s\nwant\n  %s", err, tt.want)
			}
		})
	}
}

func TestLoad_WrongTypesNameWhatIsWanted(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"int", "warehouse:\n  threads: many\n", `cdp.yaml:2:12: warehouse.threads: want a whole number, got "many"`},
		{"bool", "ingest:\n  require_ok: sometimes\n", `cdp.yaml:2:15: ingest.require_ok: want true or false, got "sometimes"`},
		{"mapping for a value", "kafka:\n  client_id:\n    a: b\n", `cdp.yaml:3:5: kafka.client_id: want a single value, got a mapping`},
		{"scalar for a section", "kafka: localhost:9092\n", `cdp.yaml:1:8: kafka: want a mapping (key: value lines), got "localhost:9092"`},
		{"feeds not a list", "feeds:\n  credit: {}\n", `cdp.yaml:2:3: feeds: want a list, got a mapping`},
		{"root not a mapping", "- credit\n", `cdp.yaml:1:1: the project file must be a mapping of warehouse:, kafka:, ingest: and feeds:, not a list`},
		{"two documents", "warehouse: {}\n---\nfeeds: []\n", `cdp.yaml:2:1: a project file holds one YAML document; remove this second one (or its --- line)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseError(t, tt.src); got != tt.want {
				t.Errorf("error =\n  %s\nwant\n  %s", got, tt.want)
			}
		})
	}
}

func TestLoad_RejectsInvalidValues(t *testing.T) {
	const feedsHead = "feeds:\n  - name: credit\n    path: feeds/credit\n"
	tests := []struct{ name, src, want string }{
		{"a job stage that does not exist",
			"schedules:\n  jobs:\n    - name: daily\n      stages: [ingest, score]\n",
			`cdp.yaml:4:24: schedules.jobs[0].stages[1]: unknown stage "score" (want ingest, unify, model, tags, tiers, view, signals or publish, or all)`},
		{"job stages out of DAG order",
			"schedules:\n  jobs:\n    - name: daily\n      stages: [tags, model]\n",
			`cdp.yaml:4:22: schedules.jobs[0].stages[1]: stage "model" is out of order: stages run in the order ingest → unify → model → tags → tiers → view → signals → publish`},
		{"a cron spec with a typo",
			"schedules:\n  jobs:\n    - {name: daily, stages: [all], cron: \"0 30 25 * * *\"}\n",
			`cdp.yaml:3:36: schedules.jobs[0].cron: "0 30 25 * * *": end of range (25) above maximum (23): 25 (want five fields, or six with seconds first, e.g. "0 30 2 * * *")`},
		{"a dependency on a job that does not exist",
			"schedules:\n  jobs:\n    - {name: tags, stages: [tags], depends_on: [core]}\n",
			`cdp.yaml:3:49: schedules.jobs[0].depends_on[0]: no job named "core"`},
		{"jobs depending on each other in a circle",
			"schedules:\n  jobs:\n    - {name: a, stages: [unify], depends_on: [b]}\n    - {name: b, stages: [model], depends_on: [a]}\n",
			`cdp.yaml:2:3: schedules.jobs: dependencies go round in a circle: a → b → a`},
		{"an unknown catch-up policy",
			"schedules:\n  catch_up: everything\n",
			`cdp.yaml:2:3: schedules.catch_up: "everything": want none, latest or all`},
		{"a backoff that is not a duration",
			"schedules:\n  jobs:\n    - {name: a, stages: [unify], backoff: 30}\n",
			`cdp.yaml:3:34: schedules.jobs[0].backoff: "30": want a duration like 30s, 5m or 2h`},
		{"a first backoff longer than the longest",
			"schedules:\n  jobs:\n    - {name: a, stages: [unify], backoff: 1h, max_backoff: 1m}\n",
			`cdp.yaml:3:34: schedules.jobs[0].backoff: 1h0m0s is longer than max_backoff (1m0s)`},
		{"a password pasted into password_env",
			"serve:\n  sql:\n    users:\n      - {name: ana, password_env: \"s3cret!\"}\n",
			`cdp.yaml:4:21: serve.sql.users[0].password_env: must name an environment variable (like CDP_ANALYST_PASSWORD) that holds the password, never the password itself`},
		{"a control token pasted into token_env",
			"serve:\n  control: {token_env: \"abc-123!\"}\n",
			`cdp.yaml:2:13: serve.control.token_env: must name an environment variable (like CDP_CONTROL_TOKEN) that holds the token, never the token itself`},
		{"a control token from two places",
			"serve:\n  control: {token_env: CDP_TOKEN, token_file: t.token}\n",
			`cdp.yaml:2:35: serve.control.token_file: give token_env or token_file, not both`},
		{"an SQL certificate without its key",
			"serve:\n  sql:\n    tls: {cert_file: server.pem}\n",
			`cdp.yaml:3:5: serve.sql.tls: give both cert_file and key_file, or neither`},
		{"TLS required without a certificate",
			"serve:\n  sql:\n    tls: {require: true}\n",
			`cdp.yaml:3:11: serve.sql.tls.require: TLS cannot be required without cert_file and key_file`},
		{"an SQL user with an unknown role",
			"serve:\n  sql:\n    users:\n      - {name: ana, role: admin, password_env: PW}\n",
			`cdp.yaml:4:21: serve.sql.users[0].role: "admin": want analyst or engineer`},
		{"an engineer limited to a branch",
			"serve:\n  sql:\n    users:\n      - {name: eng, role: engineer, password_env: PW, branches: [BJ01]}\n",
			`cdp.yaml:4:55: serve.sql.users[0].branches: branches, rm_ids and members limit analysts; an engineer reads every schema`},
		{"an empty RM id",
			"serve:\n  sql:\n    users:\n      - {name: ana, password_env: PW, rm_ids: [R1, \"\"]}\n",
			`cdp.yaml:4:52: serve.sql.users[0].rm_ids[1]: an empty code`},
		{"unknown encoding",
			feedsHead + "  - name: card\n    path: feeds/card\n    encoding: big5\n",
			`cdp.yaml:6:5: feeds[1].encoding: unknown encoding "big5" (want utf-8, gbk or gb18030)`},
		{"unknown kind",
			"feeds:\n  - name: credit\n    kind: s3\n",
			`cdp.yaml:3:5: feeds[0].kind: unknown kind "s3" (want files or kafka)`},
		{"unknown format",
			feedsHead + "    format: xls\n",
			`cdp.yaml:4:5: feeds[0].format: unknown format "xls" (want csv, delimited, parquet, jsonl, fixed or xlsx)`},
		{"unknown contract",
			"feeds:\n  - name: loans\n    contract: lending\n    path: x\n",
			`cdp.yaml:3:5: feeds[0].contract: unknown contract "lending" (want credit, wealth, card, ebank, core_banking, contact or external)`},
		{"name that is not a contract needs contract:",
			"feeds:\n  - name: credit_branch2\n    path: x\n",
			`cdp.yaml:2:5: feeds[0].contract: feed "credit_branch2" is not named after a contract feed, so it needs contract: (credit, wealth, card, ebank, core_banking, contact or external)`},
		{"feed without a name",
			"feeds:\n  - path: feeds/credit\n",
			`cdp.yaml:2:5: feeds[0].name: every feed needs a name (like credit or ebank_stream)`},
		{"feed name with spaces",
			"feeds:\n  - name: Credit Feed\n    contract: credit\n    path: x\n",
			`cdp.yaml:2:5: feeds[0].name: "Credit Feed" must be lower-case letters, digits and _, starting with a letter`},
		{"files feed without path",
			"feeds:\n  - name: wealth\n    format: parquet\n",
			`cdp.yaml:2:5: feeds[0].path: a files feed needs path: the folder its files arrive in, relative to this file`},
		{"files feed with a topic",
			feedsHead + "    topic: credit.loans\n",
			`cdp.yaml:4:5: feeds[0].topic: is only for kind: kafka feeds`},
		{"kafka feed without topic",
			"kafka:\n  brokers: [k1:9092]\nfeeds:\n  - name: ebank_stream\n    contract: ebank\n    kind: kafka\n",
			`cdp.yaml:4:5: feeds[0].topic: a kafka feed needs topic: the topic it reads`},
		{"kafka feed with an invalid topic",
			"kafka:\n  brokers: [k1:9092]\nfeeds:\n  - name: ebank_stream\n    contract: ebank\n    kind: kafka\n    topic: ebank events\n",
			`cdp.yaml:7:5: feeds[0].topic: "ebank events" is not a Kafka topic name (letters, digits, '.', '_' and '-')`},
		{"kafka feed without brokers",
			"feeds:\n  - name: ebank_stream\n    contract: ebank\n    kind: kafka\n    topic: ebank.events\n",
			`cdp.yaml:2:5: kafka.brokers: feed "ebank_stream" reads topic ebank.events but no brokers are set; add kafka.brokers (or kafka.embedded.enabled: true for a demo), or set enabled: false on the feed`},
		{"kafka feed with an entity the contract lacks",
			"kafka:\n  brokers: [k1:9092]\nfeeds:\n  - name: ebank_stream\n    contract: ebank\n    kind: kafka\n    topic: ebank.events\n    entity: clicks\n",
			`cdp.yaml:8:5: feeds[0].entity: contract ebank has no entity "clicks" (want users or events)`},
		{"kafka feed with a path",
			"kafka:\n  brokers: [k1:9092]\nfeeds:\n  - name: ebank_stream\n    contract: ebank\n    kind: kafka\n    topic: ebank.events\n    path: feeds/ebank\n",
			`cdp.yaml:8:5: feeds[0].path: is only for kind: files feeds`},
		{"kafka feed in another format",
			"kafka:\n  brokers: [k1:9092]\nfeeds:\n  - name: ebank_stream\n    contract: ebank\n    kind: kafka\n    topic: ebank.events\n    format: csv\n",
			`cdp.yaml:8:5: feeds[0].format: kafka messages are JSON objects: format must be jsonl (or left out)`},
		{"delimiter longer than one character",
			feedsHead + "    delimiter: ';;'\n",
			`cdp.yaml:4:5: feeds[0].delimiter: ";;" must be a single ASCII character (a delimited feed may use several)`},
		{"a delimited feed's delimiter of more than 8 characters",
			"feeds:\n  - name: card\n    path: feeds/card\n    delimiter: '|@|@|@|@|'\n",
			`cdp.yaml:4:5: feeds[0].delimiter: "|@|@|@|@|": a delimiter is at most 8 characters`},
		{"delimiter for parquet",
			"feeds:\n  - name: wealth\n    path: feeds/wealth\n    delimiter: ','\n",
			`cdp.yaml:4:5: feeds[0].delimiter: parquet files have no delimiter; remove it`},
		{"delimiter for jsonl",
			"feeds:\n  - name: ebank\n    path: feeds/ebank\n    delimiter: ','\n",
			`cdp.yaml:4:5: feeds[0].delimiter: jsonl files have no delimiter; remove it`},
		{"quote as csv delimiter",
			feedsHead + "    delimiter: '\"'\n",
			`cdp.yaml:4:5: feeds[0].delimiter: '"' quotes CSV fields and cannot also separate them`},
		{"unquoted pipe starts a yaml block",
			"feeds:\n  - name: card\n    path: feeds/card\n    delimiter: |\n    enabled: true\n",
			`cdp.yaml:4:5: feeds[0].delimiter: an unquoted | or > starts a YAML block; quote it: delimiter: "|"`},
		{"non-utf-8 parquet",
			"feeds:\n  - name: wealth\n    path: feeds/wealth\n    encoding: gbk\n",
			`cdp.yaml:4:5: feeds[0].encoding: parquet text is always UTF-8; remove encoding: gbk`},
		{"unknown entity in entities",
			feedsHead + "    entities: [customers, deposits]\n",
			`cdp.yaml:4:27: feeds[0].entities[1]: contract credit has no entity "deposits" (want customers, loans or repayments)`},
		{"entity listed twice",
			feedsHead + "    entities:\n      - loans\n      - loans\n",
			`cdp.yaml:6:9: feeds[0].entities[1]: entity "loans" is listed twice`},
		{"unknown entity in patterns",
			feedsHead + "    patterns:\n      deposits: DEP_{D}.csv\n",
			`cdp.yaml:5:7: feeds[0].patterns.deposits: contract credit has no entity "deposits" (want customers, loans or repayments)`},
		{"pattern for an entity left out of entities",
			feedsHead + "    entities: [loans]\n    patterns:\n      customers: CUST_{D}.csv\n",
			`cdp.yaml:6:7: feeds[0].patterns.customers: entity "customers" is not in this feed's entities:, so its pattern would never be used`},
		{"pattern with an unknown placeholder",
			feedsHead + "    patterns:\n      loans: LOAN_{YYYYMMDD}.csv\n",
			`cdp.yaml:5:7: feeds[0].patterns.loans: pattern "LOAN_{YYYYMMDD}.csv": unknown placeholder (want {D} for YYYYMMDD or {DATE} for YYYY-MM-DD)`},
		{"pattern leaving the feed folder",
			feedsHead + "    patterns:\n      loans: ../other/loans_{D}.csv\n",
			`cdp.yaml:5:7: feeds[0].patterns.loans: pattern "../other/loans_{D}.csv": must stay inside the feed folder`},
		{"malformed glob",
			feedsHead + "    patterns:\n      loans: 'loans_[{D}.csv'\n",
			`cdp.yaml:5:7: feeds[0].patterns.loans: pattern "loans_[{D}.csv": not a valid glob: syntax error in pattern`},
		{"two feeds loading the same files",
			feedsHead + "  - name: credit_copy\n    contract: credit\n    path: feeds/credit/\n    entities: [loans]\n",
			`cdp.yaml:6:5: feeds[1].path: feed "credit" already loads credit.loans from feeds/credit/ (line 2); each entity's files belong to one feed`},
		{"negative threads",
			"warehouse:\n  threads: -2\n",
			`cdp.yaml:2:3: warehouse.threads: must be 0 (all cores) or more, not -2`},
		{"memory limit without unit",
			"warehouse:\n  memory_limit: 4\n",
			`cdp.yaml:2:3: warehouse.memory_limit: "4" is not a size (want a number and a unit, like 4GB or 512MB; empty for 60% of the machine's memory)`},
		{"unknown time zone",
			"warehouse:\n  time_zone: Asia/Beijing\n",
			`cdp.yaml:2:3: warehouse.time_zone: unknown time zone "Asia/Beijing" (want an IANA name such as Asia/Shanghai)`},
		{"memory limit not a size",
			"ingest:\n  memory_limit: lots\n",
			`cdp.yaml:2:3: ingest.memory_limit: "lots" is not a size (want a number and a unit, like 256MB or 1GB)`},
		{"negative workers",
			"ingest:\n  workers: -1\n",
			`cdp.yaml:2:3: ingest.workers: must be 0 (one per CPU) or more, not -1`},
		{"negative stream batch",
			"ingest:\n  stream_batch: -5\n",
			`cdp.yaml:2:3: ingest.stream_batch: must be 1 or more, not -5`},
		{"negative partitions",
			"kafka:\n  embedded:\n    partitions: -1\n",
			`cdp.yaml:3:5: kafka.embedded.partitions: must be 1 or more, not -1`},
		{"broker without port",
			"kafka:\n  brokers:\n    - kafka-1.bank.internal\n",
			`cdp.yaml:3:7: kafka.brokers[0]: broker "kafka-1.bank.internal": want host:port`},
		{"broker with a bad port",
			"kafka:\n  brokers: [k1:9092, 'k2:99999']\n",
			`cdp.yaml:2:22: kafka.brokers[1]: broker "k2:99999": port "99999" is not a number from 1 to 65535`},
		{"embedded listen without port",
			"kafka:\n  embedded:\n    listen: localhost\n",
			`cdp.yaml:3:5: kafka.embedded.listen: "localhost": want host:port`},
		{"embedded broker and real brokers",
			"kafka:\n  brokers: [k1:9092]\n  embedded:\n    enabled: true\n",
			`cdp.yaml:4:5: kafka.embedded.enabled: kafka.brokers is set too; the embedded broker is for demos and tests, so use one or the other`},
		{"unknown sasl mechanism",
			"kafka:\n  sasl:\n    mechanism: gssapi\n    username: cdp\n    password_env: KAFKA_PASSWORD\n",
			`cdp.yaml:3:5: kafka.sasl.mechanism: unknown SASL mechanism "GSSAPI" (want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, or empty for none)`},
		{"password_env without mechanism",
			"kafka:\n  sasl:\n    password_env: KAFKA_PASSWORD\n",
			`cdp.yaml:3:5: kafka.sasl.password_env: is set but kafka.sasl.mechanism is empty (want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)`},
		{"mechanism without password_env",
			"kafka:\n  sasl:\n    mechanism: SCRAM-SHA-512\n    username: cdp\n",
			`cdp.yaml:2:3: kafka.sasl.password_env: SASL SCRAM-SHA-512 needs password_env: the name of the environment variable holding the password`},
		{"password pasted into password_env",
			"kafka:\n  sasl:\n    mechanism: PLAIN\n    username: cdp\n    password_env: 'hunter2!'\n",
			`cdp.yaml:5:5: kafka.sasl.password_env: must name an environment variable (like KAFKA_PASSWORD) that holds the password, never the password itself`},
		{"tls file while tls is off",
			"kafka:\n  tls:\n    ca_file: ca.pem\n",
			`cdp.yaml:3:5: kafka.tls.ca_file: is set but kafka.tls.enabled is false, so it would be ignored; set enabled: true or remove it`},
		{"client certificate without key",
			"kafka:\n  tls:\n    enabled: true\n    cert_file: client.pem\n",
			`cdp.yaml:2:3: kafka.tls.key_file: a client certificate needs both cert_file and key_file`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseError(t, tt.src); got != tt.want {
				t.Errorf("error =\n  %s\nwant\n  %s", got, tt.want)
			}
		})
	}
}

func TestLoad_ReportsEveryProblemInFileOrder(t *testing.T) {
	src := `warehouse:
  threads: -1
feeds:
  - name: credit
    path: feeds/credit
    encoding: big5
  - name: card
    colour: blue
`
	_, err := Parse("cdp.yaml", []byte(src), testExtension)
	var list Errors
	if !errors.As(err, &list) {
		t.Fatalf("error %v (%T) is not config.Errors", err, err)
	}
	want := `cdp.yaml:2:3: warehouse.threads: must be 0 (all cores) or more, not -1
cdp.yaml:6:5: feeds[0].encoding: unknown encoding "big5" (want utf-8, gbk or gb18030)
cdp.yaml:7:5: feeds[1].path: a files feed needs path: the folder its files arrive in, relative to this file
cdp.yaml:8:5: feeds[1].colour: unknown key "colour" (want name, contract, kind, path, format, encoding, delimiter, topic, entity, entities, patterns, mapping or enabled)`
	if err.Error() != want {
		t.Errorf("error =\n%s\nwant\n%s", err, want)
	}
	var first *Error
	if !errors.As(err, &first) || first.Line != 2 || first.Field != "warehouse.threads" {
		t.Errorf("errors.As(*Error) = %+v, want the first problem (line 2)", first)
	}
}

func TestLoad_ABadValueIsReportedOnce(t *testing.T) {
	// path: fails to decode; "a files feed needs path" would be a second
	// symptom of the same mistake.
	src := "feeds:\n  - name: credit\n    path: [feeds, credit]\n"
	want := `cdp.yaml:3:11: feeds[0].path: want a single value, got a list`
	if got := parseError(t, src); got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}

func TestLoad_NormalisesSpelling(t *testing.T) {
	p := mustParse(t, `kafka:
  brokers: "k1:9092, k2:9092"
  sasl:
    mechanism: scram-sha-256
    username: cdp
    password_env: KAFKA_PASSWORD
feeds:
  - name: credit
    contract: CREDIT
    kind: Files
    path: feeds/credit
    format: CSV
    encoding: GBK
  - name: card
    path: feeds/card
    encoding: UTF8
    delimiter: "\t"
`)
	if got := strings.Join(p.Kafka.Brokers, " "); got != "k1:9092 k2:9092" {
		t.Errorf("brokers = %q, want the comma-separated string split", got)
	}
	if p.Kafka.SASL.Mechanism != "SCRAM-SHA-256" {
		t.Errorf("mechanism = %q, want SCRAM-SHA-256", p.Kafka.SASL.Mechanism)
	}
	credit, _ := p.Feed("credit")
	if credit.Contract != "credit" || credit.Kind != "files" || credit.Format != "csv" || credit.Encoding != "gbk" {
		t.Errorf("credit = %+v, want lower-case contract, kind, format and encoding", credit)
	}
	card, _ := p.Feed("card")
	if card.Encoding != "utf-8" || card.Delimiter != "\t" {
		t.Errorf("card encoding %q delimiter %q, want utf-8 and a tab", card.Encoding, card.Delimiter)
	}
}

func TestLoad_DisabledKafkaFeedNeedsNoBrokers(t *testing.T) {
	p := mustParse(t, "feeds:\n  - name: ebank_stream\n    contract: ebank\n    kind: kafka\n    topic: ebank.events\n    enabled: false\n")
	if f, ok := p.Feed("ebank_stream"); !ok || f.IsEnabled() {
		t.Errorf("Feed(ebank_stream) = %+v, %v; want the disabled feed", f, ok)
	}
}

func TestLoad_EmbeddedBrokerStandsInForBrokers(t *testing.T) {
	mustParse(t, "kafka:\n  embedded:\n    enabled: true\nfeeds:\n  - name: ebank_stream\n    contract: ebank\n    kind: kafka\n    topic: ebank.events\n")
}

func TestLoad_FeedsRecordTheirLine(t *testing.T) {
	p := mustParse(t, "# feeds\nfeeds:\n  - name: credit\n    path: a\n\n  - name: card\n    path: b\n")
	if p.Feeds[0].Line != 3 || p.Feeds[1].Line != 6 {
		t.Errorf("lines = %d, %d; want 3, 6", p.Feeds[0].Line, p.Feeds[1].Line)
	}
}

func TestFeed_PatternPrefersTheOverride(t *testing.T) {
	p := mustParse(t, "feeds:\n  - name: credit\n    path: a\n    patterns:\n      loans: LOAN_{D}.CSV\n")
	f, _ := p.Feed("credit")
	for entity, want := range map[string]string{
		"loans":     "LOAN_{D}.CSV",
		"customers": "customers_{D}.csv",
		"nosuch":    "",
	} {
		if got := f.Pattern(entity); got != want {
			t.Errorf("Pattern(%q) = %q, want %q", entity, got, want)
		}
	}
	if _, ok := p.Feed("wealth"); ok {
		t.Error("Feed(wealth) found a feed that is not declared")
	}
}

func TestProject_WarehouseInMemory(t *testing.T) {
	p := mustParse(t, "warehouse:\n  path: ':memory:'\n")
	if got := p.WarehousePath(); got != ":memory:" {
		t.Errorf("WarehousePath() = %q, want :memory:", got)
	}
}

// A feed's mapping decodes in its short forms (a column as its source
// field's name, a field as its name) and its long ones, compiles against
// the contract, and every problem is reported at its own line.
func TestLoad_FeedMapping(t *testing.T) {
	src := `feeds:
  - name: credit
    path: feeds/credit
    mapping:
      customers:
        banner: 2
        trim: true
        year: {match: '(?P<year>\d{4})年'}
        columns:
          cust_no: 客户号
          cust_type: {from: 客户类型, codes: {个人: P, 对公: C}}
          open_date: {from: 开户日期, layout: "%m/%d"}
          branch_code: {const: BJ01}
          rm_id: {from: "客户经理, 主办"}   # one field whose name has a comma
      loans:
        fields: [借据号, 客户号, {name: 余额}]
        columns:
          loan_no: 借据号
          cust_no: 客户号
          balance: {from: 余额, thousands: ","}
          contract_amount: {from: 余额, thousands: ","}
          currency: {const: CNY}
          five_class: {default: "1"}
          status: {const: ACTIVE}
`
	p := mustParse(t, src)
	m := p.Feeds[0].Mappings()
	if m["customers"] == nil || m["loans"] == nil || !m["loans"].Positional() || len(m["loans"].Fields()) != 3 {
		t.Fatalf("mappings not compiled: %+v", m)
	}
	desc := strings.Join(m["customers"].Describe(), "\n")
	for _, want := range []string{"cust_no ← 客户号", "cust_type ← 客户类型 (codes: 个人, 对公)", `branch_code = "BJ01"`, "open_date ← 开户日期 (layout %m/%d)", "rm_id ← 客户经理, 主办"} {
		if !strings.Contains(desc, want) {
			t.Errorf("mapping description lacks %q:\n%s", want, desc)
		}
	}

	bad := `feeds:
  - name: credit
    path: feeds/credit
    mapping:
      customers:
        columns:
          cust_type: {from: 客户类型, codes: {个人: X}}
          nosuch: 列
          open_date: {from: 开户日期, layout: "%m/%d"}
      accounts:
        trim: true
  - name: ebank_stream
    kind: kafka
    topic: ebank.events
    contract: ebank
    mapping: {events: {trim: true}}
`
	got := parseError(t, bad)
	for _, want := range []string{
		`cdp.yaml:7:43: feeds[0].mapping.customers.columns.cust_type.codes.个人: maps to "X", which is not one of cust_type's values (P, C)`,
		`cdp.yaml:8:11: feeds[0].mapping.customers.columns.nosuch: credit.customers has no column "nosuch"`,
		`cdp.yaml:9:35: feeds[0].mapping.customers.columns.open_date.layout: "%m/%d" has no year`,
		`cdp.yaml:10:7: feeds[0].mapping.accounts: contract credit has no entity "accounts"`,
		`cdp.yaml:16:5: feeds[1].mapping: is only for kind: files feeds`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}
