package store

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/durable"
)

// Retention says how long, and how much, the store keeps. Retention drops
// whole partitions (one tenant's day) with one manifest 'drop' entry per
// tenant and cause, then deletes their files: its cost grows with the
// partitions dropped, never with the data in them.
type Retention struct {
	// MaxAge drops partitions that ended longer ago than this, for tenants
	// without their own MaxAge; 0 keeps everything.
	MaxAge time.Duration
	// MaxBytes bounds the parts of the whole store: the oldest partitions
	// go first, across tenants, but never a tenant's newest. 0: no bound.
	MaxBytes int64
	// Tenants overrides MaxAge and adds a size bound per tenant.
	Tenants map[string]TenantRetention
}

// TenantRetention is one tenant's retention.
type TenantRetention struct {
	MaxAge   time.Duration // 0: Retention.MaxAge
	MaxBytes int64         // bound on the tenant's parts (its newest partition is kept); 0: none of its own
}

// ApplyRetention drops, as of now, the partitions that r no longer keeps:
// by age, then by each tenant's size bound, then by the store's. It
// returns the number of partitions dropped.
func (s *Store) ApplyRetention(ctx context.Context, now time.Time, r Retention) (int, error) {
	bySuffix := make(map[string]TenantRetention, len(r.Tenants))
	for tenant, tr := range r.Tenants {
		bySuffix[tenantSuffix(tenant)] = tr
	}
	return s.dropPlanned(ctx, func(pl *retentionPlan) {
		pl.byAge(func(suffix string) (time.Time, bool) {
			age := r.MaxAge
			if tr := bySuffix[suffix]; tr.MaxAge > 0 {
				age = tr.MaxAge
			}
			return now.Add(-age), age > 0
		})
		pl.byTenantSize(func(suffix string) int64 { return bySuffix[suffix].MaxBytes })
		pl.byStoreSize(r.MaxBytes)
	})
}

// DropBefore removes every partition, of every tenant, that ends at or
// before t. Records of those days still in the head are not dropped; they
// land in a new part of their partition when flushed.
func (s *Store) DropBefore(ctx context.Context, t time.Time) error {
	_, err := s.dropPlanned(ctx, func(pl *retentionPlan) {
		pl.byAge(func(string) (time.Time, bool) { return t, true })
	})
	return err
}

// DropOverSize removes whole partitions, oldest first across tenants,
// while the parts on disk take more than maxBytes in total. A tenant's
// newest partition is never dropped, so that a limit set too low cannot
// empty the store; it returns the number of partitions dropped.
func (s *Store) DropOverSize(ctx context.Context, maxBytes int64) (int, error) {
	return s.dropPlanned(ctx, func(pl *retentionPlan) { pl.byStoreSize(maxBytes) })
}

// dropPlanned plans drops over the live parts with plan and commits them.
func (s *Store) dropPlanned(ctx context.Context, plan func(*retentionPlan)) (int, error) {
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
	pl := newRetentionPlan(s.man.state.live)
	plan(pl)
	n := 0
	for _, d := range pl.drops {
		var removed []partRef
		for _, ref := range s.man.state.live {
			if d.partitions[ref.Partition] {
				removed = append(removed, ref)
			}
		}
		if err := s.dropLocked(removed, d.partitions, d.reason); err != nil {
			return n, err
		}
		n += len(d.partitions)
		s.log.Info("dropped partitions", "partitions", len(d.partitions), "parts", len(removed), "reason", d.reason)
	}
	return n, nil
}

// retentionPlan chooses partitions to drop, grouped into one manifest entry
// per tenant and cause.
type retentionPlan struct {
	sizes      map[string]int64 // live partitions not (yet) chosen, and their bytes
	partitions []string         // the keys of sizes, sorted: by day, then tenant
	drops      []dropSet
}

// dropSet is what one manifest 'drop' entry removes, and why.
type dropSet struct {
	partitions map[string]bool
	reason     string
}

func newRetentionPlan(live map[string]partRef) *retentionPlan {
	pl := &retentionPlan{sizes: make(map[string]int64)}
	for _, ref := range live {
		pl.sizes[ref.Partition] += ref.Size
	}
	pl.partitions = slices.Sorted(maps.Keys(pl.sizes))
	return pl
}

// bySuffix groups the partitions not chosen yet by tenant, each oldest
// first, in the order of their tenants' suffixes.
func (pl *retentionPlan) bySuffix() ([]string, map[string][]string) {
	groups := make(map[string][]string)
	for _, p := range pl.partitions {
		if _, ok := pl.sizes[p]; ok {
			groups[partitionSuffix(p)] = append(groups[partitionSuffix(p)], p)
		}
	}
	return slices.Sorted(maps.Keys(groups)), groups
}

// choose plans to drop partitions (all of one tenant) for reason.
func (pl *retentionPlan) choose(partitions []string, reason string) {
	if len(partitions) == 0 {
		return
	}
	d := dropSet{partitions: make(map[string]bool, len(partitions)), reason: reason}
	for _, p := range partitions {
		d.partitions[p] = true
		delete(pl.sizes, p)
	}
	pl.drops = append(pl.drops, d)
}

// byAge chooses each tenant's partitions that end at or before its cutoff.
func (pl *retentionPlan) byAge(cutoff func(suffix string) (time.Time, bool)) {
	suffixes, groups := pl.bySuffix()
	for _, suffix := range suffixes {
		t, ok := cutoff(suffix)
		if !ok {
			continue
		}
		var old []string
		for _, p := range groups[suffix] {
			if _, end, ok := partitionBounds(p); ok && end <= t.UnixNano() {
				old = append(old, p)
			}
		}
		pl.choose(old, fmt.Sprintf("retention: %s partitions ending before %s", tenantLabel(suffix), t.UTC().Format(time.RFC3339)))
	}
}

// byTenantSize chooses each tenant's oldest partitions, but never its
// newest, while its partitions take more than its limit (0: none).
func (pl *retentionPlan) byTenantSize(limit func(suffix string) int64) {
	suffixes, groups := pl.bySuffix()
	for _, suffix := range suffixes {
		maxBytes := limit(suffix)
		if maxBytes <= 0 {
			continue
		}
		ps := groups[suffix]
		var total int64
		for _, p := range ps {
			total += pl.sizes[p]
		}
		before := total
		var over []string
		for _, p := range ps[:len(ps)-1] {
			if total <= maxBytes {
				break
			}
			over = append(over, p)
			total -= pl.sizes[p]
		}
		pl.choose(over, fmt.Sprintf("retention: %s: %d bytes on disk over its limit of %d", tenantLabel(suffix), before, maxBytes))
	}
}

// byStoreSize chooses the oldest partitions across tenants, but never a
// tenant's newest, while the store's parts take more than maxBytes (0: no
// bound).
func (pl *retentionPlan) byStoreSize(maxBytes int64) {
	if maxBytes <= 0 {
		return
	}
	var total int64
	newest := make(map[string]string) // suffix -> its newest partition
	for _, p := range pl.partitions {
		if size, ok := pl.sizes[p]; ok {
			total += size
			newest[partitionSuffix(p)] = p
		}
	}
	before := total
	over := make(map[string][]string) // by suffix
	for _, p := range pl.partitions {
		size, ok := pl.sizes[p]
		if total <= maxBytes {
			break
		}
		if !ok || newest[partitionSuffix(p)] == p {
			continue
		}
		over[partitionSuffix(p)] = append(over[partitionSuffix(p)], p)
		total -= size
	}
	for _, suffix := range slices.Sorted(maps.Keys(over)) {
		pl.choose(over[suffix], fmt.Sprintf("retention: %s: the store's %d bytes on disk over the limit of %d", tenantLabel(suffix), before, maxBytes))
	}
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
	var gone []*part
	s.mu.Lock()
	for partition := range dropped {
		for _, p := range s.parts[partition] {
			gone = append(gone, p)
		}
		delete(s.parts, partition)
	}
	for _, ref := range removed {
		delete(s.quarantined, ref.id())
	}
	s.mu.Unlock()
	s.retire(gone)
	s.removeFiles(removed)
	for partition := range dropped {
		// Fails, harmlessly, while a flush or merge is writing into it.
		_ = os.Remove(filepath.Join(s.dir, partitionsDir, partition))
	}
	_ = durable.SyncDir(filepath.Join(s.dir, partitionsDir))
	return nil
}
