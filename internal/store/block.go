package store

import (
	"math"
	"strconv"
	"strings"
	"unsafe"

	"github.com/cespare/xxhash/v2"
	"github.com/sluice-log/sluice/internal/record"
)

// maxBlockDecodeRecords bounds the rows a decoded block may claim.
const maxBlockDecodeRecords = 1 << 22

// blockBuilder collects the records of one block (one tenant and stream) in
// columns, together with what the block's index entry needs.
type blockBuilder struct {
	tenant string
	labels []record.Field
	key    string

	times []int64
	msgs  []string
	cols  map[string]*colBuilder
	// spare holds the columns of the blocks before, whose slices a new
	// column reuses: growing every column's values anew, block after
	// block, was most of what building a block allocated.
	spare []*colBuilder
	// byPos caches the column of the field at each position of the last
	// record: records of a stream mostly list their fields in one order,
	// and comparing a name is cheaper than a map lookup per field and row.
	byPos []*colBuilder
	// bySharedPos is byPos for the fields add is given as shared.
	bySharedPos []*colBuilder
	rawBytes    int
	hashes      []uint64
	// recent drops most repeated token hashes before they reach hashes:
	// a direct-mapped table of the last hash seen per slot. Logs repeat
	// their words, and sorting every occurrence to deduplicate them was a
	// fifth of a merge's CPU; newBloomWith still deduplicates what slips by.
	recent [1024]uint64
	tokKey []byte // scratch for appendTokenKey
	// own makes the block keep copies of the messages and values it is
	// given, in arena, instead of the strings themselves (a merge: see
	// keep). arenaBytes is what the arena's chunks since the block began
	// hold.
	own        bool
	arena      []byte
	arenaBytes int
}

// minArenaChunk is the least a block's arena grows by.
const minArenaChunk = 64 << 10

// keep returns s, or with b.own a copy of it in b's arena. A merge's
// input drops the block it decoded once its last record is handed on
// (partIter.step), but the strings of its records alias that block's
// decompressed columns: kept as they are, the block being built would
// keep alive every input block it took a value from, whole, until it is
// written (more, and larger, the fuller the inputs' blocks are, that is
// the larger the parts merged). A copy holds the output block's values and
// no more: at most maxBlockRawBytes and one record. The arena is reused
// from block to block; a chunk is never reallocated while the block's
// strings point into it, a new one is started instead.
func (b *blockBuilder) keep(s string) string {
	if !b.own || s == "" {
		return s
	}
	if len(b.arena)+len(s) > cap(b.arena) {
		n := max(2*cap(b.arena), len(s), minArenaChunk)
		b.arena = make([]byte, 0, n)
		b.arenaBytes += n
	}
	start := len(b.arena)
	b.arena = append(b.arena, s...)
	return unsafe.String(&b.arena[start], len(s))
}

// colBuilder is one field's column: the rows that have it and their
// values. While dense, the rows that have the field are the block's first n
// and rows is not kept; while same, every value is first and values is not
// kept: a field with one value in every row (a label a shipper adds to
// every line, a bulk request's index name) costs a counter per row, and is
// stored once (encConst).
type colBuilder struct {
	name    string
	n       int // rows that have the field
	last    int // the last of them
	dense   bool
	same    bool
	first   string
	rows    []int
	values  []string
	numeric bool
	min     float64
	max     float64
}

// add appends value at row, which is past every row added before, and
// reports whether it repeats the value before it; b keeps what is stored
// (blockBuilder.keep).
func (c *colBuilder) add(row int, value string, b *blockBuilder) (repeat bool) {
	if c.dense && row != c.n {
		c.dense = false
		c.rows = c.rows[:0]
		for i := range c.n {
			c.rows = append(c.rows, i)
		}
	}
	if !c.dense {
		c.rows = append(c.rows, row)
	}
	c.last = row
	if c.same {
		if value == c.first {
			c.n++
			return c.n > 1
		}
		c.same = false
		c.values = c.values[:0]
		for range c.n {
			c.values = append(c.values, c.first)
		}
	}
	if c.n > 0 && c.values[c.n-1] == value {
		c.values = append(c.values, c.values[c.n-1])
		c.n++
		return true
	}
	c.values = append(c.values, b.keep(value))
	c.n++
	return false
}

// rowList returns the rows that have the field.
func (c *colBuilder) rowList(dst []int) []int {
	if !c.dense {
		return c.rows
	}
	for i := range c.n {
		dst = append(dst, i)
	}
	return dst
}

func (b *blockBuilder) len() int { return len(b.times) }

// reset starts a block for the stream of r.
func (b *blockBuilder) reset(r *record.Record, key string) {
	b.tenant = r.Tenant
	b.labels = append(b.labels[:0], r.Stream...)
	b.key = key
	b.times = b.times[:0]
	clear(b.msgs) // the strings of the block before are not kept alive
	b.msgs = b.msgs[:0]
	for _, c := range b.cols {
		clear(c.values)
		c.first = ""
		b.spare = append(b.spare, c)
	}
	// The block before is written: its values' arena is reused, its
	// older chunks are let go.
	b.arena = b.arena[:0]
	b.arenaBytes = cap(b.arena)
	clear(b.cols)
	clear(b.byPos)
	b.byPos = b.byPos[:0]
	clear(b.bySharedPos)
	b.bySharedPos = b.bySharedPos[:0]
	b.rawBytes = 0
	b.hashes = b.hashes[:0]
	clear(b.recent[:])
	for _, f := range r.Stream {
		b.addTokens(f.Name, f.Value)
	}
}

func (b *blockBuilder) addTokens(field, value string) {
	b.tokKey = appendTokenKey(b.tokKey[:0], field, "")
	b.tokKey = record.TokenKeys(b.tokKey, len(b.tokKey), value, b.addKey)
}

// addKey adds the hash of key, a token's appendTokenKey bytes
// (tokenHash). It is the method value addTokens passes: a closure
// made per call would escape, with b, to the heap.
func (b *blockBuilder) addKey(key []byte) {
	h := xxhash.Sum64(key)
	// An empty slot holds 0, so a hash of 0 is always kept.
	if slot := &b.recent[h%uint64(len(b.recent))]; *slot != h || h == 0 {
		*slot = h
		b.hashes = append(b.hashes, h)
	}
}

// newCol returns an empty column for the field name whose first value is
// first, reusing a spare column's slices.
func (b *blockBuilder) newCol(name, first string) *colBuilder {
	var c *colBuilder
	if n := len(b.spare); n > 0 {
		c = b.spare[n-1]
		b.spare = b.spare[:n-1]
	} else {
		c = new(colBuilder)
	}
	// The name outlives the block in its index entry; a clone keeps it
	// from pinning the head chunk or decoded block it came from.
	*c = colBuilder{name: strings.Clone(name), last: -1, dense: true, same: true, first: first,
		rows: c.rows[:0], values: c.values[:0], numeric: true, min: math.Inf(1), max: math.Inf(-1)}
	return c
}

// add appends r, which must belong to the block's stream, with the
// fields shared besides its own: the fields it shares with the records
// around it (a batch's run in the head, a constant column of a block
// merged), kept apart so that neither is merged into each record's
// fields. A field of r's own wins over a shared one of the same name, as
// the first of a name does among r's own.
func (b *blockBuilder) add(r *record.Record, shared []record.Field) {
	row := len(b.times)
	b.times = append(b.times, r.Time)
	b.rawBytes += r.Size()
	for _, f := range shared {
		b.rawBytes += len(f.Name) + len(f.Value)
	}
	// A value equal to the row before's is in the bloom filter already:
	// logs repeat (a level, a host, a status), and tokenizing and hashing
	// every value was a third of a merge's CPU.
	if row == 0 || r.Message != b.msgs[row-1] {
		b.msgs = append(b.msgs, b.keep(r.Message))
		b.addTokens(record.MessageField, r.Message)
	} else {
		b.msgs = append(b.msgs, b.msgs[row-1])
	}
	if b.cols == nil {
		b.cols = make(map[string]*colBuilder)
	}
	b.byPos = b.addFields(row, r.Fields, b.byPos)
	if len(shared) > 0 {
		b.bySharedPos = b.addFields(row, shared, b.bySharedPos)
	}
}

// addFields adds the fields fs of row to their columns; byPos caches the
// column of each position (see blockBuilder.byPos) and is returned.
func (b *blockBuilder) addFields(row int, fs []record.Field, byPos []*colBuilder) []*colBuilder {
	for j, f := range fs {
		var c *colBuilder
		if j < len(byPos) && byPos[j] != nil && byPos[j].name == f.Name {
			c = byPos[j]
		} else {
			c = b.cols[f.Name]
			if c == nil {
				c = b.newCol(f.Name, b.keep(f.Value))
				b.cols[c.name] = c
			}
			for len(byPos) <= j {
				byPos = append(byPos, nil)
			}
			byPos[j] = c
		}
		if c.last == row {
			continue // a duplicate name in one record: the first value wins
		}
		if c.add(row, f.Value, b) {
			continue // its tokens and number are in already
		}
		if c.numeric {
			v, err := strconv.ParseFloat(f.Value, 64)
			if err != nil || math.IsNaN(v) {
				c.numeric = false
			} else {
				c.min = min(c.min, v)
				c.max = max(c.max, v)
			}
		}
		b.addTokens(f.Name, f.Value)
	}
	return byPos
}
