package store

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

// oneDayRecords returns n generated records of the default tenant whose
// times all fall on day (days after testBase's day).
func oneDayRecords(seed uint64, n, day int) []record.Record {
	recs := genRecords(rand.New(rand.NewPCG(seed, seed+1)), n, 0)
	start := testBase + int64(day)*nsPerDay
	for i := range recs {
		recs[i].Time = start + int64(i)*1e6
		recs[i].Tenant = ""
	}
	return recs
}

// withTenant sets the tenant of every record of recs.
func withTenant(recs []record.Record, tenant string) []record.Record {
	for i := range recs {
		recs[i].Tenant = tenant
	}
	return recs
}

func TestFlushJobs(t *testing.T) {
	big := oneDayRecords(1, 3*minShardRecords, 0)
	small := oneDayRecords(2, 100, 1)
	tests := []struct {
		name   string
		recs   []record.Record
		shards int
		want   int // jobs
	}{
		{"small day stays one part", small, 4, 1},
		{"one shard", big, 1, 1},
		{"big day split in two", big, 2, 2},
		{"no more shards than minShardRecords allow", big, 8, 3},
		{"days are never mixed", append(append([]record.Record(nil), big...), small...), 2, 3},
		{"tenants are never mixed", append(withTenant(oneDayRecords(5, 100, 0), "acme"), small...), 4, 2},
		{"each tenant's day is split on its own", append(withTenant(oneDayRecords(6, 3*minShardRecords, 0), "acme"), big...), 2, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHead()
			for i := range tt.recs {
				h.append(&tt.recs[i])
			}
			plan := planFlush([]*head{h})
			jobs := plan.jobs(tt.shards)
			if len(jobs) != tt.want {
				t.Fatalf("%d jobs, want %d: %+v", len(jobs), tt.want, jobs)
			}
			// Every record of every day is in exactly one job, and a
			// day's jobs cover disjoint, consecutive stream ranges.
			perDay := make(map[int64]int)
			next := make(map[int64]int)
			for _, j := range jobs {
				if j.lo < next[j.day] || j.hi <= j.lo {
					t.Fatalf("job %+v overlaps stream %d", j, next[j.day])
				}
				next[j.day] = j.hi
				n := 0
				for i := j.lo; i < j.hi; i++ {
					if plan.streams[i].tenant != j.tenant {
						t.Fatalf("job %+v holds stream %d of tenant %q", j, i, plan.streams[i].tenant)
					}
					lo, hi := plan.streams[i].dayRange(j.day)
					n += hi - lo
				}
				if n == 0 {
					t.Fatalf("job %+v has no records", j)
				}
				perDay[j.day] += n
			}
			total := 0
			for _, n := range perDay {
				total += n
			}
			if total != len(tt.recs) {
				t.Fatalf("jobs hold %d records, want %d", total, len(tt.recs))
			}
		})
	}
}

// TestShardedFlush checks that a flush written as several parts in
// parallel keeps every record exactly once, and that a failed job leaves
// no part behind and the records in memory for the next flush.
func TestShardedFlush(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	defer s.Close()
	recs := append(oneDayRecords(3, 3*minShardRecords, 0), oneDayRecords(4, 200, 1)...)
	s.Append(recs, 7)

	blocker := filepath.Join(dir, partitionsDir, partitionOf(recs[len(recs)-1].Tenant, recs[len(recs)-1].Time))
	if err := os.MkdirAll(filepath.Dir(blocker), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err == nil {
		t.Fatal("flush succeeded with a file in the way of a partition directory")
	}
	if files := partFiles(t, dir); len(files) != 0 || s.DurableSeq() != 0 {
		t.Fatalf("after a failed flush: part files %v, durable seq %d", files, s.DurableSeq())
	}
	countAll(t, s, recs)

	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// Two parts for the big day, one for the small one.
	if st := s.Stats(); st.Parts != 3 || st.Records != int64(len(recs)) || st.HeadRecords != 0 || s.DurableSeq() != 7 {
		t.Fatalf("after flush: %+v, durable seq %d", st, s.DurableSeq())
	}
	countAll(t, s, recs)
	if ps, err := s.Verify(); err != nil || len(ps) != 0 {
		t.Fatalf("verify: %v %v", ps, err)
	}
}
