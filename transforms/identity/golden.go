package identity

import (
	"hash/fnv"
	"slices"
	"sort"
)

// party is one golden record.
type party struct {
	id, ptype                                      string
	members                                        []int // record indexes, in record order
	name, idType, idNo, birth, gender, mobile      string
	idValid                                        bool
	industry, revenue, legalRepName                string
	employer, income, riskLevel, segment, rmID, br string
	systems                                        []string
	nameSrc, idSrc, birthSrc, mobileSrc            string
	fingerprint                                    uint64
}

// goldenRecords builds one party per cluster, in cluster order, and hands
// each to emit, which must not keep it: the parties are not all held at
// once (at 5M parties they took 2.9 GB beside the records). Each
// attribute comes from the member with a usable value ranked first by:
// validity where it applies (a checked ID, a mainland mobile, a
// Chinese-script name), then the trust order of its system for that
// attribute, then the most recent snapshot, then record order.
func goldenRecords(recs []*record, cluster []int32, partyOf []string, cfg Config, emit func(*party) error) error {
	// The members of each cluster, in record order: cluster c's are
	// order[start[c]:start[c+1]].
	start := make([]int32, len(partyOf)+1)
	for _, c := range cluster[:len(recs)] {
		start[c+1]++
	}
	for c := range partyOf {
		start[c+1] += start[c]
	}
	order := make([]int, len(recs))
	next := slices.Clone(start[:len(partyOf)])
	for i := range recs {
		c := cluster[i]
		order[next[c]] = i
		next[c]++
	}
	next = nil
	rank := func(attr string) map[string]int {
		order, ok := cfg.Trust[attr]
		if !ok {
			order = cfg.Trust["default"]
		}
		m := map[string]int{}
		for i, s := range order {
			m[s] = i
		}
		return m
	}
	ranks := map[string]map[string]int{}
	for _, a := range []string{"name", "id_no", "birth_date", "mobile", "other"} {
		ranks[a] = rank(a)
	}
	// pick returns the best member for attr among those where ok holds.
	pick := func(p *party, attr string, ok func(r *record) bool, better func(r *record) bool) *record {
		var best *record
		rk := ranks[attr]
		rankOf := func(r *record) int {
			if v, ok := rk[r.system]; ok {
				return v
			}
			return len(rk)
		}
		for _, i := range p.members {
			r := recs[i]
			if !ok(r) {
				continue
			}
			if best == nil {
				best = r
				continue
			}
			if better != nil && better(r) != better(best) {
				if better(r) {
					best = r
				}
				continue
			}
			if a, b := rankOf(r), rankOf(best); a != b {
				if a < b {
					best = r
				}
				continue
			}
			if r.bizDate > best.bizDate {
				best = r
			}
		}
		return best
	}
	for c := range partyOf {
		if start[c] == start[c+1] {
			continue // (no cluster has no member)
		}
		members := order[start[c]:start[c+1]]
		p := &party{id: partyOf[c], ptype: recs[members[0]].ptype, members: members}
		sys := map[string]bool{}
		for _, i := range p.members {
			sys[recs[i].system] = true
		}
		for s := range sys {
			p.systems = append(p.systems, s)
		}
		sort.Strings(p.systems)
		if r := pick(p, "name", func(r *record) bool { return r.nName() != "" }, func(r *record) bool { return r.hanName }); r != nil {
			p.name, p.nameSrc = r.nName(), r.ref()
		}
		if r := pick(p, "id_no", func(r *record) bool { return r.nID() != "" }, func(r *record) bool { return r.idValid }); r != nil {
			p.idNo, p.idValid, p.idSrc = r.nID(), r.idValid, r.ref()
			p.idType = r.idType
			if p.idType == "" {
				p.idType = map[string]string{"P": "ID_CARD", "C": "USCC"}[r.ptype]
			}
			p.gender = r.gender()
		}
		if p.ptype == "P" {
			if r := pick(p, "birth_date", func(r *record) bool { return r.nBirth() != "" }, func(r *record) bool { return r.idValid }); r != nil {
				p.birth, p.birthSrc = r.nBirth(), r.ref()
			}
		}
		if r := pick(p, "mobile", func(r *record) bool { return r.nMobile() != "" }, func(r *record) bool { return r.mobileValid }); r != nil {
			p.mobile, p.mobileSrc = r.nMobile(), r.ref()
		}
		other := func(get func(r *record) string) string {
			if r := pick(p, "other", func(r *record) bool { return get(r) != "" }, nil); r != nil {
				return get(r)
			}
			return ""
		}
		p.industry = other(func(r *record) string { return r.industry })
		p.revenue = other(func(r *record) string { return r.revenue })
		p.legalRepName = other(func(r *record) string { return r.legalRepName })
		p.employer = other(func(r *record) string { return r.employer })
		p.income = other(func(r *record) string { return r.income })
		p.riskLevel = other(func(r *record) string { return r.riskLevel })
		p.segment = other(func(r *record) string { return r.segment })
		p.rmID = other(func(r *record) string { return r.rmID })
		p.br = other(func(r *record) string { return r.branch })

		h := fnv.New64a()
		for _, s := range []string{p.ptype, p.name, p.idType, p.idNo, p.birth, p.gender, p.mobile, p.industry,
			p.revenue, p.legalRepName, p.employer, p.income, p.riskLevel, p.segment, p.rmID, p.br,
			p.nameSrc, p.idSrc, p.birthSrc, p.mobileSrc} {
			h.Write([]byte(s))
			h.Write([]byte{0})
		}
		for _, i := range p.members {
			h.Write([]byte(recs[i].ref()))
			h.Write([]byte{0})
		}
		p.fingerprint = h.Sum64()
		if err := emit(p); err != nil {
			return err
		}
	}
	return nil
}
