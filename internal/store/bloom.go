package store

import (
	"math/bits"
	"slices"

	"github.com/cespare/xxhash/v2"

	"github.com/sluice-log/sluice/internal/record"
)

// bloomHashes is the number of bits each token sets (fixed: the filters
// on disk depend on it). With bloomBitsPerToken bits per token it gives
// about 0.8% false positives (12 bits would give 0.4%; the power-of-two
// sizes of format version 4 and earlier gave 0.04-0.9%, 0.15% on average
// on the bench data, for 45% more bits).
const (
	bloomHashes       = 6
	bloomBitsPerToken = 10
	// maxBloomWords bounds a hostile index's bloom allocation (64 MiB bits).
	maxBloomWords = 1 << 20
)

// tokenHash is the hash of a (field, token) pair that the bloom filter keeps.
// The zero byte separates field and token so that ("ab","c") != ("a","bc").
// It is the xxhash64 of appendTokenKey's bytes, hashed in one call: a
// streaming digest fed the three pieces took twice the CPU, and block
// builders hash every token of every record they add.
func tokenHash(field, token string) uint64 {
	var a [64]byte
	return xxhash.Sum64(appendTokenKey(a[:0], field, token))
}

// appendTokenKey appends the bytes tokenHash hashes: field, a zero byte,
// token.
func appendTokenKey(dst []byte, field, token string) []byte {
	dst = append(dst, field...)
	dst = append(dst, 0)
	return append(dst, token...)
}

// bloom is a filter over token hashes of a whole number of 64-bit words,
// kept as the bytes of its little-endian 64-bit words: bit i is bit i%8 of
// byte i/8 either way, so that an index read from disk uses its bytes as
// they are, without a copy.
type bloom string

// newBloom builds a filter holding hashes (which it reorders and
// deduplicates in place), of bloomBitsPerToken bits per hash rounded up
// to whole 64-bit words.
// Format version 4 and earlier gave 10 bits a token rounded up to a power
// of two of words: 1.45 times the bits on the bench data, 14.5 a token,
// and between 10 and 20 depending on where a block's count fell.
//
// The bits a hash h sets in a filter of m bits: with m a power of two, as
// every filter of version 4 and earlier has, (h + i·(h>>32|1)) mod m for
// i from 0 to bloomHashes-1, the rule those versions define; otherwise
// the high 64 bits of g·m, g being h + i·(rotl(h, 32)|1) mod 2^64 (a
// multiply maps g to [0, m) without a division, and the full-width step
// keeps the probes apart, which h>>32 would not in the high bits).
func newBloom(hashes []uint64) bloom {
	var table []uint64
	return newBloomWith(hashes, &table)
}

// newBloomWith is newBloom with a scratch table that a part writer's block
// encoder keeps from block to block. The filter's size follows the number
// of distinct hashes, so they must be counted; an open-addressing set does
// it in one pass, where sorting them (pdqsort over up to tens of thousands
// of hashes a block) took 7% of the server's CPU under ingest, flushes and
// merges alike. The bits set do not depend on the order, so the filter is
// the one sorting made.
func newBloomWith(hashes []uint64, table *[]uint64) bloom {
	hashes = distinctHashes(hashes, table)
	words := min(max(1, (len(hashes)*bloomBitsPerToken+63)/64), maxBloomWords)
	b := make([]byte, words*8)
	m := uint64(words) * 64
	if m&(m-1) == 0 {
		for _, h := range hashes {
			h1, h2 := h, h>>32|1
			for i := uint64(0); i < bloomHashes; i++ {
				bit := (h1 + i*h2) & (m - 1)
				b[bit/8] |= 1 << (bit % 8)
			}
		}
		return bloom(b)
	}
	for _, h := range hashes {
		g, step := h, bits.RotateLeft64(h, 32)|1
		for range bloomHashes {
			bit, _ := bits.Mul64(g, m)
			b[bit/8] |= 1 << (bit % 8)
			g += step
		}
	}
	return bloom(b)
}

// distinctHashes moves the distinct values of hashes to its front, in
// the order first seen, and returns them. table is scratch for an
// open-addressing set of at least twice as many slots as hashes, 0
// marking an empty slot (a hash of 0 is tracked apart).
func distinctHashes(hashes []uint64, table *[]uint64) []uint64 {
	if len(hashes) < 2 {
		return hashes
	}
	lg := 1
	for 1<<lg < 2*len(hashes) {
		lg++
	}
	if cap(*table) < 1<<lg {
		*table = make([]uint64, 1<<lg)
	}
	t := (*table)[:1<<lg]
	clear(t)
	mask := uint64(len(t) - 1)
	out, zero := hashes[:0], false
	for _, h := range hashes {
		if h == 0 {
			if !zero {
				zero = true
				out = append(out, h)
			}
			continue
		}
		// Fibonacci hashing spreads the slots by the hash's high bits:
		// the builder's filter of recent hashes already sorted them by
		// their low bits.
		for i := (h * 0x9e3779b97f4a7c15) >> (64 - lg); ; i = (i + 1) & mask {
			if t[i] == h {
				break
			}
			if t[i] == 0 {
				t[i] = h
				out = append(out, h)
				break
			}
		}
	}
	return out
}

// words is the filter's size in 64-bit words.
func (b bloom) words() int { return len(b) / 8 }

func (b bloom) mayContain(h uint64) bool {
	if len(b) == 0 {
		return true
	}
	m := uint64(len(b)) * 8
	if m&(m-1) == 0 {
		h1, h2 := h, h>>32|1
		for i := uint64(0); i < bloomHashes; i++ {
			bit := (h1 + i*h2) & (m - 1)
			if b[bit/8]&(1<<(bit%8)) == 0 {
				return false
			}
		}
		return true
	}
	g, step := h, bits.RotateLeft64(h, 32)|1
	for range bloomHashes {
		bit, _ := bits.Mul64(g, m)
		if b[bit/8]&(1<<(bit%8)) == 0 {
			return false
		}
		g += step
	}
	return true
}

// tokenProbe is what a search asks every block's bloom filter before the
// filter's MayMatch: the hashes of the tokens every match holds in one
// field (TokenFilter), hashed once per search. MayMatch asks the same of
// the blooms (the TokenFilter contract), but per block it hashes each
// token again and first looks the field up among the block's labels and
// fields; over thousands of blocks whose index entries are not in the
// CPU's caches (a day of small parts under ingest) those names' bytes
// cost a cache miss a block, as much as the bloom's bits, for the 99% of
// blocks the bloom alone rules out.
type tokenProbe struct {
	hashes []uint64
}

// newTokenProbe is the tokenProbe of f: none unless f is a TokenFilter
// on a field the blooms hold tokens of (not _time or _stream).
func newTokenProbe(f Filter) tokenProbe {
	tf, ok := f.(TokenFilter)
	if !ok {
		return tokenProbe{}
	}
	field := tf.MatchField()
	if field == "" || field == record.TimeField || field == record.StreamField {
		return tokenProbe{}
	}
	var p tokenProbe
	for _, t := range tf.WholeTokens() {
		if h := tokenHash(field, t); !slices.Contains(p.hashes, h) {
			p.hashes = append(p.hashes, h)
		}
	}
	return p
}

// ruledOut returns a bit per block of metas (at most 64) whose bloom
// filter rules out a token (mayContain is false for its hash), asked of
// all the blocks at once. The filters of an index chunk's blocks lie
// apart in memory, and under ingest rarely in the CPU's caches: one
// block after another, every probe waits for its cache line before the
// next is known to be needed. Here each round tests one bit of every block still in, with no
// branch on the bits loaded, so that the CPU fetches the blocks' lines
// together; a block leaves at its first clear bit, half of them a round.
func (p *tokenProbe) ruledOut(metas []blockMeta) uint64 {
	var in uint64
	if len(metas) == 64 {
		in = ^uint64(0)
	} else {
		in = 1<<len(metas) - 1
	}
	for i := range metas {
		if len(metas[i].bloom) == 0 {
			in &^= 1 << i // an empty filter rules nothing out
		}
	}
	// The blocks whose filters let every bit tested so far through.
	pass := in
	for _, h := range p.hashes {
		step := bits.RotateLeft64(h, 32) | 1
		for k := uint64(0); k < bloomHashes && pass != 0; k++ {
			for left := pass; left != 0; left &= left - 1 {
				i := bits.TrailingZeros64(left)
				b := metas[i].bloom
				m := uint64(len(b)) * 8
				var bit uint64
				if m&(m-1) == 0 {
					bit = (h + k*(h>>32|1)) & (m - 1)
				} else {
					bit, _ = bits.Mul64(h+k*step, m)
				}
				pass &^= uint64(^b[bit/8]>>(bit%8)&1) << i
			}
		}
	}
	return in &^ pass
}
