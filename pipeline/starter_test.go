package pipeline

import (
	"reflect"
	"strings"
	"testing"

	"cdp/pipeline/config"
	"cdp/transforms/core"
)

func TestStarter_ParsesAndIsCommented(t *testing.T) {
	for _, o := range []config.StarterOptions{
		{},
		{Brokers: []string{"kafka-1:9093", "kafka-2:9093"}},
		{Embedded: true, FeedsDir: "/srv/drop"},
		{Embedded: true, Brokers: []string{"ignored:9092"}},
		{Embedded: true, Demo: true, MemoryLimit: "3.0GiB"},
	} {
		text := string(config.Starter(o))
		p, err := ParseProject("cdp.yaml", []byte(text))
		if err != nil {
			t.Errorf("Starter(%+v) does not parse:\n%v", o, err)
		} else if p.Warehouse.MemoryLimit != o.MemoryLimit {
			t.Errorf("Starter(%+v): warehouse.memory_limit %q", o, p.Warehouse.MemoryLimit)
		}
		comments := 0
		for line := range strings.SplitSeq(text, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") {
				comments++
			}
		}
		if comments < 60 {
			t.Errorf("Starter(%+v) has %d comment lines; every key should be documented", o, comments)
		}
	}
}

// Every key the decoder knows appears in the starter, so users find them all
// in one place.
func TestStarter_WritesEveryKey(t *testing.T) {
	text := string(config.Starter(config.StarterOptions{}))
	var walk func(t reflect.Type, path string)
	walk = func(typ reflect.Type, path string) {
		if typ.Kind() == reflect.Map {
			return // a map's keys are data (system_of_record: products), checked below
		}
		for name, i := range yamlKeys(typ) {
			if !strings.Contains(text, name+":") {
				t.Errorf("starter does not mention %s%s:", path, name)
			}
			ft := typ.Field(i).Type
			if ft.Kind() == reflect.Slice || ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				walk(ft, path+name+".")
			}
		}
	}
	walk(reflect.TypeFor[config.Project](), "")
	// and every key of every stage's own section
	p := &Project{}
	for _, sec := range p.extension().Sections {
		if !strings.Contains(text, "\n"+sec.Key+":") {
			t.Errorf("starter has no %s: section", sec.Key)
		}
		walk(reflect.TypeOf(sec.Into).Elem(), sec.Key+".")
	}
	for _, product := range core.Products() {
		if !strings.Contains(text, "\n  "+product+": ") {
			t.Errorf("starter does not mention system_of_record.%s:", product)
		}
	}
}

// yamlKeys maps a struct's yaml keys to field indexes.
func yamlKeys(t reflect.Type) map[string]int {
	out := map[string]int{}
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag != "" && tag != "-" {
			out[tag] = i
		}
	}
	return out
}

func mustParse(t *testing.T, src string) *Project {
	t.Helper()
	p, err := ParseProject("cdp.yaml", []byte(src))
	if err != nil {
		t.Fatalf("ParseProject: %v", err)
	}
	return p
}

// The values the starter writes are the defaults: deleting any line of it
// changes nothing.
func TestStarter_RoundTripsEveryDefault(t *testing.T) {
	starter, err := ParseProject("cdp.yaml", config.Starter(config.StarterOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	minimal := mustParse(t, `feeds:
  - name: credit
    path: feeds/credit
  - name: wealth
    path: feeds/wealth
  - name: card
    path: feeds/card
  - name: ebank
    path: feeds/ebank
  - name: core_banking
    path: feeds/core_banking
  - name: contact
    path: feeds/contact
    delimiter: "|"
  - name: external
    path: feeds/external
  - name: ebank_stream
    contract: ebank
    kind: kafka
    topic: ebank.events
    enabled: false
  - name: crm_outcomes
    contract: contact
    kind: kafka
    topic: crm.outcomes
    entity: outcomes
    enabled: false
`)
	for i := range starter.Feeds {
		starter.Feeds[i].Line, starter.Feeds[i].FormatGiven = 0, false
	}
	for i := range minimal.Feeds {
		minimal.Feeds[i].Line, minimal.Feeds[i].FormatGiven = 0, false
	}
	if !reflect.DeepEqual(starter.Warehouse, minimal.Warehouse) {
		t.Errorf("warehouse:\nstarter %+v\ndefault %+v", starter.Warehouse, minimal.Warehouse)
	}
	if !reflect.DeepEqual(starter.Kafka, minimal.Kafka) {
		t.Errorf("kafka:\nstarter %+v\ndefault %+v", starter.Kafka, minimal.Kafka)
	}
	if !reflect.DeepEqual(starter.Ingest, minimal.Ingest) {
		t.Errorf("ingest:\nstarter %+v\ndefault %+v", starter.Ingest, minimal.Ingest)
	}
	if !reflect.DeepEqual(starter.Feeds, minimal.Feeds) {
		t.Errorf("feeds:\nstarter %+v\ndefault %+v", starter.Feeds, minimal.Feeds)
	}
	for _, sec := range []struct {
		key           string
		starter, mini any
	}{{"identity", starter.Identity, minimal.Identity}, {"tags", starter.Tags, minimal.Tags}, {"tiers", starter.Tiers, minimal.Tiers},
		{"signals", starter.Signals, minimal.Signals}, {"publish", starter.Publish, minimal.Publish},
		{"schedules", starter.Schedules.TimeZone + starter.Schedules.CatchUp, minimal.Schedules.TimeZone + minimal.Schedules.CatchUp},
		{"serve", starter.Serve, minimal.Serve}, {"system_of_record", starter.SystemsOfRecord(), minimal.SystemsOfRecord()}} {
		if !reflect.DeepEqual(sec.starter, sec.mini) {
			t.Errorf("%s:\nstarter %+v\ndefault %+v", sec.key, sec.starter, sec.mini)
		}
	}
}

func TestStarter_FillsItsOptions(t *testing.T) {
	tests := []struct {
		name         string
		opts         config.StarterOptions
		wantBrokers  []string
		wantEmbedded bool
		wantStream   bool
		wantCredit   string
		wantMemory   string
	}{
		{"no broker: stream disabled", config.StarterOptions{}, nil, false, false, "feeds/credit", ""},
		{"brokers: stream enabled", config.StarterOptions{Brokers: []string{"kafka-1:9093", "kafka-2:9093"}},
			[]string{"kafka-1:9093", "kafka-2:9093"}, false, true, "feeds/credit", ""},
		{"embedded: stream enabled", config.StarterOptions{Embedded: true}, nil, true, true, "feeds/credit", ""},
		{"embedded wins over brokers", config.StarterOptions{Embedded: true, Brokers: []string{"k:9092"}}, nil, true, true, "feeds/credit", ""},
		{"feeds dir", config.StarterOptions{FeedsDir: "/srv/bank drop"}, nil, false, false, "/srv/bank drop/credit", ""},
		{"memory limit", config.StarterOptions{MemoryLimit: "6GiB"}, nil, false, false, "feeds/credit", "6GiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseProject("cdp.yaml", config.Starter(tt.opts))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p.Kafka.Brokers, tt.wantBrokers) {
				t.Errorf("brokers = %q, want %q", p.Kafka.Brokers, tt.wantBrokers)
			}
			if p.Kafka.Embedded.Enabled != tt.wantEmbedded {
				t.Errorf("embedded.enabled = %v, want %v", p.Kafka.Embedded.Enabled, tt.wantEmbedded)
			}
			stream, _ := p.Feed("ebank_stream")
			if stream.IsEnabled() != tt.wantStream || stream.Topic != "ebank.events" || stream.Entity != "events" {
				t.Errorf("ebank_stream = %+v, want topic ebank.events, entity events, enabled %v", stream, tt.wantStream)
			}
			credit, _ := p.Feed("credit")
			if credit.Path != tt.wantCredit {
				t.Errorf("credit path = %q, want %q", credit.Path, tt.wantCredit)
			}
			if p.Warehouse.MemoryLimit != tt.wantMemory {
				t.Errorf("warehouse.memory_limit = %q, want %q", p.Warehouse.MemoryLimit, tt.wantMemory)
			}
		})
	}
}

func TestStarter_DemoHasJobsAndSQLUsers(t *testing.T) {
	p, err := ParseProject("cdp.yaml", config.Starter(config.StarterOptions{Embedded: true, Demo: true}))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, j := range p.Schedules.Jobs {
		if j.Schedule == nil {
			t.Errorf("demo job %s has no schedule", j.Name)
		}
		names = append(names, j.Name)
	}
	if got := strings.Join(names, ","); got != "ebank,daily,publish" {
		t.Errorf("demo jobs %s", got)
	}
	if daily, _ := p.Schedules.Job("daily"); len(daily.Stages) != len(DAG) {
		t.Errorf("daily stages %v, want all", daily.Stages)
	}
	if len(p.Serve.SQL.Users) != 2 || p.Serve.SQL.Users[0].Role != "analyst" || p.Serve.SQL.Users[1].Role != "engineer" {
		t.Errorf("demo SQL users %+v", p.Serve.SQL.Users)
	}
	plain, err := ParseProject("cdp.yaml", config.Starter(config.StarterOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	if len(plain.Schedules.Jobs) != 0 || len(plain.Serve.SQL.Users) != 0 {
		t.Errorf("the plain starter has jobs %v or users %v", plain.Schedules.Jobs, plain.Serve.SQL.Users)
	}
}

// The starter's commented example mapping is valid as written: uncommented,
// it compiles against the credit contract.
func TestStarter_ExampleMappingCompiles(t *testing.T) {
	text := string(config.Starter(config.StarterOptions{}))
	var out []string
	in := false
	for line := range strings.SplitSeq(text, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "# mapping:":
			in = true
		case in && !strings.HasPrefix(trimmed, "#"):
			in = false
		}
		if in {
			line = strings.Replace(line, "# ", "", 1)
		}
		out = append(out, line)
	}
	p := mustParse(t, strings.Join(out, "\n"))
	f, _ := p.Feed("credit")
	m := f.Mappings()
	if m["customers"] == nil || m["loans"] == nil || !m["loans"].Positional() {
		t.Fatalf("the example mapping was not found or not compiled: %v", m)
	}
}
