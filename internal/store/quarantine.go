package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sluice-log/sluice/internal/durable"
)

// A part is quarantined when its bytes cannot be trusted: on open, when its
// size or sha256 differs from the manifest's; while serving, when a block
// fails its checksum or does not decode. Either way the part stays live in
// the manifest (its history is intact; only its file is bad), its file moves
// to dir/quarantine for an operator to inspect, and the rest of the store
// keeps serving. `sluice verify` reports the part as missing from then on.
//
// Until an operator drops the part (DropQuarantined: a manifest 'drop'
// entry, its records are gone for good), restores a good copy of it
// (RestoreQuarantined) or salvages its readable blocks (Salvage), every
// search whose tenant and time range cover its
// partition reports it in SearchStats.Skipped, so that no answer that may
// lack its records looks complete.

// quarantinedPart is a part live in the manifest but not served, and why.
type quarantinedPart struct {
	ref   partRef
	cause string
}

// QuarantinedPart describes a quarantined part for operators.
type QuarantinedPart struct {
	ID        string `json:"part"` // partition/name
	Partition string `json:"partition"`
	Name      string `json:"name"`
	Records   int64  `json:"records"`
	Cause     string `json:"error"`
}

// SkippedPart is a part that a search could not read, so that its answer
// may lack records: quarantined before the search began, or found damaged
// while it ran.
type SkippedPart struct {
	Partition string
	Name      string
	Err       string
}

// quarantinedPath is where a quarantined part's file lies.
func (s *Store) quarantinedPath(ref partRef) string {
	return filepath.Join(s.dir, quarantineDir, ref.Partition+"-"+ref.Name+partExt)
}

// causeExt names the file beside a quarantined part's that holds why it
// was quarantined, so that a later start reports the cause rather than
// only that the part's file is no longer in its partition.
const causeExt = ".cause"

// quarantine moves the part file at path to the quarantine directory,
// with the cause beside it.
func (s *Store) quarantine(path string, ref partRef, cause string) {
	qdir := filepath.Join(s.dir, quarantineDir)
	if err := mkdirIn(qdir); err != nil {
		s.log.Error("create quarantine dir", "path", qdir, "err", err)
		return
	}
	if _, err := os.Stat(path); err != nil {
		return // nothing to move (a missing part), nor a cause to keep
	}
	if err := os.WriteFile(s.quarantinedPath(ref)+causeExt, []byte(cause), 0o644); err != nil {
		s.log.Warn("keep a quarantined part's cause", "part", ref.id(), "err", err)
	}
	if err := os.Rename(path, s.quarantinedPath(ref)); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.log.Error("move part to quarantine", "part", ref.id(), "err", err)
		}
		return
	}
	_ = durable.SyncDir(qdir)
	_ = durable.SyncDir(filepath.Dir(path))
}

// quarantinedBefore returns the cause of a part that an earlier run
// quarantined, when its file is in the quarantine directory.
func (s *Store) quarantinedBefore(ref partRef) (string, bool) {
	qpath := s.quarantinedPath(ref)
	if _, err := os.Stat(qpath); err != nil {
		return "", false
	}
	cause, err := os.ReadFile(qpath + causeExt)
	if err != nil || len(cause) == 0 {
		return "quarantined by an earlier run (its file is in " + quarantineDir + "/)", true
	}
	return string(cause), true
}

// quarantineServed takes p out of service after a read found it corrupt
// (cause). Searches that hold p keep their reference and finish; new ones
// no longer see it. It reports whether this call quarantined p (false when
// another search or a merge already had).
func (s *Store) quarantineServed(p *part, cause error) bool {
	// commitMu keeps a merge or retention from committing a change to p's
	// partition in between, which could otherwise resurrect or double-drop it.
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	p.quarantined.Store(true)
	s.mu.Lock()
	if s.parts[p.partition][p.name] != p {
		s.mu.Unlock()
		return false
	}
	delete(s.parts[p.partition], p.name)
	if len(s.parts[p.partition]) == 0 {
		delete(s.parts, p.partition)
	}
	ref := p.ref()
	ref.MinTime, ref.MaxTime = p.minTime, p.maxTime
	s.quarantined[ref.id()] = quarantinedPart{ref: ref, cause: cause.Error()}
	s.mu.Unlock()
	s.log.Error("part failed a read check, quarantined; the rest of the store keeps serving",
		"part", ref.id(), "err", cause)
	s.quarantine(s.partPath(ref), ref, cause.Error())
	p.decRef() // the store's reference
	return true
}

// Quarantined lists the parts (partition/name) that are live in the
// manifest but not served because their files failed a check.
func (s *Store) Quarantined() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids := make([]string, 0, len(s.quarantined))
	for id := range s.quarantined {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// QuarantinedParts describes the quarantined parts, sorted by ID.
func (s *Store) QuarantinedParts() []QuarantinedPart {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]QuarantinedPart, 0, len(s.quarantined))
	for id, q := range s.quarantined {
		out = append(out, QuarantinedPart{ID: id, Partition: q.ref.Partition, Name: q.ref.Name, Records: q.ref.Records, Cause: q.cause})
	}
	slices.SortFunc(out, func(a, b QuarantinedPart) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// quarantinedInLocked adds to v the quarantined parts that the search of
// req covers: its tenant's, within its time range (the part's own, or its
// partition's when the manifest entry predates part time ranges). The
// caller holds mu.
func (s *Store) quarantinedInLocked(req *SearchRequest, v *view) {
	suffix := tenantSuffix(req.Tenant)
	for _, q := range s.quarantined {
		if partitionSuffix(q.ref.Partition) != suffix {
			continue
		}
		start, end, ok := partitionBounds(q.ref.Partition)
		if q.ref.MaxTime != 0 {
			start, end, ok = q.ref.MinTime, q.ref.MaxTime+1, true
		}
		if ok && (end <= req.From || req.To != 0 && start >= req.To) {
			continue
		}
		v.unread = append(v.unread, SkippedPart{Partition: q.ref.Partition, Name: q.ref.Name, Err: "quarantined: " + q.cause})
	}
}

// ErrNotQuarantined is returned for a part that is not quarantined.
var ErrNotQuarantined = errors.New("no such quarantined part")

// quarantinedLookup finds quarantined part id for an operator's action.
func (s *Store) quarantinedLookup(action, id string) (quarantinedPart, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	q, ok := s.quarantined[id]
	if !ok {
		return q, fmt.Errorf("%s %s: %w", action, id, ErrNotQuarantined)
	}
	return q, nil
}

// DropQuarantined gives up a quarantined part (id is partition/name): one
// manifest 'drop' entry records that its records are gone, and its file is
// deleted from quarantine/. Searches no longer report it as skipped.
func (s *Store) DropQuarantined(id string) error {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	q, err := s.quarantinedLookup("drop", id)
	if err != nil {
		return err
	}
	e := &manifestEntry{Op: opDrop, Removed: []partRef{q.ref}, Watermark: s.man.state.watermark,
		Reason: fmt.Sprintf("operator dropped quarantined part %s (%d records): %s", id, q.ref.Records, q.cause)}
	if err := s.man.commit(e); err != nil {
		return fmt.Errorf("drop quarantined part %s: %w", id, err)
	}
	s.mu.Lock()
	delete(s.quarantined, id)
	s.mu.Unlock()
	if err := os.Remove(s.quarantinedPath(q.ref)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.Warn("remove dropped quarantined part", "part", id, "err", err)
	}
	_ = os.Remove(s.quarantinedPath(q.ref) + causeExt)
	s.log.Warn("quarantined part dropped by an operator", "part", id, "records", q.ref.Records)
	return nil
}

// RestoreQuarantined serves a quarantined part again (id is
// partition/name) once the file in quarantine/ (the one that failed, or a
// good copy put in its place) matches the manifest's size and sha256 in
// full; it is then moved back into its partition.
func (s *Store) RestoreQuarantined(id string) error {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	q, err := s.quarantinedLookup("restore", id)
	if err != nil {
		return err
	}
	src := s.quarantinedPath(q.ref)
	if err := checkPartFile(src, q.ref, s.dec); err != nil {
		return fmt.Errorf("restore %s: the file in quarantine does not match the manifest (put a good copy at %s): %w", id, src, err)
	}
	dst := s.partPath(q.ref)
	if err := mkdirDurable(filepath.Dir(dst)); err != nil {
		return fmt.Errorf("restore %s: %w", id, err)
	}
	if err := os.Rename(src, dst); err != nil {
		return fmt.Errorf("restore %s: %w", id, err)
	}
	_ = os.Remove(src + causeExt)
	p := newPart(q.ref, dst, s.pio)
	p.verified.Store(true) // checked in full above
	_ = durable.SyncDir(filepath.Dir(dst))
	_ = durable.SyncDir(filepath.Dir(src))
	s.mu.Lock()
	delete(s.quarantined, id)
	s.addPartLocked(p)
	s.mu.Unlock()
	s.log.Info("quarantined part restored", "part", id, "records", q.ref.Records)
	return nil
}
