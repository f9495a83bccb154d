package query

import (
	"strings"
	"unsafe"
)

// groupSlabSize is how many groups' parts a groupSlab allocates at once,
// once it has grown there: its first chunks are of firstSlabSize groups,
// each twice the one before, so that a count over the whole search (one
// group, the small queries a dashboard asks every few seconds) does not
// allocate and clear 256 groups' parts, 30 KB.
const (
	groupSlabSize = 256
	firstSlabSize = 4
)

// nextSlabSize is the size of the chunk after one of size n (0: none yet).
func nextSlabSize(n int) int { return min(groupSlabSize, max(firstSlabSize, 2*n)) }

// groupSlab hands out the parts of new stats groups from shared chunks,
// so that a high-cardinality `stats … by id` makes a few allocations per
// hundreds of groups instead of several per group. Groups live as long
// as their processor, so chunks are never freed piecemeal.
type groupSlab struct {
	groups []statsGroup
	values []Value
	nums   []parsedNumber
	states []statsState
	counts []countState
	// size is the size in groups of the last groups chunk, countSize of
	// the last counts chunk (nextSlabSize).
	size, countSize int
	// keys holds the bytes of group keys copied by key, back to back.
	keys []byte
}

// keySlabSize is the size of the chunks key copies keys into; a key
// longer than a quarter of it gets an allocation of its own.
const keySlabSize = 16 << 10

// key is a copy of str that does not alias str's memory (a block's
// buffer), made in a shared chunk: a `stats … by trace_id` makes a new
// group for most rows, and one allocation per key was a good part of its
// cost.
func (s *groupSlab) key(str string) string {
	if len(str) == 0 || len(str) > keySlabSize/4 {
		return strings.Clone(str)
	}
	if cap(s.keys)-len(s.keys) < len(str) {
		s.keys = make([]byte, 0, keySlabSize)
	}
	start := len(s.keys)
	s.keys = append(s.keys, str...)
	// The chunk's bytes up to len are never written again.
	return unsafe.String(&s.keys[start], len(str))
}

// group is a zeroed group with nkeys keys and nfuncs states (nil).
func (s *groupSlab) group(nkeys, nfuncs int) *statsGroup {
	if len(s.groups) == 0 {
		s.size = nextSlabSize(s.size)
		s.groups = make([]statsGroup, s.size)
	}
	g := &s.groups[0]
	s.groups = s.groups[1:]
	g.keys = take(&s.values, nkeys, s.size)
	g.nums = take(&s.nums, nkeys, s.size)
	g.states = take(&s.states, nfuncs, s.size)
	return g
}

// count is a zero count() state.
func (s *groupSlab) count() *countState {
	if len(s.counts) == 0 {
		s.countSize = nextSlabSize(s.countSize)
		s.counts = make([]countState, s.countSize)
	}
	c := &s.counts[0]
	s.counts = s.counts[1:]
	return c
}

// take cuts n zeroed elements off the front of *chunk, which it refills
// with groups' worth when short; the result's capacity is n, so appending
// to it cannot reach a neighbour's elements.
func take[T any](chunk *[]T, n, groups int) []T {
	if len(*chunk) < n {
		*chunk = make([]T, max(n, groups*n))
	}
	out := (*chunk)[:n:n]
	*chunk = (*chunk)[n:]
	return out
}
