package wal

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/sluice-log/sluice/internal/record"
)

// Control entry kinds, the first byte of a control entry's payload.
const (
	ctlHeader = 1 // a segment's first entry: its format version and flags
	ctlCommit = 2 // ends a batch: the seqs it holds, and its signature
	ctlGap    = 3 // seqs lost to damage, written by Repair
	// ctlShared (format 3) precedes the records of one tenant in a batch:
	// their tenant and the fields they all share, stored once.
	ctlShared = 4
)

const (
	// formatVersion is the format new segments are written in. Format 2
	// stored every record whole (its tenant and every field); format 3
	// stores a record relative to the shared entry before it. Both are
	// read.
	formatVersion  = 3
	formatWholeRec = 2
	flagSigned     = 1 // the segment's batches carry signatures
)

// Domain separation of what is signed, so that a WAL signature can never
// stand for a manifest's or a witness's.
const (
	commitDomain = "sluice wal batch v1\x00"
	gapDomain    = "sluice wal gap v1\x00"
)

// ErrSignature is wrapped by errors about a batch whose signature is
// missing or does not verify with the log's key: records added to the log
// outside Sluice, or written before signing was turned on.
var ErrSignature = errors.New("wal: batch signature missing or invalid")

func headerPayload(version byte, signed bool) []byte {
	var flags byte
	if signed {
		flags |= flagSigned
	}
	return []byte{ctlHeader, version, flags}
}

// commitMessage is what a batch's signature covers: its seqs and the
// sha256 of its record entries, byte for byte.
func commitMessage(domain string, first, last uint64, digest []byte) []byte {
	m := append([]byte(domain), make([]byte, 16)...)
	binary.BigEndian.PutUint64(m[len(domain):], first)
	binary.BigEndian.PutUint64(m[len(domain)+8:], last)
	return append(m, digest...)
}

// rangePayload encodes a commit or gap entry for seqs first..last, signed
// with key when it is set (digest is the batch's record digest; nil for a
// gap).
func rangePayload(kind byte, first, last uint64, digest []byte, key ed25519.PrivateKey) []byte {
	p := []byte{kind}
	p = binary.AppendUvarint(p, first)
	p = binary.AppendUvarint(p, last)
	if key == nil {
		return append(p, 0)
	}
	domain := commitDomain
	if kind == ctlGap {
		domain = gapDomain
	}
	sig := ed25519.Sign(key, commitMessage(domain, first, last, digest))
	p = append(p, byte(len(sig)))
	return append(p, sig...)
}

type rangeEntry struct {
	kind        byte
	first, last uint64
	sig         []byte
}

func parseRange(p []byte) (rangeEntry, error) {
	r := rangeEntry{kind: p[0]}
	p = p[1:]
	var k int
	if r.first, k = binary.Uvarint(p); k <= 0 {
		return r, fmt.Errorf("%w: bad first seq in a control entry", ErrCorrupt)
	}
	p = p[k:]
	if r.last, k = binary.Uvarint(p); k <= 0 || r.last < r.first {
		return r, fmt.Errorf("%w: bad last seq in a control entry", ErrCorrupt)
	}
	p = p[k:]
	if len(p) == 0 || int(p[0]) != len(p)-1 || (p[0] != 0 && p[0] != ed25519.SignatureSize) {
		return r, fmt.Errorf("%w: bad signature field in a control entry", ErrCorrupt)
	}
	r.sig = p[1:]
	return r, nil
}

// scan is what reading one segment found.
type scan struct {
	legacy  bool   // no header: the first format, every record stands alone
	version byte   // the header's format version; 0 if legacy
	hdr     int64  // bytes of the header entry
	next    uint64 // the seq the next record must have
	records uint64 // records in committed batches (all good ones if legacy)
	lastSeq uint64 // the last of them; 0 if none
	end     int64  // offset just past the last committed batch
	// pending counts complete record entries after end that no commit
	// covers: a batch whose write was cut short, or records added from
	// outside; pendingFirst is the first one's seq.
	pending      int
	pendingFirst uint64
	// shared is set once the batch under way has a shared entry, which
	// the records of format 3 are encoded against; unshared once one of
	// its records came before any, which its commit must not cover (left
	// without a commit, it is dropped like any uncommitted tail).
	shared, unshared bool
	sh               record.Shared
	// err says why the scan stopped before the end of the segment (nil at
	// a clean end), at byte offset errOff. It wraps ErrCorrupt, or
	// ErrSignature for a batch that is not signed with the key.
	err    error
	errOff int64
}

// torn reports whether the scan stopped at damage that a write cut short
// by a crash can leave: an entry that does not read whole or whose
// checksum fails. A wrong seq or signature is never torn.
func (s *scan) torn() bool {
	var f *fatalError
	return s.err != nil && !errors.As(s.err, &f)
}

// fatalError marks a scan error that no crash can explain.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }

func fatalf(format string, args ...any) error { return &fatalError{fmt.Errorf(format, args...)} }

// scanSegment reads the segment in r (size bytes, named by its first seq)
// and checks its batches: every record's seq, every commit against the
// records it closes, and, with pub set, every commit's signature.
func scanSegment(r io.Reader, size int64, first uint64, pub ed25519.PublicKey) scan {
	s := scan{next: first}
	er := newEntryReader(r, size)
	var digest hash.Hash
	if pub != nil {
		digest = sha256.New()
		er.onBatch = func(hdr, payload []byte) {
			digest.Write(hdr)
			digest.Write(payload)
		}
	}
	for i := 0; ; i++ {
		off := er.off
		e, err := er.next()
		if err == io.EOF {
			return s
		}
		if err == nil {
			err = s.take(i, e, off, er.off, pub, digest)
		}
		if err != nil {
			s.err, s.errOff = err, off
			return s
		}
	}
}

// take checks entry i, read from [off, end), and advances the scan.
func (s *scan) take(i int, e entry, off, end int64, pub ed25519.PublicKey, digest hash.Hash) error {
	if i == 0 {
		if !e.control {
			s.legacy = true
			if pub != nil {
				return fatalf("%w: the segment was written before batches were signed", ErrSignature)
			}
		} else if len(e.body) < 3 || e.body[0] != ctlHeader || (e.body[1] != formatVersion && e.body[1] != formatWholeRec) {
			return fatalf("%w: unknown segment header", ErrCorrupt)
		} else {
			s.version = e.body[1]
			s.hdr, s.end = end, end
			return nil
		}
	}
	if !e.control {
		if s.version >= formatVersion && !s.shared {
			s.unshared = true
		}
		if e.seq != s.next+uint64(s.pending) {
			return fatalf("%w: seq %d, want %d", ErrCorrupt, e.seq, s.next+uint64(s.pending))
		}
		if s.legacy {
			s.records++
			s.lastSeq, s.next, s.end = e.seq, e.seq+1, end
			return nil
		}
		if s.pending == 0 {
			s.pendingFirst = e.seq
		}
		s.pending++
		return nil
	}
	if !s.legacy && s.version >= formatVersion && len(e.body) > 0 && e.body[0] == ctlShared {
		if err := record.DecodeShared(e.body[1:], &s.sh); err != nil {
			return fatalf("%w: shared entry: %w", ErrCorrupt, err)
		}
		s.shared = true
		return nil
	}
	if s.legacy || len(e.body) == 0 || (e.body[0] != ctlCommit && e.body[0] != ctlGap) {
		return fatalf("%w: unexpected control entry", ErrCorrupt)
	}
	r, err := parseRange(e.body)
	if err != nil {
		return &fatalError{err}
	}
	var sum []byte
	switch r.kind {
	case ctlCommit:
		if s.pending == 0 || r.first != s.pendingFirst || r.last != s.next+uint64(s.pending)-1 {
			return fatalf("%w: commit of seqs %d to %d does not match the %d records before it", ErrCorrupt, r.first, r.last, s.pending)
		}
		if s.unshared {
			return fatalf("%w: the batch of seqs %d to %d has records before its shared entry", ErrCorrupt, r.first, r.last)
		}
		if digest != nil {
			sum = digest.Sum(nil)
			digest.Reset()
		}
	case ctlGap:
		if s.pending != 0 || s.shared || r.first != s.next {
			return fatalf("%w: gap of seqs %d to %d where seq %d is due", ErrCorrupt, r.first, r.last, s.next)
		}
	}
	if pub != nil {
		domain := commitDomain
		if r.kind == ctlGap {
			domain = gapDomain
		}
		if len(r.sig) == 0 {
			return fatalf("%w: seqs %d to %d are not signed", ErrSignature, r.first, r.last)
		}
		if !ed25519.Verify(pub, commitMessage(domain, r.first, r.last, sum), r.sig) {
			return fatalf("%w: the signature of seqs %d to %d does not verify", ErrSignature, r.first, r.last)
		}
	}
	if r.kind == ctlCommit {
		s.records += uint64(s.pending)
		s.lastSeq = r.last
	}
	s.pending, s.shared, s.unshared = 0, false, false
	s.next, s.end = r.last+1, end
	return nil
}
