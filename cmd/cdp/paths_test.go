package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cdp/internal/testbank"
	"cdp/schedules"
	"cdp/serve"
)

// Every way of running a stage goes through the pipeline's registry with an
// Env built from the project: publish.allow_pii reaches the 360 view (its
// profile events carry the ID number) and a catalog folder named in cdp.yaml
// is computed, whether the stages run by their own commands, by cdp run, in
// the daemon or by backfill.
func TestStages_EveryPathPassesTheProjectsOptions(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 300, Days: 2, Seed: 26})
	if err := os.MkdirAll(filepath.Join(b.Dir, "mytags"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.Dir, "mytags", "flags.yaml"), []byte(`category: relationships
owner: test
tags:
  - id: my_flag
    name_zh: 测试标签
    name_en: Test flag
    type: int
    description: One for every party, from the project's own catalog.
    sql: SELECT party_id, 1 AS value FROM core.party
`), 0o644); err != nil {
		t.Fatal(err)
	}
	p := testbank.WithConfig(t, b.Dir, `
publish: {allow_pii: true}
tags: {catalogs: [mytags]}
schedules:
  jobs:
    - {name: describe, stages: [tags, tiers, view]}
`)
	b.W.Close() // the commands open the warehouse themselves
	cfg := filepath.Join(b.Dir, "cdp.yaml")
	ctx := context.Background()

	// reset forgets what the last path did: the profile events and state,
	// and the project's tag.
	exec := func(stmts ...string) {
		t.Helper()
		w, err := openWarehouse(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		for _, q := range stmts {
			if _, err := w.DB().Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	reset := func() {
		exec(`DELETE FROM ops.outbox`, `DELETE FROM ops.profile_state`, `DELETE FROM mart.tags WHERE tag_id = 'my_flag'`,
			`DELETE FROM mart.tag_history WHERE tag_id = 'my_flag'`, `DELETE FROM ops.tag_inputs WHERE tag_id = 'my_flag'`)
	}
	check := func(path string) {
		t.Helper()
		w, err := openWarehouse(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		var profiles, withID, flags, parties int
		if err := w.DB().QueryRow(`SELECT count(*), count(*) FILTER (json_extract_string(data, '$.id_no') IS NOT NULL)
			FROM ops.outbox WHERE type = 'cdp.profile.updated'`).Scan(&profiles, &withID); err != nil {
			t.Fatal(err)
		}
		if err := w.DB().QueryRow(`SELECT (SELECT count(*) FROM mart.tags WHERE tag_id = 'my_flag' AND value = '1'),
			(SELECT count(*) FROM core.party)`).Scan(&flags, &parties); err != nil {
			t.Fatal(err)
		}
		if profiles == 0 || withID == 0 {
			t.Errorf("%s: %d profile events, %d with the ID number: publish.allow_pii did not reach the view", path, profiles, withID)
		}
		if flags != parties {
			t.Errorf("%s: my_flag for %d of %d parties: the project's catalog was not used", path, flags, parties)
		}
	}

	for _, args := range [][]string{{"tags", "run"}, {"tiers"}, {"view"}} {
		if out, err := run(t, append(args, "--config", cfg)...); err != nil {
			t.Fatalf("cdp %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	check("the stages' own commands")

	reset()
	if out, err := run(t, "run", "describe", "--config", cfg); err != nil || !strings.Contains(out, "success") {
		t.Fatalf("cdp run: %v\n%s", err, out)
	}
	check("cdp run")

	reset()
	w, err := openWarehouse(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	d := serve.NewDaemon(p, w, serve.DaemonOptions{Logger: testbank.Quiet})
	res := d.Sched.Fire(ctx, schedules.Fire{Job: "describe", Trigger: schedules.TriggerManual})
	w.Close()
	if res.Status != schedules.StatusSuccess {
		t.Fatalf("the daemon's fire: %v", res.Err)
	}
	check("the daemon")

	reset()
	if out, err := run(t, "backfill", "describe", "--config", cfg, "--from", "2026-11-20", "--to", "2026-11-20", "--policy", "rerun"); err != nil {
		t.Fatalf("cdp backfill: %v\n%s", err, out)
	}
	check("cdp backfill")
}
