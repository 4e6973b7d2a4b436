package synthbank

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"cdp/connectors/contract"
)

// The external feed: what a bank buys from data vendors about its
// companies — yearly financial statements, public-opinion events and the
// industries' prosperity indices — drawn from streams of its own, so the
// other feeds stay as they were. It plants three cases, each with a truth
// file: companies whose statements deteriorate (the latest year's debt
// ratio ≥ 70%, up ≥ 10 points, with a loss or a negative operating cash
// flow), companies with a spike of serious negative news (3 to 5 events of
// severity ≥ 3 in the last ten days), and two industries turning down
// (their index falling two months running to below 100).

// Planting parameters of the external feed.
const (
	extCoverage          = 0.97 // share of the bank's companies the vendor covers
	extDeteriorationRate = 0.04 // of covered companies
	extNewsSpikeRate     = 0.04 // of covered companies
	extUnknownRate       = 0.02 // companies the vendor delivers that are not the bank's, per covered company
	extRestatedRate      = 0.01 // covered companies whose latest year is delivered again, restated
	extHistoryDays       = 60   // opinion events the first file carries before the window
	extIndexMonths       = 15   // months of industry indices the first file carries
	extDownturnDivisions = 2
	normalDebtRatioMax   = 0.66 // others' debt ratio never exceeds this
)

// externalTruth is what the external writer planted.
type externalTruth struct {
	deteriorating []extStatement // the latest year of each deteriorating company
	spikes        []extSpike
	downturn      []string       // divisions turning down
	downturnHit   []*party       // exposed companies in them
	downturnOf    map[*party]int // index of the division in downturn
}

type extStatement struct {
	p                 *party
	year              int
	ratio, priorRatio float64
	profit, ocf       int64
}

type extSpike struct {
	p      *party
	events int
	worst  int
}

// extCompany is one company the vendor covers: one of ours, or one that
// is not the bank's client (p nil).
type extCompany struct {
	p    *party
	code string
	name string
}

var (
	extMedia      = []string{"财经日报", "证券时报", "中国裁判文书网", "信用中国", "企业公示系统", "地方新闻网", "微博", "行业资讯网"}
	extNegTopics  = []string{"LITIGATION", "PENALTY", "DEBT", "MANAGEMENT"}
	extMildTopics = []string{"OPERATIONS", "PRODUCT", "ENVIRONMENT", "OTHER"}
	extGoodTopics = []string{"FINANCING", "AWARD", "OPERATIONS", "PRODUCT"}
	extHeadlines  = map[string]string{
		"LITIGATION":  "%s涉及合同纠纷被诉",
		"PENALTY":     "%s因违规经营被监管部门处罚",
		"DEBT":        "%s债务逾期引发债权人关注",
		"MANAGEMENT":  "%s高管变动，法定代表人%s卸任",
		"OPERATIONS":  "%s生产经营情况更新",
		"PRODUCT":     "%s新产品发布",
		"ENVIRONMENT": "%s环保检查情况通报",
		"FINANCING":   "%s完成新一轮融资",
		"AWARD":       "%s获评行业优秀企业",
		"OTHER":       "%s相关动态",
	}
)

// writeExternal writes the external feed: on the first day the last three
// fiscal years' statements, the opinion events of the 60 days before and
// the indices of the 15 months published by then; on later days the day's
// events, the months published since the day before and a few restated
// statements.
func (w *world) writeExternal(ctx context.Context, g *generation, res *feedResult) error {
	eFin, _ := contract.Lookup("external", "financials")
	eOp, _ := contract.Lookup("external", "opinion")
	eInd, _ := contract.Lookup("external", "industry")
	r := newRand(w.o.Seed, "external", 0)

	// Who the vendor covers, and what is planted on whom.
	var cos []extCompany
	codes := map[string]bool{}
	for _, p := range w.parties {
		if p.company {
			codes[p.idNo[8:17]] = true
		}
	}
	unknown := 0
	deteriorating, spiking := map[*party]bool{}, map[*party]bool{}
	for _, p := range w.parties {
		if !p.company || r.Float64() >= extCoverage {
			continue
		}
		cos = append(cos, extCompany{p, p.idNo, p.name})
		if r.Float64() < extDeteriorationRate {
			deteriorating[p] = true
		}
		if r.Float64() < extNewsSpikeRate {
			spiking[p] = true
		}
		if r.Float64() < extUnknownRate {
			for {
				code := uscc(cities[r.IntN(len(cities))].region, r.IntN(90_000_000))
				if !codes[code[8:17]] {
					codes[code[8:17]] = true
					unknown++
					cos = append(cos, extCompany{nil, code, fmt.Sprintf("外部样本企业%05d有限公司", unknown)})
					break
				}
			}
		}
	}
	divisions := map[string]bool{}
	for _, ind := range industries {
		divisions[ind.code[:3]] = true
	}
	divList := make([]string, 0, len(divisions))
	for d := range divisions {
		divList = append(divList, d)
	}
	slices.Sort(divList)
	w.ext.downturnOf = map[*party]int{}
	for _, i := range r.Perm(len(divList))[:extDownturnDivisions] {
		w.ext.downturn = append(w.ext.downturn, divList[i])
	}
	slices.Sort(w.ext.downturn)
	for _, p := range w.parties {
		if i := slices.Index(w.ext.downturn, divisionOf(p)); i >= 0 && p.company && w.exposed[p] && p.in[sysCredit] > 0 {
			w.ext.downturnHit = append(w.ext.downturnHit, p)
			w.ext.downturnOf[p] = i
		}
	}

	// Statements: three fiscal years, the last the latest one published
	// (in March or April) by the window's first day.
	firstY, _, _ := w.first.civil()
	lastFY := firstY - 1
	if w.first < dayOf(firstY, 5, 1) {
		lastFY--
	}
	type statement struct {
		co                                 extCompany
		year                               int
		reported                           day
		revenue, profit, assets, liab, ocf int64
	}
	var stmts []statement
	restated := map[int]int{} // index in stmts → window day it is delivered again
	for _, co := range cos {
		rf := newRand(w.o.Seed, "external-fin", len(stmts))
		rev := int64(float64(50_000_000_00) * uniform(rf, 0.5, 20))
		if co.p != nil && co.p.revenue > 0 {
			rev = co.p.revenue
		}
		ratio := uniform(rf, 0.25, 0.62)
		bad := co.p != nil && deteriorating[co.p]
		if bad {
			ratio = uniform(rf, 0.50, 0.60)
		}
		assets := int64(float64(rev) * uniform(rf, 0.6, 2.0))
		var ratios [3]float64
		var revs [3]int64
		for k := 0; k < 3; k++ { // oldest first
			ratios[k] = min(normalDebtRatioMax, max(0.2, ratio+uniform(rf, -0.05, 0.05)))
		}
		revs[2] = rev
		revs[1] = int64(float64(rev) / uniform(rf, 0.9, 1.3))
		revs[0] = int64(float64(revs[1]) / uniform(rf, 0.9, 1.3))
		if bad {
			ratios[1] = ratio
			ratios[2] = uniform(rf, 0.72, 0.88)
		}
		for k := 0; k < 3; k++ {
			fy := lastFY - 2 + k
			a := int64(float64(assets) * (0.85 + 0.075*float64(k)))
			profit := int64(float64(revs[k]) * uniform(rf, 0.02, 0.12))
			if rf.Float64() < 0.05 {
				profit = -profit / 2
			}
			ocf := int64(float64(profit) * uniform(rf, 0.6, 1.6))
			if rf.Float64() < 0.05 {
				ocf = -int64(float64(revs[k]) * uniform(rf, 0.01, 0.05))
			}
			if bad && k == 2 {
				switch rf.IntN(3) {
				case 0:
					profit = -int64(float64(revs[k]) * uniform(rf, 0.02, 0.10))
				case 1:
					ocf = -int64(float64(revs[k]) * uniform(rf, 0.03, 0.12))
				default:
					profit = -int64(float64(revs[k]) * uniform(rf, 0.02, 0.10))
					ocf = -int64(float64(revs[k]) * uniform(rf, 0.03, 0.12))
				}
			}
			reported := dayOf(fy+1, 3+rf.IntN(2), 1+rf.IntN(28))
			stmts = append(stmts, statement{co, fy, reported, revs[k] / 100 * 100, profit / 100 * 100, a / 100 * 100,
				int64(float64(a)*ratios[k]) / 100 * 100, ocf / 100 * 100})
		}
		if bad {
			s := stmts[len(stmts)-1]
			ratio := float64(s.liab) / float64(s.assets)
			prior := stmts[len(stmts)-2]
			w.ext.deteriorating = append(w.ext.deteriorating, extStatement{co.p, s.year, ratio,
				float64(prior.liab) / float64(prior.assets), s.profit, s.ocf})
		} else if len(w.days) > 1 && rf.Float64() < extRestatedRate {
			restated[len(stmts)-1] = 1 + rf.IntN(len(w.days)-1)
		}
	}

	// Opinion events over the 60 days before the window and the window.
	type event struct {
		co                      extCompany
		on                      day
		sentiment, topic, media string
		severity                int
	}
	from := w.first - extHistoryDays
	var events []event
	for i, co := range cos {
		re := newRand(w.o.Seed, "external-news", i)
		span := int(w.end-from) + 1
		severeDone := false
		for n := re.IntN(4); n > 0; n-- {
			e := event{co: co, on: from + day(re.IntN(span)), media: extMedia[re.IntN(len(extMedia))]}
			switch x := re.Float64(); {
			case x < 0.5:
				e.sentiment, e.topic, e.severity = "NEUTRAL", extMildTopics[re.IntN(len(extMildTopics))], 1+re.IntN(2)
			case x < 0.8:
				e.sentiment, e.topic, e.severity = "POSITIVE", extGoodTopics[re.IntN(len(extGoodTopics))], 1
			default:
				e.sentiment, e.topic, e.severity = "NEGATIVE", extMildTopics[re.IntN(len(extMildTopics))], 1+re.IntN(2)
				if !severeDone && re.Float64() < 0.15 && !spiking[co.p] {
					// at most one serious negative event per company
					e.topic, e.severity, severeDone = extNegTopics[re.IntN(len(extNegTopics))], 3+re.IntN(2), true
				}
			}
			events = append(events, e)
		}
		if co.p != nil && spiking[co.p] {
			n, worst := 3+re.IntN(3), 0
			for k := 0; k < n; k++ {
				e := event{co: co, on: w.end - day(re.IntN(10)), media: extMedia[re.IntN(len(extMedia))],
					sentiment: "NEGATIVE", topic: extNegTopics[re.IntN(len(extNegTopics))], severity: 3 + re.IntN(3)}
				worst = max(worst, e.severity)
				events = append(events, e)
			}
			w.ext.spikes = append(w.ext.spikes, extSpike{co.p, n, worst})
		}
	}
	slices.SortStableFunc(events, func(a, b event) int { return int(a.on - b.on) })

	// Indices: every division, the months published (on the 10th of the
	// next month) up to each day.
	published := func(y, m int) day { return dayOf(y, m, 1).addMonths(1) + 9 }
	fy, fm, _ := w.first.civil()
	firstMonth := dayOf(fy, fm, 1).addMonths(-extIndexMonths)
	var months []day
	for m := firstMonth; ; m = m.addMonths(1) {
		y, mm, _ := m.civil()
		if published(y, mm) > w.end {
			break
		}
		months = append(months, m)
	}
	index := map[string][]float64{}
	for k, d := range divList {
		ri := newRand(w.o.Seed, "external-index", k)
		v := uniform(ri, 103, 110)
		series := make([]float64, len(months))
		for i := range months {
			v = min(115, max(101, v+uniform(ri, -1.5, 1.5)))
			series[i] = v
		}
		if slices.Contains(w.ext.downturn, d) && len(series) >= 4 {
			n := len(series)
			series[n-4] = uniform(ri, 104, 106)
			series[n-3] = uniform(ri, 102.5, 103.5)
			series[n-2] = uniform(ri, 100.3, 101.2)
			series[n-1] = uniform(ri, 95.5, 98.5)
		}
		index[d] = series
	}

	var f rowFields
	var line []byte
	ei := 0
	for di, t := range w.days {
		if err := ctx.Err(); err != nil {
			return err
		}
		D := t.compact()
		df, err := g.create(res, "external/"+eFin.FileName(D), false)
		if err != nil {
			return err
		}
		df.writeHeader(headerLine(eFin, ','))
		for i, s := range stmts {
			again, ok := restated[i]
			switch {
			case di == 0:
			case ok && again == di:
				s.profit = s.profit / 100 * int64(95+newRand(w.o.Seed, "external-restated", i).IntN(11))
				s.reported = t
			default:
				continue
			}
			f.reset()
			f.str(s.co.code)
			f.str(s.co.name)
			f.int(int64(s.year))
			f.isoDate(s.reported)
			f.money(s.revenue)
			f.money(s.profit)
			f.money(s.assets)
			f.money(s.liab)
			f.money(s.ocf)
			f.str("示例征信数据")
			line = appendCSVLine(line[:0], f.values())
			if err := df.writeRow(line); err != nil {
				return err
			}
		}
		if err := g.finish(res, df, eFin); err != nil {
			return err
		}

		if df, err = g.create(res, "external/"+eOp.FileName(D), false); err != nil {
			return err
		}
		for ; ei < len(events) && events[ei].on <= t; ei++ {
			e := events[ei]
			title := fmt.Sprintf(extHeadlines[e.topic], e.co.name)
			if e.topic == "MANAGEMENT" {
				rep := "某某"
				if e.co.p != nil && e.co.p.legalRep != nil {
					rep = e.co.p.legalRep.name
				}
				title = fmt.Sprintf(extHeadlines[e.topic], e.co.name, rep)
			}
			b, err := json.Marshal(struct {
				EventID     string `json:"event_id"`
				CreditCode  string `json:"credit_code"`
				CompanyName string `json:"company_name"`
				EventDate   string `json:"event_date"`
				Media       string `json:"media"`
				Sentiment   string `json:"sentiment"`
				Severity    int    `json:"severity"`
				Topic       string `json:"topic"`
				Title       string `json:"title"`
			}{"OP" + e.on.compact() + strconv.Itoa(100000+ei), e.co.code, e.co.name, e.on.iso(), e.media, e.sentiment, e.severity, e.topic, title})
			if err != nil {
				return err
			}
			if err := df.writeRow(append(b, '\n')); err != nil {
				return err
			}
		}
		if err := g.finish(res, df, eOp); err != nil {
			return err
		}

		if df, err = g.create(res, "external/"+eInd.FileName(D), false); err != nil {
			return err
		}
		df.writeHeader(headerLine(eInd, ','))
		for k, d := range divList {
			for i, m := range months {
				y, mm, _ := m.civil()
				pub := published(y, mm)
				if pub > t || (di > 0 && pub <= w.days[di-1]) {
					continue
				}
				f.reset()
				f.str(d)
				f.isoDate(m)
				f.buf = strconv.AppendFloat(f.buf, index[divList[k]][i], 'f', 2, 64)
				f.next()
				f.str("示例统计数据")
				line = appendCSVLine(line[:0], f.values())
				if err := df.writeRow(line); err != nil {
					return err
				}
			}
		}
		if err := g.finish(res, df, eInd); err != nil {
			return err
		}
		g.progress("external", di+1, len(w.days))
	}
	return nil
}

// divisionOf is a company's GB/T 4754 division (its industry code's
// section letter and two digits).
func divisionOf(p *party) string {
	if p.ind == nil || len(p.ind.code) < 3 {
		return ""
	}
	return p.ind.code[:3]
}
