package store

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/sluice-log/sluice/internal/cpuslot"
	"github.com/sluice-log/sluice/internal/record"
)

// MergeLane is one of the two lanes merges run in, each one merge at a
// time: small merges (reading less than bigMergeBytes) never wait for a
// long merge of large parts, so that a partition under continuous ingest
// keeps its bounded number of parts while its largest ones are rewritten.
type MergeLane int

const (
	MergeSmall MergeLane = iota
	MergeBig
	numLanes
)

func (l MergeLane) String() string {
	if l == MergeBig {
		return "big"
	}
	return "small"
}

// Merge runs every merge due now (see mergePolicy) in both lanes, the
// small one first, until none is due.
func (s *Store) Merge(ctx context.Context) error {
	for lane := range numLanes {
		if err := s.MergeLane(ctx, lane); err != nil {
			return err
		}
	}
	return nil
}

// MergeLane runs the merges of lane that are due, one at a time, until
// none is (a merge may make its output's tier due in turn). Merges read one
// block per input part at a time, so memory stays bounded.
func (s *Store) MergeLane(ctx context.Context, lane MergeLane) error {
	s.laneMu[lane].Lock()
	defer s.laneMu[lane].Unlock()
	for ctx.Err() == nil {
		parts, final, err := s.planMerge(lane)
		if err != nil || parts == nil {
			return err
		}
		err = s.mergeParts(ctx, parts, s.mergeEncoder(lane, final), "lane", lane.String(), "final", final, "idle", idleFor(parts))
		s.mu.Lock()
		for _, p := range parts {
			delete(s.merging, p)
		}
		s.mu.Unlock()
		for _, p := range parts {
			p.decRef()
		}
		if err != nil {
			return err
		}
	}
	return ctx.Err()
}

// mergeEncoder is the encoder of a merge of lane, final or not. A part
// that will be merged again soon is not worth the CPU of the merge level:
// the small lane's tier merges write at the flushes' level
// (Options.ZstdLevel); large and final merges, whose output stays, at
// Options.MergeZstdLevel. Under continuous ingest at 10 million records a
// day, the big lane's tier merge writes the day's largest part, which the
// idle partition's final merge then leaves as it is (docs/benchmarks.md).
func (s *Store) mergeEncoder(lane MergeLane, final bool) *zstd.Encoder {
	if lane == MergeSmall && !final {
		return s.senc
	}
	return s.menc
}

// AssistMerges runs the small lane's due merges in the caller when some
// partition holds more parts than the policy's bound plus one tier's worth
// (mergePolicy.partsBound): the background lanes have fallen behind, as
// they do when ingest takes all the CPU. Called after each flush, it makes
// the flusher wait for the merges, so that the head, and then ingest, wait
// too: the sustainable ingest rate includes its merges, and the parts stay
// bounded at any rate, as VictoriaLogs' assisted merges do. It reports
// whether it merged.
func (s *Store) AssistMerges(ctx context.Context) (bool, error) {
	s.mu.RLock()
	over := false
	for _, ps := range s.parts {
		var total int64
		for _, p := range ps {
			total += p.size
		}
		if len(ps) > s.policy.partsBound(total)+s.policy.fanIn {
			over = true
			break
		}
	}
	s.mu.RUnlock()
	if !over {
		return false, nil
	}
	s.assists.Add(1)
	return true, s.MergeLane(ctx, MergeSmall)
}

// planMerge picks the next merge of lane, the smallest due across
// partitions, marks its parts as being merged and holds a reference to
// each; nil when none is due. final says it is a final merge.
func (s *Store) planMerge(lane MergeLane) (best []*part, final bool, _ error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, false, errClosed
	}
	now, lastRecord := time.Now(), s.quietLocked()
	var bestBytes int64
	for _, ps := range s.parts {
		free, busy := s.mergeCandidatesLocked(ps)
		cs := make([]candidate, len(free))
		for i, p := range free {
			cs[i] = candidateOf(p)
		}
		for _, m := range s.policy.merges(cs, busy, now, lastRecord) {
			var total int64
			for _, i := range m.inputs {
				total += free[i].size
			}
			if (total >= bigMergeBytes) != (lane == MergeBig) {
				continue
			}
			if best == nil || total < bestBytes || (total == bestBytes && free[m.inputs[0]].partition < best[0].partition) {
				best, bestBytes, final = best[:0], total, m.final
				for _, i := range m.inputs {
					best = append(best, free[i])
				}
			}
			break // the partition's first merge of this lane
		}
	}
	for _, p := range best {
		s.merging[p] = true
		p.incRef()
	}
	return best, final, nil
}

// quietLocked is when the store last took records, if every record it
// took is flushed (the head is empty), else the zero time: no partition
// has received a record since (see mergePolicy.idle).
func (s *Store) quietLocked() time.Time {
	if s.active.records > 0 || len(s.frozen) > 0 {
		return time.Time{}
	}
	return s.lastAppend
}

// idleFor is how long before now the newest of parts was added: how long
// their partition has gone without a flush, for the merge's log line.
func idleFor(parts []*part) time.Duration {
	var newest time.Time
	for _, p := range parts {
		if p.added.After(newest) {
			newest = p.added
		}
	}
	return time.Since(newest).Round(time.Millisecond)
}

// mergeCandidatesLocked returns a partition's parts that no merge is
// reading, in name order, and whether a merge is reading any other.
func (s *Store) mergeCandidatesLocked(ps map[string]*part) (free []*part, busy bool) {
	free = make([]*part, 0, len(ps))
	for _, p := range ps {
		if s.merging[p] {
			busy = true
			continue
		}
		free = append(free, p)
	}
	slices.SortFunc(free, func(a, b *part) int { return strings.Compare(a.name, b.name) })
	return free, busy
}

// mergesPendingLocked counts the partitions with a merge due now, or once
// idle, or running: a search meanwhile visits more blocks than it will after.
func (s *Store) mergesPendingLocked() int {
	n := 0
	for _, ps := range s.parts {
		free, busy := s.mergeCandidatesLocked(ps)
		if busy {
			n++
			continue
		}
		cs := make([]candidate, len(free))
		for i, p := range free {
			cs[i] = candidateOf(p)
		}
		if len(s.policy.merges(cs, false, time.Time{}, time.Time{})) > 0 {
			n++
		}
	}
	return n
}

// mergeParts writes the records of parts into one new part and commits the
// swap. If retention dropped an input meanwhile, the result is discarded.
func (s *Store) mergeParts(ctx context.Context, parts []*part, enc *zstd.Encoder, logAttrs ...any) error {
	start := time.Now()
	partition := parts[0].partition
	// A merge must not launder a part whose bytes were changed behind the
	// store's back into a new part with a fresh sha256: an input opened
	// from disk is hashed in full first, unless the scrubber or a read
	// has (or is hashing it: the merge waits for that hash).
	for _, p := range parts {
		if err := s.checkFirstRead(ctx, p); err != nil {
			return fmt.Errorf("merge partition %s: %w", partition, err)
		}
	}
	// The output's index is not put in the cache as it is written: a large
	// merge would push out everything searches use; searches load what
	// they need of it.
	w, err := newPartWriter(filepath.Join(s.dir, partitionsDir, partition), partition, s.newPartName(), enc, s.opts.BlockRecords, nil)
	if err != nil {
		return fmt.Errorf("merge partition %s: %w", partition, err)
	}
	// The output's blocks copy the values they take from the inputs'
	// blocks, which are then let go as soon as they are read through
	// (blockBuilder.keep).
	w.cur.own = true
	w.level = s.levelOf(enc)
	if err := s.mergeInto(ctx, w, parts); err != nil {
		w.abort()
		return fmt.Errorf("merge partition %s: %w", partition, err)
	}
	np, err := s.finishPart(ctx, w)
	if err != nil {
		return fmt.Errorf("merge partition %s: %w", partition, err)
	}
	blocks, copied, kept := w.blocks, w.copied, w.kept // the last block is written as the part is sealed
	faultMergePartWritten.Hit()

	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	removed := make([]partRef, len(parts))
	s.mu.RLock()
	for i, p := range parts {
		removed[i] = p.ref()
		if s.parts[partition][p.name] != p {
			removed = nil
			break
		}
	}
	s.mu.RUnlock()
	if removed == nil {
		np.decRef()
		s.removeFiles([]partRef{np.ref()})
		return nil
	}
	e := &manifestEntry{Op: opMerge, Added: []partRef{np.ref()}, Removed: removed,
		Reason: fmt.Sprintf("merge %d parts", len(parts)), Watermark: s.man.state.watermark}
	if err := s.man.commit(e); err != nil {
		np.decRef()
		s.removeFiles([]partRef{np.ref()})
		return fmt.Errorf("merge partition %s: %w", partition, err)
	}
	faultMergeCommitted.Hit()
	s.mu.Lock()
	var newest time.Time
	for _, p := range parts {
		if p.added.After(newest) {
			newest = p.added
		}
		delete(s.parts[partition], p.name)
	}
	s.addPartLocked(np)
	// A merge adds no records: the partition has been idle since its
	// inputs' newest was added, so that the idle partition's final merge
	// waits store.idle_merge_after after its last flush, not after the
	// tier merge that ran after that flush.
	np.added = newest
	s.mu.Unlock()
	s.retire(parts)
	s.removeFiles(removed)
	s.merges.Add(1)
	s.mergedBytes.Add(np.size)
	s.mergeBlocks.Add(blocks)
	s.mergeBlocksCopied.Add(copied)
	s.mergeBlocksKept.Add(kept)
	s.log.Info("merged parts", append([]any{"partition", partition, "inputs", len(parts), "part", np.name, "records", np.records,
		"bytes", np.size, "took", time.Since(start).Round(time.Millisecond)}, logAttrs...)...)
	return nil
}

// mergeInto writes the records of parts to w in stream and time order. A
// block that the merge need not combine with others is written as it is
// (partWriter.copyBlock): only its columns are decompressed and
// compressed again, at w's level (not even that when its part was written
// at w's level: partWriter.copyStored), with no parsing of its rows, no
// building of columns and no tokenizing of messages for the bloom filter,
// which were most of a merge's CPU. That is the case when none of its
// stream's records are being built into a block, no other input has a
// record of its stream within its time range, and the next record of its
// stream, if any, would start a new block anyway (the block is full, or
// it holds blockSpanMinRecords records and that record is in another
// span). The output is then what decoding and re-adding the rows would
// have made, block for block: TestMergeCopiesBlocks holds it.
//
// Its memory does not grow with its inputs' sizes (nor their blocks'
// fullness, which grows with them up to maxBlockRawBytes): the inputs
// share one read buffer and one decompression buffer for copies, an
// input drops the block it read once its last record is handed on, so
// that between its blocks it holds none, and the output's block keeps
// copies of the values it takes (w.cur.own), not the input blocks they
// came from: at most one block per input and the output's own.
func (s *Store) mergeInto(ctx context.Context, w *partWriter, parts []*part) error {
	var h mergeHeap
	sc := &mergeScratch{held: &s.mergeBufferBytes, out: &w.cur}
	its := make([]*partIter, 0, len(parts))
	defer func() {
		for _, it := range its {
			it.dropBlock()
		}
		sc.account(true)
	}()
	for _, p := range parts {
		it := &partIter{p: p, s: s, sc: sc}
		its = append(its, it)
		ok, err := it.step()
		if err != nil {
			return err
		}
		if ok {
			h = append(h, it)
		}
	}
	heap.Init(&h)
	// The merge runs on a CPU slot of low priority, handed to a waiting
	// search after every block it copies or reads and every
	// cpuUnitRecords records it adds (package cpuslot).
	cpu, err := cpuslot.Shared().Hold(ctx, cpuslot.Low)
	if err != nil {
		return err
	}
	defer cpu.Release()
	w.holdCPU(ctx, cpu)
	defer w.holdCPU(ctx, nil) // its later writes (finishPart) hold none
	n := 0
	for len(h) > 0 {
		if n++; n%cpuUnitRecords == 0 {
			if err := cpu.Yield(ctx); err != nil {
				return err
			}
			if n%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
		}
		it := h[0]
		var ok, copyIt bool
		var err error
		if !it.loaded {
			// At the start of a block, not read yet.
			if copyIt, err = it.copyable(w, h.second()); err != nil {
				return err
			}
			if copyIt && !s.opts.noBlockCopy {
				if err := it.copyTo(w); err != nil {
					return err
				}
				ok, err = it.step()
			} else {
				ok, err = it.load()
			}
			// A block copied or decoded is a unit of its own.
			if err == nil {
				err = cpu.Yield(ctx)
			}
		} else {
			if err := w.add(&it.rec, it.shared, it.key()); err != nil {
				return err
			}
			ok, err = it.step()
		}
		if err != nil {
			return err
		}
		if ok {
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
	return nil
}

// partIter walks a part's records in stored order (stream, then time),
// one index chunk and one block at a time. Between blocks it stands at
// the start of the next one unread (loaded false; its key and rec.Time
// are the block's stream and first time), so that a merge can copy the
// block whole instead of reading its records.
type partIter struct {
	s      *Store
	p      *part
	mi     *metaIndex
	v2     []*indexChunk // a version 2 part's chunks, all decoded at once
	ci     int           // index of the next chunk
	c      *indexChunk   // the current chunk
	block  int           // index of the next block of c
	bc     *indexChunk   // the chunk of the block the iterator stands at
	bi     int           // its index in bc
	loaded bool          // the block is read into d; rec is its row-1
	row    int
	d      decodedBlock
	sc     *mergeScratch // buffers shared with the merge's other inputs
	held   int64         // the bytes of d counted in sc.held
	rec    record.Record
	// shared are the block's fields that every row has with one value,
	// left out of rec (decodedBlock.rowOwn) and added beside it.
	shared []record.Field
	recKey string // the stream key of the current block
	// salvage, when set, makes the iterator skip what it cannot read
	// (counting it there) instead of failing and quarantining the part:
	// a salvage reads a part known to be damaged (see Salvage).
	salvage *salvageLoss
}

func (it *partIter) key() string { return it.recKey }

// next moves to the next record, reading blocks as it reaches them.
func (it *partIter) next() (bool, error) {
	ok, err := it.step()
	for ok && err == nil && !it.loaded {
		if ok, err = it.load(); err == nil && !ok {
			ok, err = it.step() // a block lost under salvage: on to the next
		}
	}
	return ok, err
}

// step moves to the next record of the block read, or past its last one
// to the start of the next block, unread.
func (it *partIter) step() (bool, error) {
	if it.loaded && it.row < len(it.d.times) {
		it.d.rowOwn(it.row, &it.rec)
		it.row++
		return true, nil
	}
	if it.loaded {
		// Past the block's last record, which the caller has handed on:
		// the block's bytes are freed once the output's block that took
		// its values is written, not kept until this input's next block.
		it.dropBlock()
	}
	for it.c == nil || it.block >= len(it.c.metas) {
		ok, err := it.nextChunk()
		if !ok || err != nil {
			return false, err
		}
	}
	it.bc, it.bi = it.c, it.block
	it.block++
	it.loaded = false
	m := &it.bc.metas[it.bi]
	it.recKey, it.rec.Time = m.key, m.minTime
	return true, nil
}

// load reads the block the iterator stands at and moves to its first
// record. Under salvage, a block that cannot be read is counted lost and
// load reports false with no error: the caller steps on.
func (it *partIter) load() (bool, error) {
	m := &it.bc.metas[it.bi]
	var err error
	// A merge reads each block once: nothing is kept.
	sc := it.scratch()
	sc.buf, err = it.p.readBlock(it.bc, it.bi, sc.buf, &it.d, nil, false)
	sc.account(false)
	if err == nil && sc.held != nil {
		it.held = int64(cap(it.d.raw))
		sc.held.Add(it.held)
	}
	if err != nil && it.salvage != nil {
		it.salvage.lose(1, int64(m.count), err)
		// What the failed read decoded must not be taken for rows.
		it.d.times, it.row = it.d.times[:0], 0
		return false, nil
	}
	if err != nil {
		return false, it.failed(err)
	}
	if it.salvage != nil {
		it.salvage.keptBlocks++
	}
	it.loaded, it.row = true, 0
	it.d.rewind()
	it.rec.Tenant = m.tenant
	it.rec.Stream = m.labels
	it.shared = it.d.sharedCols(it.shared[:0])
	return it.step()
}

// failed quarantines the part if err says it is damaged (the merge fails;
// the next one is planned without it) and returns err.
func (it *partIter) failed(err error) error {
	if errors.Is(err, errCorrupt) {
		it.s.quarantineServed(it.p, err)
	}
	return err
}

// copyable says whether the block the iterator stands at (unread) can be
// written to w as it is (see mergeInto); other is the merge's next
// iterator after this one, nil if none.
func (it *partIter) copyable(w *partWriter, other *partIter) (bool, error) {
	m := &it.bc.metas[it.bi]
	if it.salvage != nil || it.mi.v2 || it.mi.v3 || m.count > w.maxRecs || !w.startsBlock(m.key, m.minTime) {
		// Earlier formats' entries lack the time index a copy would keep.
		return false, nil
	}
	next, found := int64(0), false
	if other != nil && other.recKey == m.key {
		if other.rec.Time <= m.maxTime {
			return false, nil // the records interleave
		}
		next, found = other.rec.Time, true
	}
	nm, err := it.peek()
	if err != nil {
		return false, err
	}
	if nm != nil && nm.key == m.key && (!found || nm.minTime < next) {
		next, found = nm.minTime, true
	}
	// The block's raw bytes are not known here, so a block that ended at
	// maxBlockRawBytes is read and re-added, which ends it there again.
	return !found || cutsBefore(m.count, 0, m.maxTime, next, w.maxRecs), nil
}

// peek returns the entry of the part's block after the one the iterator
// stands at, nil if none; it may load the next index chunk for it.
func (it *partIter) peek() (*blockMeta, error) {
	for it.c == nil || it.block >= len(it.c.metas) {
		ok, err := it.nextChunk()
		if !ok || err != nil {
			return nil, err
		}
	}
	return &it.c.metas[it.block], nil
}

// copyTo writes the block the iterator stands at to w as it is. The
// copy keeps no view of the decompressed columns, so every copy of the
// merge decompresses into the same buffer. A block of a part written at
// w's zstd level (a small-lane tier merge of flushes, a final merge of
// the big lane's parts), as the part's manifest entry records it
// (partRef.Level), is not even decompressed: its stored bytes are
// checked, as a decoding read checks them, and written as they are.
func (it *partIter) copyTo(w *partWriter) error {
	var err error
	sc := it.scratch()
	if sameZstdLevel(it.p.mref.Level, w.level) {
		sc.buf, err = it.p.readBlockStored(it.bc, it.bi, sc.buf, &sc.copy)
		sc.account(false)
		if err != nil {
			return it.failed(err)
		}
		return w.copyStored(&it.bc.metas[it.bi], sc.buf[:it.bc.metas[it.bi].length])
	}
	sc.buf, err = it.p.readBlockRaw(it.bc, it.bi, sc.buf, &sc.copy)
	sc.account(false)
	if err != nil {
		return it.failed(err)
	}
	err = w.copyBlock(&it.bc.metas[it.bi], &sc.copy)
	sc.copy.rawFree = true
	return err
}

// mergeScratch is what the inputs of one merge share, since the merge
// reads one block at a time: the buffer a block's stored bytes are read
// into (decoding copies what it keeps out of it) and the decompressed
// columns of a copied block.
type mergeScratch struct {
	buf  []byte
	copy decodedBlock
	// held, when set, counts the bytes of the merge's buffers and of the
	// blocks its inputs hold (Stats.MergeBufferBytes); counted is this
	// scratch's share of it.
	held    *atomic.Int64
	counted int64
	// out, when set, is the block the merge builds, whose copies of the
	// values it took (blockBuilder.keep) count in held too.
	out *blockBuilder
}

// account brings held up to date with the scratch's buffers, or takes
// them out of it when done.
func (sc *mergeScratch) account(done bool) {
	if sc.held == nil {
		return
	}
	n := int64(cap(sc.buf) + cap(sc.copy.raw))
	if sc.out != nil {
		n += int64(sc.out.arenaBytes)
	}
	if done {
		n = 0
	}
	sc.held.Add(n - sc.counted)
	sc.counted = n
}

// dropBlock lets go of the block the iterator read (see step).
func (it *partIter) dropBlock() {
	if it.s != nil && it.s.opts.scribbleDropped {
		raw := it.d.raw[:cap(it.d.raw)]
		for i := range raw {
			raw[i] = '#'
		}
	}
	it.d.release()
	clear(it.rec.Fields[:cap(it.rec.Fields)])
	clear(it.shared)
	it.rec.Message, it.shared = "", it.shared[:0]
	if it.held != 0 {
		it.sc.held.Add(-it.held)
		it.held = 0
	}
}

func (it *partIter) scratch() *mergeScratch {
	if it.sc == nil {
		it.sc = new(mergeScratch)
	}
	return it.sc
}

// nextChunk moves to the part's next index chunk; a merge reads each
// once, so it takes them from the index cache if there but does not keep
// them there.
func (it *partIter) nextChunk() (bool, error) {
	var err error
	if it.mi == nil {
		if it.mi, err = it.p.metaIndex(); err == nil && it.mi.v2 {
			_, it.v2, err = it.p.loadIndexV2()
		}
		if err != nil && it.salvage != nil {
			// Without its meta-index nothing of the part can be found.
			it.salvage.lose(-1, it.p.records, err)
			return false, nil
		}
		if err != nil {
			if errors.Is(err, errCorrupt) {
				it.s.quarantineServed(it.p, err)
			}
			return false, err
		}
	}
	if it.ci >= len(it.mi.chunks) {
		return false, nil
	}
	if it.v2 != nil {
		it.c = it.v2[it.ci]
	} else if it.c, err = it.p.chunkOnce(it.mi, it.ci); err != nil {
		if it.salvage != nil {
			cm := &it.mi.chunks[it.ci]
			it.salvage.lose(cm.blocks, cm.records, err)
			it.ci++
			it.c = nil
			return true, nil
		}
		if errors.Is(err, errCorrupt) {
			it.s.quarantineServed(it.p, err)
		}
		return false, err
	}
	it.ci++
	it.block = 0
	return true, nil
}

type mergeHeap []*partIter

// second is the iterator that comes after h[0], nil if none.
func (h mergeHeap) second() *partIter {
	switch {
	case len(h) < 2:
		return nil
	case len(h) == 2 || h.Less(1, 2):
		return h[1]
	}
	return h[2]
}

func (h mergeHeap) Len() int { return len(h) }
func (h mergeHeap) Less(i, j int) bool {
	if ki, kj := h[i].key(), h[j].key(); ki != kj {
		return ki < kj
	}
	return h[i].rec.Time < h[j].rec.Time
}
func (h mergeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)   { *h = append(*h, x.(*partIter)) }
func (h *mergeHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}
