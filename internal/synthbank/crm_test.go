package synthbank

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"
)

// The CRM answers each signal once, from the events alone, the same way
// on every run, at about the rates it planted.
func TestAnswerSignals_OnceEachAtThePlantedRates(t *testing.T) {
	var msgs []SignalMessage
	for i := range 4000 {
		body := fmt.Sprintf(`{"signal_id":"%032d","state":"opened","rule_id":"xs_test","kind":"cross_sell","party_id":"P%010d","rm_id":"RM1","product":"WMP"}`, i, i)
		msgs = append(msgs, SignalMessage{CEID: fmt.Sprintf("ce-%d", i), Body: []byte(body)})
	}
	// An update of a signal already answered, and a closed one never opened
	// here, are not answered.
	msgs = append(msgs, SignalMessage{CEID: "ce-u", Body: []byte(`{"signal_id":"00000000000000000000000000000001","state":"updated","rule_id":"xs_test","kind":"cross_sell"}`)},
		SignalMessage{CEID: "ce-c", Body: []byte(`{"signal_id":"99999999999999999999999999999999","state":"closed","rule_id":"xs_test","kind":"cross_sell"}`)})
	o := CRMOptions{Seed: 3, Day: time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC)}
	a, err := AnswerSignals(msgs, o)
	if err != nil {
		t.Fatal(err)
	}
	b, err := AnswerSignals(msgs, o)
	if err != nil {
		t.Fatal(err)
	}
	if a.Signals != 4000 || len(a.Outcomes) != len(b.Outcomes) {
		t.Fatalf("%d signals answered with %d outcomes, rerun %d", a.Signals, len(a.Outcomes), len(b.Outcomes))
	}
	status := map[string]int{}
	for i, e := range a.Outcomes {
		if string(e.Value) != string(b.Outcomes[i].Value) {
			t.Fatalf("outcome %d differs between runs", i)
		}
		var m map[string]any
		if err := json.Unmarshal(e.Value, &m); err != nil {
			t.Fatal(err)
		}
		if m["ce_id"] == "ce-u" || m["ce_id"] == "ce-c" {
			t.Fatalf("answered %v", m)
		}
		if m["ce_id"] != nil {
			status[m["status"].(string)]++
		} else {
			status["SALE"]++
		}
	}
	r := a.Rates["xs_test"]
	for _, c := range []struct {
		what      string
		got, want float64
	}{
		{"accepted", float64(status["ACCEPTED"]) / 4000, 1},
		{"contacted", float64(status["CONTACTED"]) / 4000, r.Contact},
		{"interested of contacted", float64(status["INTERESTED"]) / float64(status["CONTACTED"]), r.Interest},
		// An interested customer converts if the RM sells, or had bought anyway.
		{"converted of interested", float64(status["CONVERTED"]) / float64(status["INTERESTED"]), 1 - (1-r.Convert)*(1-r.Base)},
	} {
		if math.Abs(c.got-c.want) > 0.05 {
			t.Errorf("%s: %.3f, planted %.3f", c.what, c.got, c.want)
		}
	}
}
