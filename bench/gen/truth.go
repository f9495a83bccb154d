package gen

import (
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

// The words and values the bench queries look for.
const (
	termWord      = "timeout"
	phraseFirst   = "connection"
	phraseSecond  = "refused"
	fieldService  = "payments"
	slowLatencyUs = 1000 * 1000 // latency_ms > 1000
	bucketNanos   = int64(60e9) // the histogram's bucket, one minute
	infixText     = "refus"     // the infix wildcard's literal, *refus*
	statusLow     = 500         // the range query's bounds, both included
	statusHigh    = 599
	// traceRecords is about how many records the stats-by-trace_id query
	// covers: its time window shrinks as the data grow so that its ~40k
	// groups stay under the server's default limit of 100k groups per
	// stats query at any size.
	traceRecords = 50000
)

// truth counts, as records are generated, what each bench query should
// answer.
type truth struct {
	term, phrase, slow, rare int64
	infix, serverErrors      int64 // *refus*; status in [statusLow, statusHigh]
	noTrace                  int64 // records without a trace_id
	// The stats-by-trace_id query's window [traceFrom, traceTo) (Unix ns,
	// whole minutes), and its records with no trace id, the rare one, any.
	traceFrom, traceTo                    int64
	windowNoTrace, windowRare, windowRecs int64
	levels                                [numLevels]int64
	services                              [numServices]int64
	errors                                [numServices]int64
	firstBucket                           int64   // epoch minute of the window's start
	buckets                               []int64 // counts per minute from firstBucket
}

func (t *truth) init(from, to int64, records int) {
	t.firstBucket = from / bucketNanos
	t.buckets = make([]int64, (to-1)/bucketNanos-t.firstBucket+1)
	// The window is centred on the middle of the data, where one of the
	// rare trace id's records is.
	w := int64(Window)
	if records > traceRecords {
		w = max(w/int64(records)*traceRecords, int64(time.Minute))
	}
	const minute = int64(time.Minute)
	mid := from + (to-from)/2
	t.traceFrom = (mid - w/2) / minute * minute
	t.traceTo = (mid + w/2 + minute - 1) / minute * minute
}

// add counts one record. Matching uses record.Tokens, the tokenizer the
// server's full-text search uses, so that the two can never disagree about
// what a word is.
func (t *truth) add(m *meta) {
	var term, phrase bool
	prev := ""
	record.Tokens(m.msg, func(tok string) {
		if tok == termWord {
			term = true
		}
		if tok == phraseSecond && prev == phraseFirst {
			phrase = true
		}
		prev = tok
	})
	if term {
		t.term++
	}
	if phrase {
		t.phrase++
	}
	if m.latencyUs > slowLatencyUs {
		t.slow++
	}
	if m.rare {
		t.rare++
	}
	// The wildcard compares the whole message ignoring case; the generated
	// text is ASCII, so ToLower is the server's folding too.
	if strings.Contains(strings.ToLower(m.msg), infixText) {
		t.infix++
	}
	if m.status >= statusLow && m.status <= statusHigh {
		t.serverErrors++
	}
	if !m.traced {
		t.noTrace++
	}
	if m.time >= t.traceFrom && m.time < t.traceTo {
		t.windowRecs++
		if !m.traced {
			t.windowNoTrace++
		}
		if m.rare {
			t.windowRare++
		}
	}
	t.levels[m.level]++
	t.services[m.service]++
	if m.level == levelError {
		t.errors[m.service]++
	}
	t.buckets[m.time/bucketNanos-t.firstBucket]++
}
