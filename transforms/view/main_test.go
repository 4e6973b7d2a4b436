package view_test

import (
	"os"
	"testing"

	"cdp/internal/testbank"
)

// TestMain builds each generated bank the tests ask for once and removes
// it at the end.
func TestMain(m *testing.M) { os.Exit(testbank.Main(m)) }
