package normal_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"cdp/internal/synthbank"
	"cdp/transforms/identity/normal"
)

// The generator (cdp/internal/synthbank) writes real check characters and
// exports its validators; these tests hold the normalisers to them.

const (
	digits       = "0123456789"
	usccCharset  = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	orgCharset   = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	checkCharset = "0123456789X"
)

func randFrom(r *rand.Rand, set string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = set[r.IntN(len(set))]
	}
	return string(b)
}

// randDate8 is YYYYMMDD, mostly plausible, sometimes not a date at all.
func randDate8(r *rand.Rand) string {
	if r.IntN(10) == 0 {
		return randFrom(r, digits, 8)
	}
	y := 1890 + r.IntN(230)
	m := 1 + r.IntN(13)
	d := 1 + r.IntN(31)
	return itoa(y, 4) + itoa(m, 2) + itoa(d, 2)
}

func itoa(n, width int) string {
	b := make([]byte, width)
	for i := width - 1; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b)
}

func TestResidentIDAgreesWithGenerator(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	valid := 0
	for i := 0; i < 5000; i++ {
		region := randFrom(r, digits, 6)
		if i%50 == 0 {
			region = "000000"
		}
		first := region + randDate8(r) + randFrom(r, digits, 3)
		if got, want := normal.ResidentCheck(first), synthbank.ResidentCheck(first); got != want {
			t.Fatalf("ResidentCheck(%s) = %c, generator %c", first, got, want)
		}
		check := synthbank.ResidentCheck(first)
		if r.IntN(3) == 0 {
			check = checkCharset[r.IntN(len(checkCharset))]
		}
		id := first + string(check)
		// The generator's validator has no upper year bound and no region
		// rule; ours adds year ≤ 2100 and region ≠ 000000.
		want := synthbank.ValidResidentID(id) && id[6:10] <= "2100" && region != "000000"
		p := normal.ResidentID(id)
		if p.Valid != want {
			t.Fatalf("ResidentID(%s).Valid = %v (%s), generator says %v", id, p.Valid, p.Problem, want)
		}
		if p.Valid {
			valid++
		}
		// Lower-case x and blanks do not change the verdict.
		noisy := strings.ToLower(id[:6] + " " + id[6:14] + " " + id[14:])
		if q := normal.ResidentID(noisy); q.Valid != p.Valid || q.Valid && q.ID != id {
			t.Fatalf("ResidentID(%q) = %+v, canonical gave %+v", noisy, q, p)
		}
		// A valid 18-digit ID born in the 1900s, downgraded to 15 digits,
		// upgrades back to itself.
		if p.Valid && id[6:8] == "19" {
			legacy := id[:6] + id[8:17]
			u := normal.ResidentID(legacy)
			if !u.Valid || !u.Upgraded || u.ID != id || !synthbank.ValidResidentID(u.ID) {
				t.Fatalf("ResidentID(%s) = %+v, want upgraded to %s", legacy, u, id)
			}
		}
	}
	if valid < 1000 {
		t.Errorf("only %d valid IDs among the samples; the test is not exercising the valid path", valid)
	}
}

func TestCreditCodeAgreesWithGenerator(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	counts := map[string]int{}
	for i := 0; i < 4000; i++ {
		// Organisation code: body of digits and letters, right or random check.
		body := randFrom(r, orgCharset, 8)
		if r.IntN(2) == 0 {
			body = randFrom(r, digits, 8)
		}
		if got, want := normal.OrgCodeCheck(body), synthbank.OrgCodeCheck(body); got != want {
			t.Fatalf("OrgCodeCheck(%s) = %c, generator %c", body, got, want)
		}
		org := body + string(synthbank.OrgCodeCheck(body))
		if r.IntN(3) == 0 {
			org = body + string(checkCharset[r.IntN(len(checkCharset))])
		}
		c := normal.CreditCode(org)
		if c.Valid != synthbank.ValidOrgCode(org) {
			t.Fatalf("CreditCode(%s).Valid = %v (%s), generator says %v", org, c.Valid, c.Problem, !c.Valid)
		}
		if d := normal.CreditCode(strings.ToLower(org[:8]) + "-" + org[8:]); d.Valid != c.Valid || d.Code != org {
			t.Fatalf("dashed lower-case %s gave %+v", org, d)
		}
		counts["org"+boolWord(c.Valid)]++

		// USCC: a random prefix around either a random or a valid
		// organisation code, right or random check character.
		prefix := randFrom(r, usccCharset, 8)
		inner := randFrom(r, usccCharset, 9)
		if r.IntN(2) == 0 {
			b := randFrom(r, digits, 8)
			inner = b + string(synthbank.OrgCodeCheck(b))
		}
		first := prefix + inner[:9]
		if got, want := normal.USCCCheck(first), synthbank.USCCCheck(first); got != want {
			t.Fatalf("USCCCheck(%s) = %c, generator %c", first, got, want)
		}
		uscc := first + string(synthbank.USCCCheck(first))
		if r.IntN(3) == 0 {
			uscc = first + string(usccCharset[r.IntN(len(usccCharset))])
		}
		u := normal.CreditCode(uscc)
		if u.Valid != synthbank.ValidUSCC(uscc) {
			t.Fatalf("CreditCode(%s).Valid = %v (%s), generator says %v", uscc, u.Valid, u.Problem, !u.Valid)
		}
		if u.Valid && u.OrgCode != uscc[8:17] {
			t.Fatalf("CreditCode(%s).OrgCode = %s", uscc, u.OrgCode)
		}
		if l := normal.CreditCode(" " + strings.ToLower(uscc[:8]) + " " + uscc[8:]); l.Valid != u.Valid || l.Code != uscc {
			t.Fatalf("spaced lower-case %s gave %+v", uscc, l)
		}
		counts["uscc"+boolWord(u.Valid)]++

		// Licence number.
		lic := randFrom(r, digits, 15)
		if r.IntN(2) == 0 {
			for c := byte('0'); c <= '9'; c++ {
				if synthbank.ValidLicence(lic[:14] + string(c)) {
					lic = lic[:14] + string(c)
					break
				}
			}
		}
		lv := normal.CreditCode(lic)
		if lv.Valid != synthbank.ValidLicence(lic) {
			t.Fatalf("CreditCode(%s).Valid = %v (%s), generator says %v", lic, lv.Valid, lv.Problem, !lv.Valid)
		}
		counts["licence"+boolWord(lv.Valid)]++
	}
	for _, k := range []string{"org valid", "org invalid", "uscc valid", "uscc invalid", "licence valid", "licence invalid"} {
		if counts[k] < 200 {
			t.Errorf("only %d samples of %s", counts[k], k)
		}
	}
}

func boolWord(v bool) string {
	if v {
		return " valid"
	}
	return " invalid"
}

// truthParty is a row of the generator's truth/parties.csv.
type truthParty struct {
	kind, name, idNo, gender, birth, mobile string
}

// feedRecord is one customer record as a source system keyed it.
type feedRecord struct {
	system, key                    string
	ptype, name, idType, idNo, mob string
	birth                          string
}

// TestUndoesGeneratorNoise generates a small bank and checks, record by
// record, that normalising what each source system keyed gives back the
// party's true identity values (or flags the value as invalid), using the
// generator's ground truth.
func TestUndoesGeneratorNoise(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a bank")
	}
	dir := t.TempDir()
	if _, err := synthbank.Generate(context.Background(), synthbank.Options{Out: dir, Parties: 4000, Days: 1}); err != nil {
		t.Fatal(err)
	}
	parties := readTruthParties(t, filepath.Join(dir, "truth", "parties.csv"))
	xref := readXref(t, filepath.Join(dir, "truth", "xref.csv"))
	recs := readFeeds(t, filepath.Join(dir, "feeds"))
	if len(recs) < 3000 {
		t.Fatalf("read only %d customer records", len(recs))
	}

	stats := map[string]int{}
	for _, rec := range recs {
		pid, ok := xref[rec.system+"/"+rec.key]
		if !ok {
			t.Fatalf("%s %s not in xref", rec.system, rec.key)
		}
		p := parties[pid]
		if rec.ptype == "C" {
			checkCompany(t, rec, p, stats)
		} else {
			checkPerson(t, rec, p, stats)
		}
		m := normal.Mobile(rec.mob)
		switch m.Kind {
		case normal.MobileCN:
			if want := normal.Mobile(p.mobile).Number; m.Number != want {
				t.Errorf("%s %s: Mobile(%q) = %s, truth %s", rec.system, rec.key, rec.mob, m.Number, want)
			}
			if m.Number != rec.mob {
				stats["mobile repaired"]++
			}
		case normal.MobileLandline:
			stats["mobile landline"]++
		case normal.MobileNone:
			stats["mobile empty"]++
		default:
			t.Errorf("%s %s: Mobile(%q) = %+v: the generator keys no junk", rec.system, rec.key, rec.mob, m)
		}
	}
	t.Logf("%d records: %v", len(recs), stats)
	for _, k := range []string{"person id repaired", "person id upgraded", "person id bad_check", "person name repaired",
		"person name by pinyin", "company code repaired", "company org code", "company licence", "company name repaired",
		"company english name", "mobile repaired"} {
		if stats[k] == 0 {
			t.Errorf("no record exercised %q", k)
		}
	}
}

func checkPerson(t *testing.T, rec feedRecord, p truthParty, stats map[string]int) {
	t.Helper()
	where := rec.system + " " + rec.key
	if rec.idType != "PASSPORT" {
		id := normal.ResidentID(rec.idNo)
		switch {
		case id.Valid:
			if id.ID != p.idNo {
				t.Errorf("%s: ResidentID(%q) = %s, truth %s", where, rec.idNo, id.ID, p.idNo)
			}
			if id.Birth != p.birth || id.Male != map[string]int8{"M": 1, "F": 2}[p.gender] {
				t.Errorf("%s: ResidentID(%q) birth %s sex %d, truth %s %s", where, rec.idNo, id.Birth, id.Male, p.birth, p.gender)
			}
			if pr := normal.CheckBirth(id, rec.birth); pr != "" {
				t.Errorf("%s: CheckBirth(%s, %q) = %s", where, id.ID, rec.birth, pr)
			}
			if id.Upgraded {
				stats["person id upgraded"]++
			} else if id.ID != rec.idNo {
				stats["person id repaired"]++
			}
		case id.Problem == normal.ProblemBadCheck || id.Problem == normal.ProblemEmpty:
			stats["person id "+id.Problem]++
		default:
			t.Errorf("%s: ResidentID(%q) = %+v: the generator only mistypes digits", where, rec.idNo, id)
		}
	}
	got, want := normal.PersonName(rec.name), normal.PersonName(p.name)
	switch {
	case got == want:
		if got != rec.name {
			stats["person name repaired"]++
		}
	case normal.Pinyin(got) == normal.Pinyin(want):
		stats["person name by pinyin"]++
	default:
		t.Errorf("%s: PersonName(%q) = %q, truth %q (pinyin %q vs %q)", where, rec.name, got, want,
			normal.Pinyin(got), normal.Pinyin(want))
	}
}

func checkCompany(t *testing.T, rec feedRecord, p truthParty, stats map[string]int) {
	t.Helper()
	where := rec.system + " " + rec.key
	c := normal.CreditCode(rec.idNo)
	switch {
	case c.Kind == normal.CodeNone:
		stats["company code empty"]++
	case !c.Valid:
		t.Errorf("%s: CreditCode(%q) = %+v: the generator writes real check characters", where, rec.idNo, c)
	case c.Kind == normal.CodeUSCC:
		if c.Code != p.idNo {
			t.Errorf("%s: CreditCode(%q) = %s, truth %s", where, rec.idNo, c.Code, p.idNo)
		}
		if c.Code != rec.idNo {
			stats["company code repaired"]++
		}
	case c.Kind == normal.CodeOrg:
		if c.OrgCode != p.idNo[8:17] {
			t.Errorf("%s: CreditCode(%q).OrgCode = %s, truth %s", where, rec.idNo, c.OrgCode, p.idNo)
		}
		stats["company org code"]++
	case c.Kind == normal.CodeLicence:
		stats["company licence"]++
	}
	got, want := normal.CompanyName(rec.name), normal.CompanyName(p.name)
	switch {
	case got == want:
		if got != rec.name {
			stats["company name repaired"]++
		}
	case isLowerASCII(got):
		// The English name: legal form gone, nothing but words left.
		for _, form := range []string{" co", " ltd", " limited", " corporation"} {
			if strings.HasSuffix(got, form) {
				t.Errorf("%s: CompanyName(%q) = %q keeps its legal form", where, rec.name, got)
			}
		}
		stats["company english name"]++
	default:
		t.Errorf("%s: CompanyName(%q) = %q, truth %q", where, rec.name, got, want)
	}
}

func isLowerASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != ' ' && (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return s != ""
}

func readCSV(t *testing.T, r io.Reader) [][]string {
	t.Helper()
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func openFile(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func readTruthParties(t *testing.T, path string) map[string]truthParty {
	rows := readCSV(t, openFile(t, path))
	m := map[string]truthParty{}
	for _, row := range rows[1:] {
		// party_id,kind,tier,name,id_no,gender,birth_date,mobile,...
		m[row[0]] = truthParty{kind: row[1], name: row[3], idNo: row[4], gender: row[5], birth: row[6], mobile: row[7]}
	}
	return m
}

func readXref(t *testing.T, path string) map[string]string {
	rows := readCSV(t, openFile(t, path))
	m := map[string]string{}
	for _, row := range rows[1:] {
		m[row[0]+"/"+row[1]] = row[2]
	}
	return m
}

func glob1(t *testing.T, pattern string) string {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) != 1 {
		t.Fatalf("glob %s: %v %v", pattern, files, err)
	}
	return files[0]
}

// readFeeds reads the customer records of the credit (GB18030 CSV), card
// (pipe-delimited) and ebank (JSON lines) feeds.
func readFeeds(t *testing.T, root string) []feedRecord {
	var recs []feedRecord

	credit := readCSV(t, simplifiedchinese.GB18030.NewDecoder().Reader(openFile(t, glob1(t, filepath.Join(root, "credit", "customers_*.csv")))))
	for _, row := range credit[1:] {
		// cust_no, cust_type, name, id_type, id_no, mobile, birth_date, ...
		recs = append(recs, feedRecord{system: "credit", key: row[0], ptype: row[1], name: row[2], idType: row[3],
			idNo: row[4], mob: row[5], birth: row[6]})
	}

	sc := bufio.NewScanner(openFile(t, glob1(t, filepath.Join(root, "card", "holders_*.del"))))
	for first := true; sc.Scan(); first = false {
		if first {
			continue
		}
		// holder_id|name|id_type|id_no|mobile|birth_date|employer|annual_income
		f := splitPipes(sc.Text())
		ptype := "P" // corporate cards are held by companies
		if f[2] == "USCC" || f[2] == "ORG_CODE" || f[2] == "OTHER" {
			ptype = "C"
		}
		recs = append(recs, feedRecord{system: "card", key: f[0], ptype: ptype, name: f[1], idType: f[2], idNo: f[3],
			mob: f[4], birth: f[5]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}

	sc = bufio.NewScanner(openFile(t, glob1(t, filepath.Join(root, "ebank", "users_*.jsonl"))))
	for sc.Scan() {
		var u struct {
			UserID   string `json:"user_id"`
			UserType string `json:"user_type"`
			Name     string `json:"name"`
			IDNo     string `json:"id_no"`
			Mobile   string `json:"mobile"`
		}
		if err := json.Unmarshal(sc.Bytes(), &u); err != nil {
			t.Fatal(err)
		}
		ptype := "P"
		if u.UserType == "CORPORATE" {
			ptype = "C"
		}
		recs = append(recs, feedRecord{system: "ebank", key: u.UserID, ptype: ptype, name: u.Name, idNo: u.IDNo, mob: u.Mobile})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return recs
}

// splitPipes splits a card feed line on | not escaped as \|.
func splitPipes(line string) []string {
	var out []string
	var b strings.Builder
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '\\' && i+1 < len(line) && line[i+1] == '|':
			b.WriteByte('|')
			i++
		case line[i] == '|':
			out = append(out, b.String())
			b.Reset()
		default:
			b.WriteByte(line[i])
		}
	}
	return append(out, b.String())
}
