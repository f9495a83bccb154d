package store

import (
	"cmp"
	"encoding/binary"
	"math"
	"sync/atomic"
	"unsafe"

	"github.com/sluice-log/sluice/internal/record"
)

// A part's block metadata (blockMeta: labels, fields, bloom filter,
// numeric ranges) is stored in index chunks of at most chunkBlocks
// consecutive blocks, each one zstd frame right after its blocks, and a
// meta-index at the end of the part says where each chunk is and what
// it covers: its blocks, records, time range and the stream keys of its
// first and last block. A search reads the meta-index, skips the chunks
// outside its time range, and of a chunk whose blocks are all of one
// stream it may decide from the meta-index alone (a stream filter that
// rules the stream out, a count of the whole chunk). It loads the other
// chunks through the index cache, a chunk being one unit of a search's
// parallel work.

// chunkBlocks is the most blocks of one index chunk: one unit of a
// search's parallel work (a few hundred kilobytes of metadata for full
// blocks), small enough that two workers share a large part evenly.
const chunkBlocks = 16

// chunker decides where a writer ends an index chunk. Besides capping a
// chunk at chunkBlocks blocks, it keeps a chunk of one stream to that
// stream (when a new stream starts after two or more blocks of one), and
// ends a chunk of several streams when a stream reaches its second block,
// so that a stream of many blocks fills chunks of its own, which a search
// can decide from the meta-index.
type chunker struct {
	n           int
	first, last string
}

// startsNew reports whether a block of stream key starts a new chunk.
func (c *chunker) startsNew(key string) bool {
	switch {
	case c.n == 0:
		return false
	case c.n >= chunkBlocks:
		return true
	case c.first == c.last:
		return key != c.last && c.n >= 2
	default:
		return key == c.last
	}
}

// add counts a block of stream key into the current chunk.
func (c *chunker) add(key string) {
	if c.n == 0 {
		c.first = key
	}
	c.last = key
	c.n++
}

func (c *chunker) reset() { *c = chunker{} }

// chunkMeta is the meta-index entry of one index chunk.
type chunkMeta struct {
	offset   int64 // of the chunk's stored frame
	length   int64 // stored bytes
	rawLen   int   // after decompression
	checksum uint64
	blocks   int
	records  int64
	minTime  int64
	maxTime  int64
	firstKey string // stream key of the first block
	lastKey  string // and of the last
	// info holds the tenant, labels and time range shared by every
	// record of the chunk when its blocks are all of one stream
	// (oneStream); only then can a BlockMatcher decide the chunk.
	info      BlockInfo
	oneStream bool
}

// metaIndex is a part's meta-index, as the index cache holds it.
type metaIndex struct {
	chunks []chunkMeta
	// v2 says that the part is of format version 2: its chunks are not
	// on disk but cut from its one index frame (see loadIndexV2).
	v2 bool
	// v3 says that the part is of format version 3: its index entries
	// have no time index.
	v3    bool
	bytes int64
}

func (mi *metaIndex) memBytes() int64 { return mi.bytes }

// indexChunk is the decoded block metadata of one index chunk, as the
// index cache holds it, and the block headers searches keep.
type indexChunk struct {
	metas []blockMeta
	// headers holds each block's parsed header once a search has read
	// it (see blockHeader); headerBytes is their memory.
	headers     []atomic.Pointer[blockHeader]
	base        int64 // memory of the decoded chunk
	headerBytes atomic.Int64
	key         cacheKey
}

// newIndexChunk wraps metas decoded from (or, for a writer, sharing no
// memory with) raw bytes of raw length.
func newIndexChunk(metas []blockMeta, raw int64) *indexChunk {
	c := &indexChunk{metas: metas, headers: make([]atomic.Pointer[blockHeader], len(metas)), base: raw}
	c.base += int64(unsafe.Sizeof(*c)) + int64(len(metas))*int64(unsafe.Sizeof(atomic.Pointer[blockHeader]{}))
	for i := range metas {
		c.base += metas[i].memBytes()
	}
	return c
}

func (c *indexChunk) memBytes() int64 { return c.base + c.headerBytes.Load() }

// summarize fills the meta-index entry of the chunk of metas (all but the
// location and checksum of its stored frame).
func summarize(cm *chunkMeta, metas []blockMeta) {
	cm.blocks = len(metas)
	cm.minTime, cm.maxTime = math.MaxInt64, math.MinInt64
	for i := range metas {
		m := &metas[i]
		cm.records += int64(m.count)
		cm.minTime = min(cm.minTime, m.minTime)
		cm.maxTime = max(cm.maxTime, m.maxTime)
	}
	cm.firstKey, cm.lastKey = metas[0].key, metas[len(metas)-1].key
	// Views of the key, which is the entry's own string: the meta-index
	// must not keep the chunk's memory alive.
	tenant, labels, _ := parseStreamKey(cm.firstKey)
	cm.setStream(tenant, labels)
}

// setStream fills cm.info when the chunk is of one stream.
func (cm *chunkMeta) setStream(tenant string, labels []record.Field) {
	cm.oneStream = cm.firstKey == cm.lastKey
	if cm.oneStream {
		cm.info = BlockInfo{Tenant: tenant, Labels: labels, MinTime: cm.minTime, MaxTime: cm.maxTime}
	}
}

// splitIndex cuts a version 2 part's block metadata into chunks as a
// version 3 writer would, each decoded from its own encoding so that it
// shares no memory with the others (a chunk evicted from the cache frees
// its memory).
func splitIndex(metas []blockMeta) (*metaIndex, []*indexChunk, error) {
	mi := &metaIndex{}
	var chunks []*indexChunk
	var ck chunker
	lo := 0
	var err error
	cut := func(hi int) {
		raw := appendIndex(nil, metas[lo:hi])
		own, derr := decodeIndex(string(raw), math.MaxInt64, true)
		if derr != nil {
			// Cannot happen: the same entries were decoded a moment ago.
			err = cmp.Or(err, derr)
			return
		}
		var cm chunkMeta
		summarize(&cm, own)
		mi.chunks = append(mi.chunks, cm)
		chunks = append(chunks, newIndexChunk(own, int64(len(raw))))
		lo = hi
		ck.reset()
	}
	for i := range metas {
		if ck.startsNew(metas[i].key) {
			cut(i)
		}
		ck.add(metas[i].key)
	}
	if lo < len(metas) {
		cut(len(metas))
	}
	mi.bytes = metaIndexBytes(mi)
	return mi, chunks, err
}

// metaIndexBytes is about the memory mi takes.
func metaIndexBytes(mi *metaIndex) int64 {
	n := int64(unsafe.Sizeof(*mi)) + int64(len(mi.chunks))*int64(unsafe.Sizeof(chunkMeta{}))
	for i := range mi.chunks {
		c := &mi.chunks[i]
		n += int64(len(c.firstKey) + len(c.lastKey) + len(c.info.Labels)*int(unsafe.Sizeof(record.Field{})))
	}
	return n
}

// minChunkEntryBytes is the smallest encoding of a meta-index entry: ten
// one-byte varints and lengths plus the 8-byte checksum.
const minChunkEntryBytes = 18

// appendMetaIndex encodes a meta-index (before compression; FORMAT.md).
func appendMetaIndex(dst []byte, chunks []chunkMeta) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(chunks)))
	for i := range chunks {
		c := &chunks[i]
		dst = binary.AppendUvarint(dst, uint64(c.offset))
		dst = binary.AppendUvarint(dst, uint64(c.length))
		dst = binary.AppendUvarint(dst, uint64(c.rawLen))
		dst = appendU64(dst, c.checksum)
		dst = binary.AppendUvarint(dst, uint64(c.blocks))
		dst = binary.AppendUvarint(dst, uint64(c.records))
		dst = binary.AppendVarint(dst, c.minTime)
		dst = binary.AppendVarint(dst, c.maxTime)
		dst = appendStr(dst, c.firstKey)
		dst = appendStr(dst, c.lastKey)
	}
	return dst
}

// decodeMetaIndex parses an uncompressed meta-index. end is where it
// starts in the part file: every chunk must lie before it, and chunks
// follow one another.
func decodeMetaIndex(src string, end int64) (*metaIndex, error) {
	r := reader{src: src}
	n := r.count(r.remaining() / minChunkEntryBytes)
	mi := &metaIndex{chunks: make([]chunkMeta, 0, n)}
	prevEnd := partHeaderLen
	for i := 0; i < n && r.err == nil; i++ {
		var c chunkMeta
		c.offset = int64(r.uvarint())
		c.length = int64(r.uvarint())
		c.rawLen = r.count(maxIndexChunkRawBytes)
		c.checksum = r.u64()
		c.blocks = r.count(chunkBlocks)
		c.records = int64(r.count(chunkBlocks * maxBlockDecodeRecords))
		c.minTime = r.varint()
		c.maxTime = r.varint()
		c.firstKey = r.str()
		c.lastKey = r.str()
		switch {
		case r.err != nil:
		case c.offset <= prevEnd || c.length <= 0 || c.length > end-c.offset:
			r.fail("index chunk outside the part's data")
		case c.blocks == 0 || c.minTime > c.maxTime:
			r.fail("empty index chunk")
		}
		if r.err == nil {
			tenant, labels, ok := parseStreamKey(c.firstKey)
			if !ok {
				r.fail("bad stream key")
			}
			c.setStream(tenant, labels)
		}
		prevEnd = c.offset + c.length
		mi.chunks = append(mi.chunks, c)
	}
	if r.err == nil && r.remaining() != 0 {
		r.fail("trailing bytes in meta-index")
	}
	if r.err != nil {
		return nil, r.err
	}
	mi.bytes = int64(len(src)) + metaIndexBytes(mi)
	return mi, nil
}

// maxIndexChunkRawBytes bounds what one index chunk may claim to
// decompress to: chunkBlocks entries with the largest bloom filters.
const maxIndexChunkRawBytes = chunkBlocks * (maxBloomWords*8 + 1<<20)

// parseStreamKey reads a stream key (appendStreamKey) back into its
// tenant and labels, which are views of key.
func parseStreamKey(key string) (tenant string, labels []record.Field, ok bool) {
	r := reader{src: key}
	tenant = r.str()
	for r.err == nil && r.remaining() > 0 {
		labels = append(labels, record.Field{Name: r.str(), Value: r.str()})
	}
	return tenant, labels, r.err == nil
}
