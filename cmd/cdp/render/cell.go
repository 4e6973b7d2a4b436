package render

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// A cell is a scanned value reduced to what every format can print: nil,
// bool, number, string, []any (LIST), *object (STRUCT, MAP), or, for types
// nothing here knows, the driver's value itself.
type number string // the text of a JSON number, digits exact

type object struct {
	keys   []string
	values []any
}

// cell converts a driver value, using the column's database type name (which
// may be "") where the Go type alone is ambiguous.
func cell(v any, dbType string) any {
	switch x := v.(type) {
	case nil:
		return nil
	case bool:
		return x
	case string:
		if isNumericType(dbType) && jsonNumber.MatchString(x) {
			return number(withScale(x, dbType))
		}
		return x
	case []byte:
		if dbType == "UUID" && len(x) == 16 {
			h := hex.EncodeToString(x)
			return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
		}
		return bytesText(x)
	case time.Time:
		return timeText(x, dbType)
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return number(fmt.Sprint(x))
	case float64:
		return floatCell(x, 64)
	case float32:
		return floatCell(float64(x), 32)
	case *big.Int:
		if x == nil {
			return nil
		}
		return number(x.String())
	}

	// DuckDB MAP arrives as an ordered map exposing its keys and values.
	if om, ok := orderedMap(v); ok {
		keyType, valueType := mapTypes(dbType)
		keys, values := om.Keys(), om.Values()
		out := &object{}
		for i := range keys {
			out.keys = append(out.keys, text(cell(keys[i], keyType)))
			out.values = append(out.values, cell(values[i], valueType))
		}
		return out
	}

	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map:
		return mapCell(rv, dbType)
	case reflect.Slice, reflect.Array:
		elemType := listElem(dbType)
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = cell(rv.Index(i).Interface(), elemType)
		}
		return out
	case reflect.Pointer:
		if rv.IsNil() {
			return nil
		}
	}
	if dbType == "INTERVAL" {
		if s, ok := intervalText(rv); ok {
			return s
		}
	}
	if s, ok := v.(fmt.Stringer); ok { // DECIMAL arrives as a Stringer struct
		return cell(s.String(), dbType)
	}
	return v
}

func orderedMap(v any) (interface {
	Keys() []any
	Values() []any
}, bool) {
	// Keys and Values have pointer receivers on duckdb.OrderedMap.
	rv := reflect.ValueOf(v)
	p := reflect.New(rv.Type())
	p.Elem().Set(rv)
	om, ok := p.Interface().(interface {
		Keys() []any
		Values() []any
	})
	return om, ok
}

// mapCell renders a Go map: a STRUCT in its declared field order, anything
// else by sorted key.
func mapCell(rv reflect.Value, dbType string) any {
	out := &object{}
	if fields, ok := structFields(dbType); ok && rv.Type().Key().Kind() == reflect.String {
		for _, f := range fields {
			out.keys = append(out.keys, f.name)
			var v any
			if mv := rv.MapIndex(reflect.ValueOf(f.name)); mv.IsValid() {
				v = mv.Interface()
			}
			out.values = append(out.values, cell(v, f.dbType))
		}
		return out
	}
	type entry struct {
		key   string
		value any
	}
	var entries []entry
	for it := rv.MapRange(); it.Next(); {
		entries = append(entries, entry{text(cell(it.Key().Interface(), "")), cell(it.Value().Interface(), "")})
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	for _, e := range entries {
		out.keys = append(out.keys, e.key)
		out.values = append(out.values, e.value)
	}
	return out
}

// text is a cell as one string, "" for NULL.
func text(c any) string {
	switch x := c.(type) {
	case nil:
		return ""
	case string:
		return x
	case number:
		return string(x)
	case bool:
		return strconv.FormatBool(x)
	case []any, *object:
		var b strings.Builder
		writeJSON(&b, x)
		return b.String()
	}
	if b, err := json.Marshal(c); err == nil {
		return string(b)
	}
	return fmt.Sprint(c)
}

// writeJSON writes a cell as JSON, without escaping <, > and & (this is for
// terminals and files, not HTML).
func writeJSON(b *strings.Builder, c any) {
	switch x := c.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case number:
		b.WriteString(string(x))
	case string:
		writeJSONString(b, x)
	case []any:
		b.WriteByte('[')
		for i, v := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, v)
		}
		b.WriteByte(']')
	case *object:
		b.WriteByte('{')
		for i, k := range x.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, k)
			b.WriteByte(':')
			writeJSON(b, x.values[i])
		}
		b.WriteByte('}')
	default:
		if data, err := json.Marshal(x); err == nil {
			b.Write(data)
		} else {
			writeJSONString(b, fmt.Sprint(x))
		}
	}
}

func writeJSONString(b *strings.Builder, s string) {
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	b.WriteString(strings.TrimSuffix(buf.String(), "\n"))
}

var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

var decimalType = regexp.MustCompile(`^DECIMAL\((\d+),\s*(\d+)\)$`)

// withScale writes a DECIMAL with exactly its column's scale: the DuckDB
// driver's Decimal.String drops trailing zeros (12.50 -> 12.5).
func withScale(s, dbType string) string {
	m := decimalType.FindStringSubmatch(dbType)
	if m == nil || strings.ContainsAny(s, "eE") {
		return s
	}
	scale, _ := strconv.Atoi(m[2])
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) >= scale {
		return s
	}
	frac += strings.Repeat("0", scale-len(frac))
	return whole + "." + frac
}

func isNumericType(dbType string) bool {
	switch dbType {
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
		"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
		"FLOAT", "DOUBLE", "REAL", "BIGNUM", "NUMERIC", "DECIMAL":
		return true
	}
	return decimalType.MatchString(dbType)
}

// floatCell is a float as a JSON number, or a string for NaN and infinities,
// which JSON cannot hold. Plain notation unless the exponent is extreme.
func floatCell(f float64, bits int) any {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		return number(strconv.FormatFloat(f, 'g', -1, bits))
	}
	return number(strconv.FormatFloat(f, 'f', -1, bits))
}

func timeText(t time.Time, dbType string) string {
	switch dbType {
	case "DATE":
		return t.Format(time.DateOnly)
	case "TIME":
		return t.Format("15:04:05.999999")
	case "TIMETZ":
		return t.Format("15:04:05.999999Z07:00")
	case "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS":
		// No time zone: the wall clock as stored, no offset to claim.
		return t.Format("2006-01-02 15:04:05.999999999")
	}
	if Location != nil {
		t = t.In(Location)
	}
	return t.Format(time.RFC3339Nano)
}

// Location, when set, is the zone TIMESTAMPTZ values are shown in (with
// their offset, so the instant stays unambiguous). cdp sets it to the
// project's warehouse.time_zone.
var Location *time.Location

// bytesText is a BLOB as text: itself when it is UTF-8, else with bytes
// outside printable ASCII written \xNN as DuckDB does.
func bytesText(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var s strings.Builder
	for _, c := range b {
		if c >= 0x20 && c < 0x7f && c != '\\' {
			s.WriteByte(c)
		} else {
			fmt.Fprintf(&s, `\x%02X`, c)
		}
	}
	return s.String()
}

// intervalText renders a struct with Months, Days and Micros fields (the
// driver's INTERVAL) like DuckDB: "1 year 2 months 3 days 04:05:06".
func intervalText(rv reflect.Value) (string, bool) {
	if rv.Kind() != reflect.Struct {
		return "", false
	}
	months, days, micros := rv.FieldByName("Months"), rv.FieldByName("Days"), rv.FieldByName("Micros")
	if !months.CanInt() || !days.CanInt() || !micros.CanInt() {
		return "", false
	}
	var parts []string
	unit := func(n int64, name string) {
		if n == 0 {
			return
		}
		if n != 1 && n != -1 {
			name += "s"
		}
		parts = append(parts, fmt.Sprintf("%d %s", n, name))
	}
	unit(months.Int()/12, "year")
	unit(months.Int()%12, "month")
	unit(days.Int(), "day")
	if us := micros.Int(); us != 0 || len(parts) == 0 {
		sign := ""
		if us < 0 {
			sign, us = "-", -us
		}
		d := time.Duration(us) * time.Microsecond
		clock := fmt.Sprintf("%s%02d:%02d:%02d", sign, int64(d.Hours()), int64(d.Minutes())%60, int64(d.Seconds())%60)
		if frac := us % 1e6; frac != 0 {
			clock += strings.TrimRight(fmt.Sprintf(".%06d", frac), "0")
		}
		parts = append(parts, clock)
	}
	return strings.Join(parts, " "), true
}

// Type names of nested values, as duckdb-go writes them: "INTEGER[]",
// "DATE[3]", `STRUCT("a" INTEGER, "b" VARCHAR[])`, "MAP(VARCHAR, BIGINT)".

var arraySuffix = regexp.MustCompile(`\[\d*\]$`)

func listElem(dbType string) string {
	if loc := arraySuffix.FindStringIndex(dbType); loc != nil {
		return dbType[:loc[0]]
	}
	return ""
}

type structField struct{ name, dbType string }

func structFields(dbType string) ([]structField, bool) {
	inner, ok := strings.CutPrefix(dbType, "STRUCT(")
	if !ok || !strings.HasSuffix(inner, ")") {
		return nil, false
	}
	var fields []structField
	for _, part := range splitTopLevel(inner[:len(inner)-1]) {
		name, rest, ok := cutQuotedName(part)
		if !ok {
			return nil, false
		}
		fields = append(fields, structField{name, strings.TrimSpace(rest)})
	}
	return fields, true
}

func mapTypes(dbType string) (key, value string) {
	inner, ok := strings.CutPrefix(dbType, "MAP(")
	if !ok || !strings.HasSuffix(inner, ")") {
		return "", ""
	}
	parts := splitTopLevel(inner[:len(inner)-1])
	if len(parts) != 2 {
		return "", ""
	}
	return parts[0], parts[1]
}

// splitTopLevel splits on the commas outside parentheses and double quotes.
func splitTopLevel(s string) []string {
	var parts []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			quoted = !quoted // a doubled "" toggles twice
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			parts = append(parts, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	return append(parts, strings.TrimSpace(s[start:]))
}

// cutQuotedName splits `"na""me" TYPE` into na"me and TYPE.
func cutQuotedName(s string) (name, rest string, ok bool) {
	if !strings.HasPrefix(s, `"`) {
		name, rest, ok = strings.Cut(s, " ")
		return name, rest, ok
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != '"' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '"' {
			b.WriteByte('"')
			i++
			continue
		}
		return b.String(), s[i+1:], true
	}
	return "", "", false
}
