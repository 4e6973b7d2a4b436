// Package config owns the project file, cdp.yaml: its schema, its defaults,
// its validation and the commented starter that `cdp init` writes.
//
// A project file names the warehouse file, how to reach Kafka, how ingestion
// batches its work, and the feeds: where each source system's files arrive,
// or which topic carries its stream, and which feed contract (credit, wealth,
// card, ebank; see cdp/connectors/contract) they satisfy.
//
// Guarantees of Load and Parse:
//   - A *Project they return is complete: every default is filled in (feed
//     contract, format, encoding, delimiter, entities, Kafka client id, batch
//     sizes …) and every value has been checked, so callers never re-validate
//     or re-default.
//   - Unknown keys are errors, not silently ignored: a misspelt key would
//     otherwise fall back to a default nobody asked for.
//   - Every problem is a *Error naming the file, line, column and field
//     ("cdp.yaml:14:5: feeds[1].encoding: unknown encoding …"). All problems
//     found are reported at once, in file order: one problem comes back as a
//     *Error, several as Errors, whose elements are *Error and which
//     errors.As unwraps to the first.
//   - Loading reads nothing but the project file: paths, certificates and
//     password environment variables are checked for form, not for existence,
//     so a project validates on any machine.
//
// Relative paths in the file resolve against the file's own folder, never the
// working directory (Project.Resolve).
package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"cdp/connectors/contract"
	"cdp/connectors/mapping"
)

// Project is a loaded, defaulted and validated cdp.yaml: the keys of the
// project as a whole. Each stage's own section (identity:, tags:, tiers:,
// signals:, publish:) decodes into that stage's options type, named by the
// Extension the pipeline passes to Load.
type Project struct {
	Path      string    `yaml:"-"` // absolute path of the loaded file
	Dir       string    `yaml:"-"` // its directory; relative paths in the file resolve against it
	Warehouse Warehouse `yaml:"warehouse"`
	Kafka     Kafka     `yaml:"kafka"`
	Ingest    Ingest    `yaml:"ingest"`
	Schedules Schedules `yaml:"schedules"`
	Serve     Serve     `yaml:"serve"`
	Feeds     []Feed    `yaml:"feeds"`
	// Contracts are folders of the project's own feed contracts (*.yaml),
	// relative to this file, added to the built-in ones.
	Contracts []string `yaml:"contracts"`

	contracts *contract.Set
}

// FeedContracts is the feeds the project can load: the built-in ones and
// those of its contracts: folders.
func (p *Project) FeedContracts() *contract.Set {
	if p.contracts == nil {
		return contract.BuiltinSet
	}
	return p.contracts
}

// Extension is what the pipeline adds to the project file: the stages a
// job may run, in DAG order, and the sections the stages own.
type Extension struct {
	Stages   []string
	Sections []Section
	// Contracts, when set, is told the project's feed contracts (built-in
	// and its own) before the sections are checked: a stage whose options
	// depend on them (unification's customer sources) checks against them.
	Contracts func(*contract.Set)
}

// Section is a top-level key of cdp.yaml whose value a stage owns. It is
// decoded as strictly as the rest (unknown keys, wrong types, every problem
// with its line) into Into, a pointer to the stage's options; then Defaults
// fills what the file left out and Check reports what is wrong, each
// problem as "field: message" with the field relative to the section
// ("weights", "blocking[1][0]").
type Section struct {
	Key      string
	Into     any
	Defaults func()
	Check    func() []string
	// ListOnly names fields of the section that must be written as a YAML
	// list, with what to say when one is a single value: for a key whose
	// meaning changed with its form.
	ListOnly map[string]string
}

// Warehouse is the DuckDB file and its resource limits.
type Warehouse struct {
	Path        string `yaml:"path"`         // default "warehouse.duckdb", relative to the project dir
	MemoryLimit string `yaml:"memory_limit"` // the process's memory budget, like "4GB"; "" = 60% of the machine's (warehouse.MemoryBudget)
	Threads     int    `yaml:"threads"`      // 0 = all cores
	TimeZone    string `yaml:"time_zone"`    // of source timestamps without an offset; default Asia/Shanghai
}

// Kafka is how to reach the brokers, for stream feeds and for publishing.
type Kafka struct {
	Brokers  []string `yaml:"brokers"`   // host:port
	ClientID string   `yaml:"client_id"` // default "cdp"
	TLS      TLS      `yaml:"tls"`
	SASL     SASL     `yaml:"sasl"`
	Embedded Embedded `yaml:"embedded"`
}

// TLS configures encrypted connections to the brokers. File paths are as
// written; resolve them with Project.Resolve.
type TLS struct {
	Enabled            bool   `yaml:"enabled"`
	CAFile             string `yaml:"ca_file"`
	CertFile           string `yaml:"cert_file"`
	KeyFile            string `yaml:"key_file"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// SASL configures broker authentication.
type SASL struct {
	Mechanism   string `yaml:"mechanism"` // "" | PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512
	Username    string `yaml:"username"`
	PasswordEnv string `yaml:"password_env"` // name of the env var holding the password; never the password itself
}

// Embedded is an in-process Kafka-protocol broker, for demos and tests only.
type Embedded struct {
	Enabled    bool   `yaml:"enabled"`
	Listen     string `yaml:"listen"`     // default 127.0.0.1:19092
	DataDir    string `yaml:"data_dir"`   // default kafka-data, relative to the project dir
	Partitions int    `yaml:"partitions"` // default 6
}

// Ingest tunes how feeds are loaded.
type Ingest struct {
	MemoryLimit string `yaml:"memory_limit"` // DuckDB memory cap while loading, default 64MB
	Workers     int    `yaml:"workers"`      // 0 = number of CPUs
	StreamBatch int    `yaml:"stream_batch"` // messages per stream transaction, default 50000
	RequireOK   *bool  `yaml:"require_ok"`   // load a file only with a matching .ok control file; default true
}

// Feed is one source of one contract feed: a folder of files or a Kafka topic.
type Feed struct {
	Name      string            `yaml:"name"`      // unique id of this source, e.g. credit, ebank_stream
	Contract  string            `yaml:"contract"`  // a contract feed (credit | wealth | card | ebank, or the project's own); default = Name
	Kind      string            `yaml:"kind"`      // files | kafka; default files
	Path      string            `yaml:"path"`      // files: folder, relative to the project dir
	Format    string            `yaml:"format"`    // csv | delimited | parquet | jsonl | fixed | xlsx; default from the contract
	Encoding  string            `yaml:"encoding"`  // utf-8 | gbk | gb18030; default the contract's (credit gb18030, core_banking gbk), else utf-8
	Delimiter string            `yaml:"delimiter"` // one character; default "," for csv, "|" for delimited
	Topic     string            `yaml:"topic"`     // kafka: topic name
	Entity    string            `yaml:"entity"`    // kafka: the contract entity carried; default "events"
	Entities  []string          `yaml:"entities"`  // files: entities to load; default all of the contract feed
	Patterns  map[string]string `yaml:"patterns"`  // files: entity -> file pattern override ({D} / {DATE})
	// Mapping, per entity, is how this feed's files differ from the
	// contract: renames, positions, codes, layouts, banner and trailer lines.
	Mapping map[string]*mapping.Entity `yaml:"mapping"`
	Enabled *bool                      `yaml:"enabled"` // default true
	Line    int                        `yaml:"-"`       // line in the file where this feed starts
	// FormatGiven: cdp.yaml names the format, which then holds for every
	// text entity of the feed; otherwise each entity has its contract's
	// (the contact feed: contacts delimited, outcomes JSON lines).
	FormatGiven bool `yaml:"-"`

	spec  *contract.Feed           // the contract feed, once validated
	plans map[string]*mapping.Plan // the mapping compiled, per entity
}

// TextFormat is the format every text entity of the feed is read in, when
// cdp.yaml names one; "" leaves each entity its contract's.
func (f *Feed) TextFormat() contract.Format {
	if !f.FormatGiven {
		return ""
	}
	return contract.Format(f.Format)
}

// Mappings are the feed's compiled mappings by entity (nil without any).
func (f *Feed) Mappings() map[string]*mapping.Plan { return f.plans }

// Spec is the feed's contract, once the project is loaded (nil before).
func (f *Feed) Spec() *contract.Feed { return f.spec }

// Kinds of feed.
const (
	KindFiles = "files"
	KindKafka = "kafka"
)

// Load reads, decodes, defaults and validates the project file at path,
// with the stage sections x names.
func Load(path string, x Extension) (*Project, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &Error{File: path, Msg: `no project file here; run "cdp init" to write a starter one`, cause: err}
	}
	if err != nil {
		return nil, &Error{File: path, Msg: "cannot read the project file: " + unwrapPathError(err), cause: err}
	}
	return Parse(path, data, x)
}

// Parse decodes, defaults and validates data as the project file at path.
// path names the file in errors and anchors relative paths; it is not read.
func Parse(path string, data []byte, x Extension) (*Project, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, &Error{File: path, Msg: err.Error(), cause: err}
	}
	p := &Project{Path: abs, Dir: filepath.Dir(abs)}
	d := newDecoder(path)
	if d.decodeFile(data, p, x.Sections) {
		d.validating = true
		p.validate(d, x)
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	return p, nil
}

// Resolve returns rel resolved against the project dir, or rel itself when it
// is absolute or empty.
func (p *Project) Resolve(rel string) string {
	if rel == "" || filepath.IsAbs(rel) {
		return rel
	}
	return filepath.Join(p.Dir, rel)
}

// WarehousePath is the absolute path of the DuckDB file (or ":memory:").
func (p *Project) WarehousePath() string {
	if p.Warehouse.Path == ":memory:" {
		return p.Warehouse.Path
	}
	return p.Resolve(p.Warehouse.Path)
}

// Feed finds a feed by name.
func (p *Project) Feed(name string) (*Feed, bool) {
	for i := range p.Feeds {
		if p.Feeds[i].Name == name {
			return &p.Feeds[i], true
		}
	}
	return nil, false
}

// IsEnabled reports whether the feed is loaded (enabled: defaults to true).
func (f *Feed) IsEnabled() bool { return f.Enabled == nil || *f.Enabled }

// Pattern is the file pattern of one of a files feed's entities: its
// patterns: override, else the contract's. It is "" for an entity the
// contract feed does not have.
func (f *Feed) Pattern(entity string) string {
	if p, ok := f.Patterns[entity]; ok {
		return p
	}
	if f.spec == nil {
		return ""
	}
	for _, e := range f.spec.Entities {
		if e.Name == entity {
			return e.Pattern
		}
	}
	return ""
}

// RequiresOK reports whether data files need their .ok control file
// (require_ok: defaults to true).
func (in Ingest) RequiresOK() bool { return in.RequireOK == nil || *in.RequireOK }

func unwrapPathError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func (f *Feed) setLine(n int) { f.Line = n }
