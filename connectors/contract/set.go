package contract

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"cdp/decl"
)

// Set is the feeds one project loads: the built-in feeds and the
// project's own (cdp.yaml's contracts: folders).
type Set struct {
	Feeds []*Feed
}

// BuiltinSet holds the built-in feeds alone.
var BuiltinSet = &Set{Feeds: Builtins}

// WithProject adds the contract files of a project's folders to the
// built-in feeds. A project feed may not take a built-in feed's name, nor
// another project feed's.
func WithProject(dirs []fs.FS, names []string) (*Set, error) {
	s := &Set{Feeds: append([]*Feed(nil), Builtins...)}
	var problems []string
	for i, dir := range dirs {
		feeds, err := Load(dir)
		var probs decl.Problems
		switch {
		case errors.As(err, &probs):
			for _, p := range probs {
				p.File = path.Join(names[i], p.File)
				problems = append(problems, p.Error())
			}
			continue
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s: %v", names[i], err))
			continue
		}
		for _, f := range feeds {
			f.File = path.Join(names[i], f.File)
			if other := s.Feed(f.Name); other != nil {
				problems = append(problems, fmt.Sprintf("%s:%d: feed %s is declared in %s already", f.File, f.line, f.Name, other.File))
				continue
			}
			s.Feeds = append(s.Feeds, f)
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, "\n"))
	}
	return s, nil
}

// Feed is the feed named name, or nil.
func (s *Set) Feed(name string) *Feed {
	for _, f := range s.Feeds {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// Names lists the feed names, built-in ones first.
func (s *Set) Names() []string {
	out := make([]string, len(s.Feeds))
	for i, f := range s.Feeds {
		out[i] = f.Name
	}
	return out
}

// Entities lists every entity, feed by feed, each feed's in load order.
func (s *Set) Entities() []*Entity { return entitiesOf(s.Feeds) }

// Lookup finds an entity by feed and name.
func (s *Set) Lookup(feed, name string) (*Entity, error) {
	if f := s.Feed(feed); f != nil {
		for _, e := range f.Entities {
			if e.Name == name {
				return e, nil
			}
		}
	}
	return nil, fmt.Errorf("no entity %s.%s in the feed contracts", feed, name)
}
