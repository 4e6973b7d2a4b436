package signals

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// The functions reason templates may call.

// Money is an amount with thousands separators and no decimals: 6,200,000.
func Money(v any) string {
	f, ok := toFloat(v)
	if !ok {
		return fmt.Sprint(v)
	}
	s := strconv.FormatFloat(math.Round(math.Abs(f)), 'f', 0, 64)
	var b strings.Builder
	if f < 0 && s != "0" {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Num is a number in short form: 8.1M, 950K, 12.5.
func Num(v any) string {
	f, ok := toFloat(v)
	if !ok {
		return fmt.Sprint(v)
	}
	a := math.Abs(f)
	switch {
	case a >= 1e9:
		return strconv.FormatFloat(f/1e9, 'f', 1, 64) + "B"
	case a >= 1e6:
		return strconv.FormatFloat(f/1e6, 'f', 1, 64) + "M"
	case a >= 1e4:
		return strconv.FormatFloat(f/1e3, 'f', 0, 64) + "K"
	case a == math.Trunc(a):
		return strconv.FormatFloat(f, 'f', 0, 64)
	}
	return strconv.FormatFloat(f, 'f', 1, 64)
}

// Pct is a percentage with one decimal: 45.2%.
func Pct(v any) string {
	f, ok := toFloat(v)
	if !ok {
		return fmt.Sprint(v)
	}
	return strconv.FormatFloat(f, 'f', 1, 64) + "%"
}

// Date is a day as MM-DD.
func Date(v any) string {
	switch t := v.(type) {
	case time.Time:
		return t.Format("01-02")
	case string:
		if d, err := time.Parse("2006-01-02", t); err == nil {
			return d.Format("01-02")
		}
	}
	return fmt.Sprint(v)
}

// Wan is an amount as Chinese bankers say it: 373万, 1.25亿, 8,500元.
func Wan(v any) string {
	f, ok := toFloat(v)
	if !ok {
		return fmt.Sprint(v)
	}
	trim := func(x float64, prec int) string {
		s := strconv.FormatFloat(x, 'f', prec, 64)
		if strings.Contains(s, ".") {
			s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
		}
		return s
	}
	switch a := math.Abs(f); {
	case a >= 1e8:
		return trim(f/1e8, 2) + "亿"
	case a >= 1e4:
		return trim(f/1e4, 1) + "万"
	}
	return Money(f) + "元"
}

// DateZH is a day as 11月19日.
func DateZH(v any) string {
	var d time.Time
	switch t := v.(type) {
	case time.Time:
		d = t
	case string:
		p, err := time.Parse("2006-01-02", t)
		if err != nil {
			return t
		}
		d = p
	default:
		return fmt.Sprint(v)
	}
	return fmt.Sprintf("%d月%d日", int(d.Month()), d.Day())
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case int:
		return float64(x), true
	case uint64:
		return float64(x), true
	case *big.Int:
		f, _ := new(big.Float).SetInt(x).Float64()
		return f, true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

// plain turns a value scanned from DuckDB into one JSON and the templates
// handle: decimals and big integers become float64, dates YYYY-MM-DD (a
// timestamp keeps its time).
func plain(v any) any {
	switch x := v.(type) {
	case duckdb.Decimal:
		return x.Float64()
	case *big.Int:
		f, _ := toFloat(x)
		return f
	case []byte:
		return string(x)
	case time.Time:
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0 {
			return x.Format("2006-01-02")
		}
		return x.Format(time.RFC3339)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return math.Round(x*100) / 100
	}
	return v
}
