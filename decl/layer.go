package decl

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// Declared is one item of a declaration file (a tag, a rule).
type Declared interface {
	// Declared says what the item is called and where it is written, and
	// whether it says it replaces the built-in item of the same id.
	Declared() (id, file string, line int, replaces bool)
}

// LayerOptions say how the project's declarations combine with the
// built-in ones.
type LayerOptions struct {
	What    string   // "tag", "rule": for messages
	Key     string   // the cdp.yaml section: "tags", "signals"
	Builtin bool     // include the built-in set
	Disable []string // built-in ids switched off
}

// Layer combines the built-in declarations with the project's (from the
// folders cdp.yaml names, in order). A project item whose id is a built-in
// one's replaces it, in its place, when it says replaces: true; otherwise
// that is a problem naming both files. Built-ins listed in Disable are left
// out; with Builtin false there are none. The result is the built-ins
// first, then the project's own, each in declaration order.
func Layer[T Declared](builtin []T, o LayerOptions, project []T) ([]T, Problems) {
	var probs Problems
	var out []T
	pos := map[string]int{} // built-in id → its index in out
	if o.Builtin {
		off := map[string]bool{}
		known := map[string]bool{}
		for _, b := range builtin {
			id, _, _, _ := b.Declared()
			known[id] = true
		}
		for _, id := range o.Disable {
			if !known[id] {
				probs = append(probs, Problem{File: "cdp.yaml", Item: id,
					Msg: fmt.Sprintf("%s.disable: no built-in %s has this id", o.Key, o.What)})
			}
			off[id] = true
		}
		for _, b := range builtin {
			if id, _, _, _ := b.Declared(); !off[id] {
				pos[id] = len(out)
				out = append(out, b)
			}
		}
	}
	builtinAt := map[string]T{}
	for _, b := range builtin {
		id, _, _, _ := b.Declared()
		builtinAt[id] = b
	}
	seen := map[string]T{}
	for _, item := range project {
		id, file, line, replaces := item.Declared()
		if prev, dup := seen[id]; dup {
			_, pf, pl, _ := prev.Declared()
			probs = append(probs, Problem{File: file, Line: line, Item: id, Msg: fmt.Sprintf("id declared twice (first in %s:%d)", pf, pl)})
			continue
		}
		seen[id] = item
		i, isBuiltin := pos[id]
		switch {
		case isBuiltin && replaces:
			out[i] = item
		case isBuiltin:
			_, bf, bl, _ := builtinAt[id].Declared()
			probs = append(probs, Problem{File: file, Line: line, Item: id, Msg: fmt.Sprintf(
				"a built-in %s has this id (built-in %s:%d): add `replaces: true` to this %s to replace it, "+
					"or set `builtin: false` under %s: in cdp.yaml to use only your own %ss", o.What, bf, bl, o.What, o.Key, o.What)})
		case replaces && o.Builtin:
			probs = append(probs, Problem{File: file, Line: line, Item: id, Msg: fmt.Sprintf(
				"replaces: true, but no built-in %s has this id (or it is disabled)", o.What)})
		default:
			out = append(out, item)
		}
	}
	return out, probs
}

// ReadDir reads every *.yaml file of a project folder, named by their path
// (dir/file.yaml) so problems point at the file the user wrote.
func ReadDir(dir, what string) ([]File, error) {
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%s: not a folder of %s files", dir, what)
	}
	files, err := ReadAll(os.DirFS(dir), what)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	for i := range files {
		files[i].Name = filepath.Join(dir, files[i].Name)
	}
	return files, nil
}

// Pick is the items of all whose ids are listed, in all's order; no ids is
// all of them. An id no item has is an error naming it ("no tag \"x\"").
func Pick[T Declared](all []T, ids []string, what string) ([]T, error) {
	if len(ids) == 0 {
		return all, nil
	}
	var out []T
	have := map[string]bool{}
	for _, item := range all {
		id, _, _, _ := item.Declared()
		have[id] = true
		if slices.Contains(ids, id) {
			out = append(out, item)
		}
	}
	for _, id := range ids {
		if !have[id] {
			return nil, fmt.Errorf("no %s %q", what, id)
		}
	}
	return out, nil
}
