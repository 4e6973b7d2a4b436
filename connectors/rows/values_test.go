package rows

import (
	"testing"
	"time"
)

func TestParseDecimal(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1234.56", 123456, true},
		{"-0.5", -50, true},
		{"+7", 700, true},
		{"12.300", 1230, true},
		{"0012.3", 1230, true},
		{"1.005", 0, false},    // would round
		{"1,234.00", 0, false}, // group separator
		{"12,3a", 0, false},
		{"1e5", 0, false},
		{".", 0, false},
		{"-", 0, false},
		{"", 0, false},
		{"9999999999999999.99", 999999999999999999, true},
		{"10000000000000000", 0, false}, // 17 integer digits overflow DECIMAL(18,2)
	}
	for _, c := range cases {
		got, ok := ParseDecimal([]byte(c.in), 18, 2)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("ParseDecimal(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestParseInt_RangeAndForms(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "-12": -12, "+7": 7, "9223372036854775807": 9223372036854775807, "-9223372036854775808": -9223372036854775808} {
		if got, ok := ParseInt([]byte(in)); !ok || got != want {
			t.Errorf("ParseInt(%q) = %d, %v", in, got, ok)
		}
	}
	for _, in := range []string{"9223372036854775808", "9999999999999999999", "99999999999999999999", "-9223372036854775809", "1.0", "", "-", "1e3"} {
		if got, ok := ParseInt([]byte(in)); ok {
			t.Errorf("ParseInt(%q) = %d, accepted", in, got)
		}
	}
}

func TestParseDate(t *testing.T) {
	for in, want := range map[string]string{
		"2026-11-20": "2026-11-20", "20261120": "2026-11-20", "2024/02/29": "2024-02-29", "1969-12-31": "1969-12-31",
	} {
		d, ok := ParseDate([]byte(in))
		if !ok {
			t.Errorf("ParseDate(%q) refused", in)
			continue
		}
		if got := time.Unix(int64(d)*86400, 0).UTC().Format("2006-01-02"); got != want {
			t.Errorf("ParseDate(%q) = %s, want %s", in, got, want)
		}
	}
	for _, in := range []string{"2026-02-30", "2025-02-29", "2026-13-01", "2026-11-2", "20261", "2026-11-20x", "abcd-ef-gh", ""} {
		if _, ok := ParseDate([]byte(in)); ok {
			t.Errorf("ParseDate(%q) accepted", in)
		}
	}
}

func TestParseTimestamp(t *testing.T) {
	loc, err := Location("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"2026-11-20 13:45:12":             "2026-11-20T05:45:12Z",
		"2026-11-20T13:45:12.250":         "2026-11-20T05:45:12.25Z",
		"2026-11-20T13:45:12+08:00":       "2026-11-20T05:45:12Z",
		"2026-11-20T05:45:12Z":            "2026-11-20T05:45:12Z",
		"2026-11-20T13:45:12.123456+0800": "2026-11-20T05:45:12.123456Z",
		"2026-11-20T00:15:00-05:00":       "2026-11-20T05:15:00Z",
		"20261120134512":                  "2026-11-20T05:45:12Z",
		"1988-06-01 12:00:00":             "1988-06-01T03:00:00Z", // China observed DST in 1988
		"2026-11-20":                      "2026-11-19T16:00:00Z",
	}
	for in, want := range cases {
		us, ok := ParseTimestamp([]byte(in), loc)
		if !ok {
			t.Errorf("ParseTimestamp(%q) refused", in)
			continue
		}
		if got := time.UnixMicro(us).UTC().Format(time.RFC3339Nano); got != want {
			t.Errorf("ParseTimestamp(%q) = %s, want %s", in, got, want)
		}
	}
	for _, in := range []string{"2026-13-01 00:00:00", "2026-11-20 24:00:00", "2026-11-20 13:45:12+8", "2026-11-20 13", "2026-11-20X13:45:12", "20261120 1345"} {
		if _, ok := ParseTimestamp([]byte(in), loc); ok {
			t.Errorf("ParseTimestamp(%q) accepted", in)
		}
	}
}

func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{"2026-11-20 13:45:12", "2026-11-20T13:45:12.5+08:00", "20261120134512", "2026-02-30"} {
		f.Add(s)
	}
	loc, _ := Location("Asia/Shanghai")
	f.Fuzz(func(t *testing.T, s string) {
		us, ok := ParseTimestamp([]byte(s), loc)
		if !ok {
			return
		}
		if _, ok := ParseDate([]byte(time.UnixMicro(us).In(loc).Format("2006-01-02"))); !ok {
			t.Fatalf("%q parsed to an instant whose date does not parse back", s)
		}
	})
}
