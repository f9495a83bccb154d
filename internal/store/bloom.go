package store

import (
	"slices"

	"github.com/cespare/xxhash/v2"
)

// bloomHashes is the number of bits each token sets. With bloomBitsPerToken
// bits per token it gives about a 1% false-positive rate.
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

// bloom is a filter over token hashes with a power-of-two number of bits,
// kept as the bytes of its little-endian 64-bit words: bit i is bit i%8 of
// byte i/8 either way, so that an index read from disk uses its bytes as
// they are, without a copy.
type bloom string

// newBloom builds a filter holding hashes (which it sorts and deduplicates).
func newBloom(hashes []uint64) bloom {
	slices.Sort(hashes)
	hashes = slices.Compact(hashes)
	words := 1
	for words*64 < len(hashes)*bloomBitsPerToken && words < maxBloomWords {
		words *= 2
	}
	b := make([]byte, words*8)
	for _, h := range hashes {
		mask := uint64(len(b)*8 - 1)
		h1, h2 := h, h>>32|1
		for i := uint64(0); i < bloomHashes; i++ {
			bit := (h1 + i*h2) & mask
			b[bit/8] |= 1 << (bit % 8)
		}
	}
	return bloom(b)
}

// words is the filter's size in 64-bit words.
func (b bloom) words() int { return len(b) / 8 }

func (b bloom) mayContain(h uint64) bool {
	if len(b) == 0 {
		return true
	}
	mask := uint64(len(b)*8 - 1)
	h1, h2 := h, h>>32|1
	for i := uint64(0); i < bloomHashes; i++ {
		bit := (h1 + i*h2) & mask
		if b[bit/8]&(1<<(bit%8)) == 0 {
			return false
		}
	}
	return true
}
