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
func tokenHash(d *xxhash.Digest, field, token string) uint64 {
	d.Reset()
	_, _ = d.WriteString(field)
	_, _ = d.Write([]byte{0})
	_, _ = d.WriteString(token)
	return d.Sum64()
}

// bloom is a filter over token hashes with a power-of-two number of bits.
type bloom []uint64

// newBloom builds a filter holding hashes (which it sorts and deduplicates).
func newBloom(hashes []uint64) bloom {
	slices.Sort(hashes)
	hashes = slices.Compact(hashes)
	words := 1
	for words*64 < len(hashes)*bloomBitsPerToken && words < maxBloomWords {
		words *= 2
	}
	b := make(bloom, words)
	for _, h := range hashes {
		b.add(h)
	}
	return b
}

func (b bloom) add(h uint64) {
	mask := uint64(len(b)*64 - 1)
	h1, h2 := h, h>>32|1
	for i := uint64(0); i < bloomHashes; i++ {
		bit := (h1 + i*h2) & mask
		b[bit/64] |= 1 << (bit % 64)
	}
}

func (b bloom) mayContain(h uint64) bool {
	if len(b) == 0 {
		return true
	}
	mask := uint64(len(b)*64 - 1)
	h1, h2 := h, h>>32|1
	for i := uint64(0); i < bloomHashes; i++ {
		bit := (h1 + i*h2) & mask
		if b[bit/64]&(1<<(bit%64)) == 0 {
			return false
		}
	}
	return true
}
