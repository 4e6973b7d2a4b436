package pipeline

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cdp/decl"
)

// Each stage's section of cdp.yaml is decoded into the stage's own options
// and checked by it; problems name the file, line, column and field as the
// rest of the project file's do.
func TestLoadProject_StageSectionsReportProblemsAtTheirField(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"identity threshold out of range",
			"identity:\n  threshold: 90\n",
			`cdp.yaml:2:3: identity.threshold: a match probability between 0 and 1 (exclusive), not 90`},
		{"identity blocking on an unknown field",
			"identity:\n  blocking:\n    - [name]\n    - [surname, mobile]\n",
			`cdp.yaml:4:8: identity.blocking[1][0]: unknown field "surname"; the fields are name, id_no, birth_date, mobile`},
		{"identity trust with an unknown system",
			"identity:\n  trust:\n    mobile: [ebank, crm]\n",
			`cdp.yaml:3:5: identity.trust.mobile: unknown system "crm"; the systems (contracts with identity:) are credit, wealth, core_banking, card, ebank`},
		{"tier weights that do not add up",
			"tiers:\n  weights: {historical: 0.6, potential: 0.6, strategic: 0}\n",
			`cdp.yaml:2:3: tiers.weights: historical, potential and strategic must be ≥ 0 and add up to 1, not 0.6 + 0.6 + 0`},
		{"negative suppression window",
			"signals:\n  suppress_days: -3\n",
			`cdp.yaml:2:3: signals.suppress_days: must be 0 or more, not -3`},
		{"renaming a topic cdp does not publish",
			"publish:\n  topics:\n    cdp.signals.upsell: bank.upsell\n",
			`cdp.yaml:3:5: publish.topics.cdp.signals.upsell: not a topic cdp publishes (want one of cdp.signals.churn, cdp.signals.crosssell, cdp.signals.risk, cdp.signals.service, cdp.tags.changes, cdp.tiers.changes, cdp.profile)`},
		{"negative publish batch",
			"publish:\n  batch: -1\n",
			`cdp.yaml:2:3: publish.batch: must be 1 or more, not -1`},
		{"an unknown key of a stage section",
			"tags:\n  catalog: [mine]\n",
			`cdp.yaml:2:3: tags.catalog: unknown key "catalog" (did you mean "catalogs"?)`},
		{"a section cdp does not know",
			"signal:\n  suppress_days: 3\n",
			`cdp.yaml:1:1: signal: unknown key "signal" (did you mean "signals"?)`},
		{"signals.rules written as one folder, as before it added to the built-ins",
			"signals:\n  rules: my-rules\n",
			`cdp.yaml:2:3: signals.rules: ` + "signals.rules is now a list of folders whose rules add to the built-in ones (a single folder used to replace them): write rules: [your-folder], and to keep only your own rules as before add builtin: false under signals:"},
		{"deposits from a system that cannot hold them",
			"system_of_record:\n  deposits: card\n",
			`cdp.yaml:2:3: system_of_record.deposits: "card" is not one of its systems (core_banking, wealth)`},
		{"a product without a system of record",
			"system_of_record:\n  loans: credit\n",
			`cdp.yaml:2:3: system_of_record.loans: no product of that name has a system of record (deposits)`},
		{"a relay interval that is not a duration",
			"publish:\n  interval: soon\n",
			`cdp.yaml:2:3: publish.interval: "soon": want a duration like 1s or 30s`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseProject("cdp.yaml", []byte(tt.src))
			if err == nil {
				t.Fatalf("parsed without error")
			}
			if err.Error() != tt.want {
				t.Errorf("error =\n  %s\nwant\n  %s", err, tt.want)
			}
		})
	}
	// Deposits come from core banking when the project has a feed of it,
	// else from wealth (an older project's deposits stay where they were);
	// what the file says wins.
	for src, want := range map[string]string{
		"feeds:\n  - {name: wealth, path: w}\n":                                                    "wealth",
		"feeds:\n  - {name: wealth, path: w}\n  - {name: core, contract: core_banking, path: c}\n": "core_banking",
		"feeds:\n  - {name: core_banking, path: c}\nsystem_of_record: {deposits: wealth}\n":        "wealth",
	} {
		if got := mustParse(t, src).SystemsOfRecord()["deposits"]; got != want {
			t.Errorf("%q: deposits from %s, want %s", src, got, want)
		}
	}
	// An empty rules: of an old starter file means the built-in rules, as
	// it always did.
	p := mustParse(t, "signals:\n  rules: \"\"\n")
	if len(p.Signals.Rules) != 0 || !p.Signals.UsesBuiltin() {
		t.Errorf("rules: \"\" = %+v", p.Signals)
	}
}

// writeDecl writes a declaration file into dir/name.
func writeDecl(t *testing.T, dir, name, body string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const userTag = `category: assets
owner: test
tags:
  - id: %s
    name_zh: 测试
    name_en: Test
    type: int
    description: A test tag.%s
    sql: SELECT party_id, 1 AS value FROM core.party
`

// A project's tag folders add to the built-in catalog; a tag with a
// built-in's id replaces it only when it says so, else the problem names
// both files; built-ins can be switched off one by one or all at once.
func TestEnv_UserCatalogsAddToTheBuiltInOne(t *testing.T) {
	dir := t.TempDir()
	builtin, err := (&Env{Project: mustParse(t, "")}).Catalog()
	if err != nil {
		t.Fatal(err)
	}
	n := len(builtin.Tags)
	writeDecl(t, filepath.Join(dir, "mine"), "extra.yaml", userTagWith("my_flag", ""))
	load := func(yaml string) (*Env, error) {
		p, err := ParseProject(filepath.Join(dir, "cdp.yaml"), []byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		env := &Env{Project: p}
		_, err = env.Catalog()
		return env, err
	}
	env, err := load("tags:\n  catalogs: [mine]\n")
	if err != nil {
		t.Fatal(err)
	}
	cat, _ := env.Catalog()
	if len(cat.Tags) != n+1 || cat.Tags[n].ID != "my_flag" || cat.Tags[n].File != filepath.Join(dir, "mine", "extra.yaml") {
		t.Fatalf("catalog has %d tags (want %d), last %+v", len(cat.Tags), n+1, cat.Tags[len(cat.Tags)-1])
	}
	// The same id as a built-in, without replaces: both files named.
	clash := writeDecl(t, filepath.Join(dir, "clash"), "assets.yaml", userTagWith("aum_tier", ""))
	_, err = load("tags:\n  catalogs: [clash]\n")
	var probs decl.Problems
	if !errors.As(err, &probs) || len(probs) != 1 || !strings.Contains(err.Error(), clash+":4: aum_tier: a built-in tag has this id (built-in assets.yaml:") ||
		!strings.Contains(err.Error(), "replaces: true") || !strings.Contains(err.Error(), "builtin: false") {
		t.Fatalf("a clash with a built-in tag: %v", err)
	}
	// replaces: true takes the built-in's place.
	writeDecl(t, filepath.Join(dir, "replace"), "assets.yaml", userTagWith("aum_tier", "\n    replaces: true"))
	env, err = load("tags:\n  catalogs: [replace]\n")
	if err != nil {
		t.Fatal(err)
	}
	cat, _ = env.Catalog()
	for i, tag := range cat.Tags {
		if tag.ID == "aum_tier" && (tag.Type != "int" || tag.ID != builtin.Tags[i].ID) {
			t.Errorf("aum_tier at %d is %+v, want the project's, in the built-in's place", i, tag)
		}
	}
	if len(cat.Tags) != n {
		t.Errorf("%d tags after a replacement, want %d", len(cat.Tags), n)
	}
	// Switching built-ins off.
	env, err = load("tags:\n  disable: [aum_tier, gender]\n")
	if cat, _ = env.Catalog(); err != nil || len(cat.Tags) != n-2 {
		t.Errorf("disable two: %v, %d tags", err, len(cat.Tags))
	}
	if _, err = load("tags:\n  disable: [no_such_tag]\n"); err == nil || !strings.Contains(err.Error(), "tags.disable: no built-in tag has this id") {
		t.Errorf("disabling an unknown tag: %v", err)
	}
	env, err = load("tags:\n  builtin: false\n  catalogs: [mine, clash]\n")
	if cat, _ = env.Catalog(); err != nil || len(cat.Tags) != 2 {
		t.Errorf("builtin: false: %v, %d tags, want only the project's 2", err, len(cat.Tags))
	}
	// --catalog adds to what cdp.yaml names; a folder that is not there is named.
	p, err := ParseProject(filepath.Join(dir, "cdp.yaml"), []byte("tags:\n  catalogs: [mine]\n"))
	if err != nil {
		t.Fatal(err)
	}
	env = &Env{Project: p, Catalogs: []string{filepath.Join(dir, "nowhere")}}
	if _, err := env.Catalog(); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "nowhere")+": not a folder of tag files") {
		t.Errorf("a missing catalog folder: %v", err)
	}
}

func userTagWith(id, extra string) string {
	return strings.Replace(strings.Replace(userTag, "%s", id, 1), "%s", extra, 1)
}

const userRule = `kind: churn
owner: test
rules:
  - id: %s
    name_zh: 测试
    name_en: Test
    description: A test rule.
    priority: low
    valid_days: 7
    action: Call.%s
    reason: "score {{.score}}"
    sql: SELECT party_id, 50 AS score FROM core.party
`

// Rule folders add to the built-in rules the same way; a project that
// still names one folder, which used to replace the built-ins, is told the
// line to add.
func TestEnv_RuleFoldersAddToTheBuiltInRules(t *testing.T) {
	dir := t.TempDir()
	builtin, err := (&Env{Project: mustParse(t, "")}).Rules()
	if err != nil {
		t.Fatal(err)
	}
	n := len(builtin.Rules)
	rule := func(id, extra string) string {
		return strings.Replace(strings.Replace(userRule, "%s", id, 1), "%s", extra, 1)
	}
	writeDecl(t, filepath.Join(dir, "mine"), "churn.yaml", rule("churn_mine", ""))
	clash := writeDecl(t, filepath.Join(dir, "copied"), "churn.yaml", rule("churn_aum_outflow", ""))
	load := func(yaml string) ([]string, error) {
		p, err := ParseProject(filepath.Join(dir, "cdp.yaml"), []byte(yaml))
		if err != nil {
			return nil, err
		}
		rs, err := (&Env{Project: p}).Rules()
		var ids []string
		if rs != nil {
			for _, r := range rs.Rules {
				ids = append(ids, r.ID)
			}
		}
		return ids, err
	}
	ids, err := load("signals:\n  rules: [mine]\n")
	if err != nil || len(ids) != n+1 || ids[n] != "churn_mine" {
		t.Fatalf("rules: [mine]: %v %v", ids, err)
	}
	if _, err := load("signals:\n  rules: [copied]\n"); err == nil || !strings.Contains(err.Error(), clash+":4: churn_aum_outflow: a built-in rule has this id") ||
		!strings.Contains(err.Error(), "`builtin: false` under signals:") {
		t.Errorf("a copied built-in rule: %v", err)
	}
	ids, err = load("signals:\n  builtin: false\n  rules: [copied]\n")
	if err != nil || strings.Join(ids, ",") != "churn_aum_outflow" {
		t.Errorf("builtin: false with a copied rule: %v %v", ids, err)
	}
	ids, err = load("signals:\n  disable: [churn_aum_outflow]\n  rules: [mine]\n  params: {churn_mine: {}}\n")
	if err != nil || len(ids) != n {
		t.Errorf("disable one, add one: %v %v", ids, err)
	}
	if _, err := load("signals:\n  rules: mine\n"); err == nil || !strings.Contains(err.Error(), "cdp.yaml:2:3: signals.rules: signals.rules is now a list") {
		t.Errorf("the old single-folder form: %v", err)
	}
}
