package pipeline

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"cdp/connectors/contract"
	"cdp/internal/sqltest"
	"cdp/internal/synthbank"
	"cdp/warehouse"
)

// TestIngest_GeneratedBankRoundTripsExactly loads a generated bank (every
// format, the stream included) and checks every row is accounted for: per
// entity, rows loaded + rows rejected = rows generated, and the rejects are
// exactly the rows the generator damaged, with the reason it planted.
func TestIngest_GeneratedBankRoundTripsExactly(t *testing.T) {
	c := startBroker(t, 4)
	p := newStreamProject(t, c)
	sum, err := synthbank.Generate(context.Background(), synthbank.Options{
		Out: p.dir, Parties: 3000, Days: 3, Seed: 7, BadRowRate: 0.002, StreamDays: 2, HistoryMonths: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, e := range sum.StreamEvents {
		msgs = append(msgs, string(e.Value))
	}
	produce(t, c, msgs...)

	rep, err := p.ingest()
	if err != nil {
		t.Fatal(err)
	}
	if rep.Count("failed") != 0 || rep.Count("pending") != 0 {
		t.Fatalf("failed %d pending %d", rep.Count("failed"), rep.Count("pending"))
	}

	// Per entity: generated rows (plus stream messages for events) =
	// loaded + rejected.
	p.query(func(w *warehouse.Warehouse) {
		for _, e := range contract.Entities {
			want := sum.Rows[e.ID()]
			if e.ID() == "ebank.events" {
				want += int64(len(sum.StreamEvents))
			}
			if want == 0 && e.ID() != "contact.outcomes" { // the CRM writes outcomes
				t.Errorf("%s: the generator wrote no rows", e.ID())
			}
			var loaded, rejected int64
			sqltest.Row(t, w.DB(), "SELECT count(*) FROM "+e.Table()).Scan(&loaded)
			sqltest.Row(t, w.DB(), "SELECT count(*) FROM ops.rejects WHERE entity = ?", e.ID()).Scan(&rejected)
			if loaded+rejected != want {
				t.Errorf("%s: %d loaded + %d rejected != %d generated", e.ID(), loaded, rejected, want)
			}
		}
		// An event is loaded once however often it arrived.
		var n, distinct int64
		sqltest.Row(t, w.DB(), "SELECT count(*), count(DISTINCT event_id) FROM raw.ebank_events").Scan(&n, &distinct)
		if n != distinct {
			t.Errorf("raw.ebank_events: %d rows but %d distinct event ids", n, distinct)
		}
	})

	// File rejects are exactly the damaged rows of the ground truth.
	want := readBadRows(t, filepath.Join(p.dir, "truth", "bad_rows.csv"))
	var got []string
	p.query(func(w *warehouse.Warehouse) {
		for scan := range sqltest.Rows(t, w.DB(), `SELECT source, line, reason FROM ops.rejects WHERE line IS NOT NULL AND reason <> 'duplicate_key'`) {
			var source, reason string
			var line int64
			scan(&source, &line, &reason)
			got = append(got, fmt.Sprintf("%s:%d %s", source, line, reason))
		}
	})
	sort.Strings(got)
	if len(want) < 10 {
		t.Fatalf("only %d damaged rows planted; the test needs more", len(want))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rejects differ from the planted damage\n got: %v\nwant: %v", got, want)
	}
}

func readBadRows(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs[1:] {
		out = append(out, fmt.Sprintf("%s:%s %s", r[0], r[1], r[2]))
	}
	sort.Strings(out)
	return out
}
