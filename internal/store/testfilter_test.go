package store

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

// testFilter is a small Filter for tests: word-in-field via tokens, field
// exists, numeric range and AND/OR/NOT, with a MayMatch that consults the
// BlockSummary the way the query engine's filters will.
type testFilter struct {
	kind   string // word, exists, range, and, or, not
	field  string
	word   string
	lo, hi float64
	subs   []*testFilter
}

func (f *testFilter) String() string {
	switch f.kind {
	case "word":
		return f.field + ":" + f.word
	case "exists":
		return f.field + ":*"
	case "range":
		return fmt.Sprintf("%s:[%g,%g]", f.field, f.lo, f.hi)
	case "not":
		return "NOT " + f.subs[0].String()
	}
	parts := make([]string, len(f.subs))
	for i, s := range f.subs {
		parts[i] = s.String()
	}
	return "(" + strings.Join(parts, " "+strings.ToUpper(f.kind)+" ") + ")"
}

func (f *testFilter) Match(r *record.Record) bool {
	switch f.kind {
	case "word":
		v, ok := r.Get(f.field)
		if !ok {
			return false
		}
		found := false
		record.Tokens(v, func(t string) { found = found || t == f.word })
		return found
	case "exists":
		_, ok := r.Get(f.field)
		return ok
	case "range":
		v, ok := r.Get(f.field)
		if !ok {
			return false
		}
		x, err := strconv.ParseFloat(v, 64)
		return err == nil && x >= f.lo && x <= f.hi
	case "and":
		for _, s := range f.subs {
			if !s.Match(r) {
				return false
			}
		}
		return true
	case "or":
		for _, s := range f.subs {
			if s.Match(r) {
				return true
			}
		}
		return false
	case "not":
		return !f.subs[0].Match(r)
	}
	panic("unknown filter " + f.kind)
}

func (f *testFilter) MayMatch(b BlockSummary) bool {
	switch f.kind {
	case "word":
		return b.MayContainToken(f.field, f.word)
	case "exists":
		return b.MayHaveField(f.field)
	case "range":
		if !b.MayHaveField(f.field) {
			return false
		}
		lo, hi, ok := b.NumRange(f.field)
		return !ok || hi >= f.lo && lo <= f.hi
	case "and":
		for _, s := range f.subs {
			if !s.MayMatch(b) {
				return false
			}
		}
		return true
	case "or":
		for _, s := range f.subs {
			if s.MayMatch(b) {
				return true
			}
		}
		return false
	}
	return true // NOT cannot rule a block out from a summary
}

var (
	testVocab   = []string{"alpha", "beta", "gamma", "delta", "error", "warn", "timeout", "disk", "user", "login", "Retry", "ÜBER"}
	testLevels  = []string{"debug", "info", "warn", "error"}
	testTenants = []string{"", "acme", "globex"}
	// testBase is 2026-01-01T00:00:00Z; records spread over three days.
	testBase = int64(1767225600) * 1e9
	testSpan = int64(3 * 24 * 3600 * 1e9)
)

func randWords(rng *rand.Rand, n int) string {
	w := make([]string, n)
	for i := range w {
		w[i] = testVocab[rng.IntN(len(testVocab))]
	}
	return strings.Join(w, " ")
}

// genRecords makes n random records over a handful of tenants and ~20
// streams; id makes every record distinguishable.
func genRecords(rng *rand.Rand, n int, firstID int) []record.Record {
	recs := make([]record.Record, n)
	for i := range recs {
		st := rng.IntN(20)
		r := record.Record{
			Time:    testBase + rng.Int64N(testSpan),
			Tenant:  testTenants[st%len(testTenants)],
			Stream:  []record.Field{{Name: "app", Value: "app" + strconv.Itoa(st%7)}, {Name: "host", Value: "host-" + strconv.Itoa(st)}},
			Message: randWords(rng, 1+rng.IntN(6)),
		}
		r.Fields = append(r.Fields, record.Field{Name: "id", Value: strconv.Itoa(firstID + i)})
		if rng.IntN(4) != 0 {
			r.Fields = append(r.Fields, record.Field{Name: "level", Value: testLevels[rng.IntN(len(testLevels))]})
		}
		if rng.IntN(3) == 0 {
			r.Fields = append(r.Fields, record.Field{Name: "user", Value: randWords(rng, 1+rng.IntN(2))})
		}
		switch rng.IntN(4) {
		case 0:
			r.Fields = append(r.Fields, record.Field{Name: "status", Value: strconv.Itoa(200 + 100*rng.IntN(4))})
		case 1:
			r.Fields = append(r.Fields, record.Field{Name: "status", Value: "n/a"})
		}
		if rng.IntN(2) == 0 {
			r.Fields = append(r.Fields, record.Field{Name: "latency", Value: record.FormatFloat(float64(rng.IntN(10000)) / 10)})
		}
		// Unsorted on purpose: the store must not depend on field order.
		rng.Shuffle(len(r.Fields), func(a, b int) { r.Fields[a], r.Fields[b] = r.Fields[b], r.Fields[a] })
		recs[i] = r
	}
	return recs
}

func randLeaf(rng *rand.Rand) *testFilter {
	fields := []string{record.MessageField, "level", "user", "app", "host", "status", "nosuch"}
	switch rng.IntN(4) {
	case 0:
		return &testFilter{kind: "exists", field: []string{"user", "status", "latency", "nosuch", "app"}[rng.IntN(5)]}
	case 1:
		lo := float64(rng.IntN(1000))
		field := []string{"latency", "status"}[rng.IntN(2)]
		if field == "status" {
			lo = float64(150 + rng.IntN(400))
		}
		return &testFilter{kind: "range", field: field, lo: lo, hi: lo + float64(rng.IntN(300))}
	default:
		f := fields[rng.IntN(len(fields))]
		word := strings.ToLower(testVocab[rng.IntN(len(testVocab))])
		switch f {
		case "level":
			word = testLevels[rng.IntN(len(testLevels))]
		case "app":
			word = "app" + strconv.Itoa(rng.IntN(8))
		case "host":
			word = strconv.Itoa(rng.IntN(22)) // host-N tokenizes to host, N
		}
		return &testFilter{kind: "word", field: f, word: word}
	}
}

func randFilter(rng *rand.Rand, depth int) *testFilter {
	if depth == 0 || rng.IntN(3) == 0 {
		return randLeaf(rng)
	}
	switch rng.IntN(3) {
	case 0:
		return &testFilter{kind: "not", subs: []*testFilter{randFilter(rng, depth-1)}}
	case 1:
		return &testFilter{kind: "and", subs: []*testFilter{randFilter(rng, depth-1), randFilter(rng, depth-1)}}
	}
	return &testFilter{kind: "or", subs: []*testFilter{randFilter(rng, depth-1), randFilter(rng, depth-1)}}
}

// randRequest makes a random request; about one in five has no filter.
func randRequest(rng *rand.Rand) SearchRequest {
	req := SearchRequest{Tenant: testTenants[rng.IntN(len(testTenants))]}
	switch rng.IntN(4) {
	case 0:
		req.From = testBase + rng.Int64N(testSpan)
		req.To = req.From + rng.Int64N(testSpan/2)
	case 1:
		req.From = testBase + rng.Int64N(testSpan)
	case 2:
		// Whole hours, which blocks' time indexes place exactly.
		hour := int64(time.Hour)
		req.From = testBase + rng.Int64N(testSpan/hour)*hour
		req.To = req.From + (1+rng.Int64N(30))*hour
	}
	if rng.IntN(5) != 0 {
		req.Filter = randFilter(rng, 3)
	}
	return req
}

func timeOf(ns int64) time.Time { return time.Unix(0, ns) }
