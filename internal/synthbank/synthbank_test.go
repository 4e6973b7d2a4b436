package synthbank

import (
	"context"
	"crypto/md5"
	"encoding/csv"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"cdp/connectors/contract"
)

func md5sum(b []byte) [16]byte { return md5.Sum(b) }

// testOptions is the bank most tests share: big enough for every planted
// behaviour and every kind of bad row, small enough to build in well under a
// second.
func testOptions(out string) Options {
	return Options{Out: out, Parties: 2500, Days: 7, Seed: 7, BadRowRate: 0.002, StreamDays: 2, HistoryMonths: 3}
}

var shared struct {
	once  sync.Once
	dir   string
	sum   *Summary
	err   error
	feeds map[string][]*parsedFile // entity ID -> files, oldest first
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "synthbank-test-")
	if err != nil {
		panic(err)
	}
	shared.dir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// sharedBank generates the shared bank once and parses all of its feeds.
func sharedBank(t *testing.T) (string, *Summary, map[string][]*parsedFile) {
	t.Helper()
	shared.once.Do(func() {
		shared.sum, shared.err = Generate(context.Background(), testOptions(shared.dir))
		if shared.err != nil {
			return
		}
		w := buildWorld(testOptions(shared.dir).withDefaults())
		shared.feeds = map[string][]*parsedFile{}
		for _, e := range contract.Entities {
			for di, d := range w.days {
				if e.ID() == "ebank.events" && di == len(w.days)-1 {
					continue // today's archive is not cut yet
				}
				if e.ID() == "contact.outcomes" {
					continue // the CRM answers cdp's signals; the generator writes no outcomes
				}
				if e.ID() == "core_banking.monthly" && di > 0 {
					continue // the history comes once, with the first day
				}
				shared.feeds[e.ID()] = append(shared.feeds[e.ID()], parseFeedFile(t, filepath.Join(shared.dir, "feeds"), e, d))
			}
		}
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.dir, shared.sum, shared.feeds
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

// digest maps every file under dir to its md5.
func digest(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out[rel] = md5hex(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestGenerate_SameOptionsGiveSameBytes(t *testing.T) {
	o := Options{Parties: 1200, Days: 4, Seed: 42, BadRowRate: 0.003, StreamDays: 2}
	var digests [2]map[string]string
	var streams [2][]StreamEvent
	for i := range digests {
		o.Out = t.TempDir()
		sum, err := Generate(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		digests[i], streams[i] = digest(t, o.Out), sum.StreamEvents
	}
	if len(digests[0]) < 40 {
		t.Fatalf("only %d files written", len(digests[0]))
	}
	for name, sum := range digests[0] {
		if digests[1][name] != sum {
			t.Errorf("%s differs between two runs", name)
		}
	}
	if len(digests[0]) != len(digests[1]) {
		t.Errorf("file sets differ: %d vs %d", len(digests[0]), len(digests[1]))
	}
	if len(streams[0]) != len(streams[1]) || len(streams[0]) == 0 {
		t.Fatalf("stream sizes %d vs %d", len(streams[0]), len(streams[1]))
	}
	for i := range streams[0] {
		if string(streams[0][i].Value) != string(streams[1][i].Value) || string(streams[0][i].Key) != string(streams[1][i].Key) {
			t.Fatalf("stream event %d differs", i)
		}
	}
	// A different seed is a different bank.
	o.Out, o.Seed = t.TempDir(), 43
	if _, err := Generate(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if other := digest(t, o.Out); other["truth/parties.csv"] == digests[0]["truth/parties.csv"] {
		t.Error("seed 43 produced the same parties as seed 42")
	}
}

func TestGenerate_EveryControlFileMatchesItsDataFile(t *testing.T) {
	_, sum, feeds := sharedBank(t)
	files := 0
	rows := map[string]int64{}
	for id, pfs := range feeds {
		for _, pf := range pfs {
			files++
			rows[id] += int64(pf.dataRows)
			if pf.okMD5 != pf.actualMD5 {
				t.Errorf("%s.ok: md5 %s, file has %s", pf.rel, pf.okMD5, pf.actualMD5)
			}
			if pf.okRows != int64(pf.dataRows) {
				t.Errorf("%s.ok: %d rows, file has %d", pf.rel, pf.okRows, pf.dataRows)
			}
		}
	}
	if files != sum.Files {
		t.Errorf("Summary.Files = %d, found %d data files", sum.Files, files)
	}
	for id, n := range rows {
		if sum.Rows[id] != n {
			t.Errorf("Summary.Rows[%s] = %d, files hold %d", id, sum.Rows[id], n)
		}
	}
}

func TestFeeds_HeadersAndRowsFollowTheContract(t *testing.T) {
	_, _, feeds := sharedBank(t)
	for _, e := range contract.Entities {
		var want []string
		for _, c := range e.Columns {
			want = append(want, c.Name)
		}
		for _, pf := range feeds[e.ID()] {
			if e.Format == contract.JSONL {
				// Keys of every valid object are contract columns (plus known drift).
				for _, r := range pf.rows {
					if r.reason != "" {
						continue
					}
					for k := range r.raw {
						if !slices.Contains(want, k) && k != "device_os" {
							t.Errorf("%s:%d: unexpected key %q", pf.rel, r.line, k)
						}
					}
					for _, c := range e.Columns {
						if _, ok := r.raw[c.Name]; !ok && !c.Optional && !c.Required {
							t.Errorf("%s:%d: key %q missing", pf.rel, r.line, c.Name)
						}
					}
				}
				continue
			}
			if !slices.Equal(pf.header, want) {
				t.Errorf("%s: header %v, contract says %v", pf.rel, pf.header, want)
			}
		}
	}
}

func TestFeeds_ExactlyTheListedRowsAreBad(t *testing.T) {
	dir, sum, feeds := sharedBank(t)
	listed := map[string]string{}
	kinds := map[string]map[string]bool{}
	for _, row := range readCSV(t, filepath.Join(dir, "truth", "bad_rows.csv"))[1:] {
		listed[row[0]+":"+row[1]] = row[2]
		feed := strings.Split(row[0], "/")[0]
		if kinds[feed] == nil {
			kinds[feed] = map[string]bool{}
		}
		kinds[feed][row[2]] = true
	}
	if len(listed) != sum.BadRows {
		t.Errorf("bad_rows.csv lists %d rows, Summary.BadRows = %d", len(listed), sum.BadRows)
	}
	found := 0
	for _, pfs := range feeds {
		for _, pf := range pfs {
			for _, r := range pf.rows {
				at := r.file + ":" + strconv.Itoa(r.line)
				want, isListed := listed[at]
				switch {
				case r.reason == "" && isListed:
					t.Errorf("%s is listed as %s but parses", at, want)
				case r.reason != "" && !isListed:
					t.Errorf("%s is rejected as %s but not listed: %v", at, r.reason, r.vals)
				case r.reason != want:
					t.Errorf("%s is rejected as %s, listed as %s", at, r.reason, want)
				default:
					if isListed {
						found++
					}
				}
			}
		}
	}
	if found != len(listed) {
		t.Errorf("found %d of %d listed bad rows", found, len(listed))
	}
	wantKinds := map[string][]string{
		"credit": creditCustomerDamage,
		"card":   cardDamage,
		"ebank":  eventDamage,
	}
	for feed, ks := range wantKinds {
		for _, k := range ks {
			if !kinds[feed][k] {
				t.Errorf("no %s bad row of kind %s", feed, k)
			}
		}
	}
	if kinds["wealth"] != nil {
		t.Error("Parquet must not carry bad rows")
	}
}

func TestFeeds_CSVQuotingAndPipeEscapingAreExercised(t *testing.T) {
	_, _, feeds := sharedBank(t)
	var comma, newline, pipe bool
	for _, pf := range feeds["credit.customers"] {
		for _, r := range pf.rows {
			comma = comma || strings.Contains(r.vals["name"], ",")
			newline = newline || strings.Contains(r.vals["name"], "\n")
		}
	}
	for _, pf := range feeds["card.txns"] {
		for _, r := range pf.rows {
			pipe = pipe || strings.Contains(r.vals["merchant_name"], "|")
		}
	}
	if !comma || !newline || !pipe {
		t.Errorf("comma in a credit name: %v, newline in a credit name: %v, escaped pipe in a merchant: %v", comma, newline, pipe)
	}
}

func TestTruth_CanonicalIdentitiesAreValid(t *testing.T) {
	dir, _, _ := sharedBank(t)
	rows := readCSV(t, filepath.Join(dir, "truth", "parties.csv"))
	enc := simplifiedchinese.GBK.NewEncoder()
	ids := map[string]bool{}
	for _, r := range rows[1:] {
		id, kind, gender, birth := r[4], r[1], r[5], r[6]
		if ids[id] {
			t.Errorf("%s: id %s used twice", r[0], id)
		}
		ids[id] = true
		if _, err := enc.String(r[3]); err != nil {
			t.Errorf("%s: name %q is not GBK-encodable", r[0], r[3])
		}
		switch kind {
		case "person":
			if !ValidResidentID(id) {
				t.Errorf("%s: invalid resident ID %s", r[0], id)
				continue
			}
			if strings.ReplaceAll(birth, "-", "") != id[6:14] {
				t.Errorf("%s: birth %s does not match ID %s", r[0], birth, id)
			}
			if male := (id[16]-'0')%2 == 1; male != (gender == "M") {
				t.Errorf("%s: gender %s does not match ID %s", r[0], gender, id)
			}
			if y, _ := strconv.Atoi(id[6:10]); y < 1950 || y > 2003 {
				t.Errorf("%s: born %d", r[0], y)
			}
		case "company":
			if !ValidUSCC(id) {
				t.Errorf("%s: invalid USCC %s", r[0], id)
			}
		}
	}
}

func TestIdentity_CheckCharacters(t *testing.T) {
	// Published examples.
	if !ValidResidentID("11010519491231002X") {
		t.Error("GB 11643 example 11010519491231002X rejected")
	}
	if !ValidUSCC("91350100M000100Y43") {
		t.Error("USCC example 91350100M000100Y43 rejected")
	}
	if ValidResidentID("110105194912310021") || ValidUSCC("91350100M000100Y44") {
		t.Error("wrong check character accepted")
	}
	if got := legacy15("11010519491231002X"); got != "110105491231002" {
		t.Errorf("legacy15 = %s", got)
	}
	for _, s := range []int{0, 1, 12345678, 89999999} {
		if l := licenceNo("310115", s); !ValidLicence(l) {
			t.Errorf("licence %s invalid", l)
		}
	}
	for d := dayOf(2026, 1, 1); d < dayOf(2026, 12, 31); d += 37 {
		y, m, dd := d.civil()
		if dayOf(y, m, dd) != d || time.Date(y, time.Month(m), dd, 0, 0, 0, 0, time.UTC).Unix()/86400 != int64(d) {
			t.Errorf("calendar round trip failed for %d", d)
		}
	}
}

func TestTruth_TiersAndSystems(t *testing.T) {
	dir, sum, _ := sharedBank(t)
	rows := readCSV(t, filepath.Join(dir, "truth", "parties.csv"))[1:]
	n := len(rows)
	if n != sum.Parties {
		t.Fatalf("%d parties, summary says %d", n, sum.Parties)
	}
	count := map[string]int{}
	persons := 0
	for _, r := range rows {
		count[r[2]]++
		if r[1] == "person" {
			persons++
			aum, _ := strconv.ParseFloat(r[9], 64)
			if band := tierOfAUM(aum); band != r[2] {
				t.Errorf("%s: aum %.2f is %s, tier says %s", r[0], aum, band, r[2])
			}
		} else {
			rev, _ := strconv.ParseFloat(r[8], 64)
			if band := tierOfRevenue(rev); band != r[2] {
				t.Errorf("%s: revenue %.2f is %s, tier says %s", r[0], rev, band, r[2])
			}
		}
	}
	tol := float64(n)/1000 + 1
	for tier, share := range map[string]float64{"core": 0.15, "growth": 0.35, "base": 0.50} {
		if math.Abs(float64(count[tier])-share*float64(n)) > tol {
			t.Errorf("%s: %d of %d parties, want %.0f", tier, count[tier], n, share*float64(n))
		}
	}
	if math.Abs(float64(persons)-0.7*float64(n)) > tol {
		t.Errorf("%d persons of %d", persons, n)
	}
	systems := map[string]map[string]bool{}
	keys := map[string]bool{}
	xref := readCSV(t, filepath.Join(dir, "truth", "xref.csv"))[1:]
	for _, r := range xref {
		if keys[r[0]+"/"+r[1]] {
			t.Errorf("key %s/%s belongs to two parties", r[0], r[1])
		}
		keys[r[0]+"/"+r[1]] = true
		if systems[r[2]] == nil {
			systems[r[2]] = map[string]bool{}
		}
		systems[r[2]][r[0]] = true
	}
	if len(xref) != sum.SourceKeys {
		t.Errorf("xref has %d keys, summary says %d", len(xref), sum.SourceKeys)
	}
	hist := map[int]int{}
	for _, r := range rows {
		k := len(systems[r[0]])
		hist[k]++
		if k < 1 || k > int(numSystems) {
			t.Errorf("%s is in %d systems", r[0], k)
		}
	}
	if hist[1] == 0 || hist[2] == 0 || hist[3] == 0 || hist[4] == 0 || hist[5] == 0 {
		t.Errorf("system counts %v: expected parties in 1, 2, 3, 4 and 5 systems", hist)
	}
	t.Logf("tiers %v, parties by number of systems %v, keys %d", count, hist, len(xref))
}

func tierOfAUM(aum float64) string {
	switch {
	case aum >= CoreAUMMinCNY:
		return "core"
	case aum >= GrowthAUMMinCNY:
		return "growth"
	}
	return "base"
}

func tierOfRevenue(rev float64) string {
	switch {
	case rev >= CoreRevenueMinCNY:
		return "core"
	case rev >= GrowthRevenueMinCNY:
		return "growth"
	}
	return "base"
}

func TestTruth_LinksAndBehavioursArePresent(t *testing.T) {
	dir, _, _ := sharedBank(t)
	kinds := map[string]int{}
	for _, r := range readCSV(t, filepath.Join(dir, "truth", "links.csv"))[1:] {
		kinds[r[2]]++
	}
	for _, k := range []string{"legal_rep", "supplementary_card", "shared_mobile"} {
		if kinds[k] == 0 {
			t.Errorf("no %s link", k)
		}
	}
	behs := map[string]int{}
	for _, r := range readCSV(t, filepath.Join(dir, "truth", "behaviours.csv"))[1:] {
		behs[r[1]]++
	}
	for _, b := range behaviourNames[1:] {
		if behs[b] == 0 {
			t.Errorf("behaviour %s not planted", b)
		}
	}
	t.Logf("links %v", kinds)
	t.Logf("behaviour rows %v", behs)
}

func TestGenerate_SmallBanksAndOptions(t *testing.T) {
	for _, o := range []Options{
		{Parties: 1, Days: 1},
		{Parties: 7, Days: 2, StreamDays: 5, BadRowRate: 0.1},
		{Parties: 300, Days: 3, StreamDays: 1, End: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), HistoryMonths: 2},
	} {
		t.Run(fmt.Sprintf("%d_parties_%d_days", o.Parties, o.Days), func(t *testing.T) {
			o.Out = t.TempDir()
			sum, err := Generate(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			// 21 files a day (the e-banking users file not on the first),
			// plus the monthly history on the first day
			if sum.Parties != o.Parties || sum.Files != 21*o.Days-1+b2i(o.HistoryMonths > 0) {
				t.Errorf("parties %d, files %d", sum.Parties, sum.Files)
			}
			if (o.StreamDays > 0) != (len(sum.StreamEvents) > 0) && o.Parties > 100 {
				t.Errorf("%d stream events with StreamDays %d", len(sum.StreamEvents), o.StreamDays)
			}
		})
	}
	if _, err := Generate(context.Background(), Options{}); err == nil {
		t.Error("Generate without Out succeeded")
	}
}

func BenchmarkGenerate100k(b *testing.B) {
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		start := time.Now()
		sum, err := Generate(context.Background(), Options{Out: dir, Parties: 100000, Days: 7, BadRowRate: DefaultBadRowRate, StreamDays: 2})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(sum.Bytes)/1e6, "MB")
		b.ReportMetric(float64(sum.Files), "files")
		b.Logf("100k parties x 7 days: %v, %d files, %.0f MB, %d source keys, %d bad rows, %d stream events",
			time.Since(start).Round(time.Millisecond), sum.Files, float64(sum.Bytes)/1e6, sum.SourceKeys, sum.BadRows, len(sum.StreamEvents))
	}
}
