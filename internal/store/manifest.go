package store

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sluice-log/sluice/internal/durable"
)

// Manifest operations.
const (
	opAdd   = "add"
	opMerge = "merge"
	opDrop  = "drop"
	// opCheckpoint carries the whole live set, so that replay can start
	// from it (see manifest.checkpoint).
	opCheckpoint = "checkpoint"
)

const (
	manifestName = "manifest.log"
	// archiveDir holds the manifest's history before its last checkpoint,
	// one segment per checkpoint, which Verify walks and Open never reads.
	archiveDir    = "manifest.archive"
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
	// MinTime and MaxTime bound the part's records (Unix nanoseconds), so
	// that a search can skip the part without opening it. Entries written
	// before they existed lack them (zero): the part's partition bounds
	// them then.
	MinTime int64 `json:"min_time,omitempty"`
	MaxTime int64 `json:"max_time,omitempty"`
	// Level is the zstd level its writer compressed the part's columns
	// at (Options.ZstdLevel or MergeZstdLevel), so that a merge at that
	// level keeps the stored bytes of the blocks it copies from the part
	// (partIter.copyTo), also after a restart. 0 (omitted) is unknown:
	// an entry written before the field existed.
	Level int `json:"level,omitempty"`
}

func (r partRef) id() string { return r.Partition + "/" + r.Name }

// manifestEntry is one line of the manifest. Hash is sha256(prev hash bytes
// || JSON of the entry with Hash empty), hex-encoded.
type manifestEntry struct {
	Seq     uint64    `json:"seq"`
	Time    string    `json:"time"`
	Op      string    `json:"op"`
	Added   []partRef `json:"added,omitempty"`
	Removed []partRef `json:"removed,omitempty"`
	// Live and MaxName are a checkpoint's: every live part, sorted by
	// partition and name, and the greatest part name allocated so far.
	Live      []partRef `json:"live,omitempty"`
	MaxName   string    `json:"max_name,omitempty"`
	Reason    string    `json:"reason"`
	Watermark uint64    `json:"watermark"`
	Prev      string    `json:"prev"`
	Hash      string    `json:"hash,omitempty"`
	// Sig is the ed25519 signature of the entry's hash (see signEntry),
	// base64; empty when the store has no signing key.
	Sig string `json:"sig,omitempty"`
}

func (e *manifestEntry) computeHash() (string, error) {
	c := *e
	c.Hash, c.Sig = "", ""
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
	case opAdd, opMerge, opDrop, opCheckpoint, opSalvage:
	default:
		return fmt.Errorf("%w: unknown manifest op %q", errCorrupt, e.Op)
	}
	if e.MaxName != "" && !partNameRe.MatchString(e.MaxName) {
		return fmt.Errorf("%w: bad part name %q in manifest entry %d", errCorrupt, e.MaxName, e.Seq)
	}
	for _, refs := range [][]partRef{e.Added, e.Removed, e.Live} {
		for _, r := range refs {
			if !partitionRe.MatchString(r.Partition) || !partNameRe.MatchString(r.Name) {
				return fmt.Errorf("%w: bad part name %q/%q in manifest entry %d", errCorrupt, r.Partition, r.Name, e.Seq)
			}
		}
	}
	return nil
}

// apply updates the state with a checked entry. A checkpoint replaces the
// live set by its own.
func (s *manifestState) apply(e *manifestEntry) {
	if e.Op == opCheckpoint {
		clear(s.live)
		for _, r := range e.Live {
			s.live[r.id()] = r
		}
		s.maxName = max(s.maxName, e.MaxName)
	}
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

// sortedLive returns the live parts sorted by partition and name.
func (s *manifestState) sortedLive() []partRef {
	return slices.SortedFunc(maps.Values(s.live), func(a, b partRef) int { return strings.Compare(a.id(), b.id()) })
}

// sameLive reports whether refs is exactly the live set.
func (s *manifestState) sameLive(refs []partRef) bool {
	if len(refs) != len(s.live) {
		return false
	}
	for _, r := range refs {
		if s.live[r.id()] != r {
			return false
		}
	}
	return true
}

// parseManifest splits the data of manifest.log into lines and checks
// each line's hash chain link against the line before it. A first line
// that is a checkpoint starts the chain (the history before it is in the
// archive, which Verify checks).
func parseManifest(data []byte) []manifestLine {
	var first manifestEntry
	line, _, _ := bytes.Cut(data, []byte("\n"))
	if json.Unmarshal(line, &first) == nil && first.Op == opCheckpoint && first.Seq > 0 {
		return parseManifestFrom(data, first.Prev, first.Seq-1)
	}
	return parseManifestFrom(data, "", 0)
}

// parseManifestFrom is parseManifest for data whose first entry follows
// entry prevSeq of hash prevHash.
func parseManifestFrom(data []byte, prevHash string, prevSeq uint64) []manifestLine {
	var lines []manifestLine
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

// manifestDomain prefixes what an entry's signature covers, so that it can
// stand for nothing but a manifest entry.
const manifestDomain = "sluice manifest entry v1\x00"

// signEntry sets e.Sig: the signature of manifestDomain and the entry's
// hash bytes, which cover the entry and, through Prev, all before it.
func signEntry(e *manifestEntry, key ed25519.PrivateKey) {
	h, _ := hex.DecodeString(e.Hash)
	e.Sig = base64.StdEncoding.EncodeToString(ed25519.Sign(key, append([]byte(manifestDomain), h...)))
}

// errUnsigned is wrapped by errors about an entry whose signature is
// missing or does not verify.
var errUnsigned = errors.New("manifest entry not signed with the key")

// ErrRemoved is wrapped by the error of a flush, merge or other commit that
// found the store's manifest file or a directory it writes into removed
// while the store is open (an rm -rf of the data directory under a running
// server): nothing is committed then, nor after, until a restart.
var ErrRemoved = errors.New("removed from under the server")

// checkEntrySig checks e's signature with pub. Unsigned entries pass while
// signedSince is 0 (history from before signing was turned on); once an
// entry was signed, every later one must be.
func checkEntrySig(e *manifestEntry, pub ed25519.PublicKey, signedSince uint64) error {
	if e.Sig == "" {
		if signedSince == 0 {
			return nil
		}
		return fmt.Errorf("%w: entry %d is not signed, although entries are signed since entry %d", errUnsigned, e.Seq, signedSince)
	}
	sig, err := base64.StdEncoding.DecodeString(e.Sig)
	h, herr := hex.DecodeString(e.Hash)
	if err != nil || herr != nil || !ed25519.Verify(pub, append([]byte(manifestDomain), h...), sig) {
		return fmt.Errorf("%w: the signature of entry %d does not verify with the public key", errUnsigned, e.Seq)
	}
	return nil
}

// manifest is the open manifest file of a store; commits are serialised by
// the store's commit lock.
type manifest struct {
	dir    string
	f      *os.File
	size   int64
	state  *manifestState
	broken error // set when a failed write could not be undone
	log    *slog.Logger
	// entries counts the entries in manifest.log, the first of which,
	// firstSeq, is entry 1 or a checkpoint; lastOp is the last one's op.
	entries  int
	firstSeq uint64
	lastOp   string
	// checkpointEvery is how many entries manifest.log may hold before a
	// commit checkpoints it; replayed is how many Open replayed.
	checkpointEvery int
	replayed        int
	// key signs every entry appended (nil: unsigned); head is the last
	// entry, for readers that do not hold the commit lock.
	key  ed25519.PrivateKey
	head atomic.Pointer[Anchor]
}

// commit appends e (filling Seq, Prev, Time and Hash), syncs it and applies
// it to the state, then checkpoints the manifest when it has grown to
// checkpointEvery entries. A failed write is truncated away so that the
// manifest never holds a partial line in its middle; a failed checkpoint
// is logged and does not fail the commit, which is durable by then.
func (m *manifest) commit(e *manifestEntry) error {
	if err := m.append(e); err != nil {
		return err
	}
	if m.entries > m.checkpointEvery {
		if err := m.checkpoint(); err != nil {
			m.log.Warn("manifest checkpoint failed; the manifest keeps growing until one succeeds", "err", err)
		}
	}
	return nil
}

// append appends and syncs e and applies it to the state.
func (m *manifest) append(e *manifestEntry) error {
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
	if m.key != nil {
		signEntry(e, m.key)
	}
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode manifest entry: %w", err)
	}
	line = append(line, '\n')
	_, err = m.f.WriteAt(line, m.size)
	if err == nil {
		err = m.f.Sync()
	}
	if err == nil {
		// One fstat per commit: a manifest removed while open takes the
		// entry and its fsync like any file, but keeps nothing of it.
		var gone bool
		if gone, err = durable.Unlinked(m.f); err == nil && gone {
			m.broken = fmt.Errorf("the store's manifest %s was %w: restart the server", filepath.Join(m.dir, manifestName), ErrRemoved)
			m.log.Error("store: the manifest was removed from under the store; refusing commits until restarted", "err", m.broken.Error())
			return fmt.Errorf("append manifest entry %d: %w", e.Seq, m.broken)
		}
	}
	if err != nil {
		if terr := m.f.Truncate(m.size); terr != nil {
			m.broken = errors.Join(err, terr)
		}
		return fmt.Errorf("append manifest entry %d: %w", e.Seq, err)
	}
	m.size += int64(len(line))
	if m.entries == 0 {
		m.firstSeq = e.Seq
	}
	m.entries++
	m.lastOp = e.Op
	m.state.apply(e)
	m.head.Store(&Anchor{Seq: e.Seq, Hash: e.Hash})
	m.log.Info("manifest entry committed", "op", e.Op, "seq", e.Seq, "head", e.Hash, "signed", e.Sig != "")
	return nil
}

// checkpoint moves the manifest's history into the archive and restarts
// manifest.log from a checkpoint entry that carries the live set, so that
// Open replays at most checkpointEvery entries however long the history:
//
//  1. append a checkpoint entry to manifest.log (unless its last entry is
//     one, left by a checkpoint that a crash interrupted);
//  2. copy manifest.log, ending with that entry, to
//     manifest.archive/<its first seq>.log (temporary file, fsync, rename,
//     fsync the directory; a segment left by an interrupted checkpoint
//     with the same first entry is a prefix of this one and is replaced);
//  3. write the checkpoint line alone as manifest.log the same way.
//
// A crash anywhere leaves a manifest.log that replays to the same state:
// the whole history ending in the checkpoint, or the checkpoint alone.
// The archived segment ends with the very entry the next one starts
// with, which is how Verify chains the segments.
func (m *manifest) checkpoint() error {
	if m.lastOp != opCheckpoint {
		e := &manifestEntry{Op: opCheckpoint, Live: m.state.sortedLive(), MaxName: m.state.maxName,
			Watermark: m.state.watermark,
			Reason:    fmt.Sprintf("checkpoint: entries %d to %d archived", m.firstSeq, m.state.seq)}
		if err := m.append(e); err != nil {
			return err
		}
	}
	data := make([]byte, m.size)
	if _, err := m.f.ReadAt(data, 0); err != nil {
		return fmt.Errorf("read manifest for its checkpoint: %w", err)
	}
	last := data[bytes.LastIndexByte(data[:len(data)-1], '\n')+1:]
	adir := filepath.Join(m.dir, archiveDir)
	if err := mkdirDurable(adir); err != nil {
		return err
	}
	if err := writeFileDurable(filepath.Join(adir, fmt.Sprintf("%020d.log", m.firstSeq)), data); err != nil {
		return fmt.Errorf("archive manifest entries %d to %d: %w", m.firstSeq, m.state.seq, err)
	}
	f, err := writeFileDurableOpen(filepath.Join(m.dir, manifestName), last)
	if f != nil {
		// manifest.log is the new file now, whether or not err says that
		// its directory entry is durable.
		_ = m.f.Close()
		m.f, m.size, m.entries, m.firstSeq = f, int64(len(last)), 1, m.state.seq
	}
	if err != nil {
		if f != nil {
			// The rename may not survive a crash, and the entries appended
			// to the new file would then be lost: stop committing.
			m.broken = err
		}
		return fmt.Errorf("restart manifest from checkpoint %d: %w", m.state.seq, err)
	}
	m.log.Info("manifest checkpointed", "seq", m.state.seq, "live_parts", len(m.state.live))
	return nil
}

// writeFileDurable writes data to path atomically: a temporary file,
// fsync, rename, fsync of the directory.
func writeFileDurable(path string, data []byte) error {
	f, err := writeFileDurableOpen(path, data)
	if f != nil {
		_ = f.Close()
	}
	return err
}

// writeFileDurableOpen is writeFileDurable that returns the file, open for
// reading and writing, once it has been renamed to path (also when only
// the directory's fsync failed).
func writeFileDurableOpen(path string, data []byte) (*os.File, error) {
	tmp := path + tmpExt
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", tmp, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = f.Close()
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return f, durable.SyncDir(filepath.Dir(path))
}
