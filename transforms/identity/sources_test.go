package identity

import (
	"reflect"
	"strings"
	"testing"
)

// Trust orders come from the contracts' ranks, but a default order written
// in cdp.yaml governs every attribute no contract ranks on its own; two
// sources of one system name are refused.
func TestTrustOrders_FromContractsAndSection(t *testing.T) {
	sources := []Source{
		{System: "credit", Entity: "credit.customers", Trust: map[string]int{"default": 1, "mobile": 4}},
		{System: "wealth", Entity: "wealth.clients", Trust: map[string]int{"default": 2, "mobile": 3}},
		{System: "ebank", Entity: "ebank.users", Trust: map[string]int{"default": 3, "mobile": 1}},
	}
	c := Config{Sources: sources}.withDefaults()
	if want := []string{"credit", "wealth", "ebank"}; !reflect.DeepEqual(c.Trust["default"], want) {
		t.Errorf("default %v, want %v", c.Trust["default"], want)
	}
	if want := []string{"ebank", "wealth", "credit"}; !reflect.DeepEqual(c.Trust["mobile"], want) {
		t.Errorf("mobile %v, want %v", c.Trust["mobile"], want)
	}
	if _, ok := c.Trust["name"]; ok {
		t.Errorf("name has an order of its own (%v): it should follow the default", c.Trust["name"])
	}
	mine := Config{Sources: sources, Trust: map[string][]string{"default": {"ebank", "wealth", "credit"}}}.withDefaults()
	if _, ok := mine.Trust["name"]; ok || mine.Trust["default"][0] != "ebank" || mine.Trust["mobile"][0] != "ebank" {
		t.Errorf("a section's default: %v", mine.Trust)
	}
	dup := Config{Sources: append(sources, Source{System: "credit", Entity: "crm.contacts"})}
	if probs := dup.CheckSources(); len(probs) != 1 || !strings.Contains(probs[0], `credit.customers and crm.contacts both name their records system "credit"`) {
		t.Errorf("duplicate system: %v", probs)
	}
}
