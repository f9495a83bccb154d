package autoscale

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseTrace(t *testing.T) {
	tr, err := ParseTrace("t", strings.NewReader("# comment\nseconds,rate\n0,100\n\n10, 200\n20,0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Duration() != 20*time.Second {
		t.Errorf("duration %v", tr.Duration())
	}
	for _, c := range []struct {
		at   time.Duration
		want float64
	}{{0, 100}, {5 * time.Second, 150}, {10 * time.Second, 200}, {15 * time.Second, 100}, {time.Hour, 0}} {
		if got := tr.RateAt(c.at); got != c.want {
			t.Errorf("RateAt(%v) = %v, want %v", c.at, got, c.want)
		}
	}
	for _, bad := range []struct{ in, want string }{
		{"0,1\n", "at least two points"},
		{"0,1\n0,2\n", "times must rise"},
		{"0,1\n5\n", "want seconds,records_per_second"},
		{"0,1\n5,x\n", "records/s must be"},
		{"0,1\n-5,1\n", "seconds must be"},
		{"0,1\n1e9,1\n", "seconds must be"},
		{"0,1\n5,-1\n", "records/s must be"},
		{"0,1\n5,NaN\n", "records/s must be"},
		{"0,1\nNaN,1\n", "seconds must be"},
		{"0,1\n" + strings.Repeat("9", 5000) + ",1\n", "read trace"},
	} {
		if _, err := ParseTrace("t", strings.NewReader(bad.in)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("ParseTrace(%.30q): %v, want an error with %q", bad.in, err, bad.want)
		}
	}
	if _, err := LoadBuiltin("nope"); err == nil || !strings.Contains(err.Error(), "spike") {
		t.Errorf("LoadBuiltin(nope): %v", err)
	}
}

func FuzzParseTrace(f *testing.F) {
	f.Add("0,100\n10,200\n")
	f.Add("# x\nseconds,rate\n0,1e6\n0.5,2\n")
	f.Fuzz(func(t *testing.T, in string) {
		tr, err := ParseTrace("fuzz", strings.NewReader(in))
		if err != nil {
			return
		}
		for i := 1; i < len(tr.Points); i++ {
			if tr.Points[i].At <= tr.Points[i-1].At {
				t.Fatalf("times do not rise: %v", tr.Points)
			}
		}
		for _, p := range tr.Points {
			if r := tr.RateAt(p.At); r < 0 || math.IsNaN(r) {
				t.Fatalf("rate %v at %v", r, p.At)
			}
		}
	})
}

// TestBuiltinTraces: every trace file shipped is a built-in name of
// --trace, and every built-in name loads.
func TestBuiltinTraces(t *testing.T) {
	entries, err := builtin.ReadDir("traces")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		files = append(files, strings.TrimSuffix(e.Name(), ".csv"))
	}
	slices.Sort(files)
	names := slices.Sorted(slices.Values(Builtin()))
	if !slices.Equal(files, names) {
		t.Errorf("trace files %v, built-in names %v", files, names)
	}
	for _, n := range names {
		if _, err := LoadBuiltin(n); err != nil {
			t.Error(err)
		}
	}
}
