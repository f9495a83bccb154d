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
	cols  []decodedCol // only the columns the decode was asked for
	lens  []int        // scratch for column lengths
	// skipMsg leaves the message out of rows: the decode was not asked
	// for it, so msgs is empty.
	skipMsg bool
	raw     []byte // scratch for the decompressed block
}

type decodedCol struct {
	name   string
	bitmap string // empty when every row has the field
	values []string
	next   int // cursor into values while rows are visited in order
}

// decodeBlock parses raw (uncompressed) block bytes into d, reusing its
// slices. need, when not nil, names the only fields (record.MessageField
// for the message) whose values are wanted: the other columns are checked
// for shape and stepped over without building their values, which is most
// of the decoding cost of a search that reads one or two fields. Then raw
// may be a view of a buffer the caller reuses: the names and values kept
// are copied out of it (bitmaps are not, rows must be visited before the
// buffer is reused), so a projection copies a few columns, not the block.
func decodeBlock(raw string, d *decodedBlock, need map[string]bool) error {
	own := need != nil
	r := reader{src: raw}
	n := r.count(min(r.remaining(), maxBlockDecodeRecords))
	d.times = d.times[:0]
	t := int64(0)
	for i := 0; i < n && r.err == nil; i++ {
		t += r.varint()
		d.times = append(d.times, t)
	}
	d.msgs = d.msgs[:0]
	d.skipMsg = need != nil && !need[record.MessageField]
	if d.skipMsg {
		skipStrColumn(&r, n)
	} else {
		d.msgs = readStrColumn(&r, n, d.msgs, &d.lens, own)
	}
	ncols := r.count(r.remaining())
	d.cols = d.cols[:0]
	for i := 0; i < ncols && r.err == nil; i++ {
		name := r.str()
		present := r.count(n)
		var bitmap string
		if present < n {
			bitmap = r.bytes((n + 7) / 8)
			if r.err == nil && popcount(bitmap) != present {
				r.fail("presence bitmap disagrees with count")
			}
		}
		if need != nil && !need[name] {
			skipStrColumn(&r, present)
			continue
		}
		// Reuse the value slices of an earlier block's columns.
		var values []string
		if k := len(d.cols); k < cap(d.cols) {
			values = d.cols[:k+1][k].values[:0]
		}
		if own {
			name = strings.Clone(name)
		}
		d.cols = append(d.cols, decodedCol{name: name, bitmap: bitmap, values: readStrColumn(&r, present, values, &d.lens, own)})
	}
	if r.err == nil && (len(d.times) != n || !d.skipMsg && len(d.msgs) != n) {
		r.fail("short block")
	}
	if r.err == nil && r.remaining() != 0 {
		r.fail("trailing bytes in block")
	}
	return r.err
}

// skipStrColumn steps over a column written by appendStrColumn with n
// values, checking that its lengths and bytes fit the block.
func skipStrColumn(r *reader, n int) {
	if n > r.remaining() {
		r.fail("column longer than block")
		return
	}
	total := 0
	for i := 0; i < n && r.err == nil; i++ {
		// Most values are shorter than 128 bytes: a one-byte length needs
		// none of uvarint's checks.
		if r.off < len(r.src) && r.src[r.off] < 0x80 {
			total += int(r.src[r.off])
			r.off++
			continue
		}
		total += r.count(r.remaining())
	}
	r.bytes(total)
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

// readStrColumn appends a column's n values to dst; with own they share
// one copy of the column's bytes instead of aliasing r's source.
func readStrColumn(r *reader, n int, dst []string, lens *[]int, own bool) []string {
	if n > r.remaining() {
		r.fail("column longer than block")
		return dst
	}
	*lens = (*lens)[:0]
	total := 0
	for i := 0; i < n && r.err == nil; i++ {
		l := r.count(r.remaining())
		*lens = append(*lens, l)
		total += l
	}
	data := r.bytes(total)
	if r.err != nil {
		return dst
	}
	if own {
		data = strings.Clone(data)
	}
	off := 0
	for _, l := range *lens {
		dst = append(dst, data[off:off+l])
		off += l
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
		if c.bitmap != "" && c.bitmap[i/8]&(1<<(i%8)) == 0 {
			continue
		}
		rec.Fields = append(rec.Fields, record.Field{Name: c.name, Value: c.values[c.next]})
		c.next++
	}
}

// release drops d's references to decoded strings, so that a pooled
// decodedBlock keeps only its own buffers alive.
func (d *decodedBlock) release() {
	clear(d.msgs[:cap(d.msgs)])
	d.msgs = d.msgs[:0]
	cols := d.cols[:cap(d.cols)]
	for i := range cols {
		clear(cols[i].values[:cap(cols[i].values)])
		cols[i] = decodedCol{values: cols[i].values[:0]}
	}
	d.cols = d.cols[:0]
}

// rewind prepares the block for a visit of its rows.
func (d *decodedBlock) rewind() {
	for j := range d.cols {
		d.cols[j].next = 0
	}
}
