package store

import (
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"unsafe"

	"github.com/sluice-log/sluice/internal/record"
)

// headChunkSize is the size of the head's byte chunks, which all streams
// share: only the head's last chunk has unused room, however many streams
// there are (per-stream chunks wasted up to a chunk per stream, which with
// thousands of streams outweighed the records).
const (
	headChunkSize = 256 << 10
	// headStreamOverhead approximates a stream's bookkeeping beyond its
	// records (map entry, labels, key), for HeadBytes.
	headStreamOverhead = 256
	// headRecordOverhead is a record's entries in its stream's offsets
	// and times.
	headRecordOverhead = 16
)

// head is the in-memory tail of the store: records appended but not yet
// sealed into parts, searchable at once. Records are kept encoded, back to
// back in append-only byte chunks, with each stream holding the offsets of
// its records, because Go structs with a string per field took about four
// times the records' encoded size (and twice that again before a GC), which
// made the head, not the data, decide the server's memory. A frozen head
// (being flushed) never changes.
//
// Appends happen under Store.mu. Bytes below a chunk's length and offsets
// below a stream's length never change once written (appends only write
// past them), so a search copies the chunk list and the offsets' slice
// headers under the read lock and decodes without it.
type head struct {
	chunks  [][]byte
	streams map[string]*headStream
	list    []*headStream // in creation order
	bytes   int64         // chunk capacity plus offsets and stream overhead: what the head holds in memory
	records int64
	lastSeq uint64
	key     []byte         // scratch for the stream key of a record
	sorted  []record.Field // scratch for fields that arrive unsorted
	// sh is what the records of the run being appended share
	// (record.FindShared), shared those fields sorted by name; they are
	// encoded once per chunk, at sharedAt (chunk index << 32 | offset;
	// noShared when not in the current chunk yet).
	sh       record.Shared
	shared   []record.Field
	sharedAt uint64
}

const noShared = ^uint64(0)

// headStream is one tenant and stream's records in append order. Each
// record's time is in times, and the rest encoded as
//
//	message | back | nfields | (name value)*
//
// with strings as length and bytes, and fields sorted by name so that a
// record reads back the same from the head and from a part. The fields
// that every record of an appended batch's run shares (a bulk request's
// _index, a shipper's labels) are left out of its records and encoded once
// per chunk before them as nshared | (name value)*, sorted by name; back
// is how many bytes before the record that block starts, 0 for none.
type headStream struct {
	tenant string
	labels []record.Field
	key    string
	offs   []uint64 // chunk index << 32 | offset in the chunk, per record
	// times is each record's time, as offs: a flush orders and splits the
	// records by time, and a count by time counts them, without reading
	// them (a cache miss per record: reading a head record's time was 4%
	// of a server's CPU in a 20M-record run). Kept out of the record's
	// bytes, it costs the head no memory (a time took 9 bytes there).
	times   []int64
	minTime int64
	maxTime int64
}

func newHead() *head {
	return &head{streams: make(map[string]*headStream)}
}

// appendBatch encodes recs into the head: each run of one tenant's
// records with the fields they all share (record.FindShared) written once
// per chunk rather than in every record.
func (h *head) appendBatch(recs []record.Record) {
	for i := 0; i < len(recs); {
		run := recs[i : i+record.TenantRun(recs[i:])]
		record.FindShared(run, &h.sh)
		h.shared = h.shared[:0]
		for _, f := range h.sh.Fields {
			h.shared = append(h.shared, f.Field)
		}
		sortFields(h.shared)
		h.sharedAt = noShared
		for j := range run {
			h.append(&run[j])
		}
		i += len(run)
	}
	// The scratch must not keep the request's strings alive.
	clear(h.sh.Fields)
	clear(h.shared)
	h.sh.Fields, h.shared = h.sh.Fields[:0], h.shared[:0]
}

// append encodes r into the head's last chunk; the fields h.sh names are
// encoded apart (see appendBatch).
func (h *head) append(r *record.Record) {
	h.key = appendStreamKey(h.key[:0], r.Tenant, r.Stream)
	hs := h.streams[string(h.key)]
	if hs == nil {
		hs = &headStream{tenant: strings.Clone(r.Tenant), labels: cloneFields(r.Stream), key: string(h.key),
			minTime: math.MaxInt64, maxTime: math.MinInt64}
		h.streams[hs.key] = hs
		h.list = append(h.list, hs)
		h.bytes += headStreamOverhead + int64(len(hs.key))*2
	}
	fields := r.Fields
	if len(h.sh.Fields) > 0 {
		h.sorted = h.sorted[:0]
		k := 0
		for i, f := range r.Fields {
			if k < len(h.sh.Fields) && h.sh.Fields[k].Pos == i {
				k++
				continue
			}
			h.sorted = append(h.sorted, f)
		}
		sortFields(h.sorted)
		fields = h.sorted
	} else if !fieldsSorted(fields) {
		h.sorted = append(h.sorted[:0], fields...)
		sortFields(h.sorted)
		fields = h.sorted
	}
	size := binary.MaxVarintLen64 * 4
	size += len(r.Message)
	for _, f := range fields {
		size += 2*binary.MaxVarintLen32 + len(f.Name) + len(f.Value)
	}
	sharedSize := 0
	if len(h.shared) > 0 {
		sharedSize = binary.MaxVarintLen32
		for _, f := range h.shared {
			sharedSize += 2*binary.MaxVarintLen32 + len(f.Name) + len(f.Value)
		}
	}
	n := len(h.chunks)
	// The shared fields are written again in each chunk they are used in.
	writeShared := sharedSize > 0 && (h.sharedAt == noShared || int(h.sharedAt>>32) != n-1)
	need := size
	if writeShared {
		need += sharedSize
	}
	if n == 0 || cap(h.chunks[n-1])-len(h.chunks[n-1]) < need {
		c := max(headChunkSize, size+sharedSize)
		h.chunks = append(h.chunks, make([]byte, 0, c))
		h.bytes += int64(c)
		n++
		writeShared = sharedSize > 0
	}
	b := h.chunks[n-1]
	if writeShared {
		h.sharedAt = uint64(n-1)<<32 | uint64(len(b))
		b = binary.AppendUvarint(b, uint64(len(h.shared)))
		for _, f := range h.shared {
			b = appendStr(b, f.Name)
			b = appendStr(b, f.Value)
		}
	}
	start := len(b)
	hs.offs = append(hs.offs, uint64(n-1)<<32|uint64(start))
	hs.times = append(hs.times, r.Time)
	b = appendStr(b, r.Message)
	if sharedSize > 0 {
		b = binary.AppendUvarint(b, uint64(start-int(uint32(h.sharedAt))))
	} else {
		b = binary.AppendUvarint(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(fields)))
	for _, f := range fields {
		b = appendStr(b, f.Name)
		b = appendStr(b, f.Value)
	}
	h.chunks[n-1] = b
	hs.minTime = min(hs.minTime, r.Time)
	hs.maxTime = max(hs.maxTime, r.Time)
	h.records++
	h.bytes += headRecordOverhead
}

// cursorAt positions a cursor on the record at off (as in headStream.offs)
// of chunks.
func cursorAt(chunks [][]byte, off uint64) headCursor {
	return headCursor{b: chunks[off>>32], off: int(uint32(off))}
}

// headCursor decodes the records of one chunk. The strings it yields alias
// the chunk, whose bytes never change, so they stay valid as long as
// anything references them.
type headCursor struct {
	b   []byte
	off int
}

// next decodes the record at the cursor into rec's Message and Fields
// (its time is the stream's, headStream.times).
func (c *headCursor) next(rec *record.Record) bool {
	if c.off >= len(c.b) {
		return false
	}
	if at := c.nextOwn(rec); at >= 0 {
		rec.Fields = c.appendShared(rec.Fields, at, nil)
	}
	return true
}

// nextOwn decodes the record at the cursor into rec's Message and
// Fields, leaving out the fields it shares with the other records of its
// batch's run: it returns the offset in the chunk of those
// (sharedFields decodes them), or -1 when it shares none. Records of one
// run in one chunk return one offset, so a caller that keeps what it
// decoded last decodes a run's shared fields once.
func (c *headCursor) nextOwn(rec *record.Record) int {
	start := c.off
	rec.Message = c.str()
	back := int(c.uvarint())
	n := int(c.uvarint())
	rec.Fields = rec.Fields[:0]
	for range n {
		name := c.str()
		rec.Fields = append(rec.Fields, record.Field{Name: name, Value: c.str()})
	}
	if back == 0 {
		return -1
	}
	return start - back
}

// sharedFields appends the shared fields encoded at off of c's chunk
// (as nextOwn returns it) to fs, sorted by name.
func (c *headCursor) sharedFields(fs []record.Field, off int) []record.Field {
	s := headCursor{b: c.b, off: off}
	for n := int(s.uvarint()); n > 0; n-- {
		name := s.str()
		fs = append(fs, record.Field{Name: name, Value: s.str()})
	}
	return fs
}

// appendShared appends the shared fields encoded at off (those in need,
// sorted names, when need is set) to fs, which holds a record's own
// fields, sorted by name, and keeps fs sorted.
func (c *headCursor) appendShared(fs []record.Field, off int, need []string) []record.Field {
	s := headCursor{b: c.b, off: off}
	own := len(fs)
	for n := int(s.uvarint()); n > 0; n-- {
		name := s.str()
		value := s.str()
		if need != nil {
			if _, ok := slices.BinarySearch(need, name); !ok {
				continue
			}
		}
		fs = append(fs, record.Field{Name: name, Value: value})
	}
	if own > 0 && len(fs) > own {
		sortFields(fs)
	}
	return fs
}

// nextNeeded decodes the next record like next, but leaves out the message
// unless withMsg and every field not in need, sorted names (nil: all).
// Fields are stored sorted by name, so the two lists are merged and the
// record is left as soon as need runs out: a search that reads one field
// does not walk or build the rest.
func (c *headCursor) nextNeeded(rec *record.Record, withMsg bool, need []string) {
	if need == nil {
		c.next(rec)
		if !withMsg {
			rec.Message = ""
		}
		return
	}
	start := c.off
	rec.Message = ""
	if withMsg {
		rec.Message = c.str()
	} else {
		c.skip()
	}
	back := int(c.uvarint())
	rec.Fields = rec.Fields[:0]
	j := 0
	for n := int(c.uvarint()); n > 0 && j < len(need); n-- {
		name := c.str()
		for j < len(need) && need[j] < name {
			j++
		}
		if j < len(need) && need[j] == name {
			rec.Fields = append(rec.Fields, record.Field{Name: name, Value: c.str()})
			continue
		}
		c.skip()
	}
	if back > 0 {
		rec.Fields = c.appendShared(rec.Fields, start-back, need)
	}
}

// skip passes over a string.
func (c *headCursor) skip() {
	c.off += int(c.uvarint())
}

// The chunks were encoded by head.append in this process, so the decoding
// trusts them.
func (c *headCursor) uvarint() uint64 {
	v, n := binary.Uvarint(c.b[c.off:])
	c.off += n
	return v
}

func (c *headCursor) str() string {
	n := int(c.uvarint())
	if n == 0 {
		return ""
	}
	s := unsafe.String(&c.b[c.off], n)
	c.off += n
	return s
}

// appendStreamKey is streamKey without the allocation.
func appendStreamKey(dst []byte, tenant string, labels []record.Field) []byte {
	dst = appendStr(dst, tenant)
	for _, l := range labels {
		dst = appendStr(dst, l.Name)
		dst = appendStr(dst, l.Value)
	}
	return dst
}

// cloneFields copies fs into one new allocation that owns its strings, so
// that the head does not keep the caller's request buffers alive.
func cloneFields(fs []record.Field) []record.Field {
	n := 0
	for _, f := range fs {
		n += len(f.Name) + len(f.Value)
	}
	buf := make([]byte, 0, n)
	for _, f := range fs {
		buf = append(buf, f.Name...)
		buf = append(buf, f.Value...)
	}
	s := string(buf)
	out := make([]record.Field, len(fs))
	off := 0
	for i, f := range fs {
		out[i].Name = s[off : off+len(f.Name)]
		off += len(f.Name)
		out[i].Value = s[off : off+len(f.Value)]
		off += len(f.Value)
	}
	return out
}

func fieldsSorted(fs []record.Field) bool {
	for i := 1; i < len(fs); i++ {
		if fs[i].Name < fs[i-1].Name {
			return false
		}
	}
	return true
}

// sortFields is a stable insertion sort: records have few fields, usually
// sorted.
func sortFields(fs []record.Field) {
	for i := 1; i < len(fs); i++ {
		for j := i; j > 0 && fs[j].Name < fs[j-1].Name; j-- {
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
}
