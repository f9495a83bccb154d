package store

import (
	"bytes"
	"context"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestColumnEncodingRoundTrip(t *testing.T) {
	many := func(n, distinct int) []string {
		vals := make([]string, n)
		for i := range vals {
			vals[i] = "v" + strconv.Itoa(i%distinct)
		}
		return vals
	}
	var sc valueScratch
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
		{"runs of repeats", []string{"a", "a", "a", "b", "b", "a", "a", "c"}, encDict},
		{"half distinct", many(8, 4), encDict},
		{"one past half distinct", many(7, 4), encRaw},
		{"distinct after a run", []string{"a", "a", "b", "c", "d", "e"}, encRaw},
		{"no values", nil, encRaw},
		{"hex ids", []string{"4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b700f067aa0ba902b7", "ffffffffffffffffffffffffffffffff"}, encHex},
		{"short hex", []string{"0a", "ff", "10", "ab"}, encHex},
		{"hex of two lengths", []string{"00f067aa0ba902b7", "4bf92f3577b34da6a3ce929d0e0e4736"}, encRaw},
		{"upper-case hex", []string{"00F067AA0BA902B7", "4bf92f3577b34da6"}, encRaw},
		{"odd-length hex", []string{"abc", "def"}, encRaw},
		{"hex with an empty value", []string{"ab", "", "cd"}, encRaw},
		{"not hex", []string{"abcg", "abcd"}, encRaw},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The scratch is reused from column to column, as a block's
			// encoder does.
			data, enc := appendValues(nil, tc.vals, &sc)
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
		{"hex values of no bytes", encHex, 2, "\x00"},
		{"hex past end", encHex, 2, "\x02abc"},
		{"hex values too long", encHex, 1, "\x81\x04"},
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

// TestHexColumnSearch stores a trace id column that is hex in some
// blocks (every value 32 lowercase hex digits) and not in others (a value
// of another length or upper-case digits among them; some records lack
// it), flushed and merged:
// every record comes back as appended, and a search for one id finds its
// records, through the bloom filters and the column.
func TestHexColumnSearch(t *testing.T) {
	recs, ids := hexTestRecords(61)
	s := openTest(t, t.TempDir(), Options{BlockRecords: 64, IdleMergeAfter: time.Nanosecond})
	defer s.Close()
	for i := range 2 {
		s.Append(recs[i*300:(i+1)*300], uint64(i+1))
		if err := s.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for _, stage := range []string{"flushed", "merged"} {
		if stage == "merged" {
			if err := s.Merge(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if encs := columnEncodings(t, s, "trace_id"); encs[encHex] == 0 || encs[encRaw] == 0 {
			t.Fatalf("%s: trace_id encodings %v, want hex and raw blocks", stage, encs)
		}
		for _, req := range []SearchRequest{
			{},
			{Filter: &testFilter{kind: "word", field: "trace_id", word: ids[7]}},
			{Filter: &testFilter{kind: "word", field: "trace_id", word: "0a1b"}},
		} {
			got, want := searchAll(t, s, req), bruteForce(recs, req)
			if !slices.Equal(got, want) || len(want) == 0 {
				t.Fatalf("%s: %v: got %d records, want %d", stage, req.Filter, len(got), len(want))
			}
		}
	}
}

// columnEncodings counts the blocks of s's parts by the encoding of their
// column field.
func columnEncodings(t *testing.T, s *Store, field string) map[byte]int {
	t.Helper()
	out := map[byte]int{}
	var d decodedBlock
	var buf []byte
	forIndexChunks(t, s, func(p *part, c *indexChunk) {
		for bi := range c.metas {
			var err error
			if buf, err = p.readBlockRaw(c, bi, buf, &d); err != nil {
				t.Fatal(err)
			}
			if i := c.metas[bi].fieldIndex(field); i >= 0 {
				out[d.dirs[2+i].enc]++
			}
		}
	})
	return out
}

// forIndexChunks calls fn with every index chunk of s's parts, as the
// index cache holds it.
func forIndexChunks(t testing.TB, s *Store, fn func(p *part, c *indexChunk)) {
	t.Helper()
	for _, ps := range s.parts {
		for _, p := range ps {
			mi, err := p.metaIndex()
			if err != nil {
				t.Fatal(err)
			}
			for ci := range mi.chunks {
				c, err := p.chunk(mi, ci)
				if err != nil {
					t.Fatal(err)
				}
				fn(p, c)
			}
		}
	}
}

// TestDecodeLowerHex: every byte in either digit of a pair, decoded as
// hex.DecodeString does when both are lowercase hex digits, refused
// otherwise (upper case included).
func TestDecodeLowerHex(t *testing.T) {
	for b := range 256 {
		c := string([]byte{byte(b)})
		for _, v := range []string{"a" + c, c + "7", "00" + c + "f"} {
			dst := make([]byte, len(v)/2)
			ok := decodeLowerHex(dst, v)
			want, err := hex.DecodeString(v)
			lower := strings.ToLower(v) == v
			if ok != (err == nil && lower) || ok && !bytes.Equal(dst, want) {
				t.Errorf("decodeLowerHex(%q) = %x, %v; hex.DecodeString %x, %v", v, dst, ok, want, err)
			}
		}
	}
}
