package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/sluice-log/sluice/internal/durable"
)

// A quarantined part used to leave an operator two choices: restore a good
// copy, or drop the part with all its records. A bit flipped in one block
// then cost every other block of the part too (a merged part may hold most
// of a day). Salvage rewrites such a part from the blocks that still pass
// their checksums, and records what was lost in a 'salvage' manifest entry
// (signed like any other), which removes the damaged part and adds the new
// one: the loss stays in the chained history, the part's time range serves
// again, and queries over it are complete for what the history says is
// left.

// opSalvage replaces a damaged part by what could be read of it.
const opSalvage = "salvage"

// damagedExt is appended to a salvaged part's file in quarantine/: it is
// kept for inspection, and no longer stands for a quarantined part.
const damagedExt = ".damaged"

// maxSalvageErrors is how many read errors a report keeps word for word.
const maxSalvageErrors = 3

// salvageLoss counts what a salvage could not read of a part.
type salvageLoss struct {
	blocks     int // -1: unknown (the meta-index was unreadable)
	records    int64
	keptBlocks int
	errs       []string
}

// lose records blocks (-1: all, the number unknown) of records that could
// not be read, and why.
func (l *salvageLoss) lose(blocks int, records int64, err error) {
	if blocks < 0 || l.blocks < 0 {
		l.blocks = -1
	} else {
		l.blocks += blocks
	}
	l.records += records
	if len(l.errs) < maxSalvageErrors {
		l.errs = append(l.errs, err.Error())
	}
}

// SalvageReport says what Salvage did with one quarantined part.
type SalvageReport struct {
	Part string // partition/name of the damaged part
	// Cause is why the part was quarantined.
	Cause string
	// Restored says that the file in quarantine/ matched the manifest
	// after all (a good copy put there): it was served again as it is.
	Restored bool
	// Output is the part written from the readable blocks (partition/name),
	// empty when nothing could be read.
	Output      string
	RecordsKept int64
	RecordsLost int64
	BlocksKept  int
	BlocksLost  int // -1: the part's index was unreadable, so unknown
	// Errors are the first read errors met.
	Errors []string
	// Damaged is where the damaged file was kept, relative to the store.
	Damaged string
	// Err is why the part could not be salvaged (its file is not in
	// quarantine/); it stays quarantined.
	Err error
}

func (r SalvageReport) String() string {
	switch {
	case r.Err != nil:
		return fmt.Sprintf("part %s: not salvaged: %v", r.Part, r.Err)
	case r.Restored:
		return fmt.Sprintf("part %s: its file in quarantine matches the manifest; served again as it is", r.Part)
	}
	lost := plural(r.BlocksLost, "block")
	if r.BlocksLost < 0 {
		lost = "all blocks (its index is unreadable)"
	}
	out := "no part written (nothing was readable)"
	if r.Output != "" {
		out = fmt.Sprintf("kept %d records in %s as part %s", r.RecordsKept, plural(r.BlocksKept, "block"), r.Output)
	}
	s := fmt.Sprintf("part %s: %s; lost %d records in %s; damaged file kept as %s", r.Part, out, r.RecordsLost, lost, r.Damaged)
	if len(r.Errors) > 0 {
		s += "; read errors: " + strings.Join(r.Errors, "; ")
	}
	return s
}

// Salvage checks the sha256 of every served part that this process has
// not checked, quarantining those that differ (as the scrubber does, at
// full speed), then handles every quarantined part: one whose file in
// quarantine/ matches the manifest is served again (RestoreQuarantined);
// any other whose file is there is rewritten from its readable blocks into
// a new part of its partition, and one 'salvage' manifest entry removes
// the damaged part and adds the new one (none when nothing was readable),
// its reason saying what was kept and lost; the damaged file stays in
// quarantine/ with damagedExt appended. A part whose file is not in
// quarantine/ is reported and left quarantined. `sluice repair` runs it
// with the server stopped.
func (s *Store) Salvage(ctx context.Context) ([]SalvageReport, error) {
	s.mu.RLock()
	var served []*part
	for _, ps := range s.parts {
		for _, p := range ps {
			p.incRef()
			served = append(served, p)
		}
	}
	s.mu.RUnlock()
	var firstErr error
	for _, p := range served {
		if err := s.verifyPart(ctx, p, nil); err != nil && !errors.Is(err, errCorrupt) && firstErr == nil {
			firstErr = fmt.Errorf("salvage: check part %s: %w", p.ref().id(), err)
		}
		p.decRef()
	}
	if firstErr != nil {
		return nil, firstErr
	}
	// Salvages write with the big lane's encoder: no merge of that lane
	// may run meanwhile.
	s.laneMu[MergeBig].Lock()
	defer s.laneMu[MergeBig].Unlock()
	var reps []SalvageReport
	for _, id := range s.Quarantined() {
		q, err := s.quarantinedLookup("salvage", id)
		if err != nil {
			continue // dropped or restored meanwhile
		}
		r, err := s.salvageOne(ctx, q)
		if err != nil {
			return reps, err
		}
		reps = append(reps, r)
	}
	return reps, nil
}

// salvageOne salvages quarantined part q (see Salvage).
func (s *Store) salvageOne(ctx context.Context, q quarantinedPart) (SalvageReport, error) {
	id := q.ref.id()
	r := SalvageReport{Part: id, Cause: q.cause}
	path := s.quarantinedPath(q.ref)
	if _, err := os.Stat(path); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return r, fmt.Errorf("salvage %s: %w", id, err)
		}
		r.Err = fmt.Errorf("its file is not in %s: put a copy there and run repair again, or drop the part", filepath.Join(quarantineDir, filepath.Base(path)))
		return r, nil
	}
	if checkPartFile(path, q.ref, s.dec) == nil {
		if err := s.RestoreQuarantined(id); err != nil {
			return r, err
		}
		r.Restored = true
		return r, nil
	}

	// Read through the store's caches but without the sha256 check
	// before the first read, which this file fails: its readable blocks
	// are what is salvaged.
	pio := *s.pio
	pio.check = nil
	src := newPart(q.ref, path, &pio)
	defer src.decRef() // closes the file and drops its index from the cache
	loss := &salvageLoss{}
	it := &partIter{p: src, s: s, salvage: loss}
	w, err := newPartWriter(filepath.Join(s.dir, partitionsDir, q.ref.Partition), q.ref.Partition, s.newPartName(), s.menc, s.opts.BlockRecords, nil)
	if err != nil {
		return r, fmt.Errorf("salvage %s: %w", id, err)
	}
	w.level = s.levelOf(s.menc)
	for {
		ok, err := it.next()
		if err == nil && ok {
			err = w.add(&it.rec, it.shared, it.key())
		}
		if err == nil && r.RecordsKept%4096 == 0 {
			err = ctx.Err()
		}
		if err != nil {
			w.abort()
			return r, fmt.Errorf("salvage %s: %w", id, err)
		}
		if !ok {
			break
		}
		r.RecordsKept++
	}
	var np *part
	if r.RecordsKept > 0 {
		if np, err = s.finishPart(ctx, w); err != nil {
			return r, fmt.Errorf("salvage %s: %w", id, err)
		}
		r.Output = np.ref().id()
	} else {
		w.abort()
	}
	r.BlocksKept, r.BlocksLost, r.Errors = loss.keptBlocks, loss.blocks, loss.errs
	// The manifest's count is what the history says the part held.
	r.RecordsLost = max(q.ref.Records-r.RecordsKept, 0)
	r.Damaged = filepath.Join(quarantineDir, filepath.Base(path)+damagedExt)

	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	s.mu.RLock()
	_, still := s.quarantined[id]
	s.mu.RUnlock()
	if !still {
		// An operator dropped or restored it while it was being read.
		if np != nil {
			np.decRef()
			s.removeFiles([]partRef{np.ref()})
		}
		r.Err = errors.New("dropped or restored while being salvaged; nothing done")
		return r, nil
	}
	e := &manifestEntry{Op: opSalvage, Removed: []partRef{q.ref}, Watermark: s.man.state.watermark,
		Reason: "salvage: " + strings.TrimPrefix(r.String(), "part ") + "; quarantined for: " + q.cause}
	if np != nil {
		e.Added = []partRef{np.ref()}
	}
	if err := s.man.commit(e); err != nil {
		if np != nil {
			np.decRef()
			s.removeFiles([]partRef{np.ref()})
		}
		return r, fmt.Errorf("salvage %s: %w", id, err)
	}
	s.mu.Lock()
	delete(s.quarantined, id)
	if np != nil {
		s.addPartLocked(np)
	}
	s.mu.Unlock()
	if err := os.Rename(path, path+damagedExt); err != nil {
		s.log.Warn("keep salvaged part's damaged file aside", "part", id, "err", err)
	}
	_ = os.Remove(path + causeExt)
	_ = durable.SyncDir(filepath.Dir(path))
	s.log.Warn("damaged part salvaged", "part", id, "output", r.Output, "records_kept", r.RecordsKept,
		"records_lost", r.RecordsLost, "blocks_lost", r.BlocksLost)
	return r, nil
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
