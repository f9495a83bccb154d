package sink

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// memPipeline stands in for the pipeline: Ingest appends (or fails), Search
// applies the filter's Match and, per record, MayMatch over a one-record
// summary so that a wrong MayMatch shows up as a missed record.
type memPipeline struct {
	recs      []record.Record
	fail      error
	failAfter error // returned after the records were taken (the WAL has them)
}

func (m *memPipeline) Ingest(_ context.Context, recs []record.Record) error {
	if m.fail != nil {
		return m.fail
	}
	m.recs = append(m.recs, recs...)
	return m.failAfter
}

func (m *memPipeline) Search(_ context.Context, req store.SearchRequest, fn func(*record.Record) error) error {
	for i := range m.recs {
		r := &m.recs[i]
		if r.Tenant != req.Tenant || !req.Filter.MayMatch(oneRecord{r}) || !req.Filter.Match(r) {
			continue
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

type oneRecord struct{ r *record.Record }

func (o oneRecord) MayHaveField(f string) bool { _, ok := o.r.Get(f); return ok }
func (o oneRecord) MayContainToken(f, tok string) bool {
	v, _ := o.r.Get(f)
	found := false
	record.Tokens(v, func(t string) { found = found || t == tok })
	return found
}
func (o oneRecord) NumRange(string) (float64, float64, bool) { return 0, 0, false }

var _ ingest.Sink = (*memPipeline)(nil)

func offsets(p *memPipeline) []string {
	var out []string
	for i := range p.recs {
		v, _ := p.recs[i].Get(FieldOffset)
		pv, _ := p.recs[i].Get(FieldPartition)
		out = append(out, pv+":"+v)
	}
	return out
}

func items(partition int32, from, to int64, tenant string) []Item {
	var out []Item
	for o := from; o <= to; o++ {
		out = append(out, Item{Topic: "logs", Partition: partition, Offset: o, Record: record.Record{Tenant: tenant, Message: "m"}})
	}
	return out
}

func TestStoreSinkSkipsReplays(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "offsets.json")
	p := &memPipeline{}
	s, err := OpenStore(ctx, p, p, path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write(ctx, append(items(0, 0, 2, ""), items(1, 0, 1, "")...)); err != nil {
		t.Fatal(err)
	}
	// A failed ingest stores nothing and advances nothing.
	p.fail = &ingest.BackpressureError{Reason: "test"}
	if _, err := s.Write(ctx, items(0, 3, 4, "")); err == nil {
		t.Fatal("want the ingest error")
	}
	p.fail = nil
	// After a restart the consumer replays from the last commit.
	s, err = OpenStore(ctx, p, p, path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write(ctx, append(items(0, 1, 4, ""), items(1, 0, 2, "")...)); err != nil {
		t.Fatal(err)
	}
	want := []string{"0:0", "0:1", "0:2", "1:0", "1:1", "0:3", "0:4", "1:2"}
	if got := offsets(p); !slices.Equal(got, want) {
		t.Errorf("stored %v, want %v", got, want)
	}
	if s.Done("logs", 0) != 4 || s.Done("logs", 1) != 2 {
		t.Errorf("watermarks %d %d", s.Done("logs", 0), s.Done("logs", 1))
	}
}

// TestStoreSinkSettlesPending covers a crash between the pending write and
// the done write: the WAL may hold all, a prefix or none of the batch.
func TestStoreSinkSettlesPending(t *testing.T) {
	tests := []struct {
		name     string
		inStore  int // how many of the pending batch's records the WAL kept
		wantDone int64
	}{
		{"crash before the WAL write", 0, 9},
		{"torn tail kept a prefix", 2, 11},
		{"crash after Ingest returned", 5, 14},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "offsets.json")
			p := &memPipeline{}
			// Done up to 9 on partition 2; the batch 10..14 (tenants a, b) was pending.
			batch := append(items(2, 10, 12, "a"), items(2, 13, 14, "b")...)
			for i := range batch[:tt.inStore] {
				p.recs = append(p.recs, withProvenance(&batch[i]))
			}
			// Another partition's records with the same offsets must not count.
			for _, it := range items(3, 10, 20, "a") {
				p.recs = append(p.recs, withProvenance(&it))
			}
			wm := &watermarkFile{Partitions: map[string]*partitionMark{
				"logs/2": {Done: 9, Pending: &pendingRange{First: 10, Last: 14, Tenants: []string{"a", "b"}}},
			}}
			if err := writeWatermarks(path, wm); err != nil {
				t.Fatal(err)
			}
			s, err := OpenStore(ctx, p, p, path, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Done("logs", 2); got != tt.wantDone {
				t.Fatalf("done = %d, want %d", got, tt.wantDone)
			}
			before := len(p.recs)
			if _, err := s.Write(ctx, batch); err != nil {
				t.Fatal(err)
			}
			if added := len(p.recs) - before; added != 5-tt.inStore {
				t.Errorf("replay added %d records, want %d", added, 5-tt.inStore)
			}
			reread, err := readWatermarks(path)
			if err != nil {
				t.Fatal(err)
			}
			if pm := reread.Partitions["logs/2"]; pm.Done != 14 || pm.Pending != nil || !reflect.DeepEqual(pm.Held, Ranges{{0, 14}}) {
				t.Errorf("watermark file after the replay: %+v", pm)
			}
		})
	}
}

// TestStoreSinkRetryAfterFailedWrite: Ingest failed after the WAL took the
// batch (the watermark write after it could fail the same way); the
// consumer sends the same batch again without a restart. The retry must
// settle the pending range first and store nothing twice.
func TestStoreSinkRetryAfterFailedWrite(t *testing.T) {
	ctx := context.Background()
	p := &memPipeline{}
	s, err := OpenStore(ctx, p, p, filepath.Join(t.TempDir(), "offsets.json"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write(ctx, items(0, 0, 3, "")); err != nil {
		t.Fatal(err)
	}
	p.failAfter = errors.New("fsync failed after the write")
	if _, err := s.Write(ctx, items(0, 4, 7, "")); err == nil {
		t.Fatal("want the error")
	}
	p.failAfter = nil
	if _, err := s.Write(ctx, items(0, 4, 9, "")); err != nil {
		t.Fatal(err)
	}
	want := []string{"0:0", "0:1", "0:2", "0:3", "0:4", "0:5", "0:6", "0:7", "0:8", "0:9"}
	if got := offsets(p); !slices.Equal(got, want) {
		t.Errorf("stored %v, want %v", got, want)
	}
}

// TestStoreSinkHeld follows the offset ranges the sink says it holds
// through batches read without a break, dead-lettered offsets, a
// partition that left and came back, a replay after a restart and a
// write whose outcome is unknown until the next open.
func TestStoreSinkHeld(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "offsets.json")
	p := &memPipeline{}
	open := func() *StoreSink {
		s, err := OpenStore(ctx, p, p, path, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	batch := func(from, to int64, continues bool) []Item {
		its := items(0, from, to, "")
		for i := range its {
			its[i].Continues = continues
		}
		return its
	}
	held := func(s *StoreSink) (Ranges, int64) {
		st, err := s.Stored()
		if err != nil || len(st) != 1 {
			t.Fatalf("stored %v, %v", st, err)
		}
		return st[0].Ranges, st[0].Done
	}
	s := open()
	for _, step := range []struct {
		name      string
		from, to  int64
		continues bool
		fail      bool
		want      Ranges
	}{
		{"first batch", 0, 9, false, false, Ranges{{0, 9}}},
		{"the next one", 10, 19, true, false, Ranges{{0, 19}}},
		{"20 to 24 dead-lettered", 25, 29, true, false, Ranges{{0, 29}}},
		{"the partition came back after others consumed 30 to 99", 100, 109, false, false, Ranges{{0, 29}, {100, 109}}},
		{"restart: 105 to 109 replayed", 105, 120, false, false, Ranges{{0, 29}, {100, 120}}},
		{"outcome unknown: pending counts", 130, 139, false, true, Ranges{{0, 29}, {100, 120}, {130, 139}}},
	} {
		if step.fail {
			p.failAfter = errors.New("fsync failed after the write")
		}
		if _, err := s.Write(ctx, batch(step.from, step.to, step.continues)); (err != nil) != step.fail {
			t.Fatalf("%s: %v", step.name, err)
		}
		p.failAfter = nil
		if got, done := held(s); !reflect.DeepEqual(got, step.want) || done != step.to {
			t.Errorf("%s: held %v up to %d, want %v up to %d", step.name, got, done, step.want, step.to)
		}
	}
	// The next open settles the pending batch: it is in the store.
	s = open()
	if got, done := held(s); !reflect.DeepEqual(got, Ranges{{0, 29}, {100, 120}, {130, 139}}) || done != 139 {
		t.Errorf("after settling: held %v up to %d", got, done)
	}
}

func TestRangesAdd(t *testing.T) {
	for _, tt := range []struct {
		r           Ranges
		first, last int64
		joined      bool
		want        Ranges
	}{
		{nil, 5, 9, false, Ranges{{5, 9}}},
		{Ranges{{0, 4}}, 5, 9, false, Ranges{{0, 9}}},
		{Ranges{{0, 4}}, 7, 9, false, Ranges{{0, 4}, {7, 9}}},
		{Ranges{{0, 4}}, 7, 9, true, Ranges{{0, 9}}},
		{Ranges{{0, 4}, {10, 12}}, 3, 10, false, Ranges{{0, 12}}},
		{Ranges{{10, 12}}, 0, 3, false, Ranges{{0, 3}, {10, 12}}},
		{Ranges{{0, 2}, {10, 12}, {20, 22}}, 13, 15, false, Ranges{{0, 2}, {10, 15}, {20, 22}}},
		{Ranges{{0, 2}, {10, 12}}, 5, 6, false, Ranges{{0, 2}, {5, 6}, {10, 12}}},
		{Ranges{{0, 9}}, 3, 5, true, Ranges{{0, 9}}},
		{Ranges{{0, 9}}, 5, 4, false, Ranges{{0, 9}}},
	} {
		if got := tt.r.Clone().Add(tt.first, tt.last, tt.joined); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%v + [%d,%d] joined %v = %v, want %v", tt.r, tt.first, tt.last, tt.joined, got, tt.want)
		}
	}
}

func TestSplitPartitionKey(t *testing.T) {
	topic, p, err := splitPartitionKey("a/b/12")
	if err != nil || topic != "a/b" || p != 12 {
		t.Errorf("got %q %d %v", topic, p, err)
	}
	if _, _, err := splitPartitionKey("nopartition"); err == nil {
		t.Error("want an error")
	}
}
