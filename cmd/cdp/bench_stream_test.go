package main

import (
	"regexp"
	"testing"
)

// cdp bench stream loads both topics exactly (it fails on a message lost,
// duplicated or rejected) and reports their rates and the ratio.
func TestBenchStream_OutcomesAgainstEvents(t *testing.T) {
	out, err := run(t, "bench", "stream", "--messages", "3000", "--runs", "1")
	if err != nil {
		t.Fatalf("bench stream: %v\n%s", err, out)
	}
	for _, re := range []string{`(?m)^  ebank_stream\s+\d+ rows/s`, `(?m)^  crm_outcomes\s+\d+ rows/s`, `outcomes at \d+\.\d\dx the events' rate`} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("the report lacks %s:\n%s", re, out)
		}
	}
}
