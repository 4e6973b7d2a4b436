package pgserve_test

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"cdp/serve/pgserve"
)

// pgx speaks the extended protocol (Parse, Describe, Bind, Execute) and
// asks for binary results, as JDBC and most BI drivers do.
func pgxConnect(t *testing.T, e *endpoint) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), "postgres://analyst:"+analystPassword+"@127.0.0.1:"+e.port+"/cdp?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestServe_ExtendedProtocolWithParametersAndBinaryResults(t *testing.T) {
	e := serve(t, pgserve.Options{}, true)
	conn := pgxConnect(t, e)
	ctx := context.Background()

	var id, masked string
	var aum pgtype.Numeric
	var updated time.Time
	err := conn.QueryRow(ctx, `SELECT party_id, id_no_masked, aum, updated_at FROM mart.customer_360 WHERE party_id = $1 AND aum > $2`,
		"P03", 1000).Scan(&id, &masked, &aum, &updated)
	if err != nil {
		t.Fatal(err)
	}
	if id != "P03" || masked != "110105********0003" || !updated.Equal(time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)) {
		t.Errorf("got %s %s %v", id, masked, updated)
	}
	if f, _ := aum.Float64Value(); f.Float64 != 1003.5 {
		t.Errorf("aum %v", f)
	}

	var (
		b     bool
		i2    int16
		i4    int32
		i8    int64
		huge  pgtype.Numeric
		f4    float32
		f8    float64
		day   time.Time
		ts    time.Time
		clock pgtype.Time
		span  pgtype.Interval
		blob  []byte
		uuid  pgtype.UUID
		list  string
		null  *int32
	)
	err = conn.QueryRow(ctx, `SELECT true, 7::TINYINT, 70000, 9000000000, 170141183460469231731687303715884105727::HUGEINT,
		1.5::FLOAT, 0.1::DOUBLE, DATE '2026-11-20', TIMESTAMP '2026-11-20 10:20:30.123456', TIME '10:20:30.5',
		INTERVAL '1 year 2 days 03:04:05', '\xAB'::BLOB, '6ba7b810-9dad-11d1-80b4-00c04fd430c8'::UUID, [1, 2], NULL::INTEGER`).
		Scan(&b, &i2, &i4, &i8, &huge, &f4, &f8, &day, &ts, &clock, &span, &blob, &uuid, &list, &null)
	if err != nil {
		t.Fatal(err)
	}
	wantHuge, _ := new(big.Int).SetString("170141183460469231731687303715884105727", 10)
	switch {
	case !b || i2 != 7 || i4 != 70000 || i8 != 9000000000 || huge.Int.Cmp(wantHuge) != 0 || huge.Exp != 0:
		t.Errorf("numbers: %v %d %d %d %v", b, i2, i4, i8, huge)
	case f4 != 1.5 || f8 != 0.1:
		t.Errorf("floats: %v %v", f4, f8)
	case day.Format(time.DateOnly) != "2026-11-20" || ts.Format(time.DateTime+".000000") != "2026-11-20 10:20:30.123456":
		t.Errorf("date %v, timestamp %v", day, ts)
	case clock.Microseconds != 37230500000 || span.Months != 12 || span.Days != 2 || span.Microseconds != 11045000000:
		t.Errorf("time %+v, interval %+v", clock, span)
	case len(blob) != 1 || blob[0] != 0xab || list != "[1,2]" || null != nil:
		t.Errorf("blob %x, list %q, null %v", blob, list, null)
	}
	if u, _ := uuid.Value(); u != "6ba7b810-9dad-11d1-80b4-00c04fd430c8" {
		t.Errorf("uuid %v", u)
	}

	// Refusals read the same as in the simple protocol.
	_, err = conn.Exec(ctx, `DELETE FROM mart.customer_360 WHERE party_id = $1`, "P01")
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "25006" || !strings.Contains(pgErr.Message, "read-only: DELETE is not allowed") {
		t.Errorf("DELETE: %v", err)
	}
	// A transaction is accepted, and the connection is usable after an error.
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM mart.customer_360`).Scan(&n); err != nil || n != 20 {
		t.Errorf("in a transaction: %d, %v", n, err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Error(err)
	}
}

// A statement prepared on one snapshot runs on the next one published.
func TestServe_PreparedStatementOutlivesASnapshot(t *testing.T) {
	e := serve(t, pgserve.Options{}, true)
	conn := pgxConnect(t, e)
	ctx := context.Background()
	if _, err := conn.Prepare(ctx, "count", `SELECT count(*) FROM mart.customer_360 WHERE party_id LIKE $1`); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		t.Helper()
		var n int
		if err := conn.QueryRow(ctx, "count", "%").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 20 {
		t.Fatalf("%d rows", n)
	}
	if _, err := e.w.DB().Exec(`INSERT INTO mart.customer_360 (party_id) VALUES ('N1'), ('N2')`); err != nil {
		t.Fatal(err)
	}
	e.publish(pgserve.RoleAnalyst)
	if n := count(); n != 22 {
		t.Errorf("after publishing: %d rows, want 22", n)
	}
}
