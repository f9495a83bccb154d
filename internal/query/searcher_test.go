package query

import (
	"context"
	"math"
	"strconv"

	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// sliceSearcher is a brute-force store.Searcher over a slice, visiting
// records in slice order and applying the filter's Match to each. Like the
// store, it honours SearchRequest.Fields strictly: it builds the projected
// record first and matches the filter on that, so a field the query
// forgot to ask for reads as missing.
type sliceSearcher []record.Record

func (s sliceSearcher) Search(ctx context.Context, req store.SearchRequest, fn func(*record.Record) error) error {
	var need map[string]bool
	if req.Fields != nil {
		need = map[string]bool{}
		for _, f := range req.Fields {
			need[f] = true
		}
	}
	var projected record.Record
	for i := range s {
		r := &s[i]
		if err := ctx.Err(); err != nil {
			return err
		}
		if r.Tenant != req.Tenant || r.Time < req.From || (req.To != 0 && r.Time >= req.To) {
			continue
		}
		if need != nil {
			projected = project(r, need, projected.Fields[:0])
			r = &projected
		}
		if req.Filter != nil && !req.Filter.Match(r) {
			continue
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// project keeps of r its time, tenant and stream labels and only the fields
// in need, as the store does for SearchRequest.Fields.
func project(r *record.Record, need map[string]bool, fields []record.Field) record.Record {
	p := record.Record{Time: r.Time, Tenant: r.Tenant, Stream: r.Stream, Fields: fields}
	if need[record.MessageField] {
		p.Message = r.Message
	}
	for _, f := range r.Fields {
		if need[f.Name] {
			p.Fields = append(p.Fields, f)
		}
	}
	return p
}

// unprojected is a Searcher that ignores SearchRequest.Fields: every
// record comes whole, the reference that projection must not change.
type unprojected struct{ store.Searcher }

func (u unprojected) Search(ctx context.Context, req store.SearchRequest, fn func(*record.Record) error) error {
	req.Fields = nil
	return u.Searcher.Search(ctx, req, fn)
}

// fieldsRecorder is a Searcher that finds nothing and keeps the Fields of
// the last request.
type fieldsRecorder struct{ fields *[]string }

func (f fieldsRecorder) Search(_ context.Context, req store.SearchRequest, _ func(*record.Record) error) error {
	*f.fields = req.Fields
	return nil
}

// exactSummary is a store.BlockSummary computed exactly from a block of
// records: every "may" is a "does".
type exactSummary struct {
	fields map[string]bool
	tokens map[[2]string]bool
	min    map[string]float64
	max    map[string]float64
}

func newExactSummary(recs []record.Record) *exactSummary {
	s := &exactSummary{fields: map[string]bool{}, tokens: map[[2]string]bool{}, min: map[string]float64{}, max: map[string]float64{}}
	add := func(name, value string) {
		s.fields[name] = true
		record.Tokens(value, func(t string) { s.tokens[[2]string{name, t}] = true })
		f, err := strconv.ParseFloat(value, 64)
		if err != nil || math.IsNaN(f) {
			return
		}
		if m, ok := s.min[name]; !ok || f < m {
			s.min[name] = f
		}
		if m, ok := s.max[name]; !ok || f > m {
			s.max[name] = f
		}
	}
	for _, r := range recs {
		add(record.MessageField, r.Message)
		for _, f := range r.Stream {
			add(f.Name, f.Value)
		}
		for _, f := range r.Fields {
			add(f.Name, f.Value)
		}
	}
	return s
}

func (s *exactSummary) MayHaveField(f string) bool         { return s.fields[f] }
func (s *exactSummary) MayContainToken(f, tok string) bool { return s.tokens[[2]string{f, tok}] }
func (s *exactSummary) NumRange(f string) (float64, float64, bool) {
	min, ok := s.min[f]
	return min, s.max[f], ok
}
