package store

import (
	"context"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

// MatchField makes testFilter a FieldFilter, so that the property test
// exercises the selection of rows by dictionary codes.
func (f *testFilter) MatchField() string {
	if f.field != "" {
		return f.field
	}
	name := ""
	for i, s := range f.subs {
		n := s.MatchField()
		if n == "" || i > 0 && n != name {
			return ""
		}
		name = n
	}
	return name
}

// fields is what f reads.
func (f *testFilter) fields(into map[string]bool) {
	if f.field != "" {
		into[f.field] = true
	}
	for _, s := range f.subs {
		s.fields(into)
	}
}

// projectFields is r as a search that builds only fields passes it.
func projectFields(r *record.Record, fields []string) record.Record {
	p := record.Record{Time: r.Time, Tenant: r.Tenant, Stream: r.Stream}
	if slices.Contains(fields, record.MessageField) {
		p.Message = r.Message
	}
	for _, f := range r.Fields {
		if slices.Contains(fields, f.Name) {
			p.Fields = append(p.Fields, f)
		}
	}
	return p
}

// checkNarrowSearches runs req again as the query engine narrows it: with
// Fields (only the filter's fields and a group field built), and with
// Count grouped by that field, with and without times, and compares
// with a scan of all records.
func checkNarrowSearches(t *testing.T, stage string, s *Store, all []record.Record, req SearchRequest, rng *rand.Rand) {
	t.Helper()
	group := []string{"level", "status", "user", "app", "id", "nosuch", ""}[rng.IntN(7)]
	need := map[string]bool{}
	if req.Filter != nil {
		req.Filter.(*testFilter).fields(need)
	}
	if group != "" {
		need[group] = true
	}
	if rng.IntN(4) == 0 {
		need[record.MessageField] = true
	}
	req.Fields = slices.AppendSeq([]string{}, maps.Keys(need))
	slices.Sort(req.Fields)
	var want []string
	for i := range all {
		r := &all[i]
		if r.Tenant != req.Tenant || r.Time < req.From || req.To != 0 && r.Time >= req.To || req.Filter != nil && !req.Filter.Match(r) {
			continue
		}
		p := projectFields(r, req.Fields)
		want = append(want, canon(&p))
	}
	slices.Sort(want)
	if got := searchAll(t, s, req); !slices.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("%s: fields %v, filter %v: got %d records, want %d; first difference at %d:\n%v\n%v", stage, req.Fields, req.Filter, len(got), len(want), i, got[i:i+1], want[i:i+1])
	}

	req.CountFields = []string{}
	if group != "" {
		req.CountFields = []string{group}
	}
	req.CountTimes = rng.IntN(2) == 0
	got := map[string]int{}
	req.Count = func(r *record.Record, n int, times []int64) error {
		if !req.CountTimes {
			got[groupKey(r, group, 0)] += n
			return nil
		}
		if len(times) != n {
			t.Fatalf("%s: Count got %d times for %d records", stage, len(times), n)
		}
		for _, tm := range times {
			got[groupKey(r, group, tm)]++
		}
		return nil
	}
	// fn may keep what it is given, unlike Count: the values it kept
	// (views) must still read the same once the search has read and
	// counted other blocks, whose buffers it may reuse.
	var kept [][2]string
	err := s.Search(context.Background(), req, func(r *record.Record) error {
		got[groupKey(r, group, r.Time)]++
		if v, ok := r.Get(group); ok {
			kept = append(kept, [2]string{v, strings.Clone(v)})
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s: count search: %v", stage, err)
	}
	for _, k := range kept {
		if k[0] != k[1] {
			t.Fatalf("%s: a value passed to fn changed after the call: %q, was %q", stage, k[0], k[1])
		}
	}
	wantCounts := groupCounts(all, req, group)
	if !req.CountTimes {
		// Rows passed to fn one by one carry their time: drop it.
		got = dropTimes(got)
	}
	if !maps.Equal(got, wantCounts) {
		t.Fatalf("%s: count by %q (times %v), filter %v: got %v, want %v", stage, group, req.CountTimes, req.Filter, got, wantCounts)
	}
}

// groupKey is the group a record falls in: group's value (or its
// absence) and t.
func groupKey(r *record.Record, group string, t int64) string {
	v, ok := "", false
	if group != "" {
		v, ok = r.Get(group)
	}
	return strconv.FormatBool(ok) + "|" + v + "@" + strconv.FormatInt(t, 10)
}

// groupCounts counts the records req selects by group and, with
// CountTimes, time.
func groupCounts(all []record.Record, req SearchRequest, group string) map[string]int {
	out := map[string]int{}
	for i := range all {
		r := &all[i]
		if r.Tenant != req.Tenant || r.Time < req.From || req.To != 0 && r.Time >= req.To || req.Filter != nil && !req.Filter.Match(r) {
			continue
		}
		t := int64(0)
		if req.CountTimes {
			t = r.Time
		}
		out[groupKey(r, group, t)]++
	}
	return out
}

func dropTimes(m map[string]int) map[string]int {
	out := map[string]int{}
	for k, n := range m {
		i := len(k) - 1
		for k[i] != '@' {
			i--
		}
		out[k[:i]+"@0"] += n
	}
	return out
}
