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
	slices.SortFunc(removed, func(a, b partRef) int {
		if c := strings.Compare(a.Partition, b.Partition); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	e := &manifestEntry{Op: opDrop, Removed: removed, Watermark: s.man.state.watermark,
		Reason: fmt.Sprintf("retention: partitions ending before %s", t.UTC().Format(time.RFC3339))}
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
	s.log.Info("dropped partitions", "partitions", len(dropped), "parts", len(removed), "before", t.UTC())
	return nil
}
