package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"cdp/connectors/contract"
	"cdp/connectors/mapping"
	"cdp/warehouse"
)

// Defaults of the keys that have one.
const (
	DefaultWarehousePath   = "warehouse.duckdb"
	DefaultTimeZone        = "Asia/Shanghai"
	DefaultClientID        = "cdp"
	DefaultEmbeddedListen  = "127.0.0.1:19092"
	DefaultEmbeddedDataDir = "kafka-data"
	DefaultPartitions      = 6
	DefaultIngestMemory    = "64MB"
	DefaultStreamBatch     = 50000
	DefaultStreamEntity    = "events"
)

var (
	formats        = []string{string(contract.CSV), string(contract.Delimited), string(contract.Parquet), string(contract.JSONL), string(contract.Fixed), string(contract.XLSX)}
	encodings      = []string{"utf-8", "gbk", "gb18030"}
	kinds          = []string{KindFiles, KindKafka}
	saslMechanisms = []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}

	feedName     = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	envVarName   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	topicName    = regexp.MustCompile(`^[A-Za-z0-9._-]{1,249}$`)
	placeholders = strings.NewReplacer("{D}", "20261120", "{DATE}", "2026-11-20")
)

// validate fills defaults and records every problem in d.
func (p *Project) validate(d *decoder, x Extension) {
	p.validateWarehouse(d)
	p.validateKafka(d)
	p.validateIngest(d)
	p.validateContracts(d)
	if x.Contracts != nil {
		x.Contracts(p.FeedContracts())
	}
	for _, s := range x.Sections {
		validateSection(d, s)
	}
	p.validateFeeds(d)
	p.validateSchedules(d, x.Stages)
	p.validateServe(d)
}

// validateSection fills a stage section's defaults and reports its
// problems at the fields they name.
func validateSection(d *decoder, s Section) {
	for field, hint := range s.ListOnly {
		if n := d.values[s.Key+"."+field]; n != nil && n.Kind == yaml.ScalarNode && !isNull(n) && strings.TrimSpace(n.Value) != "" {
			d.fieldErrorf(s.Key+"."+field, "%s", hint)
		}
	}
	if s.Defaults != nil {
		s.Defaults()
	}
	if s.Check == nil {
		return
	}
	for _, problem := range s.Check() {
		key, msg, ok := strings.Cut(problem, ": ")
		if !ok {
			key, msg = "", problem
		}
		field := s.Key
		if key != "" {
			field += "." + key
		}
		d.fieldErrorf(field, "%s", msg)
	}
}

func (p *Project) validateWarehouse(d *decoder) {
	w := &p.Warehouse
	if w.Path == "" {
		w.Path = DefaultWarehousePath
	}
	w.MemoryLimit = strings.TrimSpace(w.MemoryLimit)
	if _, err := warehouse.ParseSize(w.MemoryLimit); w.MemoryLimit != "" && err != nil {
		d.fieldErrorf("warehouse.memory_limit", "%q is not a size (want a number and a unit, like 4GB or 512MB; empty for 60%% of the machine's memory)", w.MemoryLimit)
	}
	if w.Threads < 0 {
		d.fieldErrorf("warehouse.threads", "must be 0 (all cores) or more, not %d", w.Threads)
	}
	if w.TimeZone == "" {
		w.TimeZone = DefaultTimeZone
	}
	if _, err := time.LoadLocation(w.TimeZone); err != nil {
		d.fieldErrorf("warehouse.time_zone", "unknown time zone %q (want an IANA name such as Asia/Shanghai)", w.TimeZone)
	}
}

func (p *Project) validateKafka(d *decoder) {
	k := &p.Kafka
	for i, b := range k.Brokers {
		if err := checkHostPort(b, false); err != nil {
			d.fieldErrorf(index("kafka.brokers", i), "broker %q: %v", b, err)
		}
	}
	if k.ClientID == "" {
		k.ClientID = DefaultClientID
	}

	t := k.TLS
	if !t.Enabled {
		for field, set := range map[string]bool{
			"ca_file": t.CAFile != "", "cert_file": t.CertFile != "", "key_file": t.KeyFile != "",
			"insecure_skip_verify": t.InsecureSkipVerify,
		} {
			if set {
				d.fieldErrorf("kafka.tls."+field, "is set but kafka.tls.enabled is false, so it would be ignored; set enabled: true or remove it")
			}
		}
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		field := "kafka.tls.cert_file"
		if t.KeyFile == "" {
			field = "kafka.tls.key_file"
		}
		d.fieldErrorf(field, "a client certificate needs both cert_file and key_file")
	}

	s := &k.SASL
	s.Mechanism = strings.ToUpper(strings.TrimSpace(s.Mechanism))
	switch {
	case s.Mechanism == "":
		if s.PasswordEnv != "" {
			d.fieldErrorf("kafka.sasl.password_env", "is set but kafka.sasl.mechanism is empty (want %s)", orList(saslMechanisms))
		}
		if s.Username != "" {
			d.fieldErrorf("kafka.sasl.username", "is set but kafka.sasl.mechanism is empty (want %s)", orList(saslMechanisms))
		}
	case !slices.Contains(saslMechanisms, s.Mechanism):
		d.fieldErrorf("kafka.sasl.mechanism", "unknown SASL mechanism %q (want %s, or empty for none)", s.Mechanism, orList(saslMechanisms))
	default:
		if s.Username == "" {
			d.fieldErrorf("kafka.sasl.username", "SASL %s needs a username", s.Mechanism)
		}
		if s.PasswordEnv == "" {
			d.fieldErrorf("kafka.sasl.password_env", "SASL %s needs password_env: the name of the environment variable holding the password", s.Mechanism)
		}
	}
	if s.PasswordEnv != "" && !envVarName.MatchString(s.PasswordEnv) {
		// Most likely the password itself was pasted in; do not echo it.
		d.fieldErrorf("kafka.sasl.password_env", "must name an environment variable (like KAFKA_PASSWORD) that holds the password, never the password itself")
	}

	e := &k.Embedded
	if e.Listen == "" {
		e.Listen = DefaultEmbeddedListen
	}
	if err := checkHostPort(e.Listen, true); err != nil {
		d.fieldErrorf("kafka.embedded.listen", "%q: %v", e.Listen, err)
	}
	if e.DataDir == "" {
		e.DataDir = DefaultEmbeddedDataDir
	}
	if e.Partitions < 0 {
		d.fieldErrorf("kafka.embedded.partitions", "must be 1 or more, not %d", e.Partitions)
	}
	if e.Partitions == 0 {
		e.Partitions = DefaultPartitions
	}
	if e.Enabled && len(k.Brokers) > 0 {
		d.fieldErrorf("kafka.embedded.enabled", "kafka.brokers is set too; the embedded broker is for demos and tests, so use one or the other")
	}
}

// checkHostPort accepts host:port; port 0 (any free port) only for listening.
func checkHostPort(addr string, listen bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want host:port")
	}
	if host == "" && !listen {
		return fmt.Errorf("want host:port, the host is missing")
	}
	n, err := strconv.Atoi(port)
	low := 1
	if listen {
		low = 0
	}
	if err != nil || n < low || n > 65535 {
		return fmt.Errorf("port %q is not a number from %d to 65535", port, low)
	}
	return nil
}

func (p *Project) validateIngest(d *decoder) {
	in := &p.Ingest
	in.MemoryLimit = strings.TrimSpace(in.MemoryLimit)
	if in.MemoryLimit == "" {
		in.MemoryLimit = DefaultIngestMemory
	}
	if _, err := warehouse.ParseSize(in.MemoryLimit); err != nil {
		d.fieldErrorf("ingest.memory_limit", "%q is not a size (want a number and a unit, like 256MB or 1GB)", in.MemoryLimit)
	}
	if in.Workers < 0 {
		d.fieldErrorf("ingest.workers", "must be 0 (one per CPU) or more, not %d", in.Workers)
	}
	if in.StreamBatch < 0 {
		d.fieldErrorf("ingest.stream_batch", "must be 1 or more, not %d", in.StreamBatch)
	}
	if in.StreamBatch == 0 {
		in.StreamBatch = DefaultStreamBatch
	}
	if in.RequireOK == nil {
		yes := true
		in.RequireOK = &yes
	}
}

func (p *Project) validateFeeds(d *decoder) {
	names := map[string]int{} // name -> index of its first declaration
	for i := range p.Feeds {
		f := &p.Feeds[i]
		at := fmt.Sprintf("feeds[%d]", i)
		if f.Name == "" {
			d.fieldErrorf(at+".name", "every feed needs a name (like credit or ebank_stream)")
		} else if !feedName.MatchString(f.Name) {
			d.fieldErrorf(at+".name", "%q must be lower-case letters, digits and _, starting with a letter", f.Name)
		} else if first, dup := names[f.Name]; dup {
			d.fieldErrorf(at+".name", "feed %q is already declared at line %d", f.Name, p.Feeds[first].Line)
		} else {
			names[f.Name] = i
		}
		p.validateFeed(d, f, at)
	}
	p.checkOverlappingFolders(d)
}

// validateContracts reads the project's contract folders.
func (p *Project) validateContracts(d *decoder) {
	if len(p.Contracts) == 0 {
		return
	}
	dirs := make([]fs.FS, len(p.Contracts))
	for i, dir := range p.Contracts {
		abs := p.Resolve(dir)
		if st, err := os.Stat(abs); err != nil || !st.IsDir() {
			d.fieldErrorf(fmt.Sprintf("contracts[%d]", i), "%s is not a folder of contract files", abs)
			return
		}
		dirs[i] = os.DirFS(abs)
	}
	set, err := contract.WithProject(dirs, p.Contracts)
	if err != nil {
		d.fieldErrorf("contracts", "\n%v", err)
		return
	}
	p.contracts = set
}

func (p *Project) validateFeed(d *decoder, f *Feed, at string) {
	if f.Enabled == nil {
		yes := true
		f.Enabled = &yes
	}
	f.Contract = strings.ToLower(strings.TrimSpace(f.Contract))
	known := p.FeedContracts().Names()
	if f.Contract == "" {
		f.Contract = f.Name
		if f.Name != "" && !slices.Contains(known, f.Name) {
			d.fieldErrorf(at+".contract", "feed %q is not named after a contract feed, so it needs contract: (%s)", f.Name, orList(known))
			return
		}
	} else if !slices.Contains(known, f.Contract) {
		d.fieldErrorf(at+".contract", "unknown contract %q (want %s)", f.Contract, orList(known))
		return
	}
	f.spec = p.FeedContracts().Feed(f.Contract)
	if f.Contract == "" {
		return // no name either; already reported
	}

	f.Kind = strings.ToLower(strings.TrimSpace(f.Kind))
	if f.Kind == "" {
		f.Kind = KindFiles
	}
	f.Format = strings.ToLower(strings.TrimSpace(f.Format))
	if f.Format != "" && !slices.Contains(formats, f.Format) {
		d.fieldErrorf(at+".format", "unknown format %q (want %s)", f.Format, orList(formats))
		f.Format = ""
	}
	if f.Encoding != "" {
		enc, ok := canonicalEncoding(f.Encoding)
		if !ok {
			d.fieldErrorf(at+".encoding", "unknown encoding %q (want %s)", f.Encoding, orList(encodings))
		}
		f.Encoding = enc
	}
	if n := d.values[at+".delimiter"]; n != nil && n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		d.fieldErrorf(at+".delimiter", `an unquoted | or > starts a YAML block; quote it: delimiter: "|"`)
		f.Delimiter = ""
	}

	switch f.Kind {
	case KindFiles:
		p.validateFilesFeed(d, f, at)
	case KindKafka:
		p.validateKafkaFeed(d, f, at)
	default:
		d.fieldErrorf(at+".kind", "unknown kind %q (want %s)", f.Kind, orList(kinds))
	}
}

func (p *Project) validateFilesFeed(d *decoder, f *Feed, at string) {
	if f.Path == "" {
		d.fieldErrorf(at+".path", "a files feed needs path: the folder its files arrive in, relative to this file")
	}
	if f.Topic != "" {
		d.fieldErrorf(at+".topic", "is only for kind: kafka feeds")
	}
	if f.Entity != "" {
		d.fieldErrorf(at+".entity", "is only for kind: kafka feeds; a files feed chooses its entities with entities:")
	}

	entities := entityNames(f.spec)
	f.FormatGiven = f.Format != ""
	if f.Format == "" {
		f.Format = string(f.spec.Entities[0].Format)
	}
	if f.Encoding == "" {
		f.Encoding = "utf-8"
		if f.spec.Encoding != "" && f.Format != string(contract.Parquet) && f.Format != string(contract.XLSX) {
			f.Encoding = f.spec.Encoding // the contract's (credit: gb18030, core banking: gbk)
		}
	}
	if (f.Format == string(contract.Parquet) || f.Format == string(contract.XLSX)) && f.Encoding != "utf-8" {
		d.fieldErrorf(at+".encoding", "%s text is always UTF-8; remove encoding: %s", f.Format, f.Encoding)
	}
	p.validateDelimiter(d, f, at)

	seen := map[string]bool{}
	for i, e := range f.Entities {
		field := index(at+".entities", i)
		switch {
		case !slices.Contains(entities, e):
			d.fieldErrorf(field, "contract %s has no entity %q (want %s)", f.Contract, e, orList(entities))
		case seen[e]:
			d.fieldErrorf(field, "entity %q is listed twice", e)
		}
		seen[e] = true
	}
	for _, e := range sortedKeys(f.Patterns) {
		field := at + ".patterns." + e
		switch {
		case !slices.Contains(entities, e):
			d.fieldErrorf(field, "contract %s has no entity %q (want %s)", f.Contract, e, orList(entities))
		case len(f.Entities) > 0 && !seen[e]:
			d.fieldErrorf(field, "entity %q is not in this feed's entities:, so its pattern would never be used", e)
		default:
			if err := checkPattern(f.Patterns[e]); err != nil {
				d.fieldErrorf(field, "pattern %q: %v", f.Patterns[e], err)
			}
		}
	}
	if len(f.Entities) == 0 {
		f.Entities = entities
	}
	p.validateMapping(d, f, at)
}

// validateMapping compiles the feed's mapping of each entity against its
// contract, reporting every problem where it is written.
func (p *Project) validateMapping(d *decoder, f *Feed, at string) {
	for _, name := range sortedKeys(f.Mapping) {
		field := at + ".mapping." + name
		e := entityOf(f.spec, name)
		if e == nil {
			d.fieldErrorf(field, "contract %s has no entity %q (want %s)", f.Contract, name, orList(entityNames(f.spec)))
			continue
		}
		m := f.Mapping[name]
		if m == nil {
			continue
		}
		format := e.Format
		if f.FormatGiven && format != contract.Parquet && format != contract.Fixed {
			format = contract.Format(f.Format)
		}
		plan, err := mapping.Compile(e, m, format)
		var probs mapping.Problems
		if errors.As(err, &probs) {
			for _, pr := range probs {
				path := field
				if pr.Path != "" {
					path += "." + pr.Path
				}
				d.fieldErrorf(path, "%s", pr.Msg)
			}
			continue
		} else if err != nil {
			d.fieldErrorf(field, "%v", err)
			continue
		}
		if f.plans == nil {
			f.plans = map[string]*mapping.Plan{}
		}
		f.plans[name] = plan
	}
}

func (p *Project) validateDelimiter(d *decoder, f *Feed, at string) {
	field := at + ".delimiter"
	switch f.Format {
	case string(contract.Parquet), string(contract.JSONL), string(contract.Fixed), string(contract.XLSX):
		if f.Delimiter != "" {
			d.fieldErrorf(field, "%s files have no delimiter; remove it", f.Format)
		}
		return
	case string(contract.CSV):
		if f.Delimiter == "" {
			f.Delimiter = ","
		}
	case string(contract.Delimited):
		if f.Delimiter == "" {
			f.Delimiter = "|"
		}
	}
	r, size := utf8.DecodeRuneInString(f.Delimiter)
	switch {
	case f.Format == string(contract.Delimited) && size != len(f.Delimiter):
		// Several characters ("|@|"): never escaped, so no backslash rule.
		switch {
		case !utf8.ValidString(f.Delimiter) || strings.ContainsAny(f.Delimiter, "\r\n"):
			d.fieldErrorf(field, "%q cannot separate fields", f.Delimiter)
		case utf8.RuneCountInString(f.Delimiter) > 8:
			d.fieldErrorf(field, "%q: a delimiter is at most 8 characters", f.Delimiter)
		}
	case size != len(f.Delimiter) || (f.Format == string(contract.CSV) && r >= utf8.RuneSelf):
		d.fieldErrorf(field, "%q must be a single ASCII character (a delimited feed may use several)", f.Delimiter)
	case r == utf8.RuneError || r == '\r' || r == '\n':
		d.fieldErrorf(field, "%q cannot separate fields", f.Delimiter)
	case f.Format == string(contract.CSV) && r == '"':
		d.fieldErrorf(field, `'"' quotes CSV fields and cannot also separate them`)
	case f.Format == string(contract.Delimited) && r == '\\':
		d.fieldErrorf(field, `'\' escapes the delimiter in delimited files and cannot be the delimiter`)
	}
}

func (p *Project) validateKafkaFeed(d *decoder, f *Feed, at string) {
	if len(f.Mapping) > 0 {
		d.fieldErrorf(at+".mapping", "is only for kind: files feeds; stream events are JSON named by the contract")
	}
	if f.Topic == "" {
		d.fieldErrorf(at+".topic", "a kafka feed needs topic: the topic it reads")
	} else if !topicName.MatchString(f.Topic) {
		d.fieldErrorf(at+".topic", "%q is not a Kafka topic name (letters, digits, '.', '_' and '-')", f.Topic)
	}
	for field, set := range map[string]bool{"path": f.Path != "", "entities": len(f.Entities) > 0, "patterns": len(f.Patterns) > 0} {
		if set {
			d.fieldErrorf(at+"."+field, "is only for kind: files feeds")
		}
	}
	f.Entity = strings.ToLower(strings.TrimSpace(f.Entity))
	if f.Entity == "" {
		f.Entity = DefaultStreamEntity
	}
	if entities := entityNames(f.spec); !slices.Contains(entities, f.Entity) {
		d.fieldErrorf(at+".entity", "contract %s has no entity %q (want %s)", f.Contract, f.Entity, orList(entities))
	}
	if f.Format == "" {
		f.Format = string(contract.JSONL)
	}
	if f.Format != string(contract.JSONL) {
		d.fieldErrorf(at+".format", "kafka messages are JSON objects: format must be jsonl (or left out)")
	}
	if f.Encoding == "" {
		f.Encoding = "utf-8"
	}
	if f.Delimiter != "" {
		d.fieldErrorf(at+".delimiter", "kafka messages have no delimiter; remove it")
	}
	if f.IsEnabled() && len(p.Kafka.Brokers) == 0 && !p.Kafka.Embedded.Enabled {
		// Reported at the feed, since that is what needs the brokers.
		d.errorf(d.at(at), "kafka.brokers", "feed %q reads topic %s but no brokers are set; add kafka.brokers (or kafka.embedded.enabled: true for a demo), or set enabled: false on the feed", f.Name, f.Topic)
	}
}

// checkOverlappingFolders rejects two enabled files feeds that would load
// the same entity from the same folder: every row would land twice.
func (p *Project) checkOverlappingFolders(d *decoder) {
	type key struct{ dir, contract, entity string }
	first := map[key]*Feed{}
	for i := range p.Feeds {
		f := &p.Feeds[i]
		if f.Kind != KindFiles || !f.IsEnabled() || f.Path == "" {
			continue
		}
		for _, e := range f.Entities {
			k := key{p.Resolve(f.Path), f.Contract, e}
			if prev, dup := first[k]; dup && prev.Name != f.Name {
				d.fieldErrorf(fmt.Sprintf("feeds[%d].path", i), "feed %q already loads %s.%s from %s (line %d); each entity's files belong to one feed", prev.Name, f.Contract, e, f.Path, prev.Line)
				break
			}
			first[k] = f
		}
	}
}

func canonicalEncoding(s string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "utf-8", "utf8":
		return "utf-8", true
	case "gbk":
		return "gbk", true
	case "gb18030":
		return "gb18030", true
	}
	return s, false
}

func checkPattern(p string) error {
	if p == "" {
		return fmt.Errorf("is empty")
	}
	if path.IsAbs(p) || strings.HasPrefix(p, "..") || strings.Contains(p, "/../") {
		return fmt.Errorf("must stay inside the feed folder")
	}
	concrete := placeholders.Replace(p)
	if strings.ContainsAny(concrete, "{}") {
		return fmt.Errorf("unknown placeholder (want {D} for YYYYMMDD or {DATE} for YYYY-MM-DD)")
	}
	if _, err := path.Match(concrete, ""); err != nil {
		return fmt.Errorf("not a valid glob: %v", err)
	}
	return nil
}

func entityNames(feed *contract.Feed) []string {
	if feed == nil {
		return nil
	}
	var out []string
	for _, e := range feed.Entities {
		out = append(out, e.Name)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func entityOf(feed *contract.Feed, name string) *contract.Entity {
	for _, e := range feed.Entities {
		if e.Name == name {
			return e
		}
	}
	return nil
}
