package store

import (
	"encoding/binary"
	"math"
	"slices"
	"strconv"
	"strings"

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

	times    []int64
	msgs     []string
	cols     map[string]*colBuilder
	rawBytes int
	hashes   []uint64
	digest   xxhash.Digest
}

// colBuilder is one field's column: the rows that have it and their values.
type colBuilder struct {
	rows    []int
	values  []string
	numeric bool
	min     float64
	max     float64
}

func (b *blockBuilder) len() int { return len(b.times) }

// reset starts a block for the stream of r.
func (b *blockBuilder) reset(r *record.Record, key string) {
	b.tenant = r.Tenant
	b.labels = append(b.labels[:0], r.Stream...)
	b.key = key
	b.times = b.times[:0]
	b.msgs = b.msgs[:0]
	clear(b.cols)
	b.rawBytes = 0
	b.hashes = b.hashes[:0]
	for _, f := range r.Stream {
		b.addTokens(f.Name, f.Value)
	}
}

func (b *blockBuilder) addTokens(field, value string) {
	record.Tokens(value, func(tok string) {
		b.hashes = append(b.hashes, tokenHash(&b.digest, field, tok))
	})
}

// add appends r, which must belong to the block's stream.
func (b *blockBuilder) add(r *record.Record) {
	row := len(b.times)
	b.times = append(b.times, r.Time)
	b.msgs = append(b.msgs, r.Message)
	b.rawBytes += r.Size()
	b.addTokens(record.MessageField, r.Message)
	if b.cols == nil {
		b.cols = make(map[string]*colBuilder)
	}
	for _, f := range r.Fields {
		c := b.cols[f.Name]
		if c == nil {
			c = &colBuilder{numeric: true, min: math.Inf(1), max: math.Inf(-1)}
			// The name outlives the block in its index entry; a clone keeps
			// it from pinning the head chunk or decoded block it came from.
			b.cols[strings.Clone(f.Name)] = c
		}
		if n := len(c.rows); n > 0 && c.rows[n-1] == row {
			continue // a duplicate name in one record: the first value wins
		}
		c.rows = append(c.rows, row)
		c.values = append(c.values, f.Value)
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
}

// encode returns the block's uncompressed columnar bytes (appended to dst)
// and fills the index entry's summary fields. Times are delta-encoded in
// row order, so any order decodes, and sorted rows encode small.
func (b *blockBuilder) encode(dst []byte, m *blockMeta) []byte {
	n := len(b.times)
	dst = binary.AppendUvarint(dst, uint64(n))
	prev := int64(0)
	m.minTime, m.maxTime = math.MaxInt64, math.MinInt64
	for _, t := range b.times {
		dst = binary.AppendVarint(dst, t-prev)
		prev = t
		m.minTime = min(m.minTime, t)
		m.maxTime = max(m.maxTime, t)
	}
	dst = appendStrColumn(dst, b.msgs)
	names := make([]string, 0, len(b.cols))
	for name := range b.cols {
		names = append(names, name)
	}
	slices.Sort(names)
	dst = binary.AppendUvarint(dst, uint64(len(names)))
	m.fields = names
	m.ranges = m.ranges[:0]
	for i, name := range names {
		c := b.cols[name]
		dst = appendStr(dst, name)
		dst = binary.AppendUvarint(dst, uint64(len(c.rows)))
		if len(c.rows) < n {
			bitmap := make([]byte, (n+7)/8)
			for _, row := range c.rows {
				bitmap[row/8] |= 1 << (row % 8)
			}
			dst = append(dst, bitmap...)
		}
		dst = appendStrColumn(dst, c.values)
		if c.numeric {
			m.ranges = append(m.ranges, numRange{field: i, min: c.min, max: c.max})
		}
	}
	m.tenant = b.tenant
	m.labels = slices.Clone(b.labels)
	m.key = b.key
	m.count = n
	m.bloom = newBloom(b.hashes)
	return dst
}

// appendStrColumn writes all lengths first, then all bytes, which compresses
// better than interleaving them.
func appendStrColumn(dst []byte, vals []string) []byte {
	for _, v := range vals {
		dst = binary.AppendUvarint(dst, uint64(len(v)))
	}
	for _, v := range vals {
		dst = append(dst, v...)
	}
	return dst
}

// decodedBlock holds a block's columns; its strings share one allocation.
type decodedBlock struct {
	times []int64
	msgs  []string
	cols  []decodedCol
	lens  []int // scratch for column lengths
	// skipMsg leaves the message out of rows (see rewind).
	skipMsg bool
	raw     []byte // scratch for the decompressed block
}

type decodedCol struct {
	name   string
	skip   bool   // not among the fields the search needs
	bitmap string // empty when every row has the field
	values []string
	next   int // cursor into values while rows are visited in order
}

// decodeBlock parses raw (uncompressed) block bytes into d, reusing its
// slices.
func decodeBlock(raw string, d *decodedBlock) error {
	r := reader{src: raw}
	n := r.count(min(r.remaining(), maxBlockDecodeRecords))
	d.times = d.times[:0]
	t := int64(0)
	for i := 0; i < n && r.err == nil; i++ {
		t += r.varint()
		d.times = append(d.times, t)
	}
	d.msgs = readStrColumn(&r, n, d.msgs[:0], &d.lens)
	ncols := r.count(r.remaining())
	d.cols = d.cols[:0]
	for i := 0; i < ncols && r.err == nil; i++ {
		// Reuse the value slices of an earlier block's columns.
		var values []string
		if i < cap(d.cols) {
			values = d.cols[:i+1][i].values[:0]
		}
		c := decodedCol{name: r.str()}
		present := r.count(n)
		if present < n {
			c.bitmap = r.bytes((n + 7) / 8)
			if r.err == nil && popcount(c.bitmap) != present {
				r.fail("presence bitmap disagrees with count")
			}
		}
		c.values = readStrColumn(&r, present, values, &d.lens)
		d.cols = append(d.cols, c)
	}
	if r.err == nil && (len(d.times) != n || len(d.msgs) != n) {
		r.fail("short block")
	}
	if r.err == nil && r.remaining() != 0 {
		r.fail("trailing bytes in block")
	}
	return r.err
}

func popcount(bitmap string) int {
	n := 0
	for i := 0; i < len(bitmap); i++ {
		for b := bitmap[i]; b != 0; b &= b - 1 {
			n++
		}
	}
	return n
}

func readStrColumn(r *reader, n int, dst []string, lens *[]int) []string {
	if n > r.remaining() {
		r.fail("column longer than block")
		return dst
	}
	*lens = (*lens)[:0]
	for i := 0; i < n && r.err == nil; i++ {
		*lens = append(*lens, r.count(r.remaining()))
	}
	for _, l := range *lens {
		dst = append(dst, r.bytes(l))
	}
	return dst
}

// row fills rec with row i; rec's strings alias the block. Columns must be
// visited with increasing i after rewind.
func (d *decodedBlock) row(i int, rec *record.Record) {
	rec.Time = d.times[i]
	rec.Message = ""
	if !d.skipMsg {
		rec.Message = d.msgs[i]
	}
	rec.Fields = rec.Fields[:0]
	for j := range d.cols {
		c := &d.cols[j]
		if c.skip || c.bitmap != "" && c.bitmap[i/8]&(1<<(i%8)) == 0 {
			continue
		}
		rec.Fields = append(rec.Fields, record.Field{Name: c.name, Value: c.values[c.next]})
		c.next++
	}
}

// rewind prepares the block for a visit of its rows that yields only the
// fields in need (all when need is nil).
func (d *decodedBlock) rewind(need map[string]bool) {
	d.skipMsg = need != nil && !need[record.MessageField]
	for j := range d.cols {
		d.cols[j].next = 0
		d.cols[j].skip = need != nil && !need[d.cols[j].name]
	}
}
