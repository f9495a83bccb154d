package store

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// A part is quarantined when its bytes cannot be trusted: on open, when its
// size or sha256 differs from the manifest's; while serving, when a block
// fails its checksum or does not decode. Either way the part stays live in
// the manifest (its history is intact; only its file is bad), its file moves
// to dir/quarantine for an operator to inspect, and the rest of the store
// keeps serving. `sluice verify` reports the part as missing from then on.

// quarantine moves the part file at path to the quarantine directory.
func (s *Store) quarantine(path string, ref partRef) {
	qdir := filepath.Join(s.dir, quarantineDir)
	if err := os.MkdirAll(qdir, 0o755); err != nil {
		s.log.Error("create quarantine dir", "path", qdir, "err", err)
		return
	}
	dst := filepath.Join(qdir, ref.Partition+"-"+ref.Name+partExt)
	if err := os.Rename(path, dst); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.log.Error("move part to quarantine", "part", ref.id(), "err", err)
		}
		return
	}
	_ = syncDir(qdir)
	_ = syncDir(filepath.Dir(path))
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
	s.quarantined[ref.id()] = ref
	s.mu.Unlock()
	s.log.Error("part failed a read check, quarantined; the rest of the store keeps serving",
		"part", ref.id(), "err", cause)
	s.quarantine(s.partPath(ref), ref)
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
