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
