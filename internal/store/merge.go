package store

import (
	"cmp"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

// Merge runs one round of merging: in every daily partition with more than
// MaxPartsPerPartition parts it merges the smallest parts into one, and
// an idle partition's parts all into one (see idleMergeDue). Merges read
// one block per input part at a time, so memory stays bounded.
func (s *Store) Merge(ctx context.Context) error {
	s.mergeMu.Lock()
	defer s.mergeMu.Unlock()
	plans, err := s.planMerges()
	if err != nil {
		return err
	}
	var firstErr error
	for _, parts := range plans {
		if firstErr == nil {
			if err := s.mergeParts(ctx, parts); err != nil {
				firstErr = err
			}
		}
		for _, p := range parts {
			p.decRef()
		}
	}
	return firstErr
}

// planMerges picks, per crowded partition, the parts to merge, holding a
// reference to each.
func (s *Store) planMerges() ([][]*part, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, errClosed
	}
	var plans [][]*part
	limit := s.opts.MaxPartsPerPartition
	now := time.Now()
	for _, ps := range s.parts {
		var chosen []*part
		switch {
		case len(ps) > limit:
			// Merge down to half the limit, so the next merge waits a while.
			all := bySize(ps)
			k := min(maxMergeFanIn, max(2, len(all)-limit/2))
			chosen = all[:min(k, len(all))]
		case s.idleMergeDue(ps, now, true):
			chosen = bySize(ps)
		default:
			continue
		}
		for _, p := range chosen {
			p.incRef()
		}
		plans = append(plans, chosen)
	}
	slices.SortFunc(plans, func(a, b []*part) int { return strings.Compare(a[0].partition, b[0].partition) })
	return plans, nil
}

// bySize returns the parts of a partition, smallest first.
func bySize(ps map[string]*part) []*part {
	all := make([]*part, 0, len(ps))
	for _, p := range ps {
		all = append(all, p)
	}
	slices.SortFunc(all, func(a, b *part) int {
		if c := cmp.Compare(a.size, b.size); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	return all
}

// idleMergeDue reports whether a partition's parts are to be merged into
// one: the partition has more than one part, and the parts besides the
// largest hold at least as many bytes as it, so that every such merge at
// least doubles the largest part and rewrites each byte at most about
// twice over the partition's life; and, when idle is set, no part has
// joined it for IdleMergeAfter. A partition that still receives records
// (a flush every few seconds) keeps its parts; yesterday's, or a quiet
// tenant's, becomes one part, which halves the blocks a search visits
// when each stream is spread over several parts.
func (s *Store) idleMergeDue(ps map[string]*part, now time.Time, idle bool) bool {
	if s.opts.IdleMergeAfter < 0 || len(ps) < 2 || len(ps) > maxMergeFanIn {
		return false
	}
	var total, largest int64
	var newest time.Time
	for _, p := range ps {
		total += p.size
		largest = max(largest, p.size)
		if p.added.After(newest) {
			newest = p.added
		}
	}
	if total-largest < largest {
		return false
	}
	return !idle || now.Sub(newest) >= s.opts.IdleMergeAfter
}

// mergesPendingLocked counts the partitions that a merge round would merge now,
// or once idle: a search meanwhile visits more blocks than it will after.
func (s *Store) mergesPendingLocked() int {
	n := 0
	for _, ps := range s.parts {
		if len(ps) > s.opts.MaxPartsPerPartition || s.idleMergeDue(ps, time.Time{}, false) {
			n++
		}
	}
	return n
}

// mergeParts writes the records of parts into one new part and commits the
// swap. If retention dropped an input meanwhile, the result is discarded.
func (s *Store) mergeParts(ctx context.Context, parts []*part) error {
	partition := parts[0].partition
	w, err := newPartWriter(filepath.Join(s.dir, partitionsDir, partition), partition, s.newPartName(), s.menc, s.opts.BlockRecords)
	if err != nil {
		return fmt.Errorf("merge partition %s: %w", partition, err)
	}
	if err := s.mergeInto(ctx, w, parts); err != nil {
		w.abort()
		return fmt.Errorf("merge partition %s: %w", partition, err)
	}
	np, err := s.finishPart(ctx, w)
	if err != nil {
		return fmt.Errorf("merge partition %s: %w", partition, err)
	}
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
	for _, p := range parts {
		delete(s.parts[partition], p.name)
		p.decRef() // the store's reference; searches may still hold theirs
	}
	s.addPartLocked(np)
	s.mu.Unlock()
	s.removeFiles(removed)
	s.merges.Add(1)
	s.log.Info("merged parts", "partition", partition, "inputs", len(parts), "part", np.name, "records", np.records)
	return nil
}

func (s *Store) mergeInto(ctx context.Context, w *partWriter, parts []*part) error {
	var h mergeHeap
	for _, p := range parts {
		it := &partIter{p: p, s: s}
		ok, err := it.next()
		if err != nil {
			return err
		}
		if ok {
			h = append(h, it)
		}
	}
	heap.Init(&h)
	n := 0
	for len(h) > 0 {
		if n++; n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		it := h[0]
		if err := w.add(&it.rec, it.key()); err != nil {
			return err
		}
		ok, err := it.next()
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

// partIter walks a part's records in stored order (stream, then time).
type partIter struct {
	s     *Store
	p     *part
	block int // index of the next block to read
	row   int
	d     decodedBlock
	buf   []byte
	rec   record.Record
}

func (it *partIter) key() string { return it.p.blocks[it.block-1].key }

func (it *partIter) next() (bool, error) {
	for it.block == 0 || it.row >= len(it.d.times) {
		if it.block >= len(it.p.blocks) {
			return false, nil
		}
		m := &it.p.blocks[it.block]
		var err error
		// A merge reads each block once: nothing is kept.
		it.buf, err = it.p.readBlock(it.block, it.s.dec, it.buf, &it.d, nil, false)
		if errors.Is(err, errCorrupt) {
			// The merge fails; the next one is planned without this part.
			it.s.quarantineServed(it.p, err)
		}
		if err != nil {
			return false, err
		}
		it.block++
		it.row = 0
		it.d.rewind()
		it.rec.Tenant = m.tenant
		it.rec.Stream = m.labels
	}
	it.d.row(it.row, &it.rec)
	it.row++
	return true, nil
}

type mergeHeap []*partIter

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
