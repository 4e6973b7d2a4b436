package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/apache/arrow-go/v18/arrow/array"

	"cdp/connectors/contract"
	"cdp/connectors/files"
	"cdp/connectors/rows"
	"cdp/pipeline/config"
)

// CheckReport is what a dry run of one file found: what would load, every
// would-be reject with its reason and position, and the fields the
// contract does not know (kept in _extra).
type CheckReport struct {
	Feed, Entity, Table string
	RowsIn, WouldLoad   int64
	Rejects             []contract.Reject
	// Extra counts the rows carrying each field the contract does not know.
	Extra map[string]int64
	// Skipped lines were not rows (a mapping's banner, header, blank and
	// trailer lines); Warnings are stated row counts that disagree
	// (check: warn).
	Skipped  int64
	Warnings []string
	// Mapping says where each contract column comes from, when the feed
	// maps the entity.
	Mapping []string
}

// RejectsByReason counts the rejects per reason.
func (r *CheckReport) RejectsByReason() map[string]int64 {
	out := map[string]int64{}
	for _, x := range r.Rejects {
		out[x.Reason]++
	}
	return out
}

// CheckFile parses a file as feed would load it, writing nothing: no
// warehouse is opened and no control file is needed. entity may be "" to
// take the entity whose file pattern the name matches.
func CheckFile(ctx context.Context, p *config.Project, feed, path, entity string) (*CheckReport, error) {
	f, ok := p.Feed(feed)
	if !ok {
		return nil, fmt.Errorf("no feed %q in %s", feed, p.Path)
	}
	if f.Kind != config.KindFiles {
		return nil, fmt.Errorf("feed %s reads Kafka, not files", feed)
	}
	loc, err := rows.Location(p.Warehouse.TimeZone)
	if err != nil {
		return nil, err
	}
	src, err := files.New(fileOptions(p, f, loc))
	if err != nil {
		return nil, err
	}
	file, err := src.Inspect(path, entity)
	if err != nil {
		return nil, err
	}
	r, err := src.Open(ctx, file)
	if err != nil {
		return nil, err
	}
	defer r.Release()
	rep := &CheckReport{Feed: feed, Entity: file.Entity.ID(), Table: file.Entity.Table(), Extra: map[string]int64{}}
	if plan := f.Mappings()[file.Entity.Name]; plan != nil {
		rep.Mapping = plan.Describe()
	}
	extraCol := len(file.Entity.Columns)
	for r.Next() {
		rec := r.RecordBatch()
		rep.WouldLoad += rec.NumRows()
		extra := rec.Column(extraCol).(*array.String)
		for i := 0; i < extra.Len(); i++ {
			if extra.IsNull(i) {
				continue
			}
			var fields map[string]json.RawMessage
			if err := json.Unmarshal([]byte(extra.Value(i)), &fields); err != nil {
				return nil, fmt.Errorf("%s: reading the unknown fields: %w", file.Source, err)
			}
			for k := range fields {
				rep.Extra[k]++
			}
		}
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	rep.RowsIn, rep.Rejects, err = r.Finish()
	if err != nil {
		return nil, err
	}
	rep.Skipped, rep.Warnings = r.Notes()
	sort.SliceStable(rep.Rejects, func(i, j int) bool { return rep.Rejects[i].Line < rep.Rejects[j].Line })
	return rep, nil
}
