package store

import (
	"encoding/binary"
	"math"
	"slices"
	"unsafe"

	"github.com/sluice-log/sluice/internal/record"
)

// blockMeta is a block's index entry: where the block is and what it holds.
// It implements BlockSummary, so filters can rule a block out unread.
type blockMeta struct {
	offset    int64  // of the block in the part file
	length    int64  // stored bytes
	headerLen int    // stored bytes of the header (record count and column directory)
	rawLen    int    // bytes of the columns after decompression
	checksum  uint64 // xxhash64 of the header; each column has its own in the directory

	tenant  string
	labels  []record.Field
	key     string // streamKey(tenant, labels), the merge order
	minTime int64
	maxTime int64
	count   int
	fields  []string // sorted names of the non-stream fields
	bloom   bloom
	ranges  []numRange // sorted by field index
	// spanRows is the block's time index (format version 4): for each
	// blockSpan boundary that the block's records cross, in time order,
	// the row of its first record at or after that boundary; empty when
	// the block lies in one span or its entry has no index (earlier
	// parts). A search over part of the block's time range then knows
	// which rows can be in it without reading the timestamps.
	spanRows []int32
}

// linearFieldScan is the most fields fieldIndex scans in order.
const linearFieldScan = 16

// numRange is the numeric extent of fields[field] in the block; present only
// when every value of the field parses as a float64.
type numRange struct {
	field    int
	min, max float64
}

var _ BlockSummary = (*blockMeta)(nil)

// memBytes is about what m holds in memory besides the strings it shares
// with the decoded index it came from (tenant, labels, field names and the
// bloom filter are views of it): the entry, its slices and its key.
func (m *blockMeta) memBytes() int64 {
	return int64(unsafe.Sizeof(*m)) + int64(len(m.key)) +
		int64(len(m.labels))*int64(unsafe.Sizeof(record.Field{})) +
		int64(len(m.fields))*int64(unsafe.Sizeof("")) +
		int64(len(m.ranges))*int64(unsafe.Sizeof(numRange{})) +
		int64(len(m.spanRows))*4
}

// ownBytes is what the strings of m take when they are its own (a
// writer's entry), not views of a decoded index.
func (m *blockMeta) ownBytes() int64 {
	n := int64(len(m.tenant) + len(m.bloom))
	for _, l := range m.labels {
		n += int64(len(l.Name) + len(l.Value))
	}
	for _, f := range m.fields {
		n += int64(len(f))
	}
	return n
}

// fieldIndex is the index of name in m.fields, -1 when the block lacks
// it. A search asks it of every block whose bloom filter it probes: for
// a block of few fields a scan comparing lengths first is about twice
// as fast as a binary search comparing the bytes of every name it meets.
func (m *blockMeta) fieldIndex(name string) int {
	if len(m.fields) <= linearFieldScan {
		for i, f := range m.fields {
			if f == name {
				return i
			}
		}
		return -1
	}
	i, ok := slices.BinarySearch(m.fields, name)
	if !ok {
		return -1
	}
	return i
}

func (m *blockMeta) isLabel(name string) bool {
	for _, l := range m.labels {
		if l.Name == name {
			return true
		}
	}
	return false
}

// MayHaveField implements BlockSummary.
func (m *blockMeta) MayHaveField(field string) bool {
	switch field {
	case record.MessageField, record.TimeField, record.StreamField:
		return true
	}
	return m.isLabel(field) || m.fieldIndex(field) >= 0
}

// MayContainToken implements BlockSummary.
func (m *blockMeta) MayContainToken(field, token string) bool {
	switch field {
	case record.TimeField, record.StreamField:
		return true // not indexed
	case record.MessageField:
	default:
		if !m.isLabel(field) && m.fieldIndex(field) < 0 {
			return false
		}
	}
	return m.bloom.mayContain(tokenHash(field, token))
}

// NumRange implements BlockSummary.
func (m *blockMeta) NumRange(field string) (lo, hi float64, ok bool) {
	i := m.fieldIndex(field)
	if i < 0 {
		return 0, 0, false
	}
	for _, r := range m.ranges {
		if r.field == i {
			return r.min, r.max, true
		}
	}
	return 0, 0, false
}

// streamKey orders and groups records by tenant and stream in parts.
func streamKey(tenant string, labels []record.Field) string {
	return string(appendStreamKey(nil, tenant, labels))
}

// minIndexEntryBytes is the smallest encoding of an index entry: nine
// one-byte varints and counts plus the 8-byte checksum.
const minIndexEntryBytes = 17

func appendIndex(dst []byte, metas []blockMeta) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(metas)))
	for i := range metas {
		m := &metas[i]
		dst = binary.AppendUvarint(dst, uint64(m.offset))
		dst = binary.AppendUvarint(dst, uint64(m.length))
		dst = binary.AppendUvarint(dst, uint64(m.headerLen))
		dst = binary.AppendUvarint(dst, uint64(m.rawLen))
		dst = appendU64(dst, m.checksum)
		dst = appendStr(dst, m.tenant)
		dst = binary.AppendUvarint(dst, uint64(len(m.labels)))
		for _, l := range m.labels {
			dst = appendStr(dst, l.Name)
			dst = appendStr(dst, l.Value)
		}
		dst = binary.AppendVarint(dst, m.minTime)
		dst = binary.AppendVarint(dst, m.maxTime)
		dst = binary.AppendUvarint(dst, uint64(m.count))
		dst = binary.AppendUvarint(dst, uint64(len(m.fields)))
		for _, f := range m.fields {
			dst = appendStr(dst, f)
		}
		dst = binary.AppendUvarint(dst, uint64(m.bloom.words()))
		dst = append(dst, m.bloom...)
		dst = binary.AppendUvarint(dst, uint64(len(m.ranges)))
		for _, r := range m.ranges {
			dst = binary.AppendUvarint(dst, uint64(r.field))
			dst = appendF64(dst, r.min)
			dst = appendF64(dst, r.max)
		}
		dst = binary.AppendUvarint(dst, uint64(len(m.spanRows)))
		prev := int32(0)
		for _, row := range m.spanRows {
			dst = binary.AppendUvarint(dst, uint64(row-prev))
			prev = row
		}
	}
	return dst
}

// decodeIndex parses an uncompressed index. dataEnd is where the blocks end
// in the part file: every block must lie inside [partHeaderLen, dataEnd).
// spans says that the entries end with a time index (format version 4).
func decodeIndex(src string, dataEnd int64, spans bool) ([]blockMeta, error) {
	r := reader{src: src}
	// An entry takes at least minIndexEntryBytes, which bounds n by the input.
	n := r.count(r.remaining() / minIndexEntryBytes)
	metas := make([]blockMeta, 0, min(n, 1024))
	for i := 0; i < n && r.err == nil; i++ {
		var m blockMeta
		m.offset = int64(r.uvarint())
		m.length = int64(r.uvarint())
		m.headerLen = r.count(math.MaxInt32) // checked against the length below
		m.rawLen = r.count(maxBlockRawBytes * 4)
		m.checksum = r.u64()
		if r.err == nil && (m.offset < partHeaderLen || m.length <= 0 || m.length > dataEnd-m.offset) {
			r.fail("block outside the part's data")
		}
		if r.err == nil && (m.headerLen < 2 || int64(m.headerLen) > m.length) {
			r.fail("block header length outside the block")
		}
		m.tenant = r.str()
		nl := r.count(r.remaining())
		for j := 0; j < nl && r.err == nil; j++ {
			m.labels = append(m.labels, record.Field{Name: r.str(), Value: r.str()})
		}
		m.key = streamKey(m.tenant, m.labels)
		m.minTime = r.varint()
		m.maxTime = r.varint()
		m.count = r.count(maxBlockDecodeRecords)
		nf := r.count(r.remaining())
		for j := 0; j < nf && r.err == nil; j++ {
			m.fields = append(m.fields, r.str())
		}
		if r.err == nil && !slices.IsSorted(m.fields) {
			r.fail("field names not sorted")
		}
		nw := r.count(min(r.remaining()/8, maxBloomWords))
		m.bloom = bloom(r.bytes(nw * 8))
		nr := r.count(r.remaining())
		for j := 0; j < nr && r.err == nil; j++ {
			nr := numRange{field: r.count(len(m.fields) - 1), min: r.f64(), max: r.f64()}
			m.ranges = append(m.ranges, nr)
		}
		if spans {
			decodeSpanRows(&r, &m)
		}
		metas = append(metas, m)
	}
	if r.err == nil && r.remaining() != 0 {
		r.fail("trailing bytes in index")
	}
	if r.err != nil {
		return nil, r.err
	}
	return metas, nil
}

// maxSpanRows bounds a block's time index: a block lies in one daily
// partition, which 24 hour spans cover (a writer makes none beyond it).
const maxSpanRows = 64

// decodeSpanRows reads m's time index, which must have one row per span
// boundary between its min and max time, in order, within its records.
func decodeSpanRows(r *reader, m *blockMeta) {
	n := r.count(maxSpanRows)
	if n == 0 || r.err != nil {
		return
	}
	if m.maxTime < m.minTime || spanOf(m.maxTime)-spanOf(m.minTime) != int64(n) {
		r.fail("time index does not fit the block's time range")
		return
	}
	m.spanRows = make([]int32, n)
	row := 0
	for i := range m.spanRows {
		row += r.count(m.count)
		if row > m.count {
			r.fail("time index beyond the block's records")
			return
		}
		m.spanRows[i] = int32(row)
	}
}

// spanIndex is the time index of a block whose sorted times are times
// (nil when they are not sorted, lie in one span or in more than
// maxSpanRows+1).
func spanIndex(times []int64, minTime, maxTime int64) []int32 {
	first, last := spanOf(minTime), spanOf(maxTime)
	if first == last || last-first > maxSpanRows || !slices.IsSorted(times) {
		return nil
	}
	rows := make([]int32, 0, last-first)
	row := 0
	for sp := first + 1; sp <= last; sp++ {
		for row < len(times) && spanOf(times[row]) < sp {
			row++
		}
		rows = append(rows, int32(row))
	}
	return rows
}

// rowWindow is the rows of m that may lie in [from, to) (to 0 for no
// end) by its time index: rows before lo and from hi on do not. exact
// says that every row of [lo, hi) does, so that no row's time needs a
// check. ok is false when m has no time index.
func (m *blockMeta) rowWindow(from, to int64) rowWindow {
	if len(m.spanRows) == 0 {
		return rowWindow{}
	}
	first := spanOf(m.minTime)
	// start(sp) is the first row at or after span sp's start.
	start := func(sp int64) int {
		switch {
		case sp <= first:
			return 0
		case sp-first > int64(len(m.spanRows)):
			return m.count
		default:
			return int(m.spanRows[sp-first-1])
		}
	}
	lo, hi, exact := 0, m.count, true
	if from > m.minTime {
		sp := spanOf(from)
		lo = start(sp)
		exact = from == sp*blockSpan
	}
	if to != 0 && to <= m.maxTime {
		sp := spanOf(to - 1)
		hi = start(sp + 1)
		exact = exact && to == (sp+1)*blockSpan
	}
	return rowWindow{lo: lo, hi: max(lo, hi), exact: exact, ok: true}
}
