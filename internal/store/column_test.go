package store

import (
	"slices"
	"strconv"
	"testing"
)

func TestColumnEncodingRoundTrip(t *testing.T) {
	many := func(n, distinct int) []string {
		vals := make([]string, n)
		for i := range vals {
			vals[i] = "v" + strconv.Itoa(i%distinct)
		}
		return vals
	}
	for _, tc := range []struct {
		name string
		vals []string
		want byte
	}{
		{"one value", []string{"x"}, encConst},
		{"all the same", many(100, 1), encConst},
		{"all empty", []string{"", "", ""}, encConst},
		{"few distinct", many(100, 4), encDict},
		{"dictionary limit", many(1000, maxDictValues), encDict},
		{"one past the limit", many(1000, maxDictValues+1), encRaw},
		{"all distinct", many(100, 100), encRaw},
		{"too few repeats for a dictionary", []string{"a", "b", "a"}, encRaw},
		{"empty among others", []string{"", "a", "", "a"}, encDict},
		{"no values", nil, encRaw},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, enc := appendValues(nil, tc.vals, &valueScratch{})
			if enc != tc.want {
				t.Fatalf("encoding %d, want %d", enc, tc.want)
			}
			r := reader{src: string(data)}
			var c decodedCol
			var lens []int
			readValues(&r, enc, len(tc.vals), &c, &lens)
			if r.err == nil && r.remaining() != 0 {
				t.Fatalf("%d bytes left over", r.remaining())
			}
			if r.err != nil {
				t.Fatal(r.err)
			}
			got := make([]string, len(tc.vals))
			for i := range got {
				got[i] = c.value()
			}
			if !slices.Equal(got, tc.vals) && len(tc.vals) > 0 {
				t.Fatalf("got %q, want %q", got, tc.vals)
			}
		})
	}
}

func TestColumnDecodeRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		enc  byte
		n    int
		data string
	}{
		{"unknown encoding", 9, 1, "\x01a"},
		{"dictionary code out of range", encDict, 2, "\x01\x01a\x00\x01"},
		{"empty dictionary", encDict, 1, "\x00\x00"},
		{"codes missing", encDict, 3, "\x01\x01a\x00"},
		{"raw value past end", encRaw, 1, "\x05ab"},
		{"more rows than bytes", encRaw, 10, "\x00"},
		{"constant past end", encConst, 4, "\x03a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := reader{src: tc.data}
			var c decodedCol
			var lens []int
			readValues(&r, tc.enc, tc.n, &c, &lens)
			if r.err == nil {
				t.Fatalf("decoded %q", c.values)
			}
		})
	}
}
