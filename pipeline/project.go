package pipeline

import (
	"cdp/connectors/contract"
	"cdp/outbox"
	"cdp/pipeline/config"
	"cdp/transforms/core"
	"cdp/transforms/identity"
	"cdp/transforms/signals"
	"cdp/transforms/tags"
	"cdp/transforms/tiers"
	"cdp/transforms/view"
)

// Project is cdp.yaml whole: the project's own keys (config.Project) and
// each stage's options, decoded into the types the stages own.
type Project struct {
	*config.Project
	Identity identity.Config // identity: (unify)
	Tags     tags.Config     // tags: (tags)
	Tiers    tiers.Config    // tiers: (tiers)
	Signals  signals.Config  // signals: (signals)
	Publish  outbox.Config   // publish: (publish, the daemon's relay)
	// Records is system_of_record: (model): per product, the one system
	// the core model reads it from. See SystemsOfRecord.
	Records core.Records
}

// SystemsOfRecord are the systems the core model reads each product from:
// those system_of_record: names, and for a product it leaves out, the
// default system (deposits: core_banking) when the project declares a feed
// of its contract, else the next one (deposits: wealth), so that a project
// without a core banking feed keeps the deposits its wealth feed carries.
func (p *Project) SystemsOfRecord() core.Records {
	out := core.Records{}
	for _, product := range core.Products() {
		if s := p.Records[product]; s != "" {
			out[product] = s
			continue
		}
		systems := core.RecordSystems(product)
		out[product] = systems[len(systems)-1]
		for _, f := range p.Feeds {
			if f.Contract == systems[0] {
				out[product] = systems[0]
			}
		}
	}
	return out
}

// PublishTopics are the canonical topics cdp publishes to, each declared by
// the stage that produces its events.
var PublishTopics = func() []string {
	var ts []string
	for _, k := range signals.Kinds {
		ts = append(ts, k.Topic)
	}
	return append(ts, tags.TagChangesTopic, tiers.TierChangesTopic, view.ProfileTopic)
}()

// LoadProject reads, decodes, defaults and validates the project file at
// path, every stage's section included; every problem names the file,
// line, column and field.
func LoadProject(path string) (*Project, error) {
	p := &Project{}
	base, err := config.Load(path, p.extension())
	if err != nil {
		return nil, err
	}
	p.Project = base
	return p, nil
}

// ParseProject is LoadProject over data already read; path names the file
// in errors and anchors relative paths.
func ParseProject(path string, data []byte) (*Project, error) {
	p := &Project{}
	base, err := config.Parse(path, data, p.extension())
	if err != nil {
		return nil, err
	}
	p.Project = base
	return p, nil
}

// IdentitySources are the entities of a contract set that declare
// identity: (customer records), as unification reads them.
func IdentitySources(set *contract.Set) []identity.Source {
	var out []identity.Source
	for _, e := range set.Entities() {
		id := e.Identity
		if id == nil {
			continue
		}
		out = append(out, identity.Source{System: id.System, Entity: e.ID(), Table: e.Table(), Key: id.Key,
			PartyConst: id.PartyType.Const, PartyColumn: id.PartyType.Column, Companies: id.PartyType.Companies,
			Attributes: id.Attributes, Trust: id.Trust})
	}
	return out
}

// extension names the stages and their sections for the config decoder.
func (p *Project) extension() config.Extension {
	return config.Extension{
		Stages: Names(),
		// Unification reads the customer entities of the feed contracts.
		Contracts: func(set *contract.Set) { p.Identity.Sources = IdentitySources(set) },
		Sections: []config.Section{
			{Key: "identity", Into: &p.Identity,
				Defaults: func() { p.Identity = p.Identity.WithDefaults() },
				Check:    func() []string { return append(p.Identity.Check(), p.Identity.CheckSources()...) }},
			{Key: "tags", Into: &p.Tags,
				Defaults: func() { p.Tags = p.Tags.WithDefaults() }},
			{Key: "tiers", Into: &p.Tiers,
				Defaults: func() { p.Tiers = p.Tiers.WithDefaults() }, Check: func() []string { return p.Tiers.Check() }},
			{Key: "signals", Into: &p.Signals,
				Defaults: func() { p.Signals = p.Signals.WithDefaults() }, Check: func() []string { return p.Signals.Check() },
				ListOnly: map[string]string{"rules": signals.RulesHint}},
			{Key: "system_of_record", Into: &p.Records, Check: func() []string { return core.CheckRecords(p.Records) }},
			{Key: "publish", Into: &p.Publish,
				Defaults: func() { p.Publish = p.Publish.WithDefaults() }, Check: func() []string { return p.Publish.Check(PublishTopics) }},
		},
	}
}

// TagFolders are the project's tag catalog folders, resolved.
func (p *Project) TagFolders() []string { return p.resolveAll(p.Tags.Catalogs) }

// RuleFolders are the project's signal rule folders, resolved.
func (p *Project) RuleFolders() []string { return p.resolveAll(p.Signals.Rules) }

func (p *Project) resolveAll(paths []string) []string {
	out := make([]string, len(paths))
	for i, s := range paths {
		out[i] = p.Resolve(s)
	}
	return out
}
