package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/spf13/cobra"

	"cdp/cmd/cdp/render"

	"cdp/transforms/identity"
)

func newProfileCmd(g *globals) *cobra.Command {
	var format string
	var unmask bool
	cmd := &cobra.Command{
		Use:   "profile <party_id | id_no | mobile | name | source_key>",
		Short: "Show one party: its golden record, source records, relationships and merge history",
		Long: `profile finds a party by its party id (an id merged away leads to where its
records went), a resident ID or credit code in any of its written forms, a
mobile number, an exact name, or a source system key, and prints it.

ID numbers and mobiles are masked unless --unmask is given.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			_, w, err := g.openProject(cmd.Context())
			if err != nil {
				return err
			}
			defer w.Close()
			p, err := identity.LookupProfile(cmd.Context(), w.DB(), args[0], unmask)
			if err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), format, p, printProfile)
		},
	}
	formatFlag(cmd, &format)
	cmd.Flags().BoolVar(&unmask, "unmask", false, "show ID numbers and mobiles in full")
	return cmd
}

func show(v any) string {
	switch v := v.(type) {
	case nil:
		return "—"
	case time.Time:
		if render.Location != nil && !(v.Hour() == 0 && v.Minute() == 0 && v.Second() == 0) {
			v = v.In(render.Location)
		}
		if v.Hour() == 0 && v.Minute() == 0 && v.Second() == 0 {
			return v.Format("2006-01-02")
		}
		return v.Format("2006-01-02 15:04:05")
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = show(x)
		}
		return strings.Join(parts, ", ")
	case float64:
		return fmt.Sprintf("%.4g", v)
	}
	return fmt.Sprint(v)
}

func printProfile(w io.Writer, p *identity.Profile) {
	pt := p.Party
	kind := map[string]string{"P": "person", "C": "company"}[show(pt["party_type"])]
	fmt.Fprintf(w, "%s  %s  (%s, found by %s)\n", p.PartyID, show(pt["name"]), kind, p.Lookup)
	fmt.Fprintf(w, "%s\n", strings.Repeat("─", 72))
	line := func(label string, keys ...string) {
		var parts []string
		for _, k := range keys {
			if v, ok := pt[k]; ok && v != nil {
				parts = append(parts, show(v))
			}
		}
		if len(parts) > 0 {
			fmt.Fprintf(w, "  %-16s %s\n", label, strings.Join(parts, "  "))
		}
	}
	if v := p.View; v != nil {
		fmt.Fprintf(w, "  %-16s %s %s   value score %s (historical %s, potential %s, strategic %s)   RFM %s   %s\n", "tier",
			show(v["tier_zh"]), show(v["tier"]), show(v["value_score"]), show(v["historical"]), show(v["potential"]),
			show(v["strategic"]), show(v["rfm"]), show(v["lifecycle"]))
		fmt.Fprintf(w, "  %-16s %s   30-day %s%%   90-day %s%%\n", "AUM", money(v["aum"]), show(v["aum_trend_30d_pct"]), show(v["aum_trend_90d_pct"]))
		fmt.Fprintf(w, "  %-16s deposits %s  WMP %s  funds %s  insurance %s  trusts/private %s\n", "holdings",
			money(v["deposits"]), money(v["wmp"]), money(v["funds"]), money(v["insurance"]), money(v["trusts_private_funds"]))
		fmt.Fprintf(w, "  %-16s exposure %s in %s active loans, worst five-class %s, max overdue %s days\n", "credit",
			money(v["credit_exposure"]), show(v["active_loans"]), show(v["worst_five_class"]), show(v["max_overdue_days"]))
		fmt.Fprintf(w, "  %-16s %s accounts, best %s, limit %s; 30-day spend %s in %s transactions\n", "cards",
			show(v["card_accounts"]), show(v["best_card_tier"]), money(v["card_limit"]), money(v["card_spend_30d"]), show(v["card_txns_30d"]))
		fmt.Fprintf(w, "  %-16s %s events in 30 days, last login %s, cross-border %s\n", "digital",
			show(v["digital_events_30d"]), show(v["last_login"]), show(v["cross_border_30d"]))
		fmt.Fprintf(w, "  %-16s %s in and out in 30 days, with %s counterparties\n", "settlements",
			money(v["settlement_30d"]), show(v["settlement_counterparties_30d"]))
		if tags := asMap(v["tags"]); len(tags) > 0 {
			keys := make([]string, 0, len(tags))
			for k := range tags {
				keys = append(keys, fmt.Sprint(k))
			}
			sort.Strings(keys)
			var parts []string
			for _, k := range keys {
				parts = append(parts, k+"="+fmt.Sprint(tags[k]))
			}
			label, line := "tags", ""
			for _, part := range parts {
				if line != "" && len(line)+len(part) > 100 {
					fmt.Fprintf(w, "  %-16s %s\n", label, line)
					label, line = "", ""
				}
				if line != "" {
					line += "  "
				}
				line += part
			}
			fmt.Fprintf(w, "  %-16s %s\n", label, line)
		}
	}
	line("ID", "id_type", "id_no")
	fmt.Fprintf(w, "  %-16s %s\n", "", "from "+show(pt["id_source"]))
	line("birth / gender", "birth_date", "gender")
	line("mobile", "mobile")
	line("industry", "industry_code")
	line("annual revenue", "annual_revenue")
	line("legal rep", "legal_rep_name")
	line("employer", "employer")
	line("annual income", "annual_income")
	line("risk / segment", "risk_level", "segment")
	line("RM / branch", "rm_id", "branch_code")
	line("systems", "systems")
	fmt.Fprintf(w, "  %-16s name from %s, mobile from %s\n", "golden record", show(pt["name_source"]), show(pt["mobile_source"]))
	fmt.Fprintf(w, "\nSource records (%d):\n", len(p.Records))
	for _, r := range p.Records {
		how := show(r["rule"])
		if r["rule"] == "probabilistic" {
			how += fmt.Sprintf(" p=%s via %s", show(r["score"]), show(r["matched_to"]))
		}
		valid := ""
		if r["id_problem"] != nil {
			valid = " (" + show(r["id_problem"]) + ")"
		}
		fmt.Fprintf(w, "  %-7s %-14s %-12s id %s%s  born %s  mobile %s  [%s]\n", show(r["system"]), show(r["source_key"]),
			show(r["name"]), show(r["id_no"]), valid, show(r["birth_date"]), show(r["mobile"]), how)
	}
	if len(p.Related) > 0 {
		fmt.Fprintf(w, "\nRelationships (related, not the same party):\n")
		sort.SliceStable(p.Related, func(i, j int) bool { return show(p.Related[i]["rel_type"]) < show(p.Related[j]["rel_type"]) })
		for _, r := range p.Related {
			fmt.Fprintf(w, "  %-22s %s %s %s  (evidence %s)\n", show(r["rel_type"]), show(r["direction"]), show(r["other_party"]), show(r["other_name"]), show(r["evidence"]))
		}
	}
	if len(p.Events) > 0 {
		fmt.Fprintf(w, "\nIdentity history:\n")
		for _, e := range p.Events {
			fmt.Fprintf(w, "  %s  %s %s → %s (%s records)\n", show(e["happened_at"]), show(e["kind"]), show(e["old_party_id"]), show(e["new_party_id"]), show(e["records"]))
		}
	}
	if len(p.Others) > 0 {
		fmt.Fprintf(w, "\nAlso matched: %s\n", strings.Join(p.Others, ", "))
	}
	if p.Masked {
		fmt.Fprintln(w, "\n(ID numbers and mobiles masked; --unmask shows them)")
	}
}

// money renders an amount with thousands separators.
func money(v any) string {
	s := show(v)
	if v == nil {
		return s
	}
	var f float64
	if _, err := fmt.Sscan(fmt.Sprint(v), &f); err != nil {
		return s
	}
	neg := f < 0
	if neg {
		f = -f
	}
	whole := fmt.Sprintf("%.0f", f)
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// asMap reads a DuckDB MAP value.
func asMap(v any) map[any]any {
	switch m := v.(type) {
	case duckdb.Map:
		return m
	case map[any]any:
		return m
	case duckdb.OrderedMap:
		return asMap(&m)
	case *duckdb.OrderedMap:
		out := map[any]any{}
		vals := m.Values()
		for i, k := range m.Keys() {
			out[k] = vals[i]
		}
		return out
	}
	return nil
}
