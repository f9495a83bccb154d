package query

import (
	"math/rand"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

// checkASCIIMatch compares asciiContainsTokens with the tokeniser's answer
// for the phrase (or prefix) q over s.
func checkASCIIMatch(t *testing.T, s, q string, prefix bool) {
	t.Helper()
	want := record.TokenList(q)
	if !asciiTokens(want) {
		return
	}
	found, ok := asciiContainsTokens(s, want, prefix)
	if ok != isASCII(s) {
		t.Fatalf("asciiContainsTokens(%q, %q) ok = %v for a value whose ASCII-ness is %v", s, want, ok, !ok)
	}
	if ok && found != containsTokens(s, want, prefix) {
		t.Fatalf("asciiContainsTokens(%q, %q, prefix %v) = %v, the tokeniser says %v", s, want, prefix, found, !found)
	}
}

func TestASCIIContainsTokens(t *testing.T) {
	for _, tc := range []struct {
		s, q   string
		prefix bool
		found  bool
		ok     bool
	}{
		{"connection refused", "refused", false, true, true},
		{"connection REFUSED", "refused", false, true, true},
		{"connection refused_x", "refused", false, false, true},
		{"connection refused_x", "refused", true, true, true},
		{"xrefused", "refused", false, false, true},
		{"eeeerror error", "error", false, true, true},
		{"Error-Error", "error error", false, true, true},
		{"error, , , timeout", "error timeout", false, true, true},
		{"error timeout2", "error timeout", false, false, true},
		{"error timeout2", "error timeout", true, true, true},
		{"error x timeout", "error timeout", false, false, true},
		{"error error timeout", "error timeout", false, true, true},
		{"Errors error", "error", false, true, true},
		{"user_42 done", "user_42", false, true, true},
		{"500", "500", false, true, true},
		{"", "x", false, false, true},
		{"x", "x", true, true, true},
		{"caf\u00e9 error", "error", false, false, false}, // non-ASCII: the tokeniser decides
		{"\u212Aelvin", "kelvin", false, false, false},
	} {
		found, ok := asciiContainsTokens(tc.s, record.TokenList(tc.q), tc.prefix)
		if found != tc.found || ok != tc.ok {
			t.Errorf("asciiContainsTokens(%q, %q, prefix %v) = %v, %v; want %v, %v", tc.s, tc.q, tc.prefix, found, ok, tc.found, tc.ok)
		}
		checkASCIIMatch(t, tc.s, tc.q, tc.prefix)
	}
}

// TestASCIIContainsTokensRandom checks the fast path against the tokeniser
// over values built from words, case changes and separators that sit
// next to token bytes.
func TestASCIIContainsTokensRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	words := []string{"a", "ab", "abc", "b", "ba", "Ab", "AB", "_", "a_b", "1", "a1", "err", "error", "ERROR", "errors"}
	seps := []string{" ", "-", "", ", ", ".", "\t", "__"}
	build := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(seps[rng.Intn(len(seps))])
			}
			b.WriteString(words[rng.Intn(len(words))])
		}
		return b.String()
	}
	for i := 0; i < 20000; i++ {
		checkASCIIMatch(t, build(1+rng.Intn(6)), build(1+rng.Intn(3)), rng.Intn(2) == 0)
	}
}

func FuzzASCIIContainsTokens(f *testing.F) {
	f.Add("connection refused", "refused", false)
	f.Add("Error-Error x", "error error", true)
	f.Add("a_b a", "b a", false)
	f.Fuzz(func(t *testing.T, s, q string, prefix bool) {
		checkASCIIMatch(t, s, q, prefix)
	})
}

func BenchmarkPhraseMatch(b *testing.B) {
	msg := "2026-01-02T03:04:05Z INFO http request GET /api/v1/orders/1234 completed with status 200 in 12.5ms user=alice trace=abc"
	for _, q := range []string{"completed", "status 200", "refused"} {
		f := newPhraseFilter(record.MessageField, q, false)
		r := &record.Record{Message: msg}
		b.Run(q, func(b *testing.B) {
			for b.Loop() {
				f.Match(r)
			}
		})
	}
}
