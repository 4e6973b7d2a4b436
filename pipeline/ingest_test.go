package pipeline

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"golang.org/x/text/encoding/simplifiedchinese"

	"cdp/connectors/contract"
	"cdp/internal/sqltest"
	"cdp/warehouse"
)

func TestIngest_CreditCSVRejectsBadRowsWithReasonAndLine(t *testing.T) {
	p := newProject(t, "")
	var b []byte
	b = append(b, gbk(t, creditCustomerHeader+",vip_flag\n")...)
	b = append(b, gbk(t, customerRow("C001", "P", "张伟", "1990-03-07", "")+",Y\n")...)                  // line 2 ok, extra column kept
	b = append(b, gbk(t, customerRow("C002", "C", `"上海华锐精密机械有限公司, 浦东"`, "", "600000000.00")+",\n")...) // line 3 ok, quoted comma
	b = append(b, gbk(t, `C003,P,"王""小""明`+"\n"+`二行",ID_CARD,,,,,,,,,,,,`+"\n")...)                    // lines 4-5: one record, quoted newline
	b = append(b, gbk(t, "C004,P,李四\n")...)                                                            // line 6: too few fields
	b = append(b, gbk(t, customerRow("C005", "P", "赵六", "2026-02-30", "")+",\n")...)                   // line 7: bad date
	b = append(b, gbk(t, customerRow("C006", "C", "某公司", "", `"12,3a"`)+",\n")...)                     // line 8: bad number
	b = append(b, gbk(t, customerRow("C007", "X", "钱七", "", "")+",\n")...)                             // line 9: bad enum
	b = append(b, gbk(t, customerRow("", "P", "孙八", "", "")+",\n")...)                                 // line 10: missing key
	bad := []byte(customerRow("C009", "P", "周\x81\x20九", "", "") + ",\n")                              // line 11: broken GBK
	b = append(b, bad...)
	b = append(b, gbk(t, customerRow("C010", "P", "吳九", "19900307", "")+",\n")...) // line 12 ok, traditional char, compact date
	p.deliver("credit/customers_20261120.csv", b, 10)

	rep, err := p.ingest("credit")
	if err != nil {
		t.Fatal(err)
	}
	in, loaded, rejected, _ := rep.Totals()
	if in != 10 || loaded != 4 || rejected != 6 {
		t.Fatalf("rows in %d = loaded %d + rejected %d; want 10 = 4 + 6", in, loaded, rejected)
	}
	want := []reject{{6, contract.ReasonMalformed}, {7, contract.ReasonDate}, {8, contract.ReasonType},
		{9, contract.ReasonEnum}, {10, contract.ReasonMissing}, {11, contract.ReasonEncoding}}
	got := p.rejects("credit/customers_20261120.csv")
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("rejects %v, want %v", got, want)
	}
	var name, extra, source string
	p.query(func(w *warehouse.Warehouse) {
		sqltest.Row(t, w.DB(), `SELECT name, _extra::VARCHAR, _source FROM raw.credit_customers WHERE cust_no = 'C001'`).Scan(&name, &extra, &source)
	})
	if name != "张伟" || extra != `{"vip_flag":"Y"}` || source != "credit/customers_20261120.csv:2" {
		t.Fatalf("C001 = %q %q %q", name, extra, source)
	}
	if got := p.count(`SELECT count(*) FROM raw.credit_customers WHERE cust_no = 'C003' AND name = '王"小"明` + "\n" + `二行' AND _source LIKE '%:4'`); got != 1 {
		t.Fatalf("quoted multi-line record not loaded as one row from line 4")
	}
	if got := p.count(`SELECT count(*) FROM raw.credit_customers WHERE cust_no = 'C010' AND birth_date = DATE '1990-03-07'`); got != 1 {
		t.Fatal("compact date not parsed")
	}
	var raw, detail string
	p.query(func(w *warehouse.Warehouse) {
		sqltest.Row(t, w.DB(), `SELECT raw, detail FROM ops.rejects WHERE line = 11`).Scan(&raw, &detail)
	})
	if !strings.Contains(raw, `\x81`) || !strings.Contains(detail, "name") {
		t.Fatalf("bad-encoding reject keeps raw %q detail %q", raw, detail)
	}
	if n := p.count(`SELECT rows_in - rows_loaded - rows_rejected FROM ops.loads WHERE status = 'loaded'`); n != 0 {
		t.Fatalf("ledger imbalance %d", n)
	}
}

func TestIngest_StrayQuoteInAnUnquotedFieldRejectsOnlyItsRow(t *testing.T) {
	p := newProject(t, "")
	var b strings.Builder
	b.WriteString(creditCustomerHeader + "\n")
	for i := 0; i < 1000; i++ {
		name := fmt.Sprintf("客户%d", i)
		if i == 10 {
			name = `5"屏显示器` // a bare quote: not RFC 4180, but it must not swallow the rest
		}
		b.WriteString(customerRow(fmt.Sprintf("C%04d", i), "P", name, "", "") + "\n")
	}
	p.deliver("credit/customers_20261120.csv", gbk(t, b.String()), 1000)
	rep, err := p.ingest("credit")
	if err != nil {
		t.Fatal(err)
	}
	if in, loaded, rejected, _ := rep.Totals(); in != 1000 || loaded != 999 || rejected != 1 {
		t.Fatalf("%d in = %d loaded + %d rejected, want 1000 = 999 + 1", in, loaded, rejected)
	}
	if got := p.rejects("credit/customers_20261120.csv"); len(got) != 1 || got[0] != (reject{12, contract.ReasonMalformed}) {
		t.Fatalf("rejects %v, want line 12 malformed_row", got)
	}
}

func TestIngest_CardDelimitedEscapesAndRejects(t *testing.T) {
	p := newProject(t, "")
	data := "txn_id|card_account_id|txn_time|amount|currency|mcc|merchant_name|country_code|channel|txn_type\n" +
		`T1|A1|2026-11-20 10:00:00|88.50|CNY|5812|海底捞\|望京店|CN|POS|PURCHASE` + "\n" +
		`T2|A1|2026-11-20 10:05:00|abc|CNY|5812|x|CN|POS|PURCHASE` + "\n" +
		`T3|A1|2026-13-01 00:00:00|1.00|CNY|5812|x|CN|POS|PURCHASE` + "\n" +
		`T4|A1|2026-11-20 10:05:00|1.00|CNY|5812|x|CN|POS|PURCHASE|extra` + "\n" +
		`T5|A1|2026-11-20 10:05:00|-20.00|USD|5812|back\\slash|US|ONLINE|REFUND` + "\r\n"
	p.deliver("card/txns_20261120.del", []byte(data), 5)
	if _, err := p.ingest("card"); err != nil {
		t.Fatal(err)
	}
	got := p.rejects("card/txns_20261120.del")
	want := []reject{{3, contract.ReasonType}, {4, contract.ReasonDate}, {5, contract.ReasonMalformed}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("rejects %v, want %v", got, want)
	}
	if n := p.count(`SELECT count(*) FROM raw.card_txns WHERE merchant_name = '海底捞|望京店' AND amount = 88.50`); n != 1 {
		t.Fatal(`"\|" not unescaped`)
	}
	if n := p.count(`SELECT count(*) FROM raw.card_txns WHERE merchant_name = 'back\slash' AND amount = -20.00 AND txn_type = 'REFUND'`); n != 1 {
		t.Fatal(`"\\" or CRLF not handled`)
	}
}

func TestIngest_EbankEventsRejectsAndKeepsUnknownFields(t *testing.T) {
	p := newProject(t, "")
	lines := []string{
		`{"event_id":"E1","user_id":"u1","ts":"2026-11-20T10:00:00+08:00","channel":"APP","event_type":"TRANSFER_OUT","amount":1200.5,"currency":"CNY","cross_border":true,"device_os":"iOS"}`,
		`not json`,
		`{"event_id":"E3","ts":"2026-11-20T10:00:00+08:00","channel":"APP","event_type":"LOGIN"}`,
		`{"event_id":"E4","user_id":"u1","ts":"2026-11-20T10:00:00+08:00","channel":"APP","event_type":"UNKNOWN"}`,
		`{"event_id":"E1","user_id":"u1","ts":"2026-11-20T10:00:00+08:00","channel":"APP","event_type":"LOGIN"}`,
		`{"event_id":"E6","user_id":"u2","ts":"2026-11-20T10:00:01+08:00","channel":"WEB","event_type":"LOGIN","amount":null}`,
		`{"event_id":"E7","user_id":"u2","ts":"2026-11-20T10:00:01+08:00","channel":"WEB","event_type":"LOGIN","amount":"12.345"}`,
	}
	p.deliver("ebank/events_20261120.jsonl.gz", gz(t, strings.Join(lines, "\n")+"\n"), len(lines))
	rep, err := p.ingest("ebank")
	if err != nil {
		t.Fatal(err)
	}
	in, loaded, rejected, _ := rep.Totals()
	if in != 7 || loaded != 2 || rejected != 5 {
		t.Fatalf("rows %d = %d + %d, want 7 = 2 + 5", in, loaded, rejected)
	}
	got := p.rejects("ebank/events_20261120.jsonl.gz")
	want := []reject{{2, contract.ReasonMalformed}, {3, contract.ReasonMissing}, {4, contract.ReasonEnum}, {5, contract.ReasonDuplicate}, {7, contract.ReasonType}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("rejects %v, want %v", got, want)
	}
	var extra string
	var amount float64
	var cross bool
	p.query(func(w *warehouse.Warehouse) {
		sqltest.Row(t, w.DB(), `SELECT _extra::VARCHAR, amount::DOUBLE, cross_border FROM raw.ebank_events WHERE event_id = 'E1'`).Scan(&extra, &amount, &cross)
	})
	if extra != `{"device_os":"iOS"}` || amount != 1200.5 || !cross {
		t.Fatalf("E1: extra %q amount %v cross_border %v", extra, amount, cross)
	}
}

func TestIngest_TruncatedGzipLoadsNothing(t *testing.T) {
	p := newProject(t, "")
	var lines []string
	for i := 0; i < 2000; i++ {
		lines = append(lines, `{"event_id":"E`+strings.Repeat("x", i%7)+string(rune('a'+i%26))+`","user_id":"u1","ts":"2026-11-20T10:00:00+08:00","channel":"APP","event_type":"LOGIN"}`)
	}
	full := gz(t, strings.Join(lines, "\n")+"\n")
	p.deliver("ebank/events_20261120.jsonl.gz", full[:len(full)/2], 2000)
	rep, err := p.ingest("ebank")
	if !errors.Is(err, ErrUnitsFailed) {
		t.Fatalf("err = %v, want a failed input", err)
	}
	if f := rep.Failed(); len(f) != 1 || !strings.Contains(f[0].Err.Error(), "truncated") {
		t.Fatalf("failures %v, want one naming the truncation", f)
	}
	if n := p.count(`SELECT count(*) FROM raw.ebank_events`); n != 0 {
		t.Fatalf("%d rows loaded from a truncated archive", n)
	}
	if n := p.count(`SELECT count(*) FROM ops.loads WHERE status = 'failed' AND error LIKE '%truncated%'`); n != 1 {
		t.Fatal("failure not in ops.loads")
	}
}

func TestIngest_ControlFileProblemsLoadNothing(t *testing.T) {
	p := newProject(t, "")
	body := creditCustomerHeader + "\n" + customerRow("C1", "P", "a", "", "") + "\n" + customerRow("C2", "P", "b", "", "") + "\n"
	p.write("credit/customers_20261118.csv", []byte(body))      // no .ok: waits
	p.deliver("credit/customers_20261119.csv", []byte(body), 3) // wrong count
	p.deliver("credit/customers_20261120.csv", []byte(body), 2)
	os.WriteFile(filepath.Join(p.dir, "feeds/credit/customers_20261120.csv"), []byte(body+customerRow("C3", "P", "c", "", "")+"\n"), 0o644) // md5 now wrong
	rep, err := p.ingest("credit")
	if !errors.Is(err, ErrUnitsFailed) {
		t.Fatalf("err = %v", err)
	}
	if rep.Count("pending") != 1 || rep.Count("failed") != 2 {
		t.Fatalf("pending %d failed %d, want 1 and 2", rep.Count("pending"), rep.Count("failed"))
	}
	msgs := ""
	for _, f := range rep.Failed() {
		msgs += f.Err.Error() + "\n"
	}
	if !strings.Contains(msgs, "control file says 3 rows, the file has 2") || !strings.Contains(msgs, "md5 is") {
		t.Fatalf("failure messages:\n%s", msgs)
	}
	if n := p.count(`SELECT count(*) FROM raw.credit_customers`); n != 0 {
		t.Fatalf("%d rows loaded", n)
	}
	// The .ok arrives: the waiting file loads on the next run.
	p.deliver("credit/customers_20261118.csv", []byte(body), 2)
	p.ingest("credit")
	if n := p.count(`SELECT count(*) FROM raw.credit_customers`); n != 2 {
		t.Fatalf("%d rows after the control file arrived, want 2", n)
	}
}

func TestIngest_MissingRequiredColumnFailsTheFile(t *testing.T) {
	p := newProject(t, "")
	header := strings.Replace(creditCustomerHeader, "cust_type,", "", 1)
	p.deliver("credit/customers_20261120.csv", []byte(header+"\n"), 0)
	rep, _ := p.ingest("credit")
	if f := rep.Failed(); len(f) != 1 || !strings.Contains(f[0].Err.Error(), "line 1: header lacks required column(s) [cust_type]") {
		t.Fatalf("failures %v", f)
	}
}

func TestIngest_RerunLoadsNothingTwiceAndCorrectionReplaces(t *testing.T) {
	p := newProject(t, "")
	body := creditCustomerHeader + "\n" + customerRow("C1", "P", "a", "", "") + "\n" + customerRow("C2", "P", "b", "", "") + "\n"
	p.deliver("credit/customers_20261120.csv", []byte(body), 2)
	if _, err := p.ingest(); err != nil {
		t.Fatal(err)
	}
	rep, err := p.ingest()
	if err != nil {
		t.Fatal(err)
	}
	if rep.Count("loaded") != 0 || rep.Count("unchanged") != 1 {
		t.Fatalf("rerun: loaded %d unchanged %d", rep.Count("loaded"), rep.Count("unchanged"))
	}
	if n := p.count(`SELECT count(*) FROM raw.credit_customers`); n != 2 {
		t.Fatalf("%d rows after rerun, want 2", n)
	}
	corrected := creditCustomerHeader + "\n" + customerRow("C1", "P", "a2", "", "") + "\n" + customerRow("C2", "P", "b", "", "") + "\n" + customerRow("C3", "P", "c", "", "") + "\n"
	p.deliver("credit/customers_20261120.csv", []byte(corrected), 3)
	rep, err = p.ingest()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, replaced := rep.Totals(); replaced != 2 {
		t.Fatalf("correction replaced %d rows, want 2", replaced)
	}
	if n := p.count(`SELECT count(*) FROM raw.credit_customers`); n != 3 {
		t.Fatalf("%d rows after correction, want 3", n)
	}
	if n := p.count(`SELECT count(*) FROM raw.credit_customers WHERE name = 'a2'`); n != 1 {
		t.Fatal("corrected value not loaded")
	}
	if n := p.count(`SELECT count(*) FROM ops.loads WHERE status = 'superseded' AND superseded_by IS NOT NULL`); n != 1 {
		t.Fatal("first delivery not marked superseded")
	}
}

func TestIngest_ParquetWrongSchemaFailsTheFile(t *testing.T) {
	p := newProject(t, "")
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "trade_id", Type: arrow.BinaryTypes.String}, {Name: "client_id", Type: arrow.BinaryTypes.String},
		{Name: "product_code", Type: arrow.BinaryTypes.String}, {Name: "side", Type: arrow.BinaryTypes.String},
		{Name: "amount_cny", Type: arrow.PrimitiveTypes.Float64}, // money as float: refused
		{Name: "trade_time", Type: contract.TimestampType}, {Name: "channel", Type: arrow.BinaryTypes.String},
	}, nil)
	path := filepath.Join(p.dir, "feeds/wealth/trades/dt=2026-11-20/part-00000.parquet")
	writeParquet(t, path, schema, func(b *array.RecordBuilder) {
		b.Field(0).(*array.StringBuilder).Append("T1")
		b.Field(1).(*array.StringBuilder).Append("W1")
		b.Field(2).(*array.StringBuilder).Append("P1")
		b.Field(3).(*array.StringBuilder).Append("BUY")
		b.Field(4).(*array.Float64Builder).Append(1.5)
		b.Field(5).(*array.TimestampBuilder).Append(0)
		b.Field(6).(*array.StringBuilder).Append("APP")
	})
	data, _ := os.ReadFile(path)
	p.deliver("wealth/trades/dt=2026-11-20/part-00000.parquet", data, 1)
	rep, _ := p.ingest("wealth")
	if f := rep.Failed(); len(f) != 1 || !strings.Contains(f[0].Err.Error(), "column amount_cny is float64, the contract wants decimal(18,2)") {
		t.Fatalf("failures %v", f)
	}
	if n := p.count(`SELECT count(*) FROM raw.wealth_trades`); n != 0 {
		t.Fatalf("%d rows loaded", n)
	}
}

func writeParquet(t *testing.T, path string, schema *arrow.Schema, fill func(*array.RecordBuilder)) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := pqarrow.NewFileWriter(schema, f, nil, pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	fill(b)
	rec := b.NewRecordBatch()
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestIngest_ParquetRowChecksMatchTheTextFeeds(t *testing.T) {
	p := newProject(t, "")
	e, _ := contract.Lookup("wealth", "clients")
	var fields []arrow.Field
	for _, c := range e.Columns {
		fields = append(fields, arrow.Field{Name: c.Name, Type: c.ArrowType(), Nullable: true})
	}
	schema := arrow.NewSchema(fields, nil)
	path := filepath.Join(p.dir, "feeds/wealth/clients/dt=2026-11-20/part-00000.parquet")
	writeParquet(t, path, schema, func(b *array.RecordBuilder) {
		for _, row := range []struct{ id, name, risk string }{
			{"W1", "张伟", "C3"},     // ok
			{"", "李四", "C2"},       // empty required key
			{"W3", "王\xff五", "C1"}, // invalid UTF-8
			{"W4", "赵六", "C9"},     // outside the enum
			{"W5", "钱七", ""},       // empty optional value: loads
		} {
			for c, col := range e.Columns {
				switch col.Name {
				case "client_id":
					b.Field(c).(*array.StringBuilder).Append(row.id)
				case "name":
					b.Field(c).(*array.StringBuilder).Append(row.name)
				case "risk_level":
					if row.risk == "" {
						b.Field(c).AppendNull()
					} else {
						b.Field(c).(*array.StringBuilder).Append(row.risk)
					}
				default:
					b.Field(c).AppendNull()
				}
			}
		}
	})
	data, _ := os.ReadFile(path)
	p.deliver("wealth/clients/dt=2026-11-20/part-00000.parquet", data, 5)
	rep, err := p.ingest("wealth")
	if err != nil {
		t.Fatal(err)
	}
	if in, loaded, rejected, _ := rep.Totals(); in != 5 || loaded != 2 || rejected != 3 {
		t.Fatalf("%d in = %d loaded + %d rejected, want 5 = 2 + 3", in, loaded, rejected)
	}
	want := []reject{{2, contract.ReasonMissing}, {3, contract.ReasonEncoding}, {4, contract.ReasonEnum}}
	if got := p.rejects("wealth/clients/dt=2026-11-20/part-00000.parquet"); !reflect.DeepEqual(got, want) {
		t.Fatalf("rejects %v, want %v", got, want)
	}
}

func TestIngest_UntouchedFilesAreNotReadAgain(t *testing.T) {
	p := newProject(t, "")
	body := creditCustomerHeader + "\n" + customerRow("C1", "P", "a", "", "") + "\n"
	p.deliver("credit/customers_20261120.csv", []byte(body), 1)
	if _, err := p.ingest("credit"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(p.dir, "feeds/credit/customers_20261120.csv")
	st, _ := os.Stat(path)
	// Same size, same modification time, different bytes: taken as the file
	// already loaded, without reading it (the size+mtime shortcut).
	same := strings.Replace(body, ",a,", ",b,", 1)
	p.deliver("credit/customers_20261120.csv", []byte(same), 1)
	os.Chtimes(path, st.ModTime(), st.ModTime())
	rep, err := p.ingest("credit")
	if err != nil || rep.Count("unchanged") != 1 {
		t.Fatalf("untouched file: %v, unchanged %d", err, rep.Count("unchanged"))
	}
	// Touched: read again, and its new md5 makes it a correction.
	os.Chtimes(path, st.ModTime().Add(time.Second), st.ModTime().Add(time.Second))
	rep, err = p.ingest("credit")
	if err != nil || rep.Count("loaded") != 1 {
		t.Fatalf("touched file: %v, loaded %d", err, rep.Count("loaded"))
	}
	if n := p.count(`SELECT count(*) FROM raw.credit_customers WHERE name = 'b'`); n != 1 {
		t.Fatal("the touched file's new content was not loaded")
	}
}

// Hostile Parquet files, each class by its rule: timestamps in the
// nanoseconds pandas writes (with a zone or without) load, to the
// microsecond; a date or timestamp outside the years 1–9999 is a bad_date
// reject (not DuckDB's infinity); an identifier with an invisible
// character is an invisible_character reject; a file with two columns of
// one name fails whole.
func TestIngest_ParquetHostileFiles(t *testing.T) {
	p := newProject(t, "")
	nsUTC := &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}
	nsWall := &arrow.TimestampType{Unit: arrow.Nanosecond}
	schema := func(ts arrow.DataType, extra ...arrow.Field) *arrow.Schema {
		return arrow.NewSchema(append([]arrow.Field{
			{Name: "trade_id", Type: arrow.BinaryTypes.String}, {Name: "client_id", Type: arrow.BinaryTypes.String},
			{Name: "product_code", Type: arrow.BinaryTypes.String}, {Name: "side", Type: arrow.BinaryTypes.String},
			{Name: "amount_cny", Type: &arrow.Decimal128Type{Precision: 18, Scale: 2}}, {Name: "trade_time", Type: ts},
			{Name: "channel", Type: arrow.BinaryTypes.String},
		}, extra...), nil)
	}
	at := time.Date(2026, 11, 20, 9, 30, 0, 123456789, time.UTC)
	rows := []struct {
		id, client string
		ts         int64 // in the file's unit
	}{
		{"T1", "W1", at.UnixNano()},
		{"T2", "W1\u200b", at.UnixNano()}, // a zero-width space in the client id
	}
	fill := func(b *array.RecordBuilder) {
		for _, r := range rows {
			b.Field(0).(*array.StringBuilder).Append(r.id)
			b.Field(1).(*array.StringBuilder).Append(r.client)
			b.Field(2).(*array.StringBuilder).Append("P1")
			b.Field(3).(*array.StringBuilder).Append("BUY")
			b.Field(4).(*array.Decimal128Builder).Append(decimal128.FromI64(150))
			b.Field(5).(*array.TimestampBuilder).Append(arrow.Timestamp(r.ts))
			b.Field(6).(*array.StringBuilder).Append("APP")
		}
	}
	deliverParquet := func(rel string, s *arrow.Schema, fill func(*array.RecordBuilder)) {
		path := filepath.Join(p.dir, "feeds/wealth", rel)
		writeParquet(t, path, s, fill)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		p.deliver("wealth/"+rel, data, len(rows))
	}
	deliverParquet("trades/dt=2026-11-20/part-00000.parquet", schema(nsUTC), fill)
	deliverParquet("trades/dt=2026-11-20/part-00001.parquet", schema(nsWall), fill)
	if rep, err := p.ingest("wealth"); err != nil || len(rep.Failed()) > 0 {
		t.Fatalf("%v %+v", err, rep.Failed())
	}
	if n := p.count(`SELECT count(*) FROM raw.wealth_trades WHERE trade_id = 'T1' AND trade_time = TIMESTAMPTZ '2026-11-20 09:30:00.123456+00'`); n != 1 {
		t.Errorf("%d T1 rows at the microsecond in UTC, want 1 (the zoned file)", n)
	}
	if n := p.count(`SELECT count(*) FROM raw.wealth_trades WHERE trade_id = 'T1' AND trade_time = TIMESTAMPTZ '2026-11-20 09:30:00.123456+08'`); n != 1 {
		t.Errorf("%d T1 rows at the microsecond in China time, want 1 (the wall-clock file)", n)
	}
	got := p.rejects("wealth/trades/dt=2026-11-20/part-00000.parquet")
	if len(got) != 1 || got[0] != (reject{2, contract.ReasonInvisible}) {
		t.Errorf("rejects %v, want line 2 invisible_character", got)
	}
	// Milliseconds reach past the year 9999.
	rows[0].ts = at.UnixMilli()
	rows[1].client, rows[1].ts = "W1", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	deliverParquet("trades/dt=2026-11-20/part-00002.parquet", schema(&arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}), fill)
	if rep, err := p.ingest("wealth"); err != nil || len(rep.Failed()) > 0 {
		t.Fatalf("%v %+v", err, rep.Failed())
	}
	if got := p.rejects("wealth/trades/dt=2026-11-20/part-00002.parquet"); !reflect.DeepEqual(got, []reject{{2, contract.ReasonDate}}) {
		t.Errorf("rejects %v, want line 2 bad_date", got)
	}

	// Dates: Parquet can say day 2147483647, which DuckDB reads as infinity.
	e, _ := contract.Lookup("wealth", "holdings")
	var fields []arrow.Field
	for _, c := range e.Columns {
		fields = append(fields, arrow.Field{Name: c.Name, Type: c.ArrowType(), Nullable: true})
	}
	hs := arrow.NewSchema(fields, nil)
	days := []arrow.Date32{arrow.Date32FromTime(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)), math.MaxInt32, math.MinInt32 + 1, -719162} // the last is 0001-01-01
	path := filepath.Join(p.dir, "feeds/wealth/holdings/dt=2026-11-20/part-00000.parquet")
	writeParquet(t, path, hs, func(b *array.RecordBuilder) {
		for i, d := range days {
			for ci, c := range e.Columns {
				switch c.Name {
				case "client_id":
					b.Field(ci).(*array.StringBuilder).Append(fmt.Sprintf("W%d", i))
				case "product_code":
					b.Field(ci).(*array.StringBuilder).Append("P1")
				case "product_type":
					b.Field(ci).(*array.StringBuilder).Append("FUND")
				case "currency":
					b.Field(ci).(*array.StringBuilder).Append("CNY")
				case "amount_cny":
					b.Field(ci).(*array.Decimal128Builder).Append(decimal128.FromI64(100))
				case "as_of_date":
					b.Field(ci).(*array.Date32Builder).Append(d)
				default:
					b.Field(ci).AppendNull()
				}
			}
		}
	})
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p.deliver("wealth/holdings/dt=2026-11-20/part-00000.parquet", data, len(days))
	if rep, err := p.ingest("wealth"); err != nil || len(rep.Failed()) > 0 {
		t.Fatalf("%v %+v", err, rep.Failed())
	}
	if got := p.rejects("wealth/holdings/dt=2026-11-20/part-00000.parquet"); !reflect.DeepEqual(got, []reject{{2, contract.ReasonDate}, {3, contract.ReasonDate}}) {
		t.Errorf("holdings rejects %v, want lines 2 and 3 bad_date", got)
	}
	if n := p.count(`SELECT count(*) FROM raw.wealth_holdings WHERE isinf(as_of_date)`); n != 0 {
		t.Errorf("%d infinite dates loaded", n)
	}

	// Two columns of one name: which is meant cannot be known.
	dup := schema(contract.TimestampType, arrow.Field{Name: "client_id", Type: arrow.BinaryTypes.String})
	deliverParquet("trades/dt=2026-11-21/part-00000.parquet", dup, func(b *array.RecordBuilder) {
		fill(b)
		for range rows {
			b.Field(7).(*array.StringBuilder).Append("W9")
		}
	})
	rep, _ := p.ingest("wealth")
	if f := rep.Failed(); len(f) != 1 || !strings.Contains(f[0].Err.Error(), "columns 2 and 8 are both named client_id") {
		t.Fatalf("a duplicated column name: %+v", f)
	}
}

// The same rules in the text formats and JSON lines: an identifier with an
// invisible character is an invisible_character reject in a GBK CSV, a
// delimited file and JSON lines alike; JSON number literals and escapes
// JSON does not allow, and a key given twice, are malformed rows.
func TestIngest_HostileTextAndJSON(t *testing.T) {
	p := newProject(t, "")
	csv := gb18030(t, creditCustomerHeader+"\n"+customerRow("C001", "P", "张伟", "", "")+"\n"+customerRow("C002\u200b", "P", "李四", "", "")+"\n"+
		strings.Replace(customerRow("C003", "P", "王五", "", ""), "110101199003074578", "\ufeff110101199003074578", 1)+"\n")
	p.deliver("credit/customers_20261120.csv", csv, 3)
	del := "holder_id|name|id_type|id_no|mobile|birth_date|employer|annual_income\nH1|张伟|ID_CARD|110101199003074578|13800138000|1990-03-07||\nH2|李四|ID_CARD|110101199003074578|138\u00a000138000|1990-03-07||\n"
	p.deliver("card/holders_20261120.del", []byte(del), 2)
	jsonl := strings.Join([]string{
		`{"user_id":"U1","user_type":"PERSONAL"}`,
		`{"user_id":"U2\u200b","user_type":"PERSONAL"}`, // an escaped zero-width space: still invisible
		`{"user_id":"U3","user_type":"PERSONAL","age":042}`,
		`{"user_id":"U4","user_type":"PERSONAL","note":"\x41"}`,
		`{"user_id":"U5","user_type":"PERSONAL","user_type":"CORPORATE"}`,
	}, "\n") + "\n"
	p.deliver("ebank/users_20261120.jsonl", []byte(jsonl), 5)
	if rep, err := p.ingest("credit", "card", "ebank"); err != nil || len(rep.Failed()) > 0 {
		t.Fatalf("%v %+v", err, rep)
	}
	for source, want := range map[string][]reject{
		"credit/customers_20261120.csv": {{3, contract.ReasonInvisible}, {4, contract.ReasonInvisible}},
		"card/holders_20261120.del":     {{3, contract.ReasonInvisible}},
		"ebank/users_20261120.jsonl":    {{2, contract.ReasonInvisible}, {3, contract.ReasonMalformed}, {4, contract.ReasonMalformed}, {5, contract.ReasonMalformed}},
	} {
		if got := p.rejects(source); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: rejects %v, want %v", source, got, want)
		}
	}
}

// gb18030 encodes s as GB18030, which (unlike GBK) has every character,
// the invisible ones included.
func gb18030(t *testing.T, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A Parquet file whose columns carry the bank's own names loads through a
// mapping that renames them; a Parquet mapping can only rename.
func TestIngest_ParquetRenamedColumns(t *testing.T) {
	p := newProject(t, "")
	cfg := filepath.Join(p.dir, "cdp.yaml")
	yaml, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mapped := "  - name: wealth\n    kind: files\n    path: feeds/wealth\n    mapping:\n      trades:\n        columns: {trade_id: 流水号, client_id: 客户编号, amount_cny: 金额}\n"
	yaml = []byte(strings.Replace(string(yaml), "  - {name: wealth, kind: files, path: feeds/wealth, format: parquet}\n", mapped, 1))
	if err := os.WriteFile(cfg, yaml, 0o644); err != nil {
		t.Fatal(err)
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "流水号", Type: arrow.BinaryTypes.String}, {Name: "客户编号", Type: arrow.BinaryTypes.String},
		{Name: "product_code", Type: arrow.BinaryTypes.String}, {Name: "side", Type: arrow.BinaryTypes.String},
		{Name: "金额", Type: &arrow.Decimal128Type{Precision: 18, Scale: 2}}, {Name: "trade_time", Type: contract.TimestampType},
		{Name: "channel", Type: arrow.BinaryTypes.String},
	}, nil)
	path := filepath.Join(p.dir, "feeds/wealth/trades/dt=2026-11-20/part-00000.parquet")
	writeParquet(t, path, schema, func(b *array.RecordBuilder) {
		b.Field(0).(*array.StringBuilder).Append("T1")
		b.Field(1).(*array.StringBuilder).Append("W1")
		b.Field(2).(*array.StringBuilder).Append("P1")
		b.Field(3).(*array.StringBuilder).Append("BUY")
		b.Field(4).(*array.Decimal128Builder).Append(decimal128.FromI64(150))
		b.Field(5).(*array.TimestampBuilder).Append(0)
		b.Field(6).(*array.StringBuilder).Append("APP")
	})
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p.deliver("wealth/trades/dt=2026-11-20/part-00000.parquet", data, 1)
	if rep, err := p.ingest("wealth"); err != nil || len(rep.Failed()) > 0 {
		t.Fatalf("%v %+v", err, rep)
	}
	if n := p.count(`SELECT count(*) FROM raw.wealth_trades WHERE trade_id = 'T1' AND client_id = 'W1' AND amount_cny = 1.50 AND _extra IS NULL`); n != 1 {
		t.Fatalf("%d renamed rows", n)
	}
	bad := strings.Replace(string(yaml), "amount_cny: 金额}", "amount_cny: {from: 金额, thousands: \",\"}}", 1)
	if _, err := ParseProject(cfg, []byte(bad)); err == nil || !strings.Contains(err.Error(), "parquet columns are typed: a mapping can only rename them") {
		t.Fatalf("a parquet mapping that does more than rename: %v", err)
	}
}

// A row repeating its entity's key within one file is rejected as
// duplicate_key naming where the kept copy came from (the first); a daily
// snapshot repeating yesterday's keys is not a duplicate; a composite key
// counts only when every part repeats, and a row missing part of its key
// is no one's duplicate.
func TestIngest_RowsRepeatingTheirKeyInOneFileAreRejected(t *testing.T) {
	p := newProject(t, "")
	day1 := creditCustomerHeader + "\n" + customerRow("C1", "P", "a", "", "") + "\n" + customerRow("C2", "P", "b", "", "") + "\n" +
		customerRow("C1", "P", "a again", "", "") + "\n"
	p.deliver("credit/customers_20261119.csv", []byte(day1), 3)
	p.deliver("credit/customers_20261120.csv", []byte(creditCustomerHeader+"\n"+customerRow("C1", "P", "a", "", "")+"\n"), 1)
	const repHeader = "loan_no,due_date,paid_date,principal_due,principal_paid,interest_paid\n"
	reps := repHeader + "L1,2026-11-20,,100.00,0.00,0.00\n" + "L1,2026-12-20,,100.00,0.00,0.00\n" +
		"L1,2026-11-20,2026-11-20,100.00,100.00,1.00\n" + "L2,,,100.00,0.00,0.00\n" + "L2,,,100.00,0.00,0.00\n"
	p.deliver("credit/repayments_20261120.csv", []byte(reps), 5)
	rep, err := p.ingest("credit")
	if err != nil {
		p.query(func(w *warehouse.Warehouse) {
			for scan := range sqltest.Rows(t, w.DB(), `SELECT source, coalesce(error, '') FROM ops.loads WHERE status <> 'loaded'`) {
				var src, e string
				scan(&src, &e)
				t.Log(src, e)
			}
		})
		t.Fatal(err)
	}
	if in, loaded, rejected, _ := rep.Totals(); in != 9 || loaded != 5 || rejected != 4 {
		t.Fatalf("rows in %d = loaded %d + rejected %d; want 9 = 5 + 4 (two duplicates, two rows missing due_date)", in, loaded, rejected)
	}
	if got, want := p.rejects("credit/customers_20261119.csv"), []reject{{4, contract.ReasonDuplicate}}; !reflect.DeepEqual(got, want) {
		t.Errorf("customers rejects %v, want %v", got, want)
	}
	if got := p.rejects("credit/customers_20261120.csv"); len(got) != 0 {
		t.Errorf("the next day's snapshot of the same key: rejects %v, want none", got)
	}
	if got, want := p.rejects("credit/repayments_20261120.csv"), []reject{{4, contract.ReasonDuplicate}, {5, contract.ReasonMissing}, {6, contract.ReasonMissing}}; !reflect.DeepEqual(got, want) {
		t.Errorf("repayments rejects %v, want %v", got, want)
	}
	var detail string
	p.query(func(w *warehouse.Warehouse) {
		sqltest.Row(t, w.DB(), `SELECT detail FROM ops.rejects WHERE position = 'credit/repayments_20261120.csv:4'`).Scan(&detail)
	})
	if detail != "key {'loan_no': L1, 'due_date': 2026-11-20} already loaded from credit/repayments_20261120.csv:2" {
		t.Errorf("duplicate detail %q", detail)
	}
	if n := p.count(`SELECT count(*) FROM raw.credit_customers WHERE cust_no = 'C1' AND name = 'a again'`); n != 0 {
		t.Error("the repeated copy was loaded")
	}
	if n := p.count(`SELECT count(*) FROM ops.loads WHERE status = 'loaded' AND rows_in <> rows_loaded + rows_rejected`); n != 0 {
		t.Errorf("%d loads out of balance", n)
	}
}
