package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"cdp/transforms/identity/match"
	"cdp/warehouse"
)

// linkReport is what `cdp link --report json` prints: one JSON object.
type linkReport struct {
	Inputs            []string    `json:"inputs"`
	Records           int         `json:"records"`
	Clusters          int         `json:"clusters"`
	Pairwise          *match.PRF  `json:"pairwise,omitempty"`
	BCubed            *match.PRF  `json:"bcubed,omitempty"`
	PairsCompleteness *float64    `json:"pairs_completeness,omitempty"`
	ReductionRatio    float64     `json:"reduction_ratio"`
	TruePairs         int64       `json:"true_pairs,omitempty"`
	PredictedPairs    int64       `json:"predicted_pairs"`
	Seconds           float64     `json:"seconds"`
	PeakRSSBytes      int64       `json:"peak_rss_bytes"`
	Stats             match.Stats `json:"stats"`
	Model             match.Model `json:"model"`
	Out               string      `json:"out,omitempty"`
}

func newLinkCmd(g *globals) *cobra.Command {
	var (
		mapping, truth, out, report string
		inputs                      []string
	)
	cmd := &cobra.Command{
		Use:   "link --mapping FILE.yaml --input A.csv [--input B.csv]",
		Short: "Deduplicate one CSV or link two with the identity engine, and evaluate it against a truth column",
		Long: `link runs the same matching engine that unifies the bank feeds on any CSV.

The mapping file names the id column and maps columns to comparison kinds
(name, date, id, phone, address, postcode, text); see docs/identity.md, "Linking any table".
One --input deduplicates it; two link them (only pairs across the files are
compared). --out writes rec_id,cluster_id (and the input for two files).
With --truth-column, it reports pairwise and B-cubed precision, recall and
F1, the pairs completeness and reduction ratio of blocking, wall time and
peak memory.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if mapping == "" || len(inputs) == 0 {
				return fmt.Errorf("give --mapping and at least one --input")
			}
			if report != "text" && report != "json" {
				return fmt.Errorf("--report %q: want text or json", report)
			}
			start := time.Now()
			m, err := match.LoadMapping(mapping)
			if err != nil {
				return err
			}
			t, err := m.ReadCSV(inputs, truth)
			if err != nil {
				return err
			}
			g.logger.Info("link: read", "records", len(t.IDs), "inputs", len(inputs))
			res, err := match.Link(cmd.Context(), &t.Data, m.Config())
			if err != nil {
				return err
			}
			rep := linkReport{
				Inputs: inputs, Records: len(t.IDs), Clusters: res.Stats.Clusters,
				Stats: res.Stats, Model: res.Model, Out: out,
			}
			if res.Stats.TotalPairs > 0 {
				rep.ReductionRatio = 1 - float64(res.Stats.Candidates)/res.Stats.TotalPairs
			}
			if out != "" {
				if err := writeClusters(out, t, res, len(inputs) > 1); err != nil {
					return err
				}
			}
			var src []uint8
			if len(inputs) > 1 {
				src = t.Source
			}
			if truth != "" {
				ev := match.Evaluate(res.Cluster, t.Truth, src)
				rep.Pairwise, rep.BCubed = &ev.Pairwise, &ev.BCubed
				rep.TruePairs, rep.PredictedPairs = ev.TruePairs, ev.PredictedPairs
				pc := 1.0
				if ev.TruePairs > 0 {
					pc = float64(res.Stats.CandidateTruePairs) / float64(ev.TruePairs)
				}
				rep.PairsCompleteness = &pc
			} else {
				rep.PredictedPairs = match.Evaluate(res.Cluster, make([]string, len(res.Cluster)), src).CorrectPairs
			}
			rep.Seconds = time.Since(start).Seconds()
			rep.PeakRSSBytes = warehouse.PeakRSS()
			w := cmd.OutOrStdout()
			if report == "json" {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			printLinkReport(w, &rep)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&mapping, "mapping", "", "mapping file (YAML): id_column and fields with their kinds")
	f.StringArrayVar(&inputs, "input", nil, "CSV file with a header row; give once to deduplicate, twice to link")
	f.StringVar(&truth, "truth-column", "", "column holding the true entity id, to evaluate the result")
	f.StringVar(&out, "out", "", "write the clusters here as CSV")
	f.StringVar(&report, "report", "text", "text | json")
	return cmd
}

func writeClusters(path string, t *match.Table, res *match.Result, two bool) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	head := []string{"rec_id", "cluster_id", "match_probability"}
	if two {
		head = append(head, "input")
	}
	w.Write(head)
	for i, id := range t.IDs {
		row := []string{id, strconv.Itoa(int(res.Cluster[i])), strconv.FormatFloat(res.Via[i].Prob, 'f', 4, 64)}
		if two {
			row = append(row, strconv.Itoa(int(t.Source[i])+1))
		}
		w.Write(row)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

func printLinkReport(w io.Writer, r *linkReport) {
	fmt.Fprintf(w, "records           %d in %s\n", r.Records, strings.Join(r.Inputs, ", "))
	fmt.Fprintf(w, "clusters          %d\n", r.Clusters)
	fmt.Fprintf(w, "candidate pairs   %d of %.0f (reduction ratio %.6f; %d blocks over max_block skipped)\n",
		r.Stats.Candidates, r.Stats.TotalPairs, r.ReductionRatio, r.Stats.SkippedBlocks)
	fmt.Fprintf(w, "matched pairs     %d edges, %d same-cluster pairs\n", r.Stats.Matches, r.PredictedPairs)
	if r.Pairwise != nil {
		fmt.Fprintf(w, "pairwise          precision %.4f  recall %.4f  F1 %.4f\n", r.Pairwise.Precision, r.Pairwise.Recall, r.Pairwise.F1)
		fmt.Fprintf(w, "B-cubed           precision %.4f  recall %.4f  F1 %.4f\n", r.BCubed.Precision, r.BCubed.Recall, r.BCubed.F1)
		fmt.Fprintf(w, "pairs completeness %.4f (true pairs blocking found)\n", *r.PairsCompleteness)
	}
	fmt.Fprintf(w, "time              %.2f s, peak RSS %.0f MB\n", r.Seconds, float64(r.PeakRSSBytes)/(1<<20))
	fmt.Fprintf(w, "model             prior %.3g, threshold %.2f\n", r.Model.Prior, r.Model.Threshold)
	for _, f := range r.Model.Fields {
		ws := make([]string, len(f.M))
		for l := range f.M {
			ws[l] = fmt.Sprintf("%+.1f", f.Weight(l))
		}
		fmt.Fprintf(w, "  %-16s %-8s weights by level (different … exact): %s\n", f.Name, f.Kind, strings.Join(ws, " "))
	}
	if r.Out != "" {
		fmt.Fprintf(w, "clusters written  %s\n", r.Out)
	}
}
