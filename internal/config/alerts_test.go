package config

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseCondition(t *testing.T) {
	tests := []struct {
		in     string
		col    string
		op     string
		value  float64
		wantOK bool
	}{
		{"n > 100", "n", ">", 100, true},
		{"n == 0", "n", "==", 0, true},
		{" errors>=2.5 ", "errors", ">=", 2.5, true},
		{"p99 < -1e3", "p99", "<", -1000, true},
		{"n != 7", "n", "!=", 7, true},
		{"n > ", "", "", 0, false},
		{"n >> 1", "", "", 0, false},
		{"n > 1.2.3", "", "", 0, false},
		{"n = 1", "", "", 0, false},
	}
	for _, tt := range tests {
		col, op, v, err := ParseCondition(tt.in)
		if (err == nil) != tt.wantOK || col != tt.col || op != tt.op || v != tt.value {
			t.Errorf("ParseCondition(%q) = %q %q %v %v", tt.in, col, op, v, err)
		}
	}
}

// FuzzParseCondition: any input is either refused or split into a column
// without spaces, one of the six operators and a number that prints back.
func FuzzParseCondition(f *testing.F) {
	for _, s := range []string{"n > 100", "n == 0", "x<=-1e3", "a != 0.5", "", ">", "n > 1e999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		col, op, v, err := ParseCondition(s)
		if err != nil {
			return
		}
		if col == "" || strings.ContainsAny(col, " \t\n") || !strings.Contains(">= <= == != > <", op) {
			t.Fatalf("ParseCondition(%q) = %q %q", s, col, op)
		}
		if _, err := strconv.ParseFloat(strconv.FormatFloat(v, 'g', -1, 64), 64); err != nil {
			t.Fatalf("value %v", v)
		}
	})
}

func TestFlowStepsValidate(t *testing.T) {
	for _, c := range []struct {
		flow FlowConfig
		ok   bool
	}{
		{FlowConfig{Start: "a", End: "b"}, true},
		{FlowConfig{Steps: []string{"a", "b", "c"}}, true},
		{FlowConfig{Steps: []string{"a"}}, false},
		{FlowConfig{Steps: []string{"a", ""}}, false},
		{FlowConfig{Start: "a", Steps: []string{"a", "b"}}, false},
		{FlowConfig{Start: "a"}, false},
	} {
		cfg := Default()
		c.flow.Name, c.flow.Key, c.flow.Within = "f", "id", Duration(time.Minute)
		cfg.Alerts.Flows = []FlowConfig{c.flow}
		if err := cfg.Validate(); (err == nil) != c.ok {
			t.Errorf("%+v: error %v, want ok %v", c.flow, err, c.ok)
		}
	}
	if got := (FlowConfig{Start: "a", End: "b"}).StepFilters(); len(got) != 2 || got[1] != "b" {
		t.Errorf("StepFilters of start and end: %v", got)
	}
}
