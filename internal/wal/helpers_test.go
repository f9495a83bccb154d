package wal

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

func testRecord(i int) record.Record {
	return record.Record{
		Time:    int64(1_700_000_000_000_000_000 + i),
		Tenant:  "t1",
		Stream:  []record.Field{{Name: "host", Value: "h1"}, {Name: "service", Value: "api"}},
		Message: fmt.Sprintf("request %d done", i),
		Fields:  []record.Field{{Name: "status", Value: "200"}},
	}
}

// batchBytes is what Append writes for recs before their commit.
func batchBytes(first uint64, recs []record.Record) []byte {
	b, err := appendBatch(nil, first, recs, new(record.Shared))
	if err != nil {
		panic(err)
	}
	return b
}

func testBatch(start, n int) []record.Record {
	recs := make([]record.Record, n)
	for i := range recs {
		recs[i] = testRecord(start + i)
	}
	return recs
}

// syncBuffer is a concurrency-safe log sink for asserting on warnings.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func openLog(t testing.TB, dir string, opts Options) *Log {
	t.Helper()
	l, err := Open(dir, opts, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func mustAppend(t testing.TB, l *Log, recs []record.Record) (uint64, uint64) {
	t.Helper()
	first, last, err := l.Append(context.Background(), recs)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return first, last
}

type replayed struct {
	seq uint64
	rec record.Record
}

func replayAll(t testing.TB, l *Log, after uint64) []replayed {
	t.Helper()
	var out []replayed
	err := l.Replay(after, func(seq uint64, r *record.Record) error {
		out = append(out, replayed{seq, *r})
		return nil
	})
	if err != nil {
		t.Fatalf("Replay: %v", err)
	}
	return out
}

// checkReplay asserts that the log replays exactly testRecord(i) with seq i
// for i in (after, last].
func checkReplay(t testing.TB, l *Log, after, last uint64) {
	t.Helper()
	got := replayAll(t, l, after)
	if uint64(len(got)) != last-after {
		t.Fatalf("replayed %d records after %d, want %d", len(got), after, last-after)
	}
	for i, g := range got {
		seq := after + 1 + uint64(i)
		want := testRecord(int(seq))
		if g.seq != seq || !reflect.DeepEqual(g.rec, want) {
			t.Fatalf("record %d: got seq %d %+v, want seq %d %+v", i, g.seq, g.rec, seq, want)
		}
	}
}

// appendSeqs appends records so that testRecord(seq) is stored under seq.
func appendSeqs(t testing.TB, l *Log, n int) {
	t.Helper()
	start := int(l.LastSeq()) + 1
	first, _ := mustAppend(t, l, testBatch(start, n))
	if first != uint64(start) {
		t.Fatalf("first seq %d, want %d", first, start)
	}
}

func segmentFiles(t testing.TB, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.wal"))
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// dirSize is the bytes of the segment files in dir less their headers, as
// Log.Size counts them.
func dirSize(t testing.TB, dir string) int64 {
	t.Helper()
	hdr := int64(len(appendControl(nil, headerPayload(formatVersion, false))))
	var n int64
	for _, name := range segmentFiles(t, dir) {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		n += fi.Size() - hdr
	}
	return n
}

func newTextLogger(buf *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, nil))
}

// appendEntry appends the entry for r with sequence number seq to dst,
// whole (format 2, which the log reads but no longer writes).
func appendEntry(dst []byte, seq uint64, r *record.Record) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, headerSize)...)
	dst = binary.AppendUvarint(dst, seq)
	dst = record.AppendBinary(dst, r)
	return sealEntry(dst, start, 0)
}
