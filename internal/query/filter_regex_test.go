package query

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sluice-log/sluice/internal/record"
)

// countdownCtx is a context whose Err turns non-nil after a number of
// calls, so that a test can cancel a query in the middle of one value's
// match without racing a timer.
type countdownCtx struct {
	context.Context
	left atomic.Int64
}

func (c *countdownCtx) Err() error {
	if c.left.Add(-1) < 0 {
		return context.DeadlineExceeded
	}
	return nil
}

// TestRegexStopsWithinLongValue: the pathological pattern of issue 20 over
// a long value gives up at the first look at a done context past the
// value's start, instead of reading the value to its end; a short value
// is matched whole, and nothing is matched once the context is done.
func TestRegexStopsWithinLongValue(t *testing.T) {
	const pattern = `.{0,1000}b.{0,1000}z`
	ctx := &countdownCtx{Context: context.Background()}
	ctx.left.Store(3) // the look before the match, then two while reading
	f := newRegexFilter(Regex{Field: "v", Pattern: pattern}, ctx)
	long := strings.Repeat("a", 1<<20)
	if f.longValue >= len(long) || f.longValue > 1000 {
		t.Fatalf("longValue = %d for a 4004-instruction program", f.longValue)
	}
	sr := &stopReader{s: long, ctx: ctx, every: f.longValue}
	ctx.left.Store(2)
	if f.re.MatchReader(sr) || !sr.stopped {
		t.Fatalf("reader not stopped: stopped=%v", sr.stopped)
	}
	if sr.i > 3*f.longValue {
		t.Fatalf("read %d bytes of %d after the context was done; want at most %d", sr.i, len(long), 3*f.longValue)
	}
	ctx.left.Store(0)
	if f.matchValue("b z") {
		t.Fatal("matched after the context was done")
	}
	live := newRegexFilter(Regex{Field: "v", Pattern: `.{0,10}b.{0,10}z`}, context.Background())
	if v := strings.Repeat("a", 2*live.longValue) + "b" + strings.Repeat("a", 9) + "z"; !live.matchValue(v) {
		t.Fatal("a long value with a match did not match")
	}
}

// TestExecuteRegexDeadline: a query of the pathological regex over long
// values ends with the deadline's error, and every place a regex is
// evaluated during a run (the search's filter, the filter pipe) is given
// the run's context, which TestRegexStopsWithinLongValue shows it obeys.
func TestExecuteRegexDeadline(t *testing.T) {
	var recs sliceSearcher
	for i := range 50 {
		recs = append(recs, record.Record{Time: int64(i + 1), Message: strings.Repeat("a", 256<<10)})
	}
	q, err := Parse(`_msg:/.{0,1000}b.{0,1000}z/ | filter _msg:/.{0,1000}b.{0,1000}z/`)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	var rows int
	err = Execute(ctx, recs, q, Options{}, func(Row) error { rows++; return nil })
	if !errors.Is(err, context.DeadlineExceeded) || rows != 0 {
		t.Fatalf("err = %v, rows = %d; want the deadline", err, rows)
	}

	opts := Options{ctx: ctx}.withDefaults()
	if f, ok := opts.request(q).Filter.(regexFilter); !ok || f.ctx != ctx {
		t.Fatalf("search filter %#v does not hold the run's context", opts.request(q).Filter)
	}
	fp := q.Pipes[0].newProcessor(opts, discard).(*filterProcessor)
	if f, ok := fp.f.(regexFilter); !ok || f.ctx != ctx {
		t.Fatalf("filter pipe's filter %#v does not hold the run's context", fp.f)
	}
}

// FuzzRegexLongValue: matching through stopReader answers what
// MatchString answers, for every pattern and value (invalid UTF-8
// included).
func FuzzRegexLongValue(f *testing.F) {
	f.Add(`.{0,10}b.{0,10}z`, "aaaabaaaaz")
	f.Add(`^\d{4}-\d{2}$`, "2024-05")
	f.Add(`(?i)error|warn`, "xx WARN yy")
	f.Add(`\bfoo\b`, "a foo b")
	f.Add(`é.$`, "caf\xc3\xa9\xff")
	f.Add(`user=\d+`, "id user=42 x")
	f.Add(`(?s)a.*\z`, "a\nb")
	f.Fuzz(func(t *testing.T, pattern, v string) {
		re, err := regexp.Compile(pattern)
		if err != nil {
			return
		}
		fl := newRegexFilter(Regex{Field: "v", Pattern: pattern}, context.Background())
		fl.longValue = 1 // every value but "" through the reader
		if got, want := fl.matchValue(v), re.MatchString(v); got != want {
			t.Fatalf("%q on %q (valid UTF-8 %v): reader %v, MatchString %v", pattern, v, utf8.ValidString(v), got, want)
		}
	})
}
