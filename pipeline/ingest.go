package pipeline

// An ingest run loads, feed by feed and file by file in business-date order,
// everything not yet in the warehouse: it opens sources from connectors/,
// hands their batches to warehouse/ and reports what happened. Each file or
// stream batch is one transaction with its checkpoint, so a run can be
// stopped at any point and rerun: it continues where the last commit left
// off.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"cdp/connectors/files"
	"cdp/connectors/kafka"
	"cdp/connectors/rows"
	"cdp/pipeline/config"
	"cdp/warehouse"
)

// IngestOptions select and observe a run.
type IngestOptions struct {
	Feeds    []string // config feed names; empty = every enabled feed
	RunID    string   // default: a new UUID
	Logger   *slog.Logger
	Progress Progress // nil = none
	// Brokers, when set, replace the project's Kafka brokers (the demo passes
	// the embedded broker it already runs).
	Brokers []string
}

// UnitReport is one file or stream batch of a run.
type UnitReport struct {
	Feed, Entity, Source string
	Status               string // loaded, unchanged, pending, failed
	Result               warehouse.Result
	Err                  error
	Bytes                int64
	Seconds              float64
	// A mapped file: lines that were not rows (banner, header, blank,
	// trailer), and stated row counts that disagreed under check: warn.
	Skipped  int64
	Warnings []string
}

// IngestReport is what a run did.
type IngestReport struct {
	RunID   string
	Units   []UnitReport
	Started time.Time
	Elapsed time.Duration
}

// Count returns how many units ended with the status.
func (r *IngestReport) Count(status string) int {
	n := 0
	for _, u := range r.Units {
		if u.Status == status {
			n++
		}
	}
	return n
}

// Totals sums rows over loaded units.
func (r *IngestReport) Totals() (in, loaded, rejected, replaced int64) {
	for _, u := range r.Units {
		in += u.Result.RowsIn
		loaded += u.Result.Loaded
		rejected += u.Result.Rejected
		replaced += u.Result.Replaced
	}
	return
}

// Failed lists the units that failed.
func (r *IngestReport) Failed() []UnitReport {
	var out []UnitReport
	for _, u := range r.Units {
		if u.Status == "failed" {
			out = append(out, u)
		}
	}
	return out
}

// ErrUnitsFailed is returned (wrapped) when some files or batches failed while
// the rest loaded.
var ErrUnitsFailed = errors.New("some inputs failed to load")

// Ingest loads what is new in the project's feeds.
func Ingest(ctx context.Context, p *config.Project, w *warehouse.Warehouse, o IngestOptions) (*IngestReport, error) {
	if o.RunID == "" {
		o.RunID = uuid.NewString()
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Progress == nil {
		o.Progress = NoProgress{}
	}
	rep := &IngestReport{RunID: o.RunID, Started: time.Now()}
	loc, err := rows.Location(p.Warehouse.TimeZone)
	if err != nil {
		return nil, err
	}
	selected, err := selectFeeds(p, o.Feeds)
	if err != nil {
		return nil, err
	}
	// What earlier stages of this process wrote is checkpointed first,
	// under the warehouse's own memory limit: a load's commit may trigger
	// DuckDB's automatic checkpoint, which must not have to write a model
	// build's tables within the small limit a load runs under.
	if _, err := w.DB().ExecContext(ctx, "CHECKPOINT"); err != nil && !strings.Contains(err.Error(), "read-only") {
		return nil, fmt.Errorf("checkpoint before loading: %w", err)
	}
	restore, err := w.TemporarySetting(ctx, "memory_limit", p.Ingest.MemoryLimit)
	if err != nil {
		return nil, err
	}
	defer restore()
	var broker *EmbeddedBroker
	defer func() {
		if broker != nil {
			broker.Close()
		}
	}()
	for _, f := range selected {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		switch f.Kind {
		case config.KindKafka:
			if broker == nil && len(o.Brokers) == 0 && p.Kafka.Embedded.Enabled {
				if broker, err = StartEmbeddedBroker(p, o.Logger); err != nil {
					return rep, err
				}
				o.Brokers = broker.Addrs
			}
			if err := ingestStream(ctx, p, w, f, loc, o, rep); err != nil {
				rep.Units = append(rep.Units, UnitReport{Feed: f.Name, Entity: f.Contract + "." + f.Entity, Source: f.Topic, Status: "failed", Err: err})
				o.Logger.Error("stream feed failed", "feed", f.Name, "topic", f.Topic, "err", err)
			}
		default:
			if err := ingestFiles(ctx, p, w, f, loc, o, rep); err != nil {
				rep.Units = append(rep.Units, UnitReport{Feed: f.Name, Source: f.Path, Status: "failed", Err: err})
				o.Logger.Error("file feed failed", "feed", f.Name, "err", err)
			}
		}
	}
	rep.Elapsed = time.Since(rep.Started)
	if n := rep.Count("failed"); n > 0 {
		return rep, fmt.Errorf("%d input(s) failed (see ops.loads): %w", n, ErrUnitsFailed)
	}
	return rep, nil
}

// insertThreads is how many DuckDB threads take batches while the parse
// workers run: DuckDB threads fighting the workers for the same cores made
// loads ~30% slower on two cores (measured with `cdp bench ingest`).
func insertThreads(p *config.Project) int {
	if p.Warehouse.Threads != 0 {
		return 0
	}
	return max(1, runtime.NumCPU()/2)
}

func selectFeeds(p *config.Project, names []string) ([]*config.Feed, error) {
	var out []*config.Feed
	if len(names) == 0 {
		for i := range p.Feeds {
			if p.Feeds[i].IsEnabled() {
				out = append(out, &p.Feeds[i])
			}
		}
		return out, nil
	}
	for _, n := range names {
		f, ok := p.Feed(n)
		if !ok {
			var known []string
			for _, f := range p.Feeds {
				known = append(known, f.Name)
			}
			sort.Strings(known)
			return nil, fmt.Errorf("no feed %q in %s (feeds: %v)", n, p.Path, known)
		}
		out = append(out, f)
	}
	return out, nil
}

// fileOptions are the options of a files feed's source.
func fileOptions(p *config.Project, f *config.Feed, tz *time.Location) files.Options {
	return files.Options{
		Name: f.Name, Contract: f.Spec(), Dir: p.Resolve(f.Path), Format: f.TextFormat(),
		Encoding: f.Encoding, Delimiter: f.Delimiter, Entities: f.Entities, Patterns: f.Patterns, Mappings: f.Mappings(),
		RequireOK: p.Ingest.RequiresOK(), Location: tz, Workers: p.Ingest.Workers,
	}
}

func ingestFiles(ctx context.Context, p *config.Project, w *warehouse.Warehouse, f *config.Feed, tz *time.Location, o IngestOptions, rep *IngestReport) error {
	for _, e := range f.Spec().Entities {
		if len(f.Entities) == 0 || slices.Contains(f.Entities, e.Name) {
			if err := w.EnsureRawTable(ctx, e); err != nil {
				return fmt.Errorf("feed %s: %w", f.Name, err)
			}
		}
	}
	loaded, err := w.FileCheckpoints(ctx, f.Name)
	if err != nil {
		return err
	}
	so := fileOptions(p, f, tz)
	so.Loaded = func(source string) (string, int64, time.Time, bool) {
		cp, ok := loaded[source]
		return cp.MD5, cp.Bytes, cp.MTime, ok
	}
	src, err := files.New(so)
	if err != nil {
		return err
	}
	found, err := src.Discover(ctx)
	if err != nil {
		return err
	}
	for _, file := range found {
		if err := ctx.Err(); err != nil {
			return err
		}
		u := UnitReport{Feed: f.Name, Entity: file.Entity.ID(), Source: file.Source, Bytes: file.Bytes}
		started := time.Now()
		attempt := warehouse.Attempt{RunID: o.RunID, Feed: f.Name, Entity: file.Entity.ID(), Kind: warehouse.KindFile,
			Source: file.Source, MD5: file.MD5, Bytes: file.Bytes, Started: started}
		switch {
		case file.Unchanged:
			u.Status = "unchanged"
			rep.Units = append(rep.Units, u)
			continue
		case file.Problem != nil:
			u.Status, u.Err = "failed", file.Problem
			attempt.Status, attempt.Err = warehouse.StatusFailed, file.Problem
			o.Logger.Error("file not loaded", "source", file.Source, "err", file.Problem)
			if _, err := w.RecordAttempt(ctx, attempt); err != nil {
				return err
			}
			rep.Units = append(rep.Units, u)
			continue
		case file.Pending:
			u.Status = "pending"
			attempt.Status, attempt.Err = warehouse.StatusPending, errors.New("no control file "+file.Source+".ok yet")
			o.Logger.Warn("file waits for its control file", "source", file.Source)
			if _, err := w.RecordAttempt(ctx, attempt); err != nil {
				return err
			}
			rep.Units = append(rep.Units, u)
			continue
		}
		cp, seen := loaded[file.Source]
		prev := cp.MD5
		if seen && prev == file.MD5 {
			u.Status = "unchanged"
			rep.Units = append(rep.Units, u)
			continue
		}
		if seen {
			o.Logger.Info("correction: file delivered again with a new md5, replacing its rows", "source", file.Source, "old_md5", prev, "new_md5", file.MD5)
		}
		reader, err := src.Open(ctx, file)
		if err == nil {
			o.Progress.Start(file.Source, file.Bytes)
			stop := trackProgress(o.Progress, reader.BytesRead)
			var res warehouse.Result
			res, err = w.Load(ctx, warehouse.Load{
				RunID: o.RunID, Feed: f.Name, Entity: file.Entity, Kind: warehouse.KindFile, Source: file.Source,
				MD5: file.MD5, Bytes: file.Bytes, MTime: file.MTime, Records: reader, Finish: reader.Finish,
				SourceSQL: warehouse.Literal(file.Source+":") + " || _pos", InsertThreads: insertThreads(p),
			})
			stop()
			u.Skipped, u.Warnings = reader.Notes()
			reader.Release()
			o.Progress.Done()
			u.Result = res
		}
		u.Seconds = time.Since(started).Seconds()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if warehouse.OutOfMemory(err) {
				err = fmt.Errorf("%w\nthe load did not fit ingest.memory_limit %s: raise it in cdp.yaml", err, p.Ingest.MemoryLimit)
			}
			u.Status, u.Err = "failed", err
			attempt.Status, attempt.Err = warehouse.StatusFailed, err
			o.Logger.Error("file not loaded", "source", file.Source, "err", err)
			if _, rerr := w.RecordAttempt(ctx, attempt); rerr != nil {
				return rerr
			}
			rep.Units = append(rep.Units, u)
			continue
		}
		u.Status = "loaded"
		for _, w := range u.Warnings {
			o.Logger.Warn("the file's stated row count disagrees (check: warn)", "source", file.Source, "detail", w)
		}
		o.Logger.Info("loaded", "source", file.Source, "entity", file.Entity.ID(), "rows_in", u.Result.RowsIn, "lines_skipped", u.Skipped,
			"loaded", u.Result.Loaded, "rejected", u.Result.Rejected, "replaced", u.Result.Replaced,
			"seconds", round(u.Seconds), "mb_per_s", round(float64(file.Bytes)/1e6/u.Seconds),
			"insert_s", round(u.Result.InsertSeconds), "dedupe_s", round(u.Result.DedupeSeconds), "commit_s", round(u.Result.CommitSeconds))
		rep.Units = append(rep.Units, u)
	}
	return nil
}

func ingestStream(ctx context.Context, p *config.Project, w *warehouse.Warehouse, f *config.Feed, tz *time.Location, o IngestOptions, rep *IngestReport) error {
	entity, err := p.FeedContracts().Lookup(f.Contract, f.Entity)
	if err != nil {
		return err
	}
	if err := w.EnsureRawTable(ctx, entity); err != nil {
		return fmt.Errorf("feed %s: %w", f.Name, err)
	}
	brokers, dialer, err := KafkaClient(p, o.Brokers)
	if err != nil {
		return err
	}
	src, err := kafka.Open(ctx, kafka.Options{Name: f.Name, Topic: f.Topic, Brokers: brokers, Dialer: dialer,
		Entity: entity, Location: tz, BatchMessages: p.Ingest.StreamBatch, Logger: o.Logger})
	if err != nil {
		return err
	}
	defer src.Close()
	from, err := w.StreamCheckpoint(ctx, f.Name, f.Topic)
	if err != nil {
		return err
	}
	for part, n := range src.Lost(from) {
		err := fmt.Errorf("%s/%d: %d messages were deleted by retention before they were loaded (checkpoint %d)", f.Topic, part, n, from[part])
		o.Logger.Error("stream messages lost to retention", "feed", f.Name, "topic", f.Topic, "partition", part, "lost", n)
		if _, rerr := w.RecordAttempt(ctx, warehouse.Attempt{RunID: o.RunID, Feed: f.Name, Entity: entity.ID(), Kind: warehouse.KindStream,
			Source: f.Topic, Status: warehouse.StatusFailed, Err: err, Started: time.Now()}); rerr != nil {
			return rerr
		}
	}
	lag := src.Lag(from)
	o.Progress.Start(f.Name+" "+f.Topic, lag)
	defer o.Progress.Done()
	var done int64
	for {
		started := time.Now()
		b, err := src.Next(ctx, from)
		if err != nil {
			return err
		}
		if b == nil {
			return nil
		}
		var offsets []warehouse.StreamOffset
		for part, next := range b.Next {
			offsets = append(offsets, warehouse.StreamOffset{Topic: f.Topic, Partition: part, Next: next})
		}
		sort.Slice(offsets, func(i, j int) bool { return offsets[i].Partition < offsets[j].Partition })
		res, err := w.Load(ctx, warehouse.Load{
			RunID: o.RunID, Feed: f.Name, Entity: entity, Kind: warehouse.KindStream, Source: f.Topic,
			Records: b.Records, Finish: b.Finish, Offsets: offsets, SourceSQL: warehouse.Literal(f.Topic+"/") + " || _part || '/' || _pos",
		})
		b.Records.Release()
		if err != nil {
			return err
		}
		from = b.Next
		done += b.Messages
		o.Progress.Set(done)
		u := UnitReport{Feed: f.Name, Entity: entity.ID(), Source: f.Topic, Status: "loaded", Result: res, Seconds: time.Since(started).Seconds()}
		o.Logger.Info("loaded stream batch", "feed", f.Name, "topic", f.Topic, "messages", b.Messages,
			"loaded", res.Loaded, "rejected", res.Rejected, "seconds", round(u.Seconds))
		rep.Units = append(rep.Units, u)
	}
}

func round(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }
