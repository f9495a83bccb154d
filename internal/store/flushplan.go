package store

import (
	"cmp"
	"slices"
	"sort"
	"strings"

	"github.com/sluice-log/sluice/internal/record"
)

const nsPerDay = int64(24 * 60 * 60 * 1e9)

// dayOf is the number of the daily UTC partition of a Unix-nanosecond time
// (floor division, so times before 1970 land in negative days).
func dayOf(t int64) int64 {
	d := t / nsPerDay
	if t%nsPerDay < 0 {
		d--
	}
	return d
}

// flushPlan is the order in which a flush writes the records of frozen
// heads: one part per partition (tenant and day) touched, each in stream key order and, within a
// stream, in time order (stable, so equal times keep their append order).
type flushPlan struct {
	days    []int64 // sorted
	streams []planStream
	chunks  [][]byte // every head's chunks, one after the other
	records int
}

// planStream gathers one stream's chunks from every head being flushed.
type planStream struct {
	tenant  string
	labels  []record.Field
	key     string
	entries []flushEntry // sorted by time
}

// flushEntry locates one record: 16 bytes per record is all a flush adds to
// the memory of the heads it seals.
type flushEntry struct {
	t     int64
	chunk int32 // in flushPlan.chunks
	off   int32
}

func planFlush(heads []*head) *flushPlan {
	byKey := make(map[string]*planStream)
	days := make(map[int64]bool)
	plan := &flushPlan{}
	for _, h := range heads {
		for _, hs := range h.list {
			if _, ok := byKey[hs.key]; !ok {
				byKey[hs.key] = nil
				plan.streams = append(plan.streams, planStream{tenant: hs.tenant, labels: hs.labels, key: hs.key})
			}
		}
	}
	slices.SortFunc(plan.streams, func(a, b planStream) int { return strings.Compare(a.key, b.key) })
	// plan.streams no longer moves, so pointers into it stay valid.
	for i := range plan.streams {
		byKey[plan.streams[i].key] = &plan.streams[i]
	}
	if len(heads) > 1 {
		// Entries of a stream in several heads, allocated once.
		n := make(map[*planStream]int, len(plan.streams))
		for _, h := range heads {
			for _, hs := range h.list {
				n[byKey[hs.key]] += len(hs.offs)
			}
		}
		for ps, k := range n {
			ps.entries = make([]flushEntry, 0, k)
		}
	}
	for _, h := range heads {
		base := uint64(len(plan.chunks))
		plan.chunks = append(plan.chunks, h.chunks...)
		for _, hs := range h.list {
			ps := byKey[hs.key]
			ps.entries = slices.Grow(ps.entries, len(hs.offs))
			// The head keeps each record's time beside its offset: the
			// records need not be read here.
			times := hs.times[:len(hs.offs)]
			lastDay, seen := int64(0), false
			for j, off := range hs.offs {
				off += base << 32
				t := times[j]
				ps.entries = append(ps.entries, flushEntry{t: t, chunk: int32(off >> 32), off: int32(uint32(off))})
				if d := dayOf(t); !seen || d != lastDay {
					days[d], lastDay, seen = true, d, true
				}
			}
			plan.records += len(hs.offs)
		}
	}
	for i := range plan.streams {
		es := plan.streams[i].entries
		if !slices.IsSortedFunc(es, compareEntries) {
			slices.SortStableFunc(es, compareEntries)
		}
	}
	for d := range days {
		plan.days = append(plan.days, d)
	}
	slices.Sort(plan.days)
	return plan
}

func compareEntries(a, b flushEntry) int { return cmp.Compare(a.t, b.t) }

// flushJob is one part a flush writes: the records of day in the streams
// plan.streams[lo:hi], which all belong to tenant.
type flushJob struct {
	day    int64
	tenant string
	lo, hi int
}

// minShardRecords keeps small flushes in one part per partition: splitting
// them would only add parts for merges to undo.
const minShardRecords = 32 << 10

// jobs splits the plan into parts: one per partition (tenant and day), and
// a partition with many records into up to shards parts of contiguous
// stream ranges with about as many records each, so that they can be
// written in parallel. The ranges do not overlap, so a partition's parts
// stay disjoint in stream order.
func (plan *flushPlan) jobs(shards int) []flushJob {
	var jobs []flushJob
	counts := make([]int, len(plan.streams))
	for _, day := range plan.days {
		for i := range plan.streams {
			lo, hi := plan.streams[i].dayRange(day)
			counts[i] = hi - lo
		}
		// Stream keys start with the tenant, so each tenant's streams are
		// one contiguous range of the sorted plan.
		for lo := 0; lo < len(plan.streams); {
			hi := lo + 1
			for hi < len(plan.streams) && plan.streams[hi].tenant == plan.streams[lo].tenant {
				hi++
			}
			jobs = plan.shard(jobs, flushJob{day: day, tenant: plan.streams[lo].tenant, lo: lo, hi: hi}, counts, shards)
			lo = hi
		}
	}
	return jobs
}

// shard appends the jobs of one partition's streams whole.lo..whole.hi,
// whose record counts of the day are counts[whole.lo:whole.hi].
func (plan *flushPlan) shard(jobs []flushJob, whole flushJob, counts []int, shards int) []flushJob {
	total := 0
	for _, c := range counts[whole.lo:whole.hi] {
		total += c
	}
	n := max(1, min(shards, total/minShardRecords))
	job := whole
	acc, done, made := 0, 0, 0
	for i := whole.lo; i < whole.hi; i++ {
		acc += counts[i]
		// Close a shard once the records so far reach its share.
		if made < n-1 && acc*n >= total*(made+1) {
			job.hi = i + 1
			jobs = append(jobs, job)
			job.lo, done, made = i+1, acc, made+1
		}
	}
	if total > done {
		job.hi = whole.hi
		jobs = append(jobs, job)
	}
	return jobs
}

// dayRange is the range of entries whose time falls in day.
func (ps *planStream) dayRange(day int64) (lo, hi int) {
	lo = sort.Search(len(ps.entries), func(i int) bool { return dayOf(ps.entries[i].t) >= day })
	hi = sort.Search(len(ps.entries), func(i int) bool { return dayOf(ps.entries[i].t) > day })
	return lo, hi
}
