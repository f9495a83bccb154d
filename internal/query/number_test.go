package query

import (
	"math"
	"strconv"
	"testing"
)

// FuzzParseNumber checks parseNumber, fast path included, against
// strconv.ParseFloat.
func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"200", "007", "-1.5", "1e3", "", "123456789012345", "1234567890123456", "NaN", "0x10", "12.345", "1.", ".5", ".", "0.000000000000001", "99999999999999.9", "1.2.3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseNumber(s)
		want, err := strconv.ParseFloat(s, 64)
		wantOK := err == nil && !math.IsNaN(want)
		if ok != wantOK || ok && got != want {
			t.Fatalf("parseNumber(%q) = %v, %v; strconv says %v, %v", s, got, ok, want, err)
		}
	})
}

func BenchmarkParseNumber(b *testing.B) {
	for _, s := range []string{"200", "12.345", "-1.5e3"} {
		b.Run(s, func(b *testing.B) {
			for b.Loop() {
				parseNumber(s)
			}
		})
	}
}
