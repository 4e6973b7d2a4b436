package signals

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"cdp/decl"
	"cdp/warehouse"
)

// EvalTable is where Eval leaves the hits it found.
const EvalTable = warehouse.ScratchSchema + "." + evalName

const evalName = "signal_hits"

// EvalOptions say which day to look at and which rules.
type EvalOptions struct {
	AsOf  time.Time // required
	Rules []string  // only these ids; nil: every rule
	// AllowPII lets ID numbers and mobiles into reasons and evidence, as in
	// Run.
	AllowPII bool
	Logger   *slog.Logger
}

// EvalRule is one rule's hits on the day, against the run of that day.
type EvalRule struct {
	ID    string `json:"rule_id"`
	Kind  string `json:"kind"`
	Reads string `json:"reads"`
	Hits  int64  `json:"hits"`
	// Recorded is how many parties the run of the day found; Differ how
	// many parties are found by one and not the other, or with another
	// score (a dated rule: none).
	Recorded int64 `json:"recorded"`
	Differ   int64 `json:"differ"`
}

// EvalSummary is what Eval found.
type EvalSummary struct {
	AsOf string `json:"as_of"`
	// Described says whether a signal run ran as of this very day: only
	// then is there a recorded set of hits to compare with.
	Described bool       `json:"described"`
	Table     string     `json:"table"`
	Rules     []EvalRule `json:"rules"`
	Seconds   float64    `json:"seconds"`
}

// Eval evaluates rules as of a day, any day, without a lifecycle: the hits
// go to scratch.signal_hits (replacing what an earlier Eval left there),
// never to mart.signals, the decision log or the outbox. Each rule is
// compared with the hits the run of that day decided on: a dated rule finds
// exactly those parties with those scores; a current rule reads today's
// state.
func Eval(ctx context.Context, w *warehouse.Warehouse, rules *Rules, o EvalOptions) (*EvalSummary, error) {
	if o.AsOf.IsZero() {
		return nil, fmt.Errorf("signals eval: which day? (an as-of date is required)")
	}
	start := time.Now()
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	day := o.AsOf.Format(time.DateOnly)
	chosen, err := decl.Pick(rules.Rules, o.Rules, "rule")
	if err != nil {
		return nil, fmt.Errorf("signals eval: %w", err)
	}
	conn, err := w.DB().Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var hits []hit
	for _, r := range chosen {
		hs, err := evaluate(ctx, conn, r, day, o.AllowPII)
		if err != nil {
			return nil, fmt.Errorf("signals eval: %w", err)
		}
		hits = append(hits, hs...)
	}
	err = warehouse.InTx(ctx, conn, func() error {
		if _, err := warehouse.ReplaceScratch(ctx, conn, evalName, `rule_id VARCHAR, kind VARCHAR, party_id VARCHAR, score DOUBLE,
			reason VARCHAR, evidence JSON, as_of DATE, reads VARCHAR`); err != nil {
			return err
		}
		rows := make([][]any, len(hits))
		for i, h := range hits {
			rows[i] = []any{h.rule.ID, h.rule.Kind, h.party, h.score, h.reason, h.evidence, day, h.rule.Reads}
		}
		return warehouse.InsertRows(ctx, conn, EvalTable, rows)
	})
	if err != nil {
		return nil, fmt.Errorf("signals eval: %s: %w", EvalTable, err)
	}
	sum := &EvalSummary{AsOf: day, Table: EvalTable}
	if err := conn.QueryRowContext(ctx, `SELECT count(*) > 0 FROM ops.signal_runs WHERE as_of = CAST(? AS DATE)`, day).Scan(&sum.Described); err != nil {
		return nil, fmt.Errorf("ops.signal_runs: %w", err)
	}
	lit := warehouse.Literal
	ids := make([]string, len(chosen))
	for i, r := range chosen {
		ids[i] = r.ID
	}
	// The run's hits: every decision about a rule firing (not the closing
	// or expiry of a signal whose rule stopped firing).
	q := `WITH ` + warehouse.ValuesOf("chosen", "rule_id", ids...) + `,
		rec AS (SELECT rule_id, party_id, score FROM mart.signal_decisions
		        WHERE as_of = DATE ` + lit(day) + ` AND decision NOT IN ('closed', 'expired') AND rule_id IN (SELECT rule_id FROM chosen)),
		ev AS (SELECT rule_id, party_id, score FROM ` + EvalTable + `),
		diff AS (
		    SELECT coalesce(r.rule_id, e.rule_id) AS rule_id, count(*) AS n
		    FROM rec r FULL JOIN ev e ON r.rule_id = e.rule_id AND r.party_id = e.party_id
		    WHERE r.score IS DISTINCT FROM e.score GROUP BY ALL)
		SELECT c.rule_id, (SELECT count(*) FROM ev WHERE ev.rule_id = c.rule_id), (SELECT count(*) FROM rec WHERE rec.rule_id = c.rule_id),
		       coalesce(d.n, 0)
		FROM chosen c LEFT JOIN diff d USING (rule_id)`
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("signals eval: %w", err)
	}
	defer rows.Close()
	found := map[string]EvalRule{}
	for rows.Next() {
		var e EvalRule
		if err := rows.Scan(&e.ID, &e.Hits, &e.Recorded, &e.Differ); err != nil {
			return nil, fmt.Errorf("signals eval: %w", err)
		}
		found[e.ID] = e
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("signals eval: %w", err)
	}
	for _, r := range chosen {
		e := found[r.ID]
		e.Kind, e.Reads = r.Kind, r.Reads
		if !sum.Described {
			e.Differ = 0 // nothing recorded to differ from
		}
		sum.Rules = append(sum.Rules, e)
	}
	sum.Seconds = time.Since(start).Seconds()
	log.Info("signals evaluated", "as_of", day, "rules", len(chosen), "hits", len(hits), "table", EvalTable, "seconds", sum.Seconds)
	return sum, nil
}
