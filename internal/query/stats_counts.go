package query

import (
	"hash/maphash"
	"unsafe"
)

// Two accumulators for stats pipes whose every function is count(): the
// counts are kept apart from the groups, which are made once, when the
// pipe flushes (statsProcessor.settle), or not at all for the groups a
// top-N sort passes over (flushTop). Neither holds a pointer, so the
// garbage collector does not scan what they hold, however many groups.

// maxDenseBuckets bounds the buckets a bucketCounts spans: a histogram
// over a longer stretch (a minute bucket over more than 45 days) counts
// the buckets outside it in the groups' map, as before.
const maxDenseBuckets = 1 << 16

// bucketCounts counts a histogram's records (grouped by a _time bucket
// alone) per bucket in an array indexed by bucket number, instead of a
// map lookup per run of records in one bucket.
type bucketCounts struct {
	length int64   // the bucket's length in ns
	base   int64   // the bucket number of counts[0]
	counts []int64 // records per bucket; 0 for a bucket without a group
	// lo and hi are the bounds in ns of the bucket a time fell in last,
	// cur its index: times come in runs of one bucket, which are counted
	// without a division.
	lo, hi int64
	cur    int
}

// addTimes counts times and returns those it could not place (the tail of
// times from the first one outside the span it may grow to), and the
// bytes it grew by.
func (b *bucketCounts) addTimes(times []int64) (rest []int64, grew int) {
	for i, t := range times {
		if t >= b.lo && t < b.hi {
			b.counts[b.cur]++
			continue
		}
		// A sparse stream's next time is often in the next bucket.
		if t >= b.hi && t-b.hi < b.length && b.cur+1 < len(b.counts) && b.hi > b.lo {
			b.cur++
			b.lo, b.hi = b.hi, b.hi+b.length
			if b.hi < b.lo {
				b.hi = b.lo
			}
			b.counts[b.cur]++
			continue
		}
		k, g, ok := b.slot(t)
		grew += g
		if !ok {
			return times[i:], grew
		}
		b.counts[k]++
	}
	return nil, grew
}

// add counts n records in t's bucket; false when t lies too far from the
// buckets counted so far.
func (b *bucketCounts) add(t int64, n int) (grew int, ok bool) {
	k, grew, ok := b.slot(t)
	if ok {
		b.counts[k] += int64(n)
	}
	return grew, ok
}

// slot is the index of t's bucket in counts, which it grows (by grew
// bytes) to hold it, and makes the current bucket.
func (b *bucketCounts) slot(t int64) (k, grew int, ok bool) {
	num := floorDiv(t, b.length)
	if len(b.counts) == 0 {
		b.base = num
		b.counts = make([]int64, 64)
		grew = 64 * 8
	}
	if num < b.base || num >= b.base+int64(len(b.counts)) {
		lo, hi := min(num, b.base), max(num+1, b.base+int64(len(b.counts)))
		if hi-lo > maxDenseBuckets {
			return 0, grew, false
		}
		// Twice what is needed, up to the bound, on the side it grew.
		n := min(max(2*(hi-lo), 64), maxDenseBuckets)
		if num < b.base {
			lo = hi - n
		}
		counts := make([]int64, n)
		copy(counts[b.base-lo:], b.counts)
		grew += int(n-int64(len(b.counts))) * 8
		b.base, b.counts = lo, counts
	}
	k = int(num - b.base)
	b.lo = num * b.length
	b.hi = b.lo + b.length
	if b.hi < b.lo { // the last bucket before the end of int64
		b.hi = b.lo
	}
	b.cur = k
	return k, grew, true
}

// keyCounts counts rows by the text of one field (stats count() by one
// field): an open-addressing hash table whose slots hold the key's hash,
// where its bytes are and its count, and whose keys are copied into
// shared chunks (of up to keyChunkBytes). A row of a known key costs one
// hash and a probe, a new key no allocation of its own.
type keyCounts struct {
	seed   maphash.Seed
	seeded bool
	slots  []keySlot // a power of two long; hash 0 marks an empty slot
	n      int       // keys held
	chunks [][]byte  // key bytes, back to back; never moved
	// hashes is scratch for hashAll; sink keeps touch's loads.
	hashes []uint64
	sink   uint64
}

type keySlot struct {
	hash uint64 // with the top bit set, so never 0
	// chunk is the index of the key's chunk, with keyNotNumber set when
	// the key is surely not a number (surelyNotNumber).
	chunk uint32
	off   uint32
	len   uint32
	// prefix is the key's first bytes (keyPrefix): with keyNotNumber, a
	// top-N flush orders most keys against the last row kept without
	// reading them from their chunks (flushTop), where each key read is
	// a cache miss.
	prefix uint32
	count  int64
}

// keyNotNumber flags keySlot.chunk: the key is surely not a number.
const keyNotNumber = 1 << 31

// keyPrefix is s's first four bytes, big-endian, zero-padded: when
// keyPrefix(a) > keyPrefix(b), a > b (a byte of a exceeds b's, or b ends
// within four bytes where a goes on).
func keyPrefix(s string) uint32 {
	var p uint32
	for i := range 4 {
		p <<= 8
		if i < len(s) {
			p |= uint32(s[i])
		}
	}
	return p
}

// notNumber reports whether s's key is surely not a number.
func (s *keySlot) notNumber() bool { return s.chunk&keyNotNumber != 0 }

const (
	keySlotBytes  = int(unsafe.Sizeof(keySlot{}))
	keyChunkFirst = 1 << 10
	keyChunkBytes = 1 << 20
	keySlotsFirst = 64
)

// add counts n rows whose key is key (which may alias a buffer that is
// reused later: it is copied when new). isNew says that key was not held;
// grew is the bytes the table grew by. A new key is not added when
// full says that the table holds the most keys allowed (isNew is still
// set, so the caller can report it).
func (t *keyCounts) add(key string, n int, full bool) (isNew bool, grew int) {
	return t.addHashed(key, t.hash(key), n, full)
}

// hash is key's hash in t, with the top bit set.
func (t *keyCounts) hash(key string) uint64 {
	if !t.seeded {
		t.seed, t.seeded = maphash.MakeSeed(), true
	}
	return maphash.String(t.seed, key) | 1<<63
}

// keyBatch is how many keys hashAll hashes and touch loads the slots of
// at a time: about as many loads as a core has in flight at once.
const keyBatch = 16

// hashAll returns the hashes of keys (at most keyBatch), valid until the
// next call, having touched their slots.
func (t *keyCounts) hashAll(keys []string) []uint64 {
	t.hashes = t.hashes[:0]
	for _, k := range keys {
		t.hashes = append(t.hashes, t.hash(k))
	}
	t.touch(t.hashes)
	return t.hashes
}

// touch loads the first slot of each hash, all at once: with many keys
// the table is larger than the caches and each slot a cache miss, which
// the processor waits for one after the other when add asks them in
// turn, but overlaps when their loads are independent, as here.
func (t *keyCounts) touch(hashes []uint64) {
	if len(t.slots) == 0 {
		return
	}
	mask := uint64(len(t.slots) - 1)
	x := uint64(0)
	for _, h := range hashes {
		x += t.slots[h&mask].hash
	}
	t.sink = x
}

// addHashed is add for a key whose hash (t.hash) is h.
func (t *keyCounts) addHashed(key string, h uint64, n int, full bool) (isNew bool, grew int) {
	if t.slots == nil {
		t.slots = make([]keySlot, keySlotsFirst)
		grew = keySlotsFirst * keySlotBytes
	}
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.hash == 0 {
			if full {
				return true, grew
			}
			grew += t.insert(s, h, key, n)
			return true, grew
		}
		if s.hash == h && int(s.len) == len(key) && t.key(s) == key {
			s.count += int64(n)
			return false, grew
		}
	}
}

// insert fills the empty slot s with a new key and grows the table when
// it is more than half full.
func (t *keyCounts) insert(s *keySlot, h uint64, key string, n int) (grew int) {
	c := len(t.chunks) - 1
	if c < 0 || cap(t.chunks[c])-len(t.chunks[c]) < len(key) {
		// Small first, for the few keys of a level or a service; twice
		// the last up to keyChunkBytes.
		size := keyChunkFirst
		if c >= 0 {
			size = min(2*cap(t.chunks[c]), keyChunkBytes)
		}
		t.chunks = append(t.chunks, make([]byte, 0, max(size, len(key))))
		c++
		grew += cap(t.chunks[c])
	}
	*s = keySlot{hash: h, chunk: uint32(c), off: uint32(len(t.chunks[c])), len: uint32(len(key)), prefix: keyPrefix(key), count: int64(n)}
	if surelyNotNumber(key) {
		s.chunk |= keyNotNumber
	}
	t.chunks[c] = append(t.chunks[c], key...)
	t.n++
	if 2*t.n > len(t.slots) {
		grew += t.grow()
	}
	return grew
}

// grow doubles the slots, placing the keys by their kept hashes.
func (t *keyCounts) grow() int {
	old := t.slots
	t.slots = make([]keySlot, 2*len(old))
	mask := uint64(len(t.slots) - 1)
	for _, s := range old {
		if s.hash == 0 {
			continue
		}
		i := s.hash & mask
		for t.slots[i].hash != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
	return len(old) * keySlotBytes
}

// key is the text of slot s's key, a view of its chunk, valid as long as
// the table.
func (t *keyCounts) key(s *keySlot) string {
	if s.len == 0 {
		return ""
	}
	return unsafe.String(&t.chunks[s.chunk&^keyNotNumber][s.off], int(s.len))
}
