package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
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

// keyCheck finds the rows of a file that repeat its entity's key (or its
// unique key), as the load rejects them: the first copy is kept. It holds
// every key of the file; a dry run is for a sample, not a day's 20M events.
type keyCheck struct {
	cols   []string
	source string
	seen   map[string]int64
}

func newKeyCheck(e *contract.Entity, source string) *keyCheck {
	cols := e.Key
	if e.UniqueKey != "" {
		cols = []string{e.UniqueKey}
	}
	return &keyCheck{cols: cols, source: source, seen: map[string]int64{}}
}

func (k *keyCheck) check(rec arrow.RecordBatch) []contract.Reject {
	if len(k.cols) == 0 {
		return nil
	}
	idx := make([]int, len(k.cols))
	for i, c := range k.cols {
		if f := rec.Schema().FieldIndices(c); len(f) > 0 {
			idx[i] = f[0]
		} else {
			return nil
		}
	}
	pos := rec.Schema().FieldIndices("_pos")
	var out []contract.Reject
	vals := make([]string, len(idx))
	for row := 0; row < int(rec.NumRows()); row++ {
		complete := true
		for i, c := range idx {
			col := rec.Column(c)
			if col.IsNull(row) {
				complete = false
				break
			}
			vals[i] = col.ValueStr(row)
		}
		if !complete {
			continue
		}
		var line int64
		if len(pos) > 0 {
			if v, err := strconv.ParseInt(rec.Column(pos[0]).ValueStr(row), 10, 64); err == nil {
				line = v
			}
		}
		key := strings.Join(vals, "\x00")
		first, dup := k.seen[key]
		if !dup {
			k.seen[key] = line
			continue
		}
		out = append(out, contract.Reject{Position: fmt.Sprintf("%s:%d", k.source, line), Line: line, Partition: -1, Offset: -1,
			Reason: contract.ReasonDuplicate,
			Detail: fmt.Sprintf("%s %s repeats the row at %s:%d", strings.Join(k.cols, ", "), strings.Join(vals, ", "), k.source, first)})
	}
	return out
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
	dups := newKeyCheck(file.Entity, file.Source)
	for r.Next() {
		rec := r.RecordBatch()
		rep.WouldLoad += rec.NumRows()
		rep.Rejects = append(rep.Rejects, dups.check(rec)...)
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
	rowsIn, rejects, err := r.Finish()
	if err != nil {
		return nil, err
	}
	rep.RowsIn, rep.WouldLoad = rowsIn, rep.WouldLoad-int64(len(rep.Rejects))
	rep.Rejects = append(rep.Rejects, rejects...)
	rep.Skipped, rep.Warnings = r.Notes()
	sort.SliceStable(rep.Rejects, func(i, j int) bool { return rep.Rejects[i].Line < rep.Rejects[j].Line })
	return rep, nil
}
