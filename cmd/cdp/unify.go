package main

import (
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"

	"cdp/pipeline"
	"cdp/transforms/identity"
)

func newUnifyCmd(g *globals) *cobra.Command {
	var full bool
	cmd := stageCmd(g, &cobra.Command{
		Use:   "unify",
		Short: "Decide which source customer records are the same party: core.party, core.party_xref, relationships",
		Long: `Unify the customer records of every feed whose contract declares identity:
(built in: credit, wealth, card, e-banking and core banking) into parties.

Records sharing a valid resident ID or organisation code are one party; the
rest are matched probabilistically (identity: in cdp.yaml). Party ids are
stable: a run with no new data changes nothing, a party keeps its id when it
gains records, and merges and splits are logged in ops.identity_events.

The first run is full (estimates the model, compares everything). Later runs
are incremental: they compare only new and changed records and keep the
links between unchanged ones. --full starts over (ids are still kept).`,
	}, "unify", func(env *pipeline.Env) error { env.Full = full; return nil }, printUnifySummary)
	cmd.Flags().BoolVar(&full, "full", false, "re-estimate the model and compare every record")
	return cmd
}

func printUnifySummary(w io.Writer, s *identity.Summary) {
	fmt.Fprintf(w, "unify %s (%s): %d source records → %d parties (%d persons, %d companies; %d in several systems) in %.1fs\n",
		s.RunID, s.Mode, s.Records, s.Parties, s.Persons, s.Companies, s.MultiSystem, s.Seconds)
	if s.Mode == "unchanged" {
		fmt.Fprintln(w, "no source record is new or changed: nothing to do")
		return
	}
	fmt.Fprintf(w, "records: %d new or changed compared; %d candidate pairs, %d probabilistic links\n", s.Active, s.Candidates, s.Matched)
	var rules []string
	for r := range s.ByRule {
		rules = append(rules, r)
	}
	sort.Strings(rules)
	fmt.Fprint(w, "records joined by:")
	for _, r := range rules {
		fmt.Fprintf(w, " %s=%d", r, s.ByRule[r])
	}
	fmt.Fprintf(w, "\nidentifiers not trusted (failed check digit or format): %d; merges refused for conflicting identifiers: %d\n", s.InvalidIDs, s.Refused)
	fmt.Fprintf(w, "parties: %d new, %d merges, %d splits, %d changed (see ops.identity_events)\n", s.NewParties, s.Merges, s.Splits, s.ChangedParties)
	var kinds []string
	for k := range s.Relationships {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	fmt.Fprint(w, "relationships (not merges):")
	for _, k := range kinds {
		fmt.Fprintf(w, " %s=%d", k, s.Relationships[k])
	}
	fmt.Fprintln(w)
}
