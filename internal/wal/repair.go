package wal

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"

	"github.com/sluice-log/sluice/internal/durable"
)

// SegmentRepair says what Repair did to one segment.
type SegmentRepair struct {
	Segment      string
	Kept         int         // records rewritten
	Lost         [][2]uint64 // seq ranges lost (first, last), recorded as gap entries
	SkippedBytes int64       // bytes that did not read as entries
	Dropped      int         // readable records dropped: in a batch without a valid commit or signature
}

func (r SegmentRepair) String() string {
	return fmt.Sprintf("segment %s: %d records kept, %d readable records dropped (no valid commit or signature), %d unreadable bytes skipped, seqs lost: %v (the original is kept as %s.damaged)",
		r.Segment, r.Kept, r.Dropped, r.SkippedBytes, r.Lost, r.Segment)
}

// Repair rewrites every segment in dir that Open would refuse (damage in
// the middle of a segment, a batch whose commit or signature is wrong)
// from its readable records: the records of every batch whose commit (and,
// with key, signature) holds are kept, re-committed as batches signed with
// key, and every seq lost is recorded as a signed gap entry, so that the
// log opens and replays what was readable and the loss stays on record.
// The damaged file is kept beside it as <name>.damaged. The log must not
// be open.
func Repair(dir string, key ed25519.PrivateKey) ([]SegmentRepair, error) {
	var pub ed25519.PublicKey
	if key != nil {
		pub = key.Public().(ed25519.PublicKey)
	}
	firsts, err := listSegments(dir)
	if err != nil {
		return nil, err
	}
	var out []SegmentRepair
	for i, first := range firsts {
		path := filepath.Join(dir, segmentName(first))
		sc, err := scanPath(path, first, pub)
		if err != nil {
			return out, err
		}
		last := i == len(firsts)-1
		if sc.err == nil && (last || sc.pending == 0) || (last && sc.torn()) {
			continue // Open takes it as it is (a torn tail it truncates)
		}
		var next uint64 // the first seq of the next segment; 0 for the last
		if !last {
			next = firsts[i+1]
		}
		r, err := repairSegment(path, first, next, key, pub)
		if err != nil {
			return out, fmt.Errorf("repair %s: %w", path, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// repairSegment rewrites one segment; see Repair.
func repairSegment(path string, first, next uint64, key ed25519.PrivateKey, pub ed25519.PublicKey) (SegmentRepair, error) {
	r := SegmentRepair{Segment: filepath.Base(path)}
	data, err := os.ReadFile(path)
	if err != nil {
		return r, err
	}
	// A record of format 3 is rewritten after the shared entry it was
	// encoded against (shared: that entry's bytes; nil in older formats).
	type rec struct {
		seq    uint64
		entry  []byte
		shared []byte
	}
	var kept, pending []rec
	var batch [][]byte // the batch's record and shared entries, for its digest
	var shared []byte
	legacy := true
	version := byte(formatWholeRec)
	off := 0
	for off+headerSize <= len(data) {
		n := int(binary.LittleEndian.Uint32(data[off:]) &^ controlFlag)
		control := binary.LittleEndian.Uint32(data[off:])&controlFlag != 0
		end := off + headerSize + n
		if n == 0 || n > MaxEntrySize || end > len(data) || crc32.Checksum(data[off+headerSize:end], castagnoli) != binary.LittleEndian.Uint32(data[off+4:]) {
			off++ // resynchronise on the next offset that reads as an entry
			r.SkippedBytes++
			continue
		}
		payload := data[off+headerSize : end]
		entry := data[off:end]
		off = end
		if !control {
			seq, k := binary.Uvarint(payload)
			if k <= 0 {
				continue
			}
			if version >= formatVersion && shared == nil {
				continue // not decodable without its shared entry
			}
			pending = append(pending, rec{seq, entry, shared})
			batch = append(batch, entry)
			if legacy && pub == nil {
				kept, pending, batch = append(kept, pending...), nil, nil
			}
			continue
		}
		switch payload[0] {
		case ctlHeader:
			legacy = false
			if len(payload) >= 2 && (payload[1] == formatVersion || payload[1] == formatWholeRec) {
				version = payload[1]
			}
			r.Dropped += len(pending)
			pending, batch, shared = nil, nil, nil
		case ctlShared:
			version, shared = formatVersion, entry
			batch = append(batch, entry)
		case ctlCommit:
			cr, err := parseRange(payload)
			ok := err == nil && len(pending) > 0 && pending[0].seq == cr.first && pending[len(pending)-1].seq == cr.last &&
				cr.last-cr.first+1 == uint64(len(pending))
			if ok && pub != nil {
				h := sha256.New()
				for _, e := range batch {
					h.Write(e)
				}
				ok = len(cr.sig) > 0 && ed25519.Verify(pub, commitMessage(commitDomain, cr.first, cr.last, h.Sum(nil)), cr.sig)
			}
			if ok {
				kept = append(kept, pending...)
			} else {
				r.Dropped += len(pending)
			}
			pending, batch, shared = nil, nil, nil
		}
	}
	r.Dropped += len(pending)

	// Rewrite, in the segment's own format: runs of consecutive
	// increasing seqs become batches, the seqs between them gaps.
	out := appendControl(nil, headerPayload(version, key != nil))
	want := first
	lose := func(to uint64) {
		if to >= want {
			r.Lost = append(r.Lost, [2]uint64{want, to})
			out = appendControl(out, rangePayload(ctlGap, want, to, nil, key))
			want = to + 1
		}
	}
	for i := 0; i < len(kept); {
		if kept[i].seq < want {
			i++ // a duplicate or out of order: not replayable
			continue
		}
		lose(kept[i].seq - 1)
		j := i
		var batch, last []byte
		for j < len(kept) && kept[j].seq == want {
			if sh := kept[j].shared; sh != nil && (last == nil || &sh[0] != &last[0]) {
				batch = append(batch, sh...)
				last = sh
			}
			batch = append(batch, kept[j].entry...)
			want++
			j++
		}
		var digest []byte
		if key != nil {
			s := sha256.Sum256(batch)
			digest = s[:]
		}
		out = append(out, batch...)
		out = appendControl(out, rangePayload(ctlCommit, kept[i].seq, want-1, digest, key))
		r.Kept += j - i
		i = j
	}
	if next > 0 {
		lose(next - 1)
	}
	if err := os.Rename(path, path+".damaged"); err != nil {
		return r, err
	}
	err = durable.WriteFile(path, out, 0o644)
	if err != nil {
		return r, err
	}
	if bytes.Equal(out, data) {
		_ = os.Remove(path + ".damaged")
	}
	return r, nil
}
