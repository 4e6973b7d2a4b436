package identity

import (
	"context"
	"database/sql"
	"fmt"
	"sort"

	"cdp/transforms/identity/normal"
)

// relationship is one core.party_relationship row.
type relationship struct {
	a, b, kind, evidence string
}

type relResult struct {
	rows []relationship
	err  error
}

// supplementaryQuery lists supplementary cards in the latest accounts
// snapshot: the card's holder and its primary holder.
const supplementaryQuery = `
SELECT card_account_id, holder_id, primary_holder_id
FROM raw.card_accounts
WHERE primary_holder_id IS NOT NULL AND primary_holder_id <> holder_id
QUALIFY row_number() OVER (PARTITION BY card_account_id
    ORDER BY replace(regexp_extract(_source, '(\d{4}-?\d{2}-?\d{2})', 1), '-', '') DESC, _load_id DESC) = 1
ORDER BY card_account_id`

// relationships finds parties that are related but not the same: a
// company's legal representative, a supplementary card's primary holder,
// and persons sharing a mobile (a family, in a group no larger than
// SharedMobileMax). Rows are sorted and unique.
func relationships(ctx context.Context, conn *sql.Conn, recs []*record, cluster []int32, partyOf []string, cfg Config) relResult {
	partyOfRec := func(i int) string { return partyOf[cluster[i]] }
	byKey := map[string]string{}
	byRef := map[string]string{}
	for i, r := range recs {
		byRef[r.ref()] = partyOfRec(i)
		if r.matchKey != "" && r.ptype == "P" {
			byKey[r.matchKey] = partyOfRec(i)
		}
	}
	seen := map[relationship]bool{}
	var out []relationship
	add := func(a, b, kind, evidence string) {
		if a == "" || b == "" || a == b {
			return
		}
		k := relationship{a: a, b: b, kind: kind}
		if kind == "shared_mobile" && b < a {
			k.a, k.b = b, a
		}
		if seen[k] {
			return
		}
		seen[k] = true
		k.evidence = evidence
		out = append(out, k)
	}
	for i, r := range recs {
		if r.ptype != "C" || r.legalRepID == "" {
			continue
		}
		if id := normal.ResidentID(r.legalRepID); id.Valid {
			add(partyOfRec(i), byKey["R"+id.ID], "legal_representative", r.ref())
		}
	}
	rows, err := conn.QueryContext(ctx, supplementaryQuery)
	if err != nil {
		return relResult{err: fmt.Errorf("read supplementary cards: %w", err)}
	}
	for rows.Next() {
		var account, holder, primary string
		if err := rows.Scan(&account, &holder, &primary); err != nil {
			rows.Close()
			return relResult{err: err}
		}
		add(byRef["card:"+holder], byRef["card:"+primary], "supplementary_card", "card:"+account)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return relResult{err: err}
	}
	// Persons sharing a mobile, by party.
	byMobile := map[string][]string{}
	evidence := map[string][]string{}
	for i, r := range recs {
		if r.ptype != "P" || !r.mobileValid {
			continue
		}
		p := partyOfRec(i)
		ps := byMobile[r.nMobile]
		if !contains(ps, p) {
			byMobile[r.nMobile] = append(ps, p)
			evidence[r.nMobile] = append(evidence[r.nMobile], r.ref())
		}
	}
	mobiles := make([]string, 0, len(byMobile))
	for m, ps := range byMobile {
		if len(ps) > 1 && len(ps) <= cfg.SharedMobileMax {
			mobiles = append(mobiles, m)
		}
	}
	sort.Strings(mobiles)
	for _, m := range mobiles {
		ps := byMobile[m]
		ev := refsJoin(append([]string(nil), evidence[m]...))
		for x := 0; x < len(ps); x++ {
			for y := x + 1; y < len(ps); y++ {
				add(ps[x], ps[y], "shared_mobile", ev)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		x, y := out[i], out[j]
		if x.a != y.a {
			return x.a < y.a
		}
		if x.b != y.b {
			return x.b < y.b
		}
		return x.kind < y.kind
	})
	return relResult{rows: out}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
