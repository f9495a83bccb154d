package store

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/cespare/xxhash/v2"
	"github.com/klauspost/compress/zstd"
	"github.com/sluice-log/sluice/internal/cpuslot"
	"github.com/sluice-log/sluice/internal/durable"
	"github.com/sluice-log/sluice/internal/record"
)

// partWriter writes one part file from records that arrive grouped by
// stream key (and, within a stream, preferably by time). The file is
// written under a .tmp name and becomes the part only in commit.
type partWriter struct {
	dir       string // the partition directory
	partition string
	name      string
	tmp       string
	f         *os.File
	out       slotFile // f, written through bw
	bw        *bufio.Writer
	h         hash.Hash
	off       int64
	enc       *zstd.Encoder
	benc      blockEncoder
	maxRecs   int
	records   int64
	cur       blockBuilder
	block     []byte // the stored bytes of the block being sealed
	// pending is the metadata of the blocks written since the last index
	// chunk; chunks is the meta-index so far. A writer keeps no more of
	// the index in memory than that, however large the part.
	pending []blockMeta
	ck      chunker
	chunks  []chunkMeta
	// cache, when not nil, receives each index chunk as it is written and
	// the meta-index, so that the first searches of a new part find them.
	cache *indexCache
	id    uint64
	// blocks counts the blocks written, copied those copyBlock and
	// copyStored wrote, kept those of them copyStored wrote.
	blocks, copied, kept int64
	// level is enc's zstd level (Store.levelOf), 0 if not known; the
	// part's manifest entry records it (partRef.Level).
	level int
	// touched keeps what writeJob's touchRecords read.
	touched byte
}

func newPartWriter(dir, partition, name string, enc *zstd.Encoder, maxRecs int, cache *indexCache) (*partWriter, error) {
	// makeDurable syncs the new directory's entry with the part.
	if err := mkdirIn(dir); err != nil {
		return nil, err
	}
	tmp := filepath.Join(dir, name+partExt+tmpExt)
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create part %s: %w", tmp, err)
	}
	w := &partWriter{dir: dir, partition: partition, name: name, tmp: tmp, f: f, h: sha256.New(), enc: enc, maxRecs: maxRecs,
		benc: blockEncoder{enc: enc}, cache: cache}
	w.id, _ = strconv.ParseUint(name, 16, 64)
	w.out.w = f
	w.bw = writerPool.Get().(*bufio.Writer)
	w.bw.Reset(&w.out)
	if err := w.write([]byte(partMagic)); err != nil {
		w.abort()
		return nil, err
	}
	return w, nil
}

// holdCPU tells w that its caller works on cpu's slot (package cpuslot),
// which w gives back while the file takes a write: a write may block
// (the page cache full of dirty pages, a slow disk), and a slot held
// through it would keep a CPU nobody uses from the others.
func (w *partWriter) holdCPU(ctx context.Context, cpu *cpuslot.Hold) {
	w.out.ctx, w.out.cpu = ctx, cpu
}

// slotFile is a part's file whose writes run without the writer's CPU
// slot (see holdCPU).
type slotFile struct {
	w   io.Writer // the file
	ctx context.Context
	cpu *cpuslot.Hold
}

func (sf *slotFile) Write(b []byte) (n int, err error) {
	err = sf.cpu.Blocking(sf.ctx, func() error {
		var werr error
		n, werr = sf.w.Write(b)
		return werr
	})
	return n, err
}

func (w *partWriter) write(b []byte) error {
	if _, err := w.bw.Write(b); err != nil {
		return fmt.Errorf("write part %s: %w", w.tmp, err)
	}
	w.h.Write(b)
	w.off += int64(len(b))
	return nil
}

// add appends r with the fields shared, which it has besides its own
// (blockBuilder.add); key is streamKey(r.Tenant, r.Stream).
func (w *partWriter) add(r *record.Record, shared []record.Field, key string) error {
	if w.cur.len() > 0 && w.startsBlock(key, r.Time) {
		if err := w.sealBlock(); err != nil {
			return err
		}
	}
	if w.cur.len() == 0 {
		w.cur.reset(r, key)
	}
	w.cur.add(r, shared)
	w.records++
	return nil
}

// startsBlock says whether a record of stream key at time t, added next,
// would start a new block.
func (w *partWriter) startsBlock(key string, t int64) bool {
	n := w.cur.len()
	return n == 0 || w.cur.key != key || cutsBefore(n, w.cur.rawBytes, w.cur.times[n-1], t, w.maxRecs)
}

// cutsBefore says whether a block of one stream holding n records of
// rawBytes, the last at time last, ends before the stream's next record,
// at time t: it is full, or it holds blockSpanMinRecords records and t is
// in another span.
func cutsBefore(n, rawBytes int, last, t int64, maxRecs int) bool {
	return n >= maxRecs || rawBytes >= maxBlockRawBytes || n >= blockSpanMinRecords && spanOf(t) != spanOf(last)
}

// spanOf is the blockSpan that t falls in: a block ends where its stream
// crosses into another span, unless it has fewer than blockSpanMinRecords.
func spanOf(t int64) int64 {
	q := t / blockSpan
	if t%blockSpan < 0 {
		q--
	}
	return q
}

func (w *partWriter) sealBlock() error {
	var m blockMeta
	w.block = w.cur.encode(w.block[:0], &m, &w.benc)
	w.cur.times = w.cur.times[:0]
	return w.writeBlock(m)
}

// copyBlock writes a block of another part as it is, its columns
// compressed anew: src is its index entry, d its columns as
// part.readBlockRaw read them. The caller makes sure that the records
// would have made this very block had they been added one by one (see
// mergeInto): none of the block's stream is being built, and the next
// record of the stream would start a new block.
func (w *partWriter) copyBlock(src *blockMeta, d *decodedBlock) error {
	if w.cur.len() > 0 {
		if err := w.sealBlock(); err != nil {
			return err
		}
	}
	m := *src
	w.block = w.benc.recompress(w.block[:0], &m, d)
	w.records += int64(m.count)
	w.copied++
	return w.writeBlock(m)
}

// copyStored writes a block of another part with its stored bytes as
// they are: src is its index entry, stored its bytes (header and
// columns), read and checked by part.readBlockStored. It is copyBlock
// for a block whose part was written at w's zstd level (partRef.Level): the
// columns compressed anew would be the bytes they are, since the encoder
// is deterministic for a level and the store's encoders differ only in
// it; TestMergeCopiesBlocks holds it.
func (w *partWriter) copyStored(src *blockMeta, stored []byte) error {
	if w.cur.len() > 0 {
		if err := w.sealBlock(); err != nil {
			return err
		}
	}
	w.block = append(w.block[:0], stored...)
	w.records += int64(src.count)
	w.copied++
	w.kept++
	return w.writeBlock(*src)
}

// writeBlock writes w.block, whose index entry is m, starting a new index
// chunk first if m's stream should.
func (w *partWriter) writeBlock(m blockMeta) error {
	w.blocks++
	if w.ck.startsNew(m.key) {
		if err := w.writeChunk(); err != nil {
			return err
		}
	}
	m.offset = w.off
	w.pending = append(w.pending, m)
	w.ck.add(m.key)
	return w.write(w.block)
}

// writeChunk writes the index chunk of the pending blocks, right after
// them.
func (w *partWriter) writeChunk() error {
	raw := appendIndex(nil, w.pending)
	comp := w.enc.EncodeAll(raw, nil)
	cm := chunkMeta{offset: w.off, length: int64(len(comp)), rawLen: len(raw), checksum: xxhash.Sum64(comp)}
	summarize(&cm, w.pending)
	if err := w.write(comp); err != nil {
		return err
	}
	if w.cache != nil {
		own := int64(0)
		for i := range w.pending {
			own += w.pending[i].ownBytes()
		}
		c := newIndexChunk(w.pending, own)
		c.key = cacheKey{w.id, int32(len(w.chunks))}
		w.cache.put(c.key, c)
	}
	w.chunks = append(w.chunks, cm)
	if w.cache != nil {
		w.pending = make([]blockMeta, 0, chunkBlocks) // the cache holds the old one
	} else {
		clear(w.pending)
		w.pending = w.pending[:0]
	}
	w.ck.reset()
	return nil
}

// commit writes the meta-index and footer, makes the file durable and
// renames it to its final name. The part is not live until the manifest
// says so.
func (w *partWriter) commit(ctx context.Context) (sealedPart, error) {
	sp, err := w.seal(ctx)
	if err != nil {
		return sealedPart{}, err
	}
	if err := makeDurable(ctx, []sealedPart{sp}); err != nil {
		return sealedPart{}, err
	}
	return sp, nil
}

// sealedPart is a part file complete under its temporary name and closed,
// but not yet durable nor renamed (see makeDurable).
type sealedPart struct {
	ref    partRef
	chunks int // index chunks
	dir    string
	tmp    string
	final  string
}

// remove deletes what is left of sp's file, under either name.
func (sp *sealedPart) remove() {
	_ = os.Remove(sp.tmp)
	_ = os.Remove(sp.final)
}

// seal writes the last index chunk, the meta-index and the footer and
// closes the file, which then holds
// no file descriptor: a flush of a thousand days seals a thousand parts
// and makes them durable together, never holding more files open than it
// has writers.
func (w *partWriter) seal(ctx context.Context) (sealedPart, error) {
	if w.cur.len() > 0 {
		if err := w.sealBlock(); err != nil {
			w.abort()
			return sealedPart{}, err
		}
	}
	if err := ctx.Err(); err != nil {
		w.abort()
		return sealedPart{}, err
	}
	if len(w.pending) > 0 {
		if err := w.writeChunk(); err != nil {
			w.abort()
			return sealedPart{}, err
		}
	}
	idx := w.enc.EncodeAll(appendMetaIndex(nil, w.chunks), nil)
	idxOff := w.off
	if err := w.write(idx); err != nil {
		w.abort()
		return sealedPart{}, err
	}
	foot := binary.LittleEndian.AppendUint64(nil, uint64(idxOff))
	foot = binary.LittleEndian.AppendUint64(foot, uint64(len(idx)))
	foot = binary.LittleEndian.AppendUint64(foot, xxhash.Sum64(idx))
	foot = w.h.Sum(foot) // the hash of everything before the footer
	foot = append(foot, partEndMagic...)
	if err := w.write(foot); err != nil {
		w.abort()
		return sealedPart{}, err
	}
	err := w.bw.Flush()
	w.releaseBuffer()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(w.tmp)
		return sealedPart{}, fmt.Errorf("write part %s: %w", w.tmp, err)
	}
	ref := partRef{Partition: w.partition, Name: w.name, Records: w.records, Size: w.off, SHA256: fmt.Sprintf("%x", w.h.Sum(nil)),
		MinTime: math.MaxInt64, MaxTime: math.MinInt64, Level: w.level}
	for i := range w.chunks {
		ref.MinTime = min(ref.MinTime, w.chunks[i].minTime)
		ref.MaxTime = max(ref.MaxTime, w.chunks[i].maxTime)
	}
	if len(w.chunks) == 0 {
		ref.MinTime, ref.MaxTime = 0, 0 // no records: unknown, as in older entries
	}
	if w.cache != nil {
		mi := &metaIndex{chunks: w.chunks}
		mi.bytes = metaIndexBytes(mi)
		w.cache.put(cacheKey{w.id, metaIndexChunk}, mi)
	}
	return sealedPart{ref: ref, chunks: len(w.chunks), dir: w.dir, tmp: w.tmp, final: filepath.Join(w.dir, w.name+partExt)}, nil
}

// writerPool holds the write buffers of part writers: a flush over
// thousands of days creates as many writers, and allocating a fresh buffer
// for each was a tenth of such a flush's CPU.
var writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 1<<20) }}

func (w *partWriter) releaseBuffer() {
	if w.bw != nil {
		w.bw.Reset(nil)
		writerPool.Put(w.bw)
		w.bw = nil
	}
}

func (w *partWriter) abort() {
	w.releaseBuffer()
	_ = w.f.Close()
	_ = os.Remove(w.tmp)
}

// maxSyncers bounds the files makeDurable holds open (and syncs) at once.
// Parallel fsyncs share the file system's journal commits, so many small
// parts cost about as much as a few.
const maxSyncers = 16

// makeDurable fsyncs the sealed parts' files, renames each to its final
// name and fsyncs every directory involved once, and its parent (the
// partitions directory: a partition directory may be new, or left unsynced
// by a flush that failed), at most maxSyncers at a time.
// Once it returns nil the parts survive a crash; they are live only once a
// manifest entry names them, so a crash before that leaves files that the
// next Open deletes. On error every sealed file is removed.
func makeDurable(ctx context.Context, parts []sealedPart) error {
	dirs := map[string]bool{}
	parents := map[string]bool{}
	for _, sp := range parts {
		dirs[sp.dir] = true
		parents[filepath.Dir(sp.dir)] = true
	}
	err := forEachBounded(ctx, len(parts), func(i int) error {
		sp := &parts[i]
		if err := syncFile(sp.tmp); err != nil {
			return err
		}
		if err := os.Rename(sp.tmp, sp.final); err != nil {
			return fmt.Errorf("commit part %s: %w", sp.final, err)
		}
		return nil
	})
	if err == nil {
		err = syncDirs(ctx, dirs)
	}
	if err == nil {
		err = syncDirs(ctx, parents)
	}
	if err != nil {
		for i := range parts {
			parts[i].remove()
		}
		return err
	}
	return nil
}

// syncDirs fsyncs each of dirs, at most maxSyncers at a time.
func syncDirs(ctx context.Context, dirs map[string]bool) error {
	list := make([]string, 0, len(dirs))
	for d := range dirs {
		list = append(list, d)
	}
	return forEachBounded(ctx, len(list), func(i int) error { return durable.SyncDir(list[i]) })
}

// forEachBounded calls f(0) … f(n-1) from at most maxSyncers goroutines and
// returns the first error; after one, the calls not yet started are skipped.
func forEachBounded(ctx context.Context, n int, f func(i int) error) error {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		next     = make(chan int)
	)
	for range min(n, maxSyncers) {
		wg.Go(func() {
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed || ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

// syncFile fsyncs the file at path.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open part %s for sync: %w", path, err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync part %s: %w", path, err)
	}
	return nil
}

// mkdirDurable creates dir if needed and makes its entry in the parent
// durable.
func mkdirDurable(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := mkdirIn(dir); err != nil {
		return err
	}
	return durable.SyncDir(filepath.Dir(dir))
}

// mkdirIn creates dir if needed, in a parent that must exist: the store
// makes its directories one level at a time inside its own, never with
// their parents, so that a data directory removed under a running server
// (rm -rf) is not silently recreated to take part files that no manifest
// names.
func mkdirIn(dir string) error {
	err := os.Mkdir(dir, 0o755)
	switch {
	case err == nil, errors.Is(err, fs.ErrExist):
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("create dir %s: its parent was %w: restart the server", dir, ErrRemoved)
	}
	return fmt.Errorf("create dir %s: %w", dir, err)
}
