package main

import (
	"io"
	"testing"
)

// TestParseFlagsDaysLiveRestart: -days above 1 turns on -live and
// -restart, unless either is set to false explicitly.
func TestParseFlagsDaysLiveRestart(t *testing.T) {
	for _, tc := range []struct {
		args          []string
		live, restart bool
	}{
		{[]string{}, false, false},
		{[]string{"-days", "10"}, true, true},
		{[]string{"-days", "10", "-live=false"}, false, true},
		{[]string{"-days", "10", "-live=false", "-restart=false"}, false, false},
		{[]string{"-days", "10", "-restart=false", "-live"}, true, false},
		{[]string{"-live"}, true, false},
	} {
		o, err := parseFlags(tc.args, io.Discard)
		if err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if o.live != tc.live || o.restart != tc.restart {
			t.Errorf("%q: live %v restart %v, want %v %v", tc.args, o.live, o.restart, tc.live, tc.restart)
		}
	}
}
