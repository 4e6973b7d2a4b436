package identity

import (
	"os"
	"runtime/debug"
	"testing"
)

// While a unification runs the collector runs at unifyGCPercent, and the
// setting is put back after; a GOGC from the environment is left alone.
func TestCollectOften_LowersGOGCAndRestoresIt(t *testing.T) {
	t.Setenv("GOGC", "")
	os.Unsetenv("GOGC")
	was := debug.SetGCPercent(137)
	defer debug.SetGCPercent(was)
	restore := collectOften()
	if got := debug.SetGCPercent(unifyGCPercent); got != unifyGCPercent {
		t.Errorf("while unifying GOGC is %d, want %d", got, unifyGCPercent)
	}
	restore()
	if got := debug.SetGCPercent(137); got != 137 {
		t.Errorf("after unifying GOGC is %d, want 137 back", got)
	}
	t.Setenv("GOGC", "80")
	restore = collectOften()
	if got := debug.SetGCPercent(137); got != 137 {
		t.Errorf("with GOGC set in the environment, unifying changed it to %d", got)
	}
	restore()
}
