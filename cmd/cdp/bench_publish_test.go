package main

import (
	"regexp"
	"testing"
)

// cdp bench publish queues events the schemas accept, drains them through
// both writers and reports the ratio.
func TestBenchPublish_OursAgainstTheBareWriter(t *testing.T) {
	out, err := run(t, "bench", "publish", "--events", "2000", "--batch", "500", "--runs", "1")
	if err != nil {
		t.Fatalf("bench publish: %v\n%s", err, out)
	}
	for _, re := range []string{`(?m)^kafka-go bare Writer\s+[\d.]+\s+\d+`, `(?m)^cdp publish \(outbox → Kafka, marked\)\s+[\d.]+\s+\d+`, `ours / bare: \d+\.\d\dx`} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("the report lacks %s:\n%s", re, out)
		}
	}
}
