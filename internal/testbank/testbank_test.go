package testbank

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"cdp/pipeline"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// Tests asking for the same bank, in parallel, get copies of one build:
// their own folders and warehouses, apart from each other and from the
// template, with the feed files as they were (nothing is new to ingest).
func TestLoad_EachTestGetsItsOwnCopyOfOneBuild(t *testing.T) {
	o := Options{Parties: 200, Days: 2, Seed: 1}
	before := builds.Load()
	var mu sync.Mutex
	dirs := map[string]bool{}
	t.Run("parallel", func(t *testing.T) {
		for range 3 {
			t.Run("load", func(t *testing.T) {
				t.Parallel()
				b := Load(t, o)
				mu.Lock()
				dirs[b.Dir] = true
				mu.Unlock()
				res := b.Run(t, "ingest")
				if rep := res[0].Summary.(*pipeline.IngestReport); rep.Count("unchanged") == 0 || rep.Count("unchanged") != len(rep.Units) {
					t.Errorf("ingesting a copy again: %d of %d files unchanged, want all", rep.Count("unchanged"), len(rep.Units))
				}
			})
		}
	})
	if n := builds.Load() - before; n != 1 {
		t.Fatalf("three loads of one bank built it %d times", n)
	}
	if len(dirs) != 3 {
		t.Fatalf("three loads got %d folders", len(dirs))
	}
	for d := range dirs {
		if strings.HasPrefix(d, root) {
			t.Fatalf("bank folder %s is in the templates' %s", d, root)
		}
	}

	// A change to one copy, its warehouse or its files, shows in no other.
	a, b := Load(t, o), Load(t, o)
	if _, err := a.W.DB().Exec(`DELETE FROM core.party`); err != nil {
		t.Fatal(err)
	}
	a.HoldBack(t, "2026-11-20")
	var parties int64
	if err := b.W.DB().QueryRow(`SELECT count(*) FROM core.party`).Scan(&parties); err != nil || parties == 0 {
		t.Fatalf("another copy's change shows: %d parties (%v)", parties, err)
	}
	if m, _ := filepath.Glob(filepath.Join(b.Dir, "feeds", "*", "*20261120*")); len(m) == 0 {
		t.Fatal("another copy's held-back files are gone")
	}

	// A generated bank is another template: its warehouse is empty.
	g := Generate(t, o)
	if err := g.W.DB().QueryRow(`SELECT count(*) FROM core.party`).Scan(&parties); err != nil || parties != 0 {
		t.Fatalf("generated bank: %d parties (%v), want an empty warehouse", parties, err)
	}
	if n := builds.Load() - before; n != 2 {
		t.Fatalf("%d builds, want 2 (one loaded, one generated)", n)
	}
}
