package identity

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"cdp/transforms/identity/match"
	"cdp/warehouse"
)

type writeSet struct {
	runID     string
	full      bool
	maxLoad   int64
	cfg       Config
	recs      []*record
	res       *match.Result
	ids       idPlan
	links     []match.Edge
	prev      *state
	sum       *Summary
	modelJSON []byte
	start     time.Time
}

// write replaces the identity tables and appends the ledgers in one
// transaction.
func write(ctx context.Context, conn *sql.Conn, ws writeSet) error {
	if err := warehouse.InTx(ctx, conn, func() error { return writeAll(ctx, conn, ws) }); err != nil {
		return fmt.Errorf("unify: %w", err)
	}
	return nil
}

func writeAll(ctx context.Context, conn *sql.Conn, ws writeSet) (err error) {
	recs, res := ws.recs, ws.res
	// A full run replaces everything; an incremental one the records and
	// parties it looked at (whole parties, see loadContext).
	clear := []string{"DELETE FROM core.party_xref", "DELETE FROM core.party", "DELETE FROM core.party_link"}
	if !ws.full {
		refs := newSink("cdp_unify_refs", str("system"), str("source_key"))
		for _, r := range recs {
			refs.row(r.system, r.key)
		}
		if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE cdp_unify_refs (system VARCHAR, source_key VARCHAR)`); err != nil {
			return err
		}
		if err := refs.flush(ctx, conn); err != nil {
			return err
		}
		clear = []string{
			// The mobiles these records had, for the shared-mobile groups.
			`CREATE OR REPLACE TEMP TABLE cdp_unify_mobiles AS SELECT DISTINCT x.mobile FROM core.party_xref x
				JOIN cdp_unify_refs r USING (system, source_key) WHERE x.party_type = 'P' AND x.mobile_valid`,
			`DELETE FROM core.party_xref x USING cdp_unify_refs r WHERE x.system = r.system AND x.source_key = r.source_key`,
			`DELETE FROM core.party WHERE party_id IN (SELECT party_id FROM cdp_unify_parties)`,
			`DELETE FROM core.party_link l USING cdp_unify_refs r WHERE l.a_system = r.system AND l.a_key = r.source_key`,
			`DELETE FROM core.party_link l USING cdp_unify_refs r WHERE l.b_system = r.system AND l.b_key = r.source_key`,
		}
	}
	for _, q := range clear {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("unify: %s: %w", q, err)
		}
	}

	xref := newSink("core.party_xref", str("system"), str("source_key"), str("party_id"), str("party_type"),
		str("rule"), f64("score"), str("matched_to"), str("name"), str("id_no"), boolean("id_valid"),
		str("id_problem"), str("birth_date"), str("mobile"), str("match_key"), boolean("mobile_valid"),
		str("id_type"), str("legal_rep_id"), str("industry_code"), str("annual_revenue"), str("legal_rep_name"),
		str("employer"), str("annual_income"), str("risk_level"), str("segment"), str("rm_id"), str("branch_code"),
		u64("record_hash"), str("business_date"), i64("load_id"), str("updated_run")).streamTo(ctx, conn)
	for i, r := range recs {
		pid := ws.ids.partyOf[res.Cluster[i]]
		via := res.Via[i]
		rule, matched := "alone", ""
		switch {
		case via.ByKey && r.ptype == "P":
			rule = "resident_id"
		case via.ByKey:
			rule = "credit_code"
		case via.Prob > 0:
			rule = "probabilistic"
		}
		if via.Prob > 0 {
			other := via.A
			if int(other) == i {
				other = via.B
			}
			matched = recs[other].ref()
		}
		ws.sum.ByRule[rule]++
		updated := ws.runID
		if p, ok := ws.prev.lookup(i, r); ok && p.party == pid && p.hash == r.hash && p.updated != "" {
			updated = p.updated
		}
		xref.row(r.system, r.key, pid, r.ptype, rule, via.Prob, matched, r.nName(), r.nID(), r.idValid,
			r.idProblem(), r.nBirth(), r.nMobile(), r.matchKey(), r.mobileValid, r.idType, r.legalRepKey, r.industry,
			r.revenue, r.legalRepName, r.employer, r.income, r.riskLevel, r.segment, r.rmID, r.branch,
			r.hash, r.bizDate, r.loadID, updated)
	}
	if err := xref.flush(ctx, conn); err != nil {
		return err
	}

	pt := newSink("core.party", str("party_id"), str("party_type"), str("name"), str("id_type"), str("id_no"),
		boolean("id_valid"), str("birth_date"), str("gender"), str("mobile"), str("industry_code"),
		str("annual_revenue"), str("legal_rep_name"), str("employer"), str("annual_income"), str("risk_level"),
		str("segment"), str("rm_id"), str("branch_code"), strList("systems"), i64("source_records"),
		str("name_source"), str("id_source"), str("birth_source"), str("mobile_source"), u64("fingerprint"),
		str("created_run"), str("updated_run")).streamTo(ctx, conn)
	changed := 0
	err = goldenRecords(recs, res.Cluster, ws.ids.partyOf, ws.cfg, func(p *party) error {
		created, updated := ws.runID, ws.runID
		if old, ok := ws.prev.partyRows[p.id]; ok {
			created = old.createdRun
			if old.fingerprint == p.fingerprint {
				updated = old.update
			}
		}
		if updated == ws.runID {
			changed++
		}
		pt.row(p.id, p.ptype, p.name, p.idType, p.idNo, p.idValid, p.birth, p.gender, p.mobile, p.industry,
			p.revenue, p.legalRepName, p.employer, p.income, p.riskLevel, p.segment, p.rmID, p.br, p.systems,
			len(p.members), p.nameSrc, p.idSrc, p.birthSrc, p.mobileSrc, p.fingerprint, created, updated)
		return pt.err // (a failed insert stops the golden records)
	})
	ws.sum.ChangedParties = changed
	if err := pt.flush(ctx, conn); err != nil {
		return err
	}
	if err != nil {
		return err
	}

	lk := newSink("core.party_link", str("a_system"), str("a_key"), str("b_system"), str("b_key"),
		f64("probability"), str("a_party_id"), str("b_party_id"), str("run_id")).streamTo(ctx, conn)
	for _, e := range ws.links {
		a, b := recs[e.A], recs[e.B]
		lk.row(a.system, a.key, b.system, b.key, e.Prob, ws.ids.partyOf[res.Cluster[e.A]], ws.ids.partyOf[res.Cluster[e.B]], ws.runID)
	}
	if err := lk.flush(ctx, conn); err != nil {
		return err
	}

	t0 := time.Now()
	var rels map[string]int
	if ws.full {
		rels, err = rebuildRelationships(ctx, conn, ws.runID, ws.cfg)
	} else {
		for _, q := range []string{
			`INSERT INTO cdp_unify_mobiles SELECT DISTINCT x.mobile FROM core.party_xref x
				JOIN cdp_unify_refs r USING (system, source_key) WHERE x.party_type = 'P' AND x.mobile_valid`,
			`CREATE OR REPLACE TEMP TABLE cdp_unify_affected AS SELECT party_id FROM cdp_unify_parties
				UNION SELECT x.party_id FROM core.party_xref x JOIN cdp_unify_refs r USING (system, source_key)`,
		} {
			if _, err = conn.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("unify: %w", err)
			}
		}
		rels, err = updateRelationships(ctx, conn, ws.runID, ws.cfg)
	}
	slog.Debug("unify: relationships rebuilt", "seconds", time.Since(t0).Seconds())
	if err != nil {
		return err
	}
	ws.sum.Relationships = rels
	if err := countParties(ctx, conn, ws.sum); err != nil {
		return err
	}

	for _, e := range ws.ids.events {
		detail := fmt.Sprintf("%d source records of %s now belong to %s", e.records, e.old, e.new)
		if _, err := conn.ExecContext(ctx, `INSERT INTO ops.identity_events VALUES (?, now(), ?, ?, ?, ?, ?)`,
			ws.runID, e.kind, e.old, e.new, e.records, detail); err != nil {
			return fmt.Errorf("ops.identity_events: %w", err)
		}
	}
	return recordRun(ctx, conn, ws.sum, ws.ids.lastSeq, ws.maxLoad, ws.modelJSON, ws.start)
}

// recordRun appends the run to ops.identity_runs (inside the caller's
// transaction when there is one).
func recordRun(ctx context.Context, conn *sql.Conn, s *Summary, lastSeq, lastLoad int64, model []byte, start time.Time) error {
	var m any
	if len(model) > 0 {
		m = string(model)
	}
	_, err := conn.ExecContext(ctx, `INSERT INTO ops.identity_runs VALUES (?, ?, ?, now(), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.RunID, s.Mode, start, s.Records, s.Active, s.Candidates, s.Matched, s.Parties, s.NewParties,
		s.Merges, s.Splits, lastSeq, lastLoad, m)
	if err != nil {
		return fmt.Errorf("ops.identity_runs: %w", err)
	}
	return nil
}
