package gen

import "github.com/sluice-log/sluice/internal/record"

// The words and values the bench queries look for.
const (
	termWord      = "timeout"
	phraseFirst   = "connection"
	phraseSecond  = "refused"
	fieldService  = "payments"
	slowLatencyUs = 1000 * 1000 // latency_ms > 1000
	bucketNanos   = int64(60e9) // the histogram's bucket, one minute
)

// truth counts, as records are generated, what each bench query should
// answer.
type truth struct {
	term, phrase, slow, rare int64
	levels                   [numLevels]int64
	services                 [numServices]int64
	errors                   [numServices]int64
	firstBucket              int64   // epoch minute of the window's start
	buckets                  []int64 // counts per minute from firstBucket
}

func (t *truth) init(from, to int64) {
	t.firstBucket = from / bucketNanos
	t.buckets = make([]int64, (to-1)/bucketNanos-t.firstBucket+1)
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
	t.levels[m.level]++
	t.services[m.service]++
	if m.level == levelError {
		t.errors[m.service]++
	}
	t.buckets[m.time/bucketNanos-t.firstBucket]++
}
