package store

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"unsafe"

	"github.com/klauspost/compress/zstd"
	"github.com/sluice-log/sluice/internal/record"
)

// maxColumnRawBytes bounds what one column may claim to decompress to, so
// that a hostile length cannot force a huge allocation.
const maxColumnRawBytes = maxBlockRawBytes * 4

// decodedBlock holds the columns of a block that a read asked for; their
// strings share one allocation per block, which no later read reuses
// unless the search says that no string of it was kept (rawFree).
type decodedBlock struct {
	times []int64
	rows  int // records in the block
	// lazyTimes, set by a search before decoding, leaves the timestamps
	// unread until loadTimes: a count over a block inside the search's
	// range needs none, and reading, decompressing and parsing them was a
	// good part of such a search.
	lazyTimes   bool
	timesSrc    string // the raw timestamps column, a view
	timesLoaded bool
	timesPad    []byte    // scratch: packed timestamps with 8 bytes after them
	lazy        lazyTimes // where loadTimes finds the timestamps column
	// prefetchTimes, set by a search before a read, asks that the
	// timestamps be read (and checked) with the columns near them even
	// when lazyTimes leaves them unparsed; timesRead says that the last
	// read did.
	prefetchTimes, timesRead bool
	msg                      decodedCol
	cols                     []decodedCol // only the field columns the decode was asked for
	lens                     []int        // scratch for value lengths
	// skipMsg leaves the message out of rows: the decode was not asked
	// for it.
	skipMsg bool
	raw     []byte // the needed columns, decompressed; a new buffer per block, which the values alias
	// rawFree says that no string of the last block read is in use any
	// more (a search that only counted its rows), so that the next
	// decompress may write into raw instead of allocating (and zeroing)
	// a new buffer. decompress clears it.
	rawFree bool
	dirs    []colDir
	spans   []int // per column: offset of its raw bytes in raw, or -1
	rawLen  int   // the raw bytes of all columns, as the directory says
	// bytesRead is what the last readBlock read from the part file: the
	// header and the columns it fetched.
	bytesRead int64
	// want, set by a search, says which values of one field can match
	// its filter; a hex column of that field without such a value stops
	// the decode (the rest of the block is left undecoded) and sets
	// noMatch: no record of the block matches.
	want    hexWant
	noMatch bool
	// spellRows, set by a search before decoding, says that it will look
	// at the rows [spellLo, spellHi) alone (those the block's time index
	// places in its range): a hex column spells only their values, and
	// leaves the others empty.
	spellRows        bool
	spellLo, spellHi int
}

// decodedCol is one string column: for encRaw a value per present row, for
// encConst the one value, for encDict the distinct values and a code per
// present row.
type decodedCol struct {
	name   string
	bitmap string // empty when every row has the field
	enc    byte
	values []string
	codes  string // encDict: one byte per present row, an index into values
	// codeBuf holds the codes of an encPackedDict column, unpacked
	// (codes is a view of it): reused by the next block's column.
	codeBuf []byte
	dec     decimals // encDecimal: the packed values
	data    string   // encRaw: all values' bytes, back to back (see Values)
	next    int      // cursor into the present rows while rows are visited in order
	// hex, for a column stored as encHex (and decoded as encRaw), is the
	// bytes its values spell, hexWidth of each, a view of the block's raw
	// bytes: a search for one id compares them instead of the texts.
	hex      string
	hexWidth int
}

// decodeHeader parses a block's header (record count and column
// directory) from the start of src into d and returns its length. The
// directory's stored lengths must add up to blockLen, the block's stored
// bytes from its index entry. fields are the block's field names from its
// index entry, which name the columns after the timestamps and the
// message. need, when not nil, names the only fields (record.MessageField
// for the message) whose values are wanted: decodeHeader marks the
// columns a decode takes (see markColumns), and decodeColumns leaves the
// others alone, which is most of the cost of a search that reads one or
// two fields.
func (d *decodedBlock) decodeHeader(src []byte, fields []string, blockLen int64, need map[string]bool) (int, error) {
	// A view: the directory keeps no strings.
	r := reader{src: unsafe.String(unsafe.SliceData(src), len(src))}
	d.rows = r.count(maxBlockDecodeRecords)
	ncols := r.count(r.remaining())
	if r.err == nil && ncols != 2+len(fields) {
		r.fail(fmt.Sprintf("block has %d columns, index names %d fields", ncols, len(fields)))
	}
	d.dirs = d.dirs[:0]
	d.rawLen = 0
	total := 0
	for i := 0; i < ncols && r.err == nil; i++ {
		enc := r.byte()
		c := colDir{enc: enc &^ encFull, full: enc&encFull != 0, comp: r.byte(), off: total}
		if c.full && i < 2 {
			r.fail("the timestamps or the message marked as a full field column")
		}
		c.stored = r.count(int(min(blockLen, maxColumnRawBytes)))
		c.raw = c.stored
		if c.comp == compZstd {
			c.raw = r.count(maxColumnRawBytes)
		} else if c.comp != compNone {
			r.fail("unknown column compression")
		}
		c.sum = r.u64()
		if (i == 0) != (c.enc == encDelta || c.enc == encDeltaScaled || c.enc == encPackedDelta) {
			r.fail("column encoding does not fit the column")
		}
		total += c.stored
		d.rawLen += c.raw
		d.dirs = append(d.dirs, c)
	}
	if r.err == nil && int64(r.off)+int64(total) != blockLen {
		r.fail("column lengths disagree with the block length")
	}
	if r.err != nil {
		return 0, r.err
	}
	d.markColumns(fields, need)
	return r.off, nil
}

// markColumns sets d.spans for the columns of d.dirs a decode takes: the
// fields in need (see decodeHeader), and the timestamps unless d.lazyTimes
// leaves them to loadTimes.
func (d *decodedBlock) markColumns(fields []string, need map[string]bool) {
	d.skipMsg = need != nil && !need[record.MessageField]
	d.spans = d.spans[:0]
	wantLen := 0
	for i, c := range d.dirs {
		if i == 0 && !d.lazyTimes || i == 1 && !d.skipMsg || i >= 2 && (need == nil || need[fields[i-2]]) {
			d.spans = append(d.spans, wantLen)
			wantLen += c.raw
		} else {
			d.spans = append(d.spans, -1)
		}
	}
}

// decodeColumns decompresses and parses the columns decodeHeader marked,
// from data, the block's column data. Only the marked columns' bytes are
// read; the caller has checked their checksums. decodeColumns still checks
// every column it reads, since a checksum does not prove the writer sane.
func (d *decodedBlock) decodeColumns(data []byte, fields []string, dec *zstd.Decoder) error {
	d.noMatch = false
	if err := d.decompress(data, dec); err != nil {
		return err
	}
	// The times are parsed from a view of d.raw; the values of the
	// string columns after them alias it.
	n := d.rows
	d.times = d.times[:0]
	d.timesLoaded = false
	skip := 0 // raw bytes of the times in d.raw
	if d.spans[0] >= 0 {
		skip = d.dirs[0].raw
		d.timesSrc = unsafe.String(unsafe.SliceData(d.raw), skip)
		if err := d.parseTimes(); err != nil {
			return err
		}
	}
	// A view, not a copy: decompress gave this block a buffer of its own.
	cols := unsafe.String(unsafe.SliceData(d.raw[skip:]), len(d.raw)-skip)
	d.cols = d.cols[:0]
	for i, c := range d.dirs {
		if d.noMatch {
			break // the block is ruled out: nothing more is wanted of it
		}
		if i == 0 || d.spans[i] < 0 {
			continue
		}
		at := d.spans[i] - skip
		cr := reader{src: cols[at : at+c.raw]}
		if i == 1 {
			readValues(&cr, c.enc, n, &d.msg, &d.lens)
		} else {
			d.decodeField(&cr, fields[i-2], c.enc, c.full, n)
		}
		if err := columnEnd(&cr, i); err != nil {
			return err
		}
	}
	return nil
}

// decompress puts the raw bytes of the marked columns back to back into
// d.raw, where d.spans says. data is the column data.
func (d *decodedBlock) decompress(data []byte, dec *zstd.Decoder) error {
	wantLen := 0
	for i, c := range d.dirs {
		if d.spans[i] >= 0 {
			wantLen += c.raw
		}
	}
	// A fresh buffer per block: the values are views of it (see
	// decodeColumns), so no later read may write into it, unless the
	// last block's values are known to be dropped.
	if d.rawFree && cap(d.raw) >= wantLen {
		d.raw = d.raw[:0]
	} else {
		d.raw = make([]byte, 0, wantLen)
	}
	d.rawFree = false
	for i, c := range d.dirs {
		if d.spans[i] < 0 {
			continue
		}
		col := data[c.off : c.off+c.stored]
		if c.comp == compNone {
			d.raw = append(d.raw, col...)
			continue
		}
		start := len(d.raw)
		var err error
		d.raw, err = dec.DecodeAll(col, d.raw)
		if err != nil {
			return fmt.Errorf("%w: decompress column %d: %v", errCorrupt, i, err)
		}
		if len(d.raw)-start != c.raw {
			return fmt.Errorf("%w: column %d has %d bytes, directory says %d", errCorrupt, i, len(d.raw)-start, c.raw)
		}
	}
	return nil
}

// columnEnd is the error of column i's reader, which must have read all of
// the column.
func columnEnd(r *reader, i int) error {
	if r.err == nil && r.remaining() != 0 {
		r.fail("trailing bytes in column")
	}
	if r.err != nil {
		return fmt.Errorf("column %d: %w", i, r.err)
	}
	return nil
}

// parseTimes parses the block's timestamps from d.timesSrc into d.times.
func (d *decodedBlock) parseTimes() error {
	tr := reader{src: d.timesSrc}
	unit := int64(1)
	if enc := d.dirs[0].enc; enc == encDeltaScaled || enc == encPackedDelta {
		exp := 0
		if b := tr.bytes(1); tr.err == nil {
			exp = int(b[0])
		}
		if tr.err == nil && (exp < 1 && enc == encDeltaScaled || exp > maxTimeExp) {
			tr.fail("time unit out of range")
			exp = 0
		}
		unit = timeUnits[exp]
	}
	if d.dirs[0].enc == encPackedDelta {
		d.decodePackedTimes(&tr, d.rows, unit)
	} else {
		d.decodeTimes(&tr, d.rows, unit)
	}
	if err := columnEnd(&tr, 0); err != nil {
		return fmt.Errorf("%w: %v", errCorrupt, err)
	}
	d.timesLoaded = true
	return nil
}

// decodeTimes reads n deltas in units of unit ns (a power of ten).
func (d *decodedBlock) decodeTimes(r *reader, n int, unit int64) {
	d.times = d.times[:0]
	if n > r.remaining() {
		r.fail("more times than bytes")
		return
	}
	if r.err != nil {
		return
	}
	d.times = slices.Grow(d.times, n)
	// reader.varint inlined: a histogram decodes every time of every
	// block it reads, and the call and its error checks per time were
	// most of that.
	src, off := r.src, r.off
	t := int64(0)
	lim := math.MaxInt64 / unit
	for range n {
		var u uint64
		var shift uint
		for i := 0; ; i++ {
			if off >= len(src) || i == binary.MaxVarintLen64 {
				r.off = off
				r.fail("bad uvarint")
				return
			}
			b := src[off]
			off++
			if b < 0x80 {
				if i == binary.MaxVarintLen64-1 && b > 1 {
					r.off = off
					r.fail("uvarint overflow")
					return
				}
				u |= uint64(b) << shift
				break
			}
			u |= uint64(b&0x7f) << shift
			shift += 7
		}
		v := int64(u >> 1)
		if u&1 != 0 {
			v = ^v
		}
		t += v
		if t > lim || t < -lim {
			r.off = off
			r.fail("time out of range")
			return
		}
		d.times = append(d.times, t*unit)
	}
	r.off = off
}

func (d *decodedBlock) decodeField(r *reader, name string, enc byte, full bool, n int) {
	present := r.count(n)
	if r.err == nil && present == 0 {
		r.fail("field column without values")
	}
	var bitmap string
	if present < n {
		bitmap = r.bytes((n + 7) / 8)
		if r.err == nil && popcount(bitmap) != present {
			r.fail("presence bitmap disagrees with count")
		}
	}
	// Reuse the value slices of an earlier block's columns.
	k := len(d.cols)
	if k < cap(d.cols) {
		d.cols = d.cols[:k+1]
	} else {
		d.cols = append(d.cols, decodedCol{})
	}
	c := &d.cols[k]
	c.name, c.bitmap = name, bitmap
	if enc == encHex && r.err == nil && d.rejectHex(r, name, present, c) {
		d.noMatch = true
		return
	}
	lo, hi := 0, present
	if enc == encHex && d.spellRows {
		lo, hi = presentBefore(bitmap, d.spellLo), presentBefore(bitmap, d.spellHi)
	}
	readValuesSpelling(r, enc, present, c, &d.lens, lo, hi)
	// (A hex column's values are never empty, but for the rows its
	// decode left out.)
	if full && r.err == nil && (present != n || enc != encHex && slices.Contains(c.values, "")) {
		// A search may have decided the block by the flag alone.
		r.fail("column marked full lacks a value in some row")
	}
}

// presentBefore is how many rows before row the presence bitmap marks
// (row itself when it is empty: every row is present).
func presentBefore(bitmap string, row int) int {
	if bitmap == "" {
		return row
	}
	row = min(max(row, 0), 8*len(bitmap))
	n := popcount(bitmap[:row/8])
	if rem := row % 8; rem > 0 {
		n += bits.OnesCount8(bitmap[row/8] & (1<<rem - 1))
	}
	return n
}

// dictColumn returns the field column name of the decoded block when it
// is dictionary- or constant-encoded: its distinct values, and per present
// row (in row order, see bitmap) the index of its value. codes is empty
// for a constant column: every present row has values[0]. bitmap is empty
// when every row has the field, else bit i%8 of byte i/8 is row i. A
// filter or a stats pipe can work on the few distinct values and the codes
// instead of one string per row. ok is false when the column was not
// decoded or is stored raw.
func (d *decodedBlock) dictColumn(name string) (values []string, codes, bitmap string, ok bool) {
	for i := range d.cols {
		c := &d.cols[i]
		if c.name == name && (c.enc == encDict || c.enc == encConst) {
			return c.values, c.codes, c.bitmap, true
		}
	}
	return nil, "", "", false
}

// rawColumn returns the field column name of the decoded block when it is
// stored raw: a value per present row, and the bitmap as in dictColumn.
// ok is false when the column was not decoded or is not raw.
func (d *decodedBlock) rawColumn(name string) (values []string, bitmap string, ok bool) {
	for i := range d.cols {
		c := &d.cols[i]
		if c.name == name && c.enc == encRaw {
			return c.values, c.bitmap, true
		}
	}
	return nil, "", false
}

// hasColumn reports whether the field column name was decoded.
func (d *decodedBlock) hasColumn(name string) bool {
	for i := range d.cols {
		if d.cols[i].name == name {
			return true
		}
	}
	return false
}

// row fills rec with row i; rec's strings alias the block. Columns must be
// visited with increasing i after rewind.
func (d *decodedBlock) row(i int, rec *record.Record) { d.rowFields(i, rec, false) }

// rowOwn is row without the block's constant columns that every row has
// (which sharedCols gives): a merge hands those to the block builder once
// per block rather than in every record.
func (d *decodedBlock) rowOwn(i int, rec *record.Record) { d.rowFields(i, rec, true) }

func (d *decodedBlock) rowFields(i int, rec *record.Record, own bool) {
	rec.Time = d.times[i]
	rec.Message = ""
	if !d.skipMsg {
		rec.Message = d.msg.value()
	}
	rec.Fields = rec.Fields[:0]
	for j := range d.cols {
		c := &d.cols[j]
		if c.bitmap == "" {
			if own && c.enc == encConst {
				continue
			}
		} else if c.bitmap[i/8]&(1<<(i%8)) == 0 {
			continue
		}
		rec.Fields = append(rec.Fields, record.Field{Name: c.name, Value: c.value()})
	}
}

// sharedCols appends to fs the fields of the block's constant columns
// that every row has, which rowOwn leaves out of the rows.
func (d *decodedBlock) sharedCols(fs []record.Field) []record.Field {
	for j := range d.cols {
		if c := &d.cols[j]; c.bitmap == "" && c.enc == encConst {
			fs = append(fs, record.Field{Name: c.name, Value: c.values[0]})
		}
	}
	return fs
}

// skipRow passes over row i, as row would, without building it.
func (d *decodedBlock) skipRow(i int) {
	if !d.skipMsg {
		d.msg.next++
	}
	for j := range d.cols {
		c := &d.cols[j]
		if c.bitmap == "" || c.bitmap[i/8]&(1<<(i%8)) != 0 {
			c.next++
		}
	}
}

// release drops d's references to decoded strings, so that a pooled
// decodedBlock keeps only its own buffers alive.
func (d *decodedBlock) release() {
	d.msg.release()
	cols := d.cols[:cap(d.cols)]
	for i := range cols {
		cols[i].release()
	}
	d.cols = d.cols[:0]
	d.raw, d.timesSrc = nil, ""
	d.lazy = lazyTimes{buf: d.lazy.buf, raw: d.lazy.raw}
}

func (c *decodedCol) release() {
	clear(c.values[:cap(c.values)])
	*c = decodedCol{values: c.values[:0]}
}

// rewind prepares the block for a visit of its rows.
func (d *decodedBlock) rewind() {
	d.msg.next = 0
	for j := range d.cols {
		d.cols[j].next = 0
	}
}
