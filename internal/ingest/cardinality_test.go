package ingest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

func rec(tenant string, stream []record.Field, names ...string) *record.Record {
	r := &record.Record{Tenant: tenant, Stream: stream}
	for _, n := range names {
		r.Fields = append(r.Fields, record.Field{Name: n, Value: "v"})
	}
	return r
}

func labels(kv ...string) []record.Field {
	var fs []record.Field
	for i := 0; i+1 < len(kv); i += 2 {
		fs = append(fs, record.Field{Name: kv[i], Value: kv[i+1]})
	}
	return fs
}

// TestCardinalityStreams: a record of a new stream past the tenant's bound
// is rejected; records of active streams, in any label order, and of other
// tenants are not; once the window passed, the streams are forgotten.
func TestCardinalityStreams(t *testing.T) {
	c := NewCardinality(CardinalityConfig{MaxStreams: 2, Window: time.Hour}, nil)
	now := time.Now()
	for i, tc := range []struct {
		r      *record.Record
		reject bool
	}{
		{rec("", labels("app", "a", "host", "h1")), false},
		{rec("", labels("app", "b")), false},
		{rec("", labels("app", "c")), true},
		{rec("", labels("host", "h1", "app", "a")), false}, // the first stream, labels in another order
		{rec("other", labels("app", "c")), false},
	} {
		err := c.Check(tc.r, now)
		if got := errors.Is(err, ErrTooManyStreams); got != tc.reject || (err != nil && !got) {
			t.Fatalf("record %d: err %v, want reject %v", i, err, tc.reject)
		}
		if tc.reject && RejectReason(err) != "too_many_streams" {
			t.Fatalf("reason %q", RejectReason(err))
		}
	}
	if c.streams != 3 {
		t.Fatalf("active streams %d, want 3", c.streams)
	}
	later := now.Add(time.Hour + time.Minute)
	if err := c.Check(rec("", labels("app", "c")), later); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	if c.streams != 1 || len(c.tenants) != 1 {
		t.Fatalf("after the window: %d active streams in %d tenants, want 1 in 1", c.streams, len(c.tenants))
	}
}

// TestCardinalityFieldNames: a record that would add names past the
// tenant's bound is rejected whole, and registers nothing; one that adds
// within it is accepted.
func TestCardinalityFieldNames(t *testing.T) {
	c := NewCardinality(CardinalityConfig{MaxFieldNames: 3, Window: time.Hour}, nil)
	now := time.Now()
	s := labels("app", "a")
	steps := []struct {
		names  []string
		reject bool
	}{
		{[]string{"a", "b"}, false},
		{[]string{"c", "d"}, true},
		{[]string{"a", "c"}, false},
		{[]string{"a", "b", "c"}, false},
		{[]string{"d"}, true},
	}
	for i, st := range steps {
		err := c.Check(rec("", s, st.names...), now)
		if got := errors.Is(err, ErrTooManyFieldNames); got != st.reject || (err != nil && !got) {
			t.Fatalf("step %d %v: err %v, want reject %v", i, st.names, err, st.reject)
		}
	}
	if c.names != 3 {
		t.Fatalf("active names %d, want 3", c.names)
	}
}

// TestCardinalityAttack: one request's worth of records with 998 new
// field names each, as in the attack of issue 20, stops at the bound.
func TestCardinalityAttack(t *testing.T) {
	c := NewCardinality(CardinalityConfig{MaxFieldNames: 10000, MaxStreams: 1000, Window: time.Hour}, nil)
	now := time.Now()
	accepted := 0
	for i := range 1000 {
		var names []string
		for j := range 998 {
			names = append(names, fmt.Sprintf("f%d_%d", i, j))
		}
		if c.Check(rec("", labels("s", fmt.Sprint(i)), names...), now) == nil {
			accepted++
		}
	}
	if accepted != 10 || c.names != 9980 || c.streams != 10 {
		t.Fatalf("accepted %d records, %d names, %d streams; want 10, 9980, 10", accepted, c.names, c.streams)
	}
}

func BenchmarkCardinalityCheck(b *testing.B) {
	c := NewCardinality(CardinalityConfig{MaxFieldNames: 10000, MaxStreams: 100000, Window: time.Hour}, nil)
	recs := make([]*record.Record, 100)
	for i := range recs {
		recs[i] = rec("", labels("service", "api", "host", fmt.Sprint("h", i%10)), "level", "status", "method", "path", "duration_ms", "user_id", "trace_id", "span_id", "bytes", "region")
	}
	now := time.Now()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := c.Check(recs[i%len(recs)], now); err != nil {
			b.Fatal(err)
		}
	}
}
