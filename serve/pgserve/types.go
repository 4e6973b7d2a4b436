package pgserve

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5/pgtype"
)

// pgType is how one DuckDB result column goes over the wire: its Postgres
// type, and how a DuckDB value (never nil) becomes a value pgx's type map
// encodes in the text and the binary formats alike.
//
//	BOOLEAN                          bool
//	TINYINT, SMALLINT, UTINYINT      int2
//	INTEGER, USMALLINT               int4
//	BIGINT, UINTEGER                 int8
//	UBIGINT, HUGEINT, UHUGEINT,
//	BIGNUM, DECIMAL                  numeric
//	FLOAT, DOUBLE                    float4, float8
//	DATE, TIME                       date, time
//	TIMESTAMP (any precision)        timestamp
//	TIMESTAMPTZ                      timestamptz (text in the session time zone: 2026-11-20 10:00:00+08)
//	INTERVAL, UUID, BLOB             interval, uuid, bytea
//	LIST, ARRAY, STRUCT, MAP          json ([1, 2], {"a": 1}, {"k": 1}: what the catalog says, so BI tools parse them)
//	VARCHAR, ENUM, JSON and the rest text
type pgType struct {
	oid   uint32
	size  int16 // bytes, -1 when variable
	value func(v any) any
}

// pgTypeOf maps a DuckDB column type; loc is the time zone TIMESTAMPTZ
// values are shown in.
func pgTypeOf(info duckdb.TypeInfo, loc *time.Location) pgType {
	same := func(v any) any { return v }
	switch info.Details().(type) {
	case *duckdb.ListDetails, *duckdb.ArrayDetails, *duckdb.StructDetails, *duckdb.MapDetails:
		conv, text := jsonOf(info, loc), textOf(info, loc)
		return pgType{pgtype.JSONOID, -1, func(v any) any {
			b, err := json.Marshal(conv(v))
			if err != nil {
				return text(v) // never for what DuckDB hands over; readable rather than lost
			}
			return string(b)
		}}
	}
	switch info.InternalType() {
	case duckdb.TYPE_BOOLEAN:
		return pgType{pgtype.BoolOID, 1, same}
	case duckdb.TYPE_TINYINT, duckdb.TYPE_SMALLINT, duckdb.TYPE_UTINYINT:
		return pgType{pgtype.Int2OID, 2, func(v any) any { return int16(toInt64(v)) }}
	case duckdb.TYPE_INTEGER, duckdb.TYPE_USMALLINT:
		return pgType{pgtype.Int4OID, 4, func(v any) any { return int32(toInt64(v)) }}
	case duckdb.TYPE_BIGINT, duckdb.TYPE_UINTEGER:
		return pgType{pgtype.Int8OID, 8, func(v any) any { return toInt64(v) }}
	case duckdb.TYPE_UBIGINT, duckdb.TYPE_HUGEINT, duckdb.TYPE_UHUGEINT, duckdb.TYPE_BIGNUM, duckdb.TYPE_DECIMAL:
		return pgType{pgtype.NumericOID, -1, numeric}
	case duckdb.TYPE_FLOAT:
		return pgType{pgtype.Float4OID, 4, same}
	case duckdb.TYPE_DOUBLE:
		return pgType{pgtype.Float8OID, 8, same}
	case duckdb.TYPE_DATE:
		return pgType{pgtype.DateOID, 4, same}
	case duckdb.TYPE_TIME:
		return pgType{pgtype.TimeOID, 8, func(v any) any {
			t := v.(time.Time)
			us := int64(t.Hour())*3600e6 + int64(t.Minute())*60e6 + int64(t.Second())*1e6 + int64(t.Nanosecond()/1e3)
			return pgTime{pgtype.Time{Microseconds: us, Valid: true}, t.Format("15:04:05.999999")}
		}}
	case duckdb.TYPE_TIMESTAMP, duckdb.TYPE_TIMESTAMP_S, duckdb.TYPE_TIMESTAMP_MS, duckdb.TYPE_TIMESTAMP_NS:
		return pgType{pgtype.TimestampOID, 8, same}
	case duckdb.TYPE_TIMESTAMP_TZ:
		return pgType{pgtype.TimestamptzOID, 8, func(v any) any { return zonedTime{v.(time.Time), loc} }}
	case duckdb.TYPE_INTERVAL:
		return pgType{pgtype.IntervalOID, 16, func(v any) any {
			i := v.(duckdb.Interval)
			return pgInterval{pgtype.Interval{Months: i.Months, Days: i.Days, Microseconds: i.Micros, Valid: true}, intervalText(i)}
		}}
	case duckdb.TYPE_UUID:
		return pgType{pgtype.UUIDOID, 16, func(v any) any {
			var u pgtype.UUID
			u.Valid = copy(u.Bytes[:], v.([]byte)) == 16
			return u
		}}
	case duckdb.TYPE_BLOB:
		return pgType{pgtype.ByteaOID, -1, same}
	}
	text := textOf(info, loc)
	return pgType{pgtype.TextOID, -1, func(v any) any { return text(v) }}
}

func toInt64(v any) int64 {
	switch n := v.(type) {
	case int8:
		return int64(n)
	case int16:
		return int64(n)
	case int32:
		return int64(n)
	case int64:
		return n
	case uint8:
		return int64(n)
	case uint16:
		return int64(n)
	case uint32:
		return int64(n)
	}
	panic(fmt.Sprintf("pgserve: %T is not a small integer", v))
}

// numeric turns DuckDB's wide integers and decimals into pgtype.Numeric.
func numeric(v any) any {
	switch n := v.(type) {
	case uint64:
		return pgtype.Numeric{Int: new(big.Int).SetUint64(n), Valid: true}
	case *big.Int:
		return pgtype.Numeric{Int: n, Valid: true}
	case duckdb.Decimal:
		return pgtype.Numeric{Int: n.Value, Exp: -int32(n.Scale), Valid: true}
	}
	return fmt.Sprint(v)
}

// zonedTime is a TIMESTAMPTZ shown in the session time zone in the text
// format, as Postgres does (pgx would show it in UTC), and sent as the
// instant in the binary format.
type zonedTime struct {
	t   time.Time
	loc *time.Location
}

// TextValue implements pgtype.TextValuer.
func (z zonedTime) TextValue() (pgtype.Text, error) {
	return pgtype.Text{String: formatTimestampTZ(z.t, z.loc), Valid: true}, nil
}

// TimestamptzValue implements pgtype.TimestamptzValuer.
func (z zonedTime) TimestamptzValue() (pgtype.Timestamptz, error) {
	return pgtype.Timestamptz{Time: z.t, Valid: true}, nil
}

// pgTime and pgInterval carry the text DuckDB shows (10:20:30.5, 1 year
// 2 days 03:04:05), where pgx would pad fractions and count "12 mon".
type (
	pgTime struct {
		pgtype.Time
		text string
	}
	pgInterval struct {
		pgtype.Interval
		text string
	}
)

// TextValue implements pgtype.TextValuer.
func (t pgTime) TextValue() (pgtype.Text, error) {
	return pgtype.Text{String: t.text, Valid: true}, nil
}

// TextValue implements pgtype.TextValuer.
func (i pgInterval) TextValue() (pgtype.Text, error) {
	return pgtype.Text{String: i.text, Valid: true}, nil
}

func formatTimestampTZ(t time.Time, loc *time.Location) string {
	t = t.In(loc)
	return t.Format("2006-01-02 15:04:05.999999") + zoneOffset(t)
}

// zoneOffset is Postgres's: +08, or +05:30 when there are minutes.
func zoneOffset(t time.Time) string {
	if _, off := t.Zone(); off%3600 != 0 {
		return t.Format("-07:00")
	}
	return t.Format("-07")
}

// jsonOf converts values of a nested DuckDB type to what encoding/json
// writes as that value: lists as arrays, structs and maps as objects (a
// map's keys as their text), numbers exact, and other scalars as the text
// the endpoint sends them as.
func jsonOf(info duckdb.TypeInfo, loc *time.Location) func(any) any {
	switch d := info.Details().(type) {
	case *duckdb.ListDetails:
		return jsonList(jsonOf(d.Child, loc))
	case *duckdb.ArrayDetails:
		return jsonList(jsonOf(d.Child, loc))
	case *duckdb.StructDetails:
		fields := map[string]func(any) any{}
		for _, e := range d.Entries {
			fields[e.Name()] = jsonOf(e.Info(), loc)
		}
		return func(v any) any {
			m, _ := v.(map[string]any)
			out := make(map[string]any, len(m))
			for k, x := range m {
				if conv := fields[k]; conv != nil && x != nil {
					out[k] = conv(x)
				} else {
					out[k] = x
				}
			}
			return out
		}
	case *duckdb.MapDetails:
		key, value := textOf(d.Key, loc), jsonOf(d.Value, loc)
		return func(v any) any {
			m, _ := v.(duckdb.OrderedMap)
			keys, values := m.Keys(), m.Values()
			out := make(map[string]any, len(keys))
			for i := range keys {
				if values[i] == nil {
					out[key(keys[i])] = nil
				} else {
					out[key(keys[i])] = value(values[i])
				}
			}
			return out
		}
	}
	typ, alias := info.InternalType(), info.Alias()
	return func(v any) any {
		switch x := v.(type) {
		case bool, string, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64:
			return x
		case *big.Int:
			return json.Number(x.String())
		case duckdb.Decimal:
			return json.Number(x.String())
		}
		return scalarText(typ, alias, v, loc)
	}
}

func jsonList(elem func(any) any) func(any) any {
	return func(v any) any {
		items, _ := v.([]any)
		out := make([]any, len(items))
		for i, item := range items {
			if item != nil {
				out[i] = elem(item)
			}
		}
		return out
	}
}

// textOf formats values of a DuckDB type the way DuckDB casts them to
// VARCHAR, near enough for reading: lists [1, 2], structs {'a': 1}, maps
// {k=v}.
func textOf(info duckdb.TypeInfo, loc *time.Location) func(any) string {
	switch d := info.Details().(type) {
	case *duckdb.ListDetails:
		return listText(textOf(d.Child, loc))
	case *duckdb.ArrayDetails:
		return listText(textOf(d.Child, loc))
	case *duckdb.StructDetails:
		names := make([]string, len(d.Entries))
		fields := make([]func(any) string, len(d.Entries))
		for i, e := range d.Entries {
			names[i], fields[i] = e.Name(), textOf(e.Info(), loc)
		}
		return func(v any) string {
			m, _ := v.(map[string]any)
			parts := make([]string, len(names))
			for i, name := range names {
				parts[i] = "'" + name + "': " + nestedText(fields[i], m[name])
			}
			return "{" + strings.Join(parts, ", ") + "}"
		}
	case *duckdb.MapDetails:
		key, value := textOf(d.Key, loc), textOf(d.Value, loc)
		return func(v any) string {
			m, _ := v.(duckdb.OrderedMap)
			keys, values := m.Keys(), m.Values()
			parts := make([]string, len(keys))
			for i := range keys {
				parts[i] = nestedText(key, keys[i]) + "=" + nestedText(value, values[i])
			}
			return "{" + strings.Join(parts, ", ") + "}"
		}
	}
	typ, alias := info.InternalType(), info.Alias()
	return func(v any) string { return scalarText(typ, alias, v, loc) }
}

func listText(elem func(any) string) func(any) string {
	return func(v any) string {
		items, _ := v.([]any)
		parts := make([]string, len(items))
		for i, item := range items {
			parts[i] = nestedText(elem, item)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
}

// nestedText formats a value inside a list, struct or map: NULL spelled
// out, strings quoted when they would be ambiguous.
func nestedText(format func(any) string, v any) string {
	if v == nil {
		return "NULL"
	}
	s := format(v)
	if _, isString := v.(string); isString && (s == "" || s == "NULL" || strings.ContainsAny(s, ",[]{}'\"=:") || strings.TrimSpace(s) != s) {
		return "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
	}
	return s
}

func scalarText(typ duckdb.Type, alias string, v any, loc *time.Location) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case *big.Int:
		return x.String()
	case duckdb.Decimal:
		return x.String()
	case duckdb.Interval:
		return intervalText(x)
	case duckdb.Union:
		return fmt.Sprint(x.Value)
	case []byte:
		if typ == duckdb.TYPE_UUID && len(x) == 16 {
			u := pgtype.UUID{Valid: true}
			copy(u.Bytes[:], x)
			t, _ := u.Value()
			return t.(string)
		}
		return `\x` + hex.EncodeToString(x)
	case time.Time:
		switch typ {
		case duckdb.TYPE_DATE:
			return x.Format(time.DateOnly)
		case duckdb.TYPE_TIME:
			return x.Format("15:04:05.999999")
		case duckdb.TYPE_TIME_TZ:
			return x.Format("15:04:05.999999") + zoneOffset(x)
		case duckdb.TYPE_TIMESTAMP_TZ:
			return formatTimestampTZ(x, loc)
		}
		return x.Format("2006-01-02 15:04:05.999999")
	}
	if alias == "JSON" {
		if b, err := json.Marshal(v); err == nil {
			return string(b)
		}
	}
	return fmt.Sprint(v)
}

// intervalText is DuckDB's: 1 year 2 months 3 days 04:05:06.5.
func intervalText(i duckdb.Interval) string {
	var parts []string
	unit := func(n int64, name string) {
		if n != 0 {
			s := strconv.FormatInt(n, 10) + " " + name
			if n != 1 && n != -1 {
				s += "s"
			}
			parts = append(parts, s)
		}
	}
	unit(int64(i.Months/12), "year")
	unit(int64(i.Months%12), "month")
	unit(int64(i.Days), "day")
	if i.Micros != 0 || len(parts) == 0 {
		d := time.Duration(i.Micros) * time.Microsecond
		sign := ""
		if d < 0 {
			sign, d = "-", -d
		}
		h, m := int64(d/time.Hour), int64(d%time.Hour/time.Minute)
		sec := float64(d%time.Minute) / float64(time.Second)
		s := fmt.Sprintf("%s%02d:%02d:%02d", sign, h, m, int64(sec))
		if frac := d % time.Second; frac != 0 {
			s += strings.TrimRight(fmt.Sprintf(".%06d", int64(frac/time.Microsecond)), "0")
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}
