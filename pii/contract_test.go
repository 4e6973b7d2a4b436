package pii_test

import (
	"testing"

	"cdp/connectors/contract"
	"cdp/pii"
)

// The PII class a feed contract declares for a column is the class the
// warehouse gives its raw column, and every raw column the list calls
// personal is declared so in its contract: the two cannot disagree.
func TestContracts_DeclareTheClassesOfTheRawColumns(t *testing.T) {
	for _, e := range contract.Entities {
		table := e.Feed + "_" + e.Name
		for _, c := range e.Columns {
			if got := pii.ClassOf("raw", table, c.Name); string(got) != c.PII {
				t.Errorf("%s.%s: the contract says pii %q, the warehouse classes it %q", e.Table(), c.Name, c.PII, got)
			}
		}
	}
}
