package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"time"
)

// Manifest operations.
const (
	opAdd   = "add"
	opMerge = "merge"
	opDrop  = "drop"
)

const (
	manifestName  = "manifest.log"
	partitionsDir = "partitions"
	quarantineDir = "quarantine"
	partExt       = ".part"
	tmpExt        = ".tmp"
)

var partNameRe = regexp.MustCompile(`^[0-9a-f]{16}$`)

// partRef names a part and pins its content, as the manifest records it.
type partRef struct {
	Partition string `json:"partition"`
	Name      string `json:"name"`
	Records   int64  `json:"records"`
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256"`
}

func (r partRef) id() string { return r.Partition + "/" + r.Name }

// manifestEntry is one line of the manifest. Hash is sha256(prev hash bytes
// || JSON of the entry with Hash empty), hex-encoded.
type manifestEntry struct {
	Seq       uint64    `json:"seq"`
	Time      string    `json:"time"`
	Op        string    `json:"op"`
	Added     []partRef `json:"added,omitempty"`
	Removed   []partRef `json:"removed,omitempty"`
	Reason    string    `json:"reason"`
	Watermark uint64    `json:"watermark"`
	Prev      string    `json:"prev"`
	Hash      string    `json:"hash,omitempty"`
}

func (e *manifestEntry) computeHash() (string, error) {
	c := *e
	c.Hash = ""
	body, err := json.Marshal(&c)
	if err != nil {
		return "", fmt.Errorf("encode manifest entry: %w", err)
	}
	prev, err := hex.DecodeString(e.Prev)
	if err != nil {
		return "", fmt.Errorf("%w: bad prev hash in manifest entry %d", errCorrupt, e.Seq)
	}
	h := sha256.New()
	h.Write(prev)
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// manifestState is what replaying the manifest yields.
type manifestState struct {
	seq       uint64
	hash      string
	watermark uint64
	live      map[string]partRef // by partRef.id()
	maxName   string
}

func newManifestState() *manifestState {
	return &manifestState{live: make(map[string]partRef)}
}

// validate checks the names in an entry, which become file paths.
func (e *manifestEntry) validate() error {
	switch e.Op {
	case opAdd, opMerge, opDrop:
	default:
		return fmt.Errorf("%w: unknown manifest op %q", errCorrupt, e.Op)
	}
	for _, refs := range [][]partRef{e.Added, e.Removed} {
		for _, r := range refs {
			if !partitionRe.MatchString(r.Partition) || !partNameRe.MatchString(r.Name) {
				return fmt.Errorf("%w: bad part name %q/%q in manifest entry %d", errCorrupt, r.Partition, r.Name, e.Seq)
			}
		}
	}
	return nil
}

// apply updates the state with a checked entry.
func (s *manifestState) apply(e *manifestEntry) {
	for _, r := range e.Removed {
		delete(s.live, r.id())
	}
	for _, r := range e.Added {
		s.live[r.id()] = r
		s.maxName = max(s.maxName, r.Name)
	}
	s.seq = e.Seq
	s.hash = e.Hash
	s.watermark = e.Watermark
}

// manifestLine is one parsed line and what is wrong with it, if anything.
type manifestLine struct {
	entry manifestEntry
	end   int64 // offset just past the line's newline
	err   error
	torn  bool // the last line, without its newline
}

// parseManifest splits data into lines and checks each line's hash chain
// link against the line before it.
func parseManifest(data []byte) []manifestLine {
	var lines []manifestLine
	prevHash := ""
	prevSeq := uint64(0)
	off := int64(0)
	for len(data) > 0 {
		var l manifestLine
		i := bytes.IndexByte(data, '\n')
		raw := data
		if i < 0 {
			l.torn = true
			l.end = off + int64(len(data))
			data = nil
		} else {
			raw = data[:i]
			l.end = off + int64(i) + 1
			data = data[i+1:]
		}
		off = l.end
		l.err = checkLine(raw, &l.entry, prevHash, prevSeq)
		if l.err == nil || l.entry.Hash != "" {
			prevHash, prevSeq = l.entry.Hash, l.entry.Seq
		}
		lines = append(lines, l)
	}
	return lines
}

func checkLine(raw []byte, e *manifestEntry, prevHash string, prevSeq uint64) error {
	if err := json.Unmarshal(raw, e); err != nil {
		return fmt.Errorf("%w: manifest line after seq %d is not an entry: %v", errCorrupt, prevSeq, err)
	}
	if err := e.validate(); err != nil {
		return err
	}
	want, err := e.computeHash()
	if err != nil {
		return err
	}
	switch {
	case want != e.Hash:
		return fmt.Errorf("%w: manifest entry %d does not match its hash", errCorrupt, e.Seq)
	case e.Seq != prevSeq+1:
		return fmt.Errorf("%w: manifest entry %d follows entry %d", errCorrupt, e.Seq, prevSeq)
	case e.Prev != prevHash:
		return fmt.Errorf("%w: manifest entry %d does not chain to entry %d", errCorrupt, e.Seq, prevSeq)
	}
	return nil
}

// manifest is the open manifest file of a store; commits are serialised by
// the store's commit lock.
type manifest struct {
	f      *os.File
	size   int64
	state  *manifestState
	broken error // set when a failed write could not be undone
}

// commit appends e (filling Seq, Prev, Time and Hash), syncs it and applies
// it to the state. A failed write is truncated away so that the manifest
// never holds a partial line in its middle.
func (m *manifest) commit(e *manifestEntry) error {
	if m.broken != nil {
		return fmt.Errorf("manifest unusable after an earlier failure: %w", m.broken)
	}
	e.Seq = m.state.seq + 1
	e.Prev = m.state.hash
	e.Time = time.Now().UTC().Format(time.RFC3339Nano)
	h, err := e.computeHash()
	if err != nil {
		return err
	}
	e.Hash = h
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode manifest entry: %w", err)
	}
	line = append(line, '\n')
	_, err = m.f.WriteAt(line, m.size)
	if err == nil {
		err = m.f.Sync()
	}
	if err != nil {
		if terr := m.f.Truncate(m.size); terr != nil {
			m.broken = errors.Join(err, terr)
		}
		return fmt.Errorf("append manifest entry %d: %w", e.Seq, err)
	}
	m.size += int64(len(line))
	m.state.apply(e)
	return nil
}
