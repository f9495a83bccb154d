package wal

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

// formatWholeSegment is a segment of format 2 (every record whole) holding
// seqs first..first+n-1 in one batch, signed with key when it is set.
func formatWholeSegment(first uint64, n int, key ed25519.PrivateKey) []byte {
	data := appendControl(nil, headerPayload(formatWholeRec, key != nil))
	var batch []byte
	for i := range n {
		seq := first + uint64(i)
		batch = appendEntry(batch, seq, new(testRecord(int(seq))))
	}
	var digest []byte
	if key != nil {
		sum := sha256.Sum256(batch)
		digest = sum[:]
	}
	data = append(data, batch...)
	return appendControl(data, rangePayload(ctlCommit, first, first+uint64(n)-1, digest, key))
}

// TestFormatWholeRecordsReplay: a log written by a version that stored
// every record whole (format 2) opens, verifies and replays, and new
// batches go to a segment of the current format beside it.
func TestFormatWholeRecordsReplay(t *testing.T) {
	for _, signed := range []bool{false, true} {
		var key ed25519.PrivateKey
		var pub ed25519.PublicKey
		if signed {
			key = testKey(t)
			pub = key.Public().(ed25519.PublicKey)
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, segmentName(1)), formatWholeSegment(1, 5, key), 0o644); err != nil {
			t.Fatal(err)
		}
		l := openLog(t, dir, Options{SigningKey: key})
		checkReplay(t, l, 0, 5)
		appendSeqs(t, l, 4)
		checkReplay(t, l, 2, 9)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if n := len(segmentFiles(t, dir)); n != 2 {
			t.Fatalf("signed %v: %d segments, want the old one and a new one", signed, n)
		}
		if r, err := Verify(dir, pub); err != nil || len(r.Problems) != 0 || r.LastSeq != 9 {
			t.Fatalf("signed %v: Verify %+v %v", signed, r, err)
		}
		l = openLog(t, dir, Options{SigningKey: key})
		checkReplay(t, l, 0, 9)
	}
}

// TestFormatWholeEmptySegmentRewritten: an empty last segment of format 2
// (what Release leaves) takes the current header instead of a new file.
func TestFormatWholeEmptySegmentRewritten(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, segmentName(6))
	if err := os.WriteFile(path, appendControl(nil, headerPayload(formatWholeRec, false)), 0o644); err != nil {
		t.Fatal(err)
	}
	l := openLog(t, dir, Options{})
	appendSeqs(t, l, 3)
	checkReplay(t, l, 5, 8)
	data, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(data, appendControl(nil, headerPayload(formatVersion, false))) || len(segmentFiles(t, dir)) != 1 {
		t.Fatalf("segment not rewritten in the current format: %v", err)
	}
}

// TestSharedEntryPerTenant: a batch of several tenants' records, with
// fields shared or not, replays record for record, and the tenant is
// written once per run of its records, not in each.
func TestSharedEntryPerTenant(t *testing.T) {
	tenant := string(bytes.Repeat([]byte("t"), 4096))
	var recs []record.Record
	for i := range 40 {
		r := testRecord(i + 1)
		r.Tenant = tenant
		if i >= 30 {
			r.Tenant = "other"
		}
		if i%3 == 0 {
			r.Fields = append(r.Fields, record.Field{Name: "extra", Value: "x"})
		}
		recs = append(recs, r)
	}
	dir := t.TempDir()
	l := openLog(t, dir, Options{SigningKey: testKey(t)})
	mustAppend(t, l, recs)
	if size := l.Size(); size > 3*4096 {
		t.Fatalf("log holds %d bytes: the 4 KiB tenant was written more than once", size)
	}
	got := replayAll(t, l, 0)
	for i := range recs {
		if !equalRecords(got[i].rec, recs[i]) {
			t.Fatalf("record %d: %+v, want %+v", i, got[i].rec, recs[i])
		}
	}
}

// writeSeqs writes records 1..n to a new log in dir, closes it and
// returns its only segment's path and bytes.
func writeSeqs(t *testing.T, dir string, opts Options, n int) (string, []byte) {
	t.Helper()
	l := openLog(t, dir, opts)
	appendSeqs(t, l, n)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, segmentName(1))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, data
}

func equalRecords(a, b record.Record) bool {
	return string(record.AppendBinary(nil, &a)) == string(record.AppendBinary(nil, &b))
}

// TestSharedEntryTamperDetected: the signature of a batch covers its
// shared entry, so a tenant changed there (checksum fixed up) is refused.
func TestSharedEntryTamperDetected(t *testing.T) {
	key := testKey(t)
	dir := t.TempDir()
	path, data := writeSeqs(t, dir, Options{SigningKey: key}, 3)
	hdr := len(appendControl(nil, headerPayload(formatVersion, true)))
	sh := record.Shared{Tenant: "t2"} // testRecord's tenant is t1, same length
	record.FindShared(testBatch(1, 3), &sh)
	sh.Tenant = "t2"
	forged := appendSharedEntry(nil, &sh)
	orig := appendSharedEntry(nil, &record.Shared{Tenant: "t1", Fields: sh.Fields})
	if !bytes.Equal(data[hdr:hdr+len(orig)], orig) {
		t.Fatal("the batch does not start with the shared entry expected")
	}
	copy(data[hdr:], forged)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if r, err := Verify(dir, key.Public().(ed25519.PublicKey)); err != nil || len(r.Problems) != 1 {
		t.Fatalf("Verify: %+v %v, want one problem", r, err)
	}
	if _, err := Open(dir, Options{SigningKey: key}, nil); err == nil {
		t.Fatal("Open took a batch whose tenant was changed")
	}
}

// TestRecordWithoutSharedEntry: a record entry of the current format with
// no shared entry before it and no commit (what someone without the key
// can append) is an uncommitted tail, dropped on open; under a commit it
// is damage.
func TestRecordWithoutSharedEntry(t *testing.T) {
	dir := t.TempDir()
	path, data := writeSeqs(t, dir, Options{}, 3)
	forged := appendEntry(nil, 4, new(testRecord(4)))
	if err := os.WriteFile(path, append(bytes.Clone(data), forged...), 0o644); err != nil {
		t.Fatal(err)
	}
	l := openLog(t, dir, Options{})
	checkReplay(t, l, 0, 3)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	committed := appendControl(append(bytes.Clone(data), forged...), rangePayload(ctlCommit, 4, 4, nil, nil))
	if err := os.WriteFile(path, committed, 0o644); err != nil {
		t.Fatal(err)
	}
	if l, err := Open(dir, Options{}, nil); err == nil {
		l.Close()
		t.Fatal("Open took a committed record without a shared entry")
	}
}
