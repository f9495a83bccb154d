package query

import (
	"strings"
	"testing"
)

// checkGlobASCII compares globMatchASCII with globMatch over the lowercase
// copy, for ASCII inputs.
func checkGlobASCII(t *testing.T, s, pattern string) {
	t.Helper()
	segments := strings.Split(strings.ToLower(pattern), "*")
	if !isASCII(s) || !isASCII(pattern) {
		return
	}
	if got, want := globMatchASCII(s, segments), globMatch(strings.ToLower(s), segments); got != want {
		t.Fatalf("globMatchASCII(%q, %q) = %v, globMatch says %v", s, pattern, got, want)
	}
}

func TestGlobMatchASCII(t *testing.T) {
	for _, tc := range []struct {
		s, pattern string
		want       bool
	}{
		{"Connection REFUSED by peer", "*refus*", true},
		{"connection refused", "conn*", true},
		{"connection refused", "*USED", true},
		{"connection refused", "c*n*d", true},
		{"connection refused", "*x*", false},
		{"abc", "abc", true},
		{"abc", "ABC", true},
		{"abc", "abcd", false},
		{"aaab", "*aab*", true},
		{"ab", "a*b*c", false},
		{"Aa", "*a*a*", true},
		{"", "*", true},
	} {
		if got := globMatchASCII(tc.s, strings.Split(strings.ToLower(tc.pattern), "*")); got != tc.want {
			t.Errorf("globMatchASCII(%q, %q) = %v, want %v", tc.s, tc.pattern, got, tc.want)
		}
		checkGlobASCII(t, tc.s, tc.pattern)
	}
}

func FuzzGlobMatchASCII(f *testing.F) {
	f.Add("Connection REFUSED", "*refus*")
	f.Add("aaab", "a*ab*b")
	f.Fuzz(func(t *testing.T, s, pattern string) {
		checkGlobASCII(t, s, pattern)
	})
}
