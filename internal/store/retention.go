package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// DropBefore removes every daily partition that ends at or before t, with
// one manifest 'drop' entry. Records of those days still in the head are
// not dropped; they land in a new part of their partition when flushed.
func (s *Store) DropBefore(ctx context.Context, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	cutoff := t.UnixNano()
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return errClosed
	}
	var removed []partRef
	dropped := make(map[string]bool)
	for _, ref := range s.man.state.live {
		_, end, ok := partitionBounds(ref.Partition)
		if ok && end <= cutoff {
			removed = append(removed, ref)
			dropped[ref.Partition] = true
		}
	}
	if len(removed) == 0 {
		return nil
	}
	reason := fmt.Sprintf("retention: partitions ending before %s", t.UTC().Format(time.RFC3339))
	if err := s.dropLocked(removed, dropped, reason); err != nil {
		return err
	}
	s.log.Info("dropped partitions", "partitions", len(dropped), "parts", len(removed), "before", t.UTC())
	return nil
}

// DropOverSize removes whole daily partitions, oldest first, while the
// parts on disk take more than maxBytes in total, with one manifest 'drop'
// entry. The newest partition is never dropped, so that a limit set too low
// cannot empty the store; it returns the number of partitions dropped.
func (s *Store) DropOverSize(ctx context.Context, maxBytes int64) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return 0, errClosed
	}
	sizes := make(map[string]int64)
	var total int64
	for _, ref := range s.man.state.live {
		sizes[ref.Partition] += ref.Size
		total += ref.Size
	}
	partitions := make([]string, 0, len(sizes))
	for p := range sizes {
		partitions = append(partitions, p)
	}
	slices.Sort(partitions)
	dropped := make(map[string]bool)
	before := total
	for _, p := range partitions[:max(len(partitions)-1, 0)] {
		if total <= maxBytes {
			break
		}
		dropped[p] = true
		total -= sizes[p]
	}
	if len(dropped) == 0 {
		return 0, nil
	}
	var removed []partRef
	for _, ref := range s.man.state.live {
		if dropped[ref.Partition] {
			removed = append(removed, ref)
		}
	}
	reason := fmt.Sprintf("retention: %d bytes on disk over the limit of %d", before, maxBytes)
	if err := s.dropLocked(removed, dropped, reason); err != nil {
		return 0, err
	}
	s.log.Info("dropped partitions over the size limit", "partitions", len(dropped), "parts", len(removed), "bytes_before", before, "bytes_after", total, "limit", maxBytes)
	return len(dropped), nil
}

// dropLocked commits one manifest 'drop' entry for removed (every live part
// of the dropped partitions), then stops serving them and deletes their
// files. commitMu must be held.
func (s *Store) dropLocked(removed []partRef, dropped map[string]bool, reason string) error {
	slices.SortFunc(removed, func(a, b partRef) int {
		if c := strings.Compare(a.Partition, b.Partition); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	e := &manifestEntry{Op: opDrop, Removed: removed, Watermark: s.man.state.watermark,
		Reason: reason}
	if err := s.man.commit(e); err != nil {
		return fmt.Errorf("drop partitions: %w", err)
	}
	s.mu.Lock()
	for partition := range dropped {
		for _, p := range s.parts[partition] {
			p.decRef()
		}
		delete(s.parts, partition)
	}
	for _, ref := range removed {
		delete(s.quarantined, ref.id())
	}
	s.mu.Unlock()
	s.removeFiles(removed)
	for partition := range dropped {
		// Fails, harmlessly, while a flush or merge is writing into it.
		_ = os.Remove(filepath.Join(s.dir, partitionsDir, partition))
	}
	_ = syncDir(filepath.Join(s.dir, partitionsDir))
	return nil
}
