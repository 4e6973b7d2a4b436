package identity

import (
	"context"
	"os"
	"runtime/debug"
	"strings"
	"testing"
)

// While a unification runs the collector runs at unifyGCPercent, and the
// setting is put back after — by the last of two that overlap, on an
// early return too; a GOGC from the environment, or a collector already
// running as often or switched off, is left alone.
func TestCollectOften_LowersGOGCAndRestoresIt(t *testing.T) {
	t.Setenv("GOGC", "")
	os.Unsetenv("GOGC")
	was := debug.SetGCPercent(137)
	defer debug.SetGCPercent(was)
	gogc := func() int { // reads the setting without changing it
		v := debug.SetGCPercent(137)
		debug.SetGCPercent(v)
		return v
	}
	first := collectOften()
	if got := gogc(); got != unifyGCPercent {
		t.Errorf("while unifying GOGC is %d, want %d", got, unifyGCPercent)
	}
	second := collectOften()
	first()
	if got := gogc(); got != unifyGCPercent {
		t.Errorf("with a second unification still running GOGC is %d, want %d", got, unifyGCPercent)
	}
	second()
	if got := gogc(); got != 137 {
		t.Errorf("after unifying GOGC is %d, want 137 back", got)
	}
	for _, v := range []int{30, -1} {
		debug.SetGCPercent(v)
		collectOften()()
		if got := gogc(); got != v {
			t.Errorf("GOGC %d: unifying left it at %d", v, got)
		}
	}
	debug.SetGCPercent(137)
	// Unify puts it back when it returns, on an early return too (no
	// sources to unify).
	if _, err := Unify(context.Background(), nil, Options{}); err == nil || !strings.Contains(err.Error(), "nothing to unify") {
		t.Fatalf("a unification without sources: %v", err)
	}
	if got := gogc(); got != 137 {
		t.Errorf("after a unification GOGC is %d, want 137", got)
	}
	t.Setenv("GOGC", "80")
	restore := collectOften()
	if got := gogc(); got != 137 {
		t.Errorf("with GOGC set in the environment, unifying changed it to %d", got)
	}
	restore()
}
