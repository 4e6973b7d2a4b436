package decl

import (
	"slices"
	"strings"
	"testing"
)

type item struct {
	id, file string
	line     int
	replaces bool
}

func (i item) Declared() (string, string, int, bool) { return i.id, i.file, i.line, i.replaces }

func ids(items []item) string {
	var out []string
	for _, i := range items {
		out = append(out, i.id+"@"+i.file)
	}
	return strings.Join(out, ",")
}

func TestLayer(t *testing.T) {
	builtin := []item{{"a", "builtin/a.yaml", 1, false}, {"b", "builtin/b.yaml", 1, false}, {"c", "builtin/c.yaml", 1, false}}
	project := []item{{"b", "mine/b.yaml", 3, true}, {"d", "mine/d.yaml", 1, false}}
	got, probs := Layer(builtin, LayerOptions{What: "tag", Key: "tags", Builtin: true, Disable: []string{"c"}}, project)
	if len(probs) != 0 || ids(got) != "a@builtin/a.yaml,b@mine/b.yaml,d@mine/d.yaml" {
		t.Errorf("layered: %s %v", ids(got), probs)
	}
	// A clash without replaces: true names both files.
	_, probs = Layer(builtin, LayerOptions{What: "tag", Key: "tags", Builtin: true}, []item{{"a", "mine/a.yaml", 7, false}})
	if len(probs) != 1 || !strings.Contains(probs.Error(), "mine/a.yaml") || !strings.Contains(probs.Error(), "builtin/a.yaml") {
		t.Errorf("clash: %v", probs)
	}
	got, probs = Layer(builtin, LayerOptions{What: "tag", Key: "tags"}, project)
	if len(probs) != 0 || ids(got) != "b@mine/b.yaml,d@mine/d.yaml" {
		t.Errorf("without the built-ins: %s %v", ids(got), probs)
	}
}

func TestPick(t *testing.T) {
	all := []item{{id: "a"}, {id: "b"}, {id: "c"}}
	got, err := Pick(all, nil, "tag")
	if err != nil || !slices.Equal(got, all) {
		t.Errorf("no ids: %v %v", got, err)
	}
	got, err = Pick(all, []string{"c", "a"}, "tag")
	if err != nil || ids(got) != "a@,c@" {
		t.Errorf("two ids: %v %v", got, err)
	}
	if _, err := Pick(all, []string{"a", "zz"}, "rule"); err == nil || err.Error() != `no rule "zz"` {
		t.Errorf("unknown id: %v", err)
	}
}
