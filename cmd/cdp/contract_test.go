package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cdp/connectors/contract"
)

// cdp contract lists every entity of every feed, shows a feed's columns
// and names the feeds when asked for one that does not exist.
func TestContract_ListShowAndUnknownFeed(t *testing.T) {
	out, err := run(t, "contract", "list")
	if err != nil {
		t.Fatalf("contract list: %v\n%s", err, out)
	}
	for _, e := range contract.Entities {
		if !strings.Contains(out, e.Table()) || !strings.Contains(out, e.Pattern) {
			t.Errorf("contract list lacks %s (%s):\n%s", e.Table(), e.Pattern, out)
		}
	}
	out, err = run(t, "contract", "show", "credit")
	if err != nil {
		t.Fatalf("contract show: %v\n%s", err, out)
	}
	for _, want := range []string{"credit.loans → raw.credit_loans", "five_class", "decimal(12,6)", "legal_rep_id_no", "id_number", "借据号"} {
		if !strings.Contains(out, want) {
			t.Errorf("contract show credit lacks %q:\n%s", want, out)
		}
	}
	if _, err := run(t, "contract", "show", "nope"); err == nil || !strings.Contains(err.Error(), "credit, wealth, card, ebank") {
		t.Errorf("an unknown feed: %v", err)
	}
}

// docs/contracts.md is what cdp contract docs writes: a contract changed
// without make docs fails here.
func TestContractDocs_AreCurrent(t *testing.T) {
	out := filepath.Join(t.TempDir(), "contracts.md")
	if msg, err := run(t, "contract", "docs", "--out", out); err != nil {
		t.Fatalf("contract docs: %v\n%s", err, msg)
	}
	gen, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(filepath.Join("..", "..", "docs", "contracts.md"))
	if err != nil {
		t.Fatal(err)
	}
	if string(gen) != string(committed) {
		t.Error("docs/contracts.md is not what cdp contract docs writes: run make docs")
	}
	if !strings.Contains(string(gen), "`raw.ebank_events`") || !strings.Contains(string(gen), "duplicate_key") {
		t.Errorf("the contract docs lack the events table or its unique key:\n%s", gen)
	}
}

// In a project with its own contracts folder, cdp contract shows the
// project's feeds beside the built-in ones.
func TestContract_ShowsAProjectsOwnFeeds(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "contracts"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cdp.yaml"), []byte("contracts: [contracts]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "contracts", "branch.yaml"), []byte(`feed: branch
zh: 网点系统
en: Branch system
entities:
  - name: visits
    zh: 到店
    en: Branch visits
    format: csv
    pattern: visits_{D}.csv
    columns:
      - {name: visit_id, type: string, required: true, zh: 到店编号, en: visit id}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "cdp.yaml")
	out, err := run(t, "contract", "list", "--config", cfg)
	if err != nil || !strings.Contains(out, "raw.branch_visits") || !strings.Contains(out, "raw.credit_loans") {
		t.Fatalf("contract list in a project: %v\n%s", err, out)
	}
	out, err = run(t, "contract", "show", "branch", "--config", cfg)
	if err != nil || !strings.Contains(out, "contracts/branch.yaml") || !strings.Contains(out, "visit_id") {
		t.Fatalf("contract show branch: %v\n%s", err, out)
	}
}
