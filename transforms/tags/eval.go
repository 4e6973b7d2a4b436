package tags

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"cdp/decl"
	"cdp/warehouse"
)

// EvalTable is where Eval leaves the values it computed.
const EvalTable = warehouse.ScratchSchema + "." + evalName

const evalName = "tag_values"

// EvalOptions say which day to look at and which tags.
type EvalOptions struct {
	AsOf   time.Time // required
	Tags   []string  // only these ids; nil: the whole catalog
	Logger *slog.Logger
}

// EvalTag is one tag's values as of the day, against the history.
type EvalTag struct {
	ID      string `json:"tag_id"`
	Reads   string `json:"reads"`
	Parties int64  `json:"parties"` // with a value
	Top     string `json:"top_value,omitempty"`
	TopN    int64  `json:"top_value_parties,omitempty"`
	// Recorded is how many parties the history gives a value on the day;
	// Differ how many parties the runs had described by then whose value
	// here is not the one recorded (a dated tag: none).
	Recorded int64 `json:"recorded"`
	Differ   int64 `json:"differ"`
}

// EvalSummary is what Eval found.
type EvalSummary struct {
	AsOf string `json:"as_of"`
	// Described says whether a tag run had described this day or a later
	// one: only then is there a recorded value to compare with.
	Described bool      `json:"described"`
	Table     string    `json:"table"`
	Tags      []EvalTag `json:"tags"`
	Seconds   float64   `json:"seconds"`
}

// Eval computes tags as of a day, any day, without touching their history:
// the values go to scratch.tag_values (replacing what an earlier Eval left
// there), never to mart.tags, mart.tag_history or the outbox. Each tag is
// compared with the value the history records for the day. A dated tag
// gives exactly the recorded values for the parties the runs had described
// by then (a party created later has no recorded value); a current tag
// shows the current state.
func Eval(ctx context.Context, w *warehouse.Warehouse, cat *Catalog, o EvalOptions) (*EvalSummary, error) {
	if o.AsOf.IsZero() {
		return nil, fmt.Errorf("tags eval: which day? (an as-of date is required)")
	}
	start := time.Now()
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	day := o.AsOf.Format(time.DateOnly)
	chosen, err := decl.Pick(cat.Tags, o.Tags, "tag")
	if err != nil {
		return nil, fmt.Errorf("tags eval: %w in the catalog", err)
	}
	conn, err := w.DB().Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	sum := &EvalSummary{AsOf: day, Table: EvalTable}
	lit := warehouse.Literal
	err = warehouse.InTx(ctx, conn, func() error {
		if _, err := warehouse.ReplaceScratch(ctx, conn, evalName, `party_id VARCHAR, tag_id VARCHAR, value VARCHAR, as_of DATE, reads VARCHAR`); err != nil {
			return err
		}
		for _, t := range chosen {
			query, err := t.Query(day)
			if err != nil {
				return fmt.Errorf("%s:%d: %s: %w", t.File, t.SQLLine, t.ID, err)
			}
			if _, err := conn.ExecContext(ctx, `INSERT INTO `+EvalTable+` SELECT party_id, `+lit(t.ID)+`, CAST(value AS VARCHAR), DATE `+
				lit(day)+`, `+lit(t.Reads)+` FROM (`+query+`) WHERE party_id IS NOT NULL`); err != nil {
				return fmt.Errorf("%s:%d: %s: %w", t.File, t.SQLLine, t.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("tags eval: %w", err)
	}
	var last *string
	if err := conn.QueryRowContext(ctx, `SELECT CAST(max(as_of) AS VARCHAR) FROM ops.tag_runs`).Scan(&last); err != nil {
		return nil, fmt.Errorf("ops.tag_runs: %w", err)
	}
	sum.Described = last != nil && *last >= day
	// Per tag: values, the most common one, and the comparison with the
	// history over the parties described by the day.
	ids := make([]string, len(chosen))
	for i, t := range chosen {
		ids[i] = t.ID
	}
	rows, err := conn.QueryContext(ctx, `
		WITH `+warehouse.ValuesOf("chosen", "tag_id", ids...)+`,
		known AS (SELECT DISTINCT party_id FROM mart.tag_history WHERE valid_from <= DATE `+lit(day)+`),
		rec AS (SELECT party_id, tag_id, value FROM mart.tag_history
		        WHERE valid_from <= DATE `+lit(day)+` AND (valid_to IS NULL OR valid_to > DATE `+lit(day)+`)
		          AND tag_id IN (SELECT tag_id FROM chosen)),
		ev AS (SELECT party_id, tag_id, value FROM `+EvalTable+`),
		diff AS (
		    SELECT coalesce(r.tag_id, e.tag_id) AS tag_id, count(*) AS n
		    FROM rec r FULL JOIN ev e ON r.party_id = e.party_id AND r.tag_id = e.tag_id
		    WHERE r.value IS DISTINCT FROM e.value AND coalesce(r.party_id, e.party_id) IN (SELECT party_id FROM known)
		    GROUP BY ALL),
		top AS (
		    SELECT tag_id, count(*) AS parties, arg_max(value, n ORDER BY n, value) AS top, max(n) AS top_n
		    FROM (SELECT tag_id, value, count(*) OVER (PARTITION BY tag_id, value) AS n FROM ev) GROUP BY tag_id)
		SELECT c.tag_id, coalesce(t.parties, 0), coalesce(t.top, ''), coalesce(t.top_n, 0),
		       (SELECT count(*) FROM rec WHERE rec.tag_id = c.tag_id), coalesce(d.n, 0)
		FROM chosen c LEFT JOIN top t USING (tag_id) LEFT JOIN diff d USING (tag_id)`)
	if err != nil {
		return nil, fmt.Errorf("tags eval: %w", err)
	}
	defer rows.Close()
	found := map[string]EvalTag{}
	for rows.Next() {
		var e EvalTag
		if err := rows.Scan(&e.ID, &e.Parties, &e.Top, &e.TopN, &e.Recorded, &e.Differ); err != nil {
			return nil, fmt.Errorf("tags eval: %w", err)
		}
		found[e.ID] = e
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tags eval: %w", err)
	}
	for _, t := range chosen {
		e := found[t.ID]
		e.Reads = t.Reads
		if !sum.Described {
			e.Differ = 0 // no run described the day: nothing recorded to differ from
		}
		sum.Tags = append(sum.Tags, e)
	}
	sum.Seconds = time.Since(start).Seconds()
	log.Info("tags evaluated", "as_of", day, "tags", len(chosen), "table", EvalTable, "seconds", sum.Seconds)
	return sum, nil
}
