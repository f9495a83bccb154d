package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

func TestContainsFoldASCII(t *testing.T) {
	for _, tc := range []struct {
		b, t string
		want bool
	}{
		{"", "a", false},
		{"abc", "", true},
		{"xxABCxx", "abc", true},
		{"xxAbCxx", "abc", true},
		{"xxab", "abc", false},
		{"abc", "abc", true},
		{"x_1f00Ax", "1f00a", true},
		{"x_1F00Ax", "1f00a", true},
		{"1f00", "1f00a", false},
		{"f001f00a", "1f00a", true},
		{"aaaab", "aab", true},
		{"a1b a1c", "a1c", true},
		{"A1B", "a1c", false},
		{"_", "_", true},
	} {
		if got := containsFoldASCII([]byte(tc.b), tc.t); got != tc.want {
			t.Errorf("containsFoldASCII(%q, %q) = %v, want %v", tc.b, tc.t, got, tc.want)
		}
	}
}

// TestRawToken: only a token of lowercase ASCII is searched for in the
// head's bytes, and the non-ASCII letters that lowercase into one are
// known.
func TestRawToken(t *testing.T) {
	for _, tc := range []struct {
		tok  string
		want bool
	}{
		{"4bf92f3577b34da6a3ce929d0e0e4736", true},
		{"timeout", true},
		{"key_1", true},
		{"Abc", false},  // tokens are lowercase
		{"ab-c", false}, // not one token
		{"é", false},
		{"", false},
	} {
		if got := rawToken(tc.tok); got != tc.want {
			t.Errorf("rawToken(%q) = %v, want %v", tc.tok, got, tc.want)
		}
	}
	if got := foldsFromNonASCII['k']; !slices.Contains(got, "\u212A") {
		t.Errorf("foldsFromNonASCII['k'] = %q, want the Kelvin sign among them", got)
	}
	if got := foldsFromNonASCII['a']; got != nil {
		t.Errorf("foldsFromNonASCII['a'] = %q, want none", got)
	}
}

// TestHeadTokenSearch: a search of the head for a TokenFilter's tokens
// passes over the chunks that do not hold them, and answers what Match
// answers over every record: tokens in a field in either case, in the
// message, in a stream label (not in the chunks' bytes), in the fields a
// batch shares (encoded once per chunk), and in a value spelt with a
// non-ASCII letter that lowercases to ASCII.
func TestHeadTokenSearch(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	defer s.Close()
	pad := strings.Repeat("x", 1000) // 4 chunks of records or so
	var all []record.Record
	for b := range 4 {
		var recs []record.Record
		for i := range 250 {
			n := b*250 + i
			r := record.Record{
				Time:    testBase + int64(n)*int64(time.Second),
				Stream:  []record.Field{{Name: "app", Value: fmt.Sprintf("app%d", n%3)}},
				Message: fmt.Sprintf("request %d %s", n, pad),
				Fields: []record.Field{
					{Name: "env", Value: fmt.Sprintf("env%d", b)}, // shared by the batch
					{Name: "trace_id", Value: fmt.Sprintf("%032x", n)},
				},
			}
			switch n {
			case 77:
				r.Fields[1].Value = strings.ToUpper("4bf92f3577b34da6a3ce929d0e0e4736")
			case 901:
				r.Message = "rare Needle here " + pad
			case 500:
				r.Fields = append(r.Fields, record.Field{Name: "word", Value: "\u212Aey"}) // tokenises as key
			}
			recs = append(recs, r)
		}
		s.Append(recs, uint64(b+1))
		all = append(all, recs...)
	}
	for _, tc := range []struct {
		f idFilter
		// scanAll says that no chunk can be ruled out.
		scanAll bool
	}{
		{f: idFilter{field: "trace_id", toks: []string{"4bf92f3577b34da6a3ce929d0e0e4736"}}},
		{f: idFilter{field: "trace_id", toks: []string{fmt.Sprintf("%032x", 3)}}},
		{f: idFilter{field: "trace_id", toks: []string{"ffffffffffffffffffffffffffffffff"}}},
		{f: idFilter{field: record.MessageField, toks: []string{"needle"}}},
		{f: idFilter{field: record.MessageField, toks: []string{"request"}}, scanAll: true},
		{f: idFilter{field: "env", toks: []string{"env2"}}},
		{f: idFilter{field: "app", toks: []string{"app1"}}, scanAll: true},
		// The one chunk with the Kelvin sign is read.
		{f: idFilter{field: "word", toks: []string{"key"}}},
		{f: idFilter{field: "word", toks: []string{"kex"}}},
	} {
		want := 0
		for i := range all {
			if tc.f.Match(&all[i]) {
				want++
			}
		}
		var st SearchStats
		got := 0
		err := s.Search(context.Background(), SearchRequest{Filter: tc.f, Stats: &st}, func(*record.Record) error { got++; return nil })
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s %v: %d records, want %d", tc.f.field, tc.f.toks, got, want)
		}
		if scanned := int(st.RecordsScanned); tc.scanAll != (scanned == len(all)) {
			t.Errorf("%s %v: %d of %d records scanned", tc.f.field, tc.f.toks, scanned, len(all))
		}
	}
}
