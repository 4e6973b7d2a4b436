package pipeline_test

import (
	"os"
	"testing"

	"cdp/internal/testbank"
	"cdp/pipeline"
)

// TestMain doubles as the crashing child process: with CDP_CRASH_PROJECT set,
// the test binary runs one ingest and SIGKILLs itself at the named point
// (crash_test.go). Otherwise it runs the tests, building each generated bank
// they ask for once and removing it at the end.
func TestMain(m *testing.M) {
	if path := os.Getenv("CDP_CRASH_PROJECT"); path != "" {
		pipeline.CrashChild(path, os.Getenv("CDP_CRASH_AT"))
		return
	}
	os.Exit(testbank.Main(m))
}
