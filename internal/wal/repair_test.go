package wal

import (
	"crypto/ed25519"
	"testing"
)

// TestRepairDamagedSegment: a bit flipped in the middle of an earlier
// segment makes Open refuse the log; Repair rewrites that segment from its
// readable batches, records the damaged batch's seqs as a signed gap, and
// the log then opens, verifies and replays every other record.
func TestRepairDamagedSegment(t *testing.T) {
	key := testKey(t)
	dir := t.TempDir()
	l := openLog(t, dir, Options{SegmentSize: 1000, SigningKey: key})
	for range 12 {
		appendSeqs(t, l, 5)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	files := segmentFiles(t, dir)
	_, seq := flipByte(t, files[0], 7)
	if _, err := Open(dir, Options{SigningKey: key}, nil); err == nil {
		t.Fatal("Open succeeded on a segment damaged in its middle")
	}
	reps, err := Repair(dir, key)
	if err != nil || len(reps) != 1 {
		t.Fatalf("Repair: %v %+v, want one segment repaired", err, reps)
	}
	lo := (seq-1)/5*5 + 1 // the damaged record's batch
	if got := reps[0].Lost; len(got) != 1 || got[0] != [2]uint64{lo, lo + 4} {
		t.Fatalf("lost %v, want seqs %d to %d (%s)", got, lo, lo+4, reps[0])
	}
	if r, err := Verify(dir, key.Public().(ed25519.PublicKey)); err != nil || len(r.Problems) != 0 {
		t.Fatalf("Verify after repair: %v %+v", err, r.Problems)
	}
	l2 := openLog(t, dir, Options{SigningKey: key})
	var seqs []uint64
	for _, r := range replayAll(t, l2, 0) {
		seqs = append(seqs, r.seq)
	}
	if len(seqs) != 55 {
		t.Fatalf("replayed %d records, want 55 (60 less the damaged batch)", len(seqs))
	}
	for _, s := range seqs {
		if s >= lo && s <= lo+4 {
			t.Fatalf("seq %d of the damaged batch replayed", s)
		}
	}
	appendSeqs(t, l2, 2)
	if l2.LastSeq() != 62 {
		t.Fatalf("LastSeq %d after appending, want 62", l2.LastSeq())
	}
}
