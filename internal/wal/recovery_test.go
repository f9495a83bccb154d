package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeSegmentData builds a one-segment log of n records (in batches of 3)
// and returns the segment's bytes, the end offset of its header and of
// every batch (after its commit), and how many records each batch ends with.
func writeSegmentData(t *testing.T, n int) (data []byte, hdrEnd int64, ends []int64, recs []int) {
	t.Helper()
	dir := t.TempDir()
	l := openLog(t, dir, Options{})
	for l.LastSeq() < uint64(n) {
		appendSeqs(t, l, min(3, n-int(l.LastSeq())))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, segmentName(1)))
	if err != nil {
		t.Fatal(err)
	}
	er := newEntryReader(bytes.NewReader(data), int64(len(data)))
	count := 0
	for {
		e, err := er.next()
		if err != nil {
			break
		}
		switch {
		case !e.control:
			count++
		case e.body[0] == ctlHeader:
			hdrEnd = er.off
		case e.body[0] == ctlShared:
		default:
			ends = append(ends, er.off)
			recs = append(recs, count)
		}
	}
	if count != n || ends[len(ends)-1] != int64(len(data)) {
		t.Fatalf("scanned %d records, batches ending at %v in %d bytes, want %d records", count, ends, len(data), n)
	}
	return data, hdrEnd, ends, recs
}

// openSegmentBytes opens a log whose only segment (named 1) holds data and
// checks that it recovered exactly the records of the first good batches,
// which end at goodEnd, with a warning if anything was dropped.
func openSegmentBytes(t *testing.T, dir string, data []byte, good int, hdrEnd, goodEnd int64) {
	t.Helper()
	path := filepath.Join(dir, segmentName(1))
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	l, err := Open(dir, Options{}, newTextLogger(&logs))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer l.Close()
	if l.LastSeq() != uint64(good) || l.Size() != goodEnd-hdrEnd {
		t.Fatalf("LastSeq %d Size %d, want %d %d", l.LastSeq(), l.Size(), good, goodEnd-hdrEnd)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != goodEnd {
		t.Fatalf("segment file not truncated to %d: %v %v", goodEnd, fi.Size(), err)
	}
	dropped := int64(len(data)) - goodEnd
	warned := strings.Contains(logs.String(), fmt.Sprintf("dropped_bytes=%d", dropped))
	if warned != (dropped > 0) {
		t.Fatalf("dropped %d bytes, log output %q", dropped, logs.String())
	}
	checkReplay(t, l, 0, uint64(good))
	appendSeqs(t, l, 2)
	checkReplay(t, l, 0, uint64(good)+2)
}

// TestTornTailEveryCut cuts the segment at every byte of its last batches:
// a batch is kept whole or not at all (its records without its commit are
// dropped), never in part.
func TestTornTailEveryCut(t *testing.T) {
	const n = 12
	data, hdrEnd, ends, recs := writeSegmentData(t, n)
	dir := t.TempDir()
	for cut := ends[len(ends)-3]; cut <= int64(len(data)); cut++ {
		k := 0
		for k < len(ends) && ends[k] <= cut {
			k++
		}
		t.Run(fmt.Sprint(cut), func(t *testing.T) {
			openSegmentBytes(t, dir, data[:cut], recs[k-1], hdrEnd, ends[k-1])
		})
		if t.Failed() {
			return
		}
	}
}

func TestGarbageAfterEnd(t *testing.T) {
	const n = 6
	data, hdrEnd, _, _ := writeSegmentData(t, n)
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(k int) []byte {
		b := make([]byte, k)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	header := func(length uint32, sum uint32) []byte {
		b := binary.LittleEndian.AppendUint32(nil, length)
		return binary.LittleEndian.AppendUint32(b, sum)
	}
	tests := []struct {
		name    string
		garbage []byte
	}{
		{"one zero byte", []byte{0}},
		{"zero filled block", make([]byte, 4096)},
		{"random 1", random(1)},
		{"random 7", random(7)},
		{"random 8", random(8)},
		{"random 100", random(100)},
		{"random 5000", random(5000)},
		{"huge length", append(header(0xffffffff, 0), random(50)...)},
		{"length over max entry", append(header(MaxEntrySize+1, 0), random(50)...)},
		{"length past end", append(header(1000, 0), random(50)...)},
		{"bad checksum", append(header(50, 12345), random(50)...)},
		{"half of a valid entry", data[hdrEnd : hdrEnd+20]},
		{"a record without its commit", batchBytes(n+1, testBatch(n+1, 1))},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			openSegmentBytes(t, dir, append(bytes.Clone(data), tt.garbage...), n, hdrEnd, int64(len(data)))
		})
	}
}

// multiSegmentLog writes 60 records over several segments and returns the
// directory and its segment files, oldest first.
func multiSegmentLog(t *testing.T) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	l := openLog(t, dir, Options{SegmentSize: 1000})
	for range 12 {
		appendSeqs(t, l, 5)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	files := segmentFiles(t, dir)
	if len(files) < 3 {
		t.Fatalf("want at least 3 segments, got %d", len(files))
	}
	return dir, files
}

// flipByte flips one bit of the payload of the idx-th record entry of a
// segment file and returns that entry's offset and the seq of the record.
func flipByte(t *testing.T, path string, idx int) (int64, uint64) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	er := newEntryReader(bytes.NewReader(data), int64(len(data)))
	var off int64
	var seq uint64
	for i := 0; i <= idx; {
		off = er.off
		e, err := er.next()
		if err != nil {
			t.Fatal(err)
		}
		if !e.control {
			seq = e.seq
			i++
		}
	}
	data[off+headerSize+3] ^= 0x10
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return off, seq
}

func TestChecksumFlipInLastSegmentTruncates(t *testing.T) {
	dir, files := multiSegmentLog(t)
	_, seq := flipByte(t, files[len(files)-1], 1)
	var logs syncBuffer
	l, err := Open(dir, Options{SegmentSize: 1000}, newTextLogger(&logs))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer l.Close()
	// Batches of 5: the damaged record's whole batch goes.
	kept := (seq - 1) / 5 * 5
	if l.LastSeq() != kept {
		t.Fatalf("LastSeq %d, want %d (records of the batches before the damaged one)", l.LastSeq(), kept)
	}
	if !strings.Contains(logs.String(), "checksum mismatch") || !strings.Contains(logs.String(), "dropped_bytes=") {
		t.Fatalf("no truncation warning in %q", logs.String())
	}
	checkReplay(t, l, 0, kept)
}

func TestDamageInEarlierSegmentIsAnError(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, files []string) string // returns what the error must mention
	}{
		{"checksum flip", func(t *testing.T, files []string) string {
			off, _ := flipByte(t, files[0], 2)
			return fmt.Sprintf("%s at byte offset %d", files[0], off)
		}},
		{"torn tail", func(t *testing.T, files []string) string {
			fi, err := os.Stat(files[1])
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(files[1], fi.Size()-5); err != nil {
				t.Fatal(err)
			}
			return files[1]
		}},
		{"missing middle segment", func(t *testing.T, files []string) string {
			if err := os.Remove(files[1]); err != nil {
				t.Fatal(err)
			}
			return files[2]
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, files := multiSegmentLog(t)
			want := tt.damage(t, files)
			l, err := Open(dir, Options{}, nil)
			if err == nil {
				l.Close()
				t.Fatal("Open succeeded on a damaged earlier segment")
			}
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), want) {
				t.Fatalf("Open error %q, want ErrCorrupt mentioning %q", err, want)
			}
		})
	}
}

func TestWrongSeqInLastSegmentIsAnError(t *testing.T) {
	dir := t.TempDir()
	// A well-formed entry with seq 7 in a segment named 1 is not a torn
	// write, so it must not be truncated away silently.
	data := appendEntry(nil, 7, new(testRecord(7)))
	if err := os.WriteFile(filepath.Join(dir, segmentName(1)), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if l, err := Open(dir, Options{}, nil); !errors.Is(err, ErrCorrupt) {
		if err == nil {
			l.Close()
		}
		t.Fatalf("Open: %v, want ErrCorrupt", err)
	}
}
