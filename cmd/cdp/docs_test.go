package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The command reference in docs/commands is what the CLI generates: a
// command, flag or help text changed without `make docs` fails here.
func TestCommandDocs_AreCurrent(t *testing.T) {
	dir := t.TempDir()
	if out, err := run(t, "docs", "--out", dir); err != nil {
		t.Fatalf("cdp docs: %v\n%s", err, out)
	}
	committed := filepath.Join("..", "..", commandDocsDir)
	want, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	have, err := filepath.Glob(filepath.Join(committed, "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	names := func(paths []string) []string {
		out := make([]string, len(paths))
		for i, p := range paths {
			out[i] = filepath.Base(p)
		}
		return out
	}
	if len(want) < 20 {
		t.Fatalf("the CLI generated only %d pages", len(want))
	}
	if !slices.Equal(names(want), names(have)) {
		t.Fatalf("docs/commands holds %v, the CLI generates %v: run make docs", names(have), names(want))
	}
	for _, p := range want {
		gen, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		old, err := os.ReadFile(filepath.Join(committed, filepath.Base(p)))
		if err != nil {
			t.Fatal(err)
		}
		if string(gen) != string(old) {
			t.Errorf("%s is not what the CLI generates: run make docs", filepath.Join(commandDocsDir, filepath.Base(p)))
		}
	}
}
