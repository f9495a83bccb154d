package store

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"github.com/sluice-log/sluice/internal/cpuslot"
	"github.com/sluice-log/sluice/internal/durable"
	"github.com/sluice-log/sluice/internal/record"
)

// Flush seals every record appended before the call into parts (one per
// partition touched, that is per tenant and UTC day, a few for a large
// one) and commits them with one manifest entry. When it returns nil, DurableSeq covers every lastSeq
// appended before the call.
// Records appended meanwhile go to a new head and stay searchable; a failed
// flush keeps its records in memory, searchable, for the next Flush.
func (s *Store) Flush(ctx context.Context) error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errClosed
	}
	if s.active.records > 0 || s.active.lastSeq > s.durable.Load() {
		s.frozen = append(s.frozen, s.active)
		s.active = newHead()
	}
	heads := slices.Clone(s.frozen)
	s.mu.Unlock()
	if len(heads) == 0 {
		return nil
	}

	lastSeq := uint64(0)
	for _, h := range heads {
		lastSeq = max(lastSeq, h.lastSeq)
	}
	plan := planFlush(heads)
	sealed, err := s.writeJobs(ctx, plan, plan.jobs(runtime.GOMAXPROCS(0)))
	if err == nil {
		err = makeDurable(ctx, sealed)
	}
	if err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	written, err := s.openSealed(sealed)
	if err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	added := make([]partRef, len(written))
	for i, p := range written {
		added[i] = p.ref()
	}
	fail := func(err error) error {
		s.releaseWritten(written)
		return fmt.Errorf("flush: %w", err)
	}

	faultFlushPartsWritten.Hit()
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	e := &manifestEntry{Op: opAdd, Added: added, Reason: "flush", Watermark: max(lastSeq, s.man.state.watermark)}
	if err := s.man.commit(e); err != nil {
		return fail(err)
	}
	faultFlushCommitted.Hit()
	s.mu.Lock()
	for _, p := range written {
		s.addPartLocked(p)
	}
	// Clear before reslicing: the backing array would otherwise keep the
	// flushed heads' chunks reachable until the next append reallocates it.
	clear(s.frozen[:len(heads)])
	s.frozen = s.frozen[len(heads):]
	s.durable.Store(e.Watermark)
	s.mu.Unlock()
	for _, p := range written {
		s.flushedBytes.Add(p.size)
	}
	if s.log.Enabled(ctx, slog.LevelDebug) {
		var partitions []string
		for _, p := range written {
			if !slices.Contains(partitions, p.partition) {
				partitions = append(partitions, p.partition)
			}
		}
		s.log.Debug("flushed", "parts", len(written), "records", plan.records, "durable_seq", e.Watermark, "partitions", partitions)
	}
	return nil
}

// newPartName allocates a name no part has had.
func (s *Store) newPartName() string {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	n := s.nextName
	s.nextName++
	return fmt.Sprintf("%016x", n)
}

// writeJobs writes the parts of jobs, as many at once as there are CPUs:
// once the head is at its bound, ingest waits for flushes, so how fast a
// flush goes is how fast ingest may go. Each writer holds one file open
// until its part is sealed, so a flush over thousands of days holds no more
// files open than it has writers. On error it removes the parts it wrote
// and returns the first error.
func (s *Store) writeJobs(ctx context.Context, plan *flushPlan, jobs []flushJob) ([]sealedPart, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	parts := make([]sealedPart, len(jobs))
	var (
		errMu    sync.Mutex
		firstErr error // the cause; the other jobs then fail as cancelled
		wg       sync.WaitGroup
	)
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, job := range jobs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			sp, err := s.writeJob(ctx, plan, job)
			if err != nil {
				errMu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				errMu.Unlock()
				cancel()
				return
			}
			parts[i] = sp
		}()
	}
	wg.Wait()
	if firstErr != nil {
		for i := range parts {
			if parts[i].tmp != "" {
				parts[i].remove()
			}
		}
		return nil, firstErr
	}
	return parts, nil
}

// openSealed opens durable sealed parts for searching; on error it removes
// them all.
func (s *Store) openSealed(sealed []sealedPart) ([]*part, error) {
	parts := make([]*part, 0, len(sealed))
	for _, sp := range sealed {
		p, err := s.openWritten(sp)
		if err != nil {
			s.releaseWritten(parts)
			for _, sp := range sealed[len(parts):] {
				s.removeFiles([]partRef{sp.ref})
			}
			return nil, err
		}
		parts = append(parts, p)
	}
	return parts, nil
}

// releaseWritten drops parts written by a flush that failed.
func (s *Store) releaseWritten(parts []*part) {
	refs := make([]partRef, len(parts))
	for i, p := range parts {
		refs[i] = p.ref()
		p.decRef()
	}
	s.removeFiles(refs)
}

// cpuUnitRecords is how many records a flush's writer or a merge adds
// between two checks for a search waiting for its CPU slot: about 0.3 ms
// of work (a block's compression comes at the end of one such unit).
const cpuUnitRecords = 256

// writeJob writes the planned records of one job (in stream, then time
// order) as a new part file, sealed but not yet durable.
func (s *Store) writeJob(ctx context.Context, plan *flushPlan, job flushJob) (sealedPart, error) {
	day := job.day
	partition := partitionOf(job.tenant, day*nsPerDay)
	w, err := newPartWriter(filepath.Join(s.dir, partitionsDir, partition), partition, s.newPartName(), s.enc, s.opts.BlockRecords, s.pio.index)
	if err != nil {
		return sealedPart{}, err
	}
	w.level = s.levelOf(s.enc)
	// The writer runs on a CPU slot of low priority, handed to a waiting
	// search every cpuUnitRecords records (package cpuslot).
	cpu, err := cpuslot.Shared().Hold(ctx, cpuslot.Low)
	if err != nil {
		w.abort()
		return sealedPart{}, err
	}
	defer cpu.Release()
	w.holdCPU(ctx, cpu)
	var rec record.Record
	// The fields a record shares with its batch's run go to the block
	// builder apart from its own (partWriter.add), decoded once per run
	// and chunk: at, the chunk and offset they were decoded from.
	var shared []record.Field
	at := [2]int{-1, -1}
	n := 0
	for i := job.lo; i < job.hi; i++ {
		ps := &plan.streams[i]
		rec.Tenant = ps.tenant
		rec.Stream = ps.labels
		lo, hi := ps.dayRange(day)
		es := ps.entries[lo:hi]
		for k, e := range es {
			if k%touchAhead == 0 {
				w.touched += touchRecords(plan.chunks, es[k:min(k+touchAhead, len(es))])
			}
			if n++; n%cpuUnitRecords == 0 {
				if err := cpu.Yield(ctx); err != nil {
					w.abort()
					return sealedPart{}, err
				}
				if n%4096 == 0 {
					if err := ctx.Err(); err != nil {
						w.abort()
						return sealedPart{}, err
					}
				}
			}
			c := headCursor{b: plan.chunks[e.chunk], off: int(e.off)}
			rec.Time = e.t
			if off := c.nextOwn(&rec); off < 0 {
				shared, at = shared[:0], [2]int{-1, -1}
			} else if at != [2]int{int(e.chunk), off} {
				shared, at = c.sharedFields(shared[:0], off), [2]int{int(e.chunk), off}
			}
			if err := w.add(&rec, shared, ps.key); err != nil {
				w.abort()
				return sealedPart{}, err
			}
		}
	}
	return w.seal(ctx)
}

// touchAhead is how many records a flush's writer reads the first byte of
// at once, before it decodes them: the records of a stream lie scattered
// over the head's chunks, and each one's first read missed the CPU's
// caches, one miss after another; read together, the misses overlap.
const touchAhead = 8

// touchRecords reads the first byte of each record of es and returns their
// sum, which the caller keeps so that the reads are not left out.
func touchRecords(chunks [][]byte, es []flushEntry) byte {
	var sum byte
	for _, e := range es {
		sum += chunks[e.chunk][e.off]
	}
	return sum
}

// finishPart commits w's file and opens it as a part.
func (s *Store) finishPart(ctx context.Context, w *partWriter) (*part, error) {
	sp, err := w.commit(ctx)
	if err != nil {
		return nil, err
	}
	return s.openWritten(sp)
}

// openWritten serves a part this store has just written and made durable.
// Its file is opened when a search first reads it; its index is in the
// cache already (see partWriter.cache). It cannot fail today; the error
// is kept for the callers' cleanup paths.
func (s *Store) openWritten(sp sealedPart) (*part, error) {
	p := newPart(sp.ref, sp.final, s.pio)
	p.nchunks.Store(int32(sp.chunks))
	// Hashed as it was written.
	p.verified.Store(true)
	return p, nil
}

// removeFiles deletes the files of parts that are not (or no longer) live.
func (s *Store) removeFiles(refs []partRef) {
	dirs := make(map[string]bool)
	for _, ref := range refs {
		path := s.partPath(ref)
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			s.log.Warn("remove part file", "path", path, "err", err)
			continue
		}
		dirs[filepath.Dir(path)] = true
	}
	for d := range dirs {
		_ = durable.SyncDir(d)
	}
}
