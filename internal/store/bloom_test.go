package store

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cespare/xxhash/v2"

	"github.com/sluice-log/sluice/internal/record"
)

// TestTokenHashStable: tokenHash is the hash that parts already on disk
// keep in their bloom filters, xxhash64 of field, a zero byte and token
// fed to a streaming digest, for short keys and for keys longer than its
// stack buffer; and a block builder hashes tokens the same way.
func TestTokenHashStable(t *testing.T) {
	tests := []struct{ field, token string }{
		{"", ""},
		{"_msg", "timeout"},
		{"level", "error"},
		{"ab", "c"},
		{"a", "bc"},
		{"trace_id", strings.Repeat("f", 100)},
	}
	for _, tt := range tests {
		d := xxhash.New()
		_, _ = d.WriteString(tt.field)
		_, _ = d.Write([]byte{0})
		_, _ = d.WriteString(tt.token)
		if got, want := tokenHash(tt.field, tt.token), d.Sum64(); got != want {
			t.Errorf("tokenHash(%q, %q) = %x, want %x", tt.field, tt.token, got, want)
		}
		if tt.token == "" {
			continue
		}
		var b blockBuilder
		b.addTokens(tt.field, tt.token)
		if len(b.hashes) != 1 || b.hashes[0] != d.Sum64() {
			t.Errorf("builder's hashes of (%q, %q): %x, want [%x]", tt.field, tt.token, b.hashes, d.Sum64())
		}
	}
}

// TestBloomSizes: a filter takes bloomBitsPerToken bits per distinct hash,
// rounded up to whole 64-bit words, finds every hash it holds, and sets
// the bits FORMAT.md says; a power-of-two filter those format version 4
// defined, (h + i·(h>>32|1)) mod bits, so that the filters of earlier
// parts read by the same code.
func TestBloomSizes(t *testing.T) {
	for _, tc := range []struct{ hashes, words int }{
		{0, 1}, {1, 1}, {6, 1}, {7, 2}, {64, 10}, {100, 16}, {1000, 157}, {5000, 782},
	} {
		hs := make([]uint64, tc.hashes)
		for i := range hs {
			hs[i] = xxhash.Sum64String(strconv.Itoa(i))
		}
		// newBloom sorts its argument; the check below uses a copy.
		b := newBloom(slices.Clone(hs))
		if b.words() != tc.words {
			t.Errorf("%d hashes: %d words, want %d", tc.hashes, b.words(), tc.words)
		}
		for _, h := range hs {
			if !b.mayContain(h) {
				t.Fatalf("%d hashes: %x not found", tc.hashes, h)
			}
		}
		// The bits FORMAT.md gives: the version 4 rule for a power of
		// two, the high half of g·m otherwise.
		want := make([]byte, len(b))
		m := uint64(len(b) * 8)
		for _, h := range hs {
			for i := uint64(0); i < bloomHashes; i++ {
				bit := (h + i*(h>>32|1)) % m
				if m&(m-1) != 0 {
					bit, _ = bits.Mul64(h+i*(bits.RotateLeft64(h, 32)|1), m)
				}
				want[bit/8] |= 1 << (bit % 8)
			}
		}
		if string(want) != string(b) {
			t.Errorf("%d hashes in %d words: bits differ from FORMAT.md's rule", tc.hashes, tc.words)
		}
	}
}

// TestBloomFalsePositives: filters of sizes that are and are not powers
// of two answer about the 0.8% of false positives their bits per token
// promise (the hashes are fixed, so the figure is too).
func TestBloomFalsePositives(t *testing.T) {
	for _, n := range []int{50, 64, 300, 409, 2000, 3277} {
		hs := make([]uint64, n)
		for i := range hs {
			hs[i] = xxhash.Sum64String("in" + strconv.Itoa(i))
		}
		b := newBloom(hs)
		const probes = 20000
		fp := 0
		for i := range probes {
			if b.mayContain(xxhash.Sum64String("out" + strconv.Itoa(i))) {
				fp++
			}
		}
		if rate := float64(fp) / probes; rate > 0.015 {
			t.Errorf("%d hashes in %d words: %.2f%% false positives", n, b.words(), 100*rate)
		}
	}
}

// BenchmarkNewBloom builds a block's filter of 3,000 distinct hashes (469
// words) and probes it.
func BenchmarkNewBloom(b *testing.B) {
	hs := make([]uint64, 3000)
	for i := range hs {
		hs[i] = xxhash.Sum64String(strconv.Itoa(i))
	}
	buf := make([]uint64, len(hs))
	b.Run("build", func(b *testing.B) {
		for b.Loop() {
			copy(buf, hs)
			newBloom(buf)
		}
	})
	f := newBloom(slices.Clone(hs))
	b.Run("probe", func(b *testing.B) {
		n := 0
		for b.Loop() {
			for _, h := range hs {
				if f.mayContain(h + 1) {
					n++
				}
			}
		}
	})
}

// TestBloomSameAsSorted: newBloomWith, which counts the distinct hashes
// with a set, builds byte for byte the filter that sorting and
// deduplicating them built (the filters of parts on disk), with
// duplicates, zeros and a scratch table reused across sizes.
func TestBloomSameAsSorted(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 13))
	var table []uint64
	for _, tc := range []struct {
		n, distinct int
		zero        bool
	}{
		{0, 0, false}, {1, 1, false}, {1, 1, true}, {2, 1, false}, {5, 3, true},
		{1000, 1000, false}, {1000, 10, true}, {30000, 7000, false}, {100, 60, true}, {70000, 70000, true},
	} {
		vals := make([]uint64, tc.distinct)
		for i := range vals {
			vals[i] = rng.Uint64()
		}
		if tc.zero && len(vals) > 0 {
			vals[0] = 0
		}
		hashes := make([]uint64, tc.n)
		for i := range hashes {
			hashes[i] = vals[rng.IntN(len(vals))]
		}
		want := sortedBloom(slices.Clone(hashes))
		if got := newBloomWith(slices.Clone(hashes), &table); got != want {
			t.Errorf("n=%d distinct=%d zero=%v: the filter differs from the sorted one (%d against %d bytes)",
				tc.n, tc.distinct, tc.zero, len(got), len(want))
		}
		if got := distinctHashes(slices.Clone(hashes), &table); len(got) != len(slices.Compact(slices.Sorted(slices.Values(hashes)))) {
			t.Errorf("n=%d distinct=%d: %d distinct hashes", tc.n, tc.distinct, len(got))
		}
	}
}

// sortedBloom is how newBloom built a filter before newBloomWith: from
// sorted, deduplicated hashes (which distinctHashes then leaves as they
// are; the length check above holds that it keeps every distinct one).
func sortedBloom(hashes []uint64) bloom {
	slices.Sort(hashes)
	var table []uint64
	return newBloomWith(slices.Compact(hashes), &table)
}

// TestBlockBuilderReuse: a builder that built blocks before (its columns
// reused through blockBuilder.spare, its scratch grown) encodes a block
// byte for byte as a fresh builder does, with dense, sparse, prefix-only
// and constant columns changing from block to block.
func TestBlockBuilderReuse(t *testing.T) {
	enc, err := newEncoder(1, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	rng := rand.New(rand.NewPCG(3, 5))
	var reused blockBuilder
	reusedEnc := &blockEncoder{enc: enc}
	for i := range 40 {
		block := make([]record.Record, 5+rng.IntN(200))
		for j := range block {
			r := &block[j]
			r.Time = int64(i*1000+j) * 1e9
			r.Stream = []record.Field{{Name: "app", Value: "x"}}
			r.Message = fmt.Sprintf("Request %d took %dms", rng.IntN(50), rng.IntN(1000))
			// Fields in some rows only (sparse columns); in the first
			// rows only (a column still dense but shorter than the
			// block, whose row list the encoder builds in its scratch,
			// sorted before the sparse ones); a constant.
			for _, name := range []string{"a", "b", "c", "d", "e"} {
				if name == "a" || rng.IntN(3) > 0 {
					r.Fields = append(r.Fields, record.Field{Name: name, Value: strconv.Itoa(rng.IntN(5))})
				}
			}
			if j < len(block)/2 {
				r.Fields = append(r.Fields, record.Field{Name: "a1", Value: strconv.Itoa(j)})
			}
			if rng.IntN(2) == 0 {
				r.Fields = append(r.Fields, record.Field{Name: "k", Value: "same"})
			}
		}
		var fresh blockBuilder
		var mf, mr blockMeta
		fresh.reset(&block[0], "app")
		reused.reset(&block[0], "app")
		for j := range block {
			fresh.add(&block[j], nil)
			reused.add(&block[j], nil)
		}
		want := fresh.encode(nil, &mf, &blockEncoder{enc: enc})
		got := reused.encode(nil, &mr, reusedEnc)
		if string(got) != string(want) || mr.bloom != mf.bloom || !slices.Equal(mr.fields, mf.fields) || !slices.Equal(mr.ranges, mf.ranges) {
			t.Fatalf("block %d (%d records): a reused builder's block differs from a fresh one's", i, len(block))
		}
	}
}

// TestTokenProbe: a search asks a block's bloom filter about the tokens
// of a TokenFilter on a field the blooms hold tokens of, hashed once, and
// about nothing else; a block holding every token is never ruled out.
func TestTokenProbe(t *testing.T) {
	m := blockMeta{fields: []string{"trace_id"}, bloom: newBloom([]uint64{
		tokenHash("trace_id", "abc123"), tokenHash(record.MessageField, "timeout"), tokenHash("service", "api"),
	})}
	absent := ""
	for i := 0; absent == ""; i++ {
		if tok := "absent" + strconv.Itoa(i); !m.bloom.mayContain(tokenHash("trace_id", tok)) && !m.bloom.mayContain(tokenHash(record.TimeField, tok)) {
			absent = tok
		}
	}
	tests := []struct {
		name   string
		f      Filter
		hashes int
		want   bool
	}{
		{"token held", idFilter{"trace_id", []string{"abc123"}}, 1, true},
		{"token absent", idFilter{"trace_id", []string{absent}}, 1, false},
		{"one of two absent", idFilter{"trace_id", []string{"abc123", absent}}, 2, false},
		{"repeated token hashed once", idFilter{"trace_id", []string{"abc123", "abc123"}}, 1, true},
		{"message", idFilter{record.MessageField, []string{"timeout"}}, 1, true},
		{"label", idFilter{"service", []string{"api"}}, 1, true},
		{"no tokens", idFilter{"trace_id", nil}, 0, true},
		{"_time not probed", idFilter{record.TimeField, []string{absent}}, 0, true},
		{"_stream not probed", idFilter{record.StreamField, []string{absent}}, 0, true},
		{"not a TokenFilter", matchOnly{idFilter{"trace_id", []string{absent}}}, 0, true},
		{"no filter", nil, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newTokenProbe(tt.f)
			if len(p.hashes) != tt.hashes {
				t.Errorf("%d hashes, want %d", len(p.hashes), tt.hashes)
			}
			if got := p.ruledOut([]blockMeta{m}) == 0; got != tt.want {
				t.Errorf("block let through = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestTokenProbeRuledOut: the blocks ruledOut marks, asked of up to 64
// at once, are those whose filter's mayContain is false for a token's
// hash, filters of either bit rule (power-of-two sizes, format version 4
// and earlier; any whole number of words since) and empty ones alike.
func TestTokenProbeRuledOut(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct {
		name   string
		blocks int
		tokens int
	}{
		{"one block", 1, 1},
		{"a chunk", 16, 1},
		{"a chunk, two tokens", 16, 2},
		{"63 blocks", 63, 1},
		{"64 blocks, three tokens", 64, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for round := range 20 {
				metas := make([]blockMeta, tc.blocks)
				for i := range metas {
					var hs []uint64
					for range rng.IntN(300) {
						hs = append(hs, tokenHash("f", strconv.Itoa(rng.IntN(1000))))
					}
					switch i % 5 {
					case 0:
						metas[i].bloom = "" // none kept: rules nothing out
					case 1:
						// A power-of-two size, as version 4 wrote.
						w := 1
						for w*64 < len(hs)*bloomBitsPerToken {
							w *= 2
						}
						b := make([]byte, w*8)
						m := uint64(w) * 64
						for _, h := range hs {
							for k := uint64(0); k < bloomHashes; k++ {
								bit := (h + k*(h>>32|1)) & (m - 1)
								b[bit/8] |= 1 << (bit % 8)
							}
						}
						metas[i].bloom = bloom(b)
					default:
						metas[i].bloom = newBloom(hs)
					}
				}
				var p tokenProbe
				for range tc.tokens {
					p.hashes = append(p.hashes, tokenHash("f", strconv.Itoa(rng.IntN(1000))))
				}
				got := p.ruledOut(metas)
				for i := range metas {
					want := false
					for _, h := range p.hashes {
						want = want || !metas[i].bloom.mayContain(h)
					}
					if got>>i&1 == 1 != want {
						t.Fatalf("round %d, block %d: ruled out %v, want %v", round, i, got>>i&1 == 1, want)
					}
				}
				if got>>len(metas) != 0 {
					t.Fatalf("round %d: bits beyond the %d blocks: %b", round, len(metas), got)
				}
			}
		})
	}
}
