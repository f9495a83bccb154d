package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

const (
	insertPath = "/insert/jsonline"
	ndjson     = "application/x-ndjson"
)

// ingestStats is what one bulk ingest achieved.
type ingestStats struct {
	records, bytes, retries int64
	elapsed                 time.Duration
}

// ingest generates every record of g in batches of batch records and posts
// them from concurrency workers at once. One goroutine generates; the
// generator is several times faster than any server it feeds, and a single
// stream keeps the ground truth in step with what was sent.
//
// With c.sys.bulk the batches go through the _bulk API (bytes still counts
// the JSON lines, so that MB/s compares with a jsonline run), and an answer
// with item errors fails the ingest.
//
// sent, when not nil, counts the records acknowledged so far, for a
// sampler that watches the run's progress.
func ingest(ctx context.Context, c *client, g source, concurrency, batch int, sent *atomic.Int64) (ingestStats, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	type job struct {
		buf []byte
		n   int
	}
	jobs := make(chan job, concurrency)
	free := make(chan []byte, 2*concurrency)
	var bytes, retries atomic.Int64
	records := sent
	if records == nil {
		records = new(atomic.Int64)
	}
	before := records.Load()
	var firstErr error
	var once sync.Once
	fail := func(err error) {
		once.Do(func() { firstErr = err; cancel() })
	}

	start := time.Now()
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			var body []byte
			for j := range jobs {
				path, payload := c.sys.insertPath(), j.buf
				if c.sys.bulk {
					body = appendBulk(body[:0], j.buf)
					path, payload = c.sys.bulkPath(), body
				}
				answer, r, err := c.post(ctx, path, ndjson, payload)
				retries.Add(int64(r))
				if err == nil && c.sys.bulk && bulkItemErrors(answer) {
					err = fmt.Errorf("_bulk answered item errors: %.300s", answer)
				}
				if err != nil {
					fail(err)
					continue // drain jobs so that the producer is not stuck
				}
				records.Add(int64(j.n))
				bytes.Add(int64(len(j.buf)))
				select {
				case free <- j.buf:
				default:
				}
			}
		})
	}

produce:
	for {
		var buf []byte
		select {
		case buf = <-free:
		default:
		}
		buf, n := g.AppendBatch(buf[:0], batch)
		if n == 0 {
			break
		}
		select {
		case jobs <- job{buf, n}:
		case <-ctx.Done():
			break produce
		}
	}
	close(jobs)
	wg.Wait()
	st := ingestStats{records: records.Load() - before, bytes: bytes.Load(), retries: retries.Load(), elapsed: time.Since(start)}
	if firstErr != nil {
		return st, firstErr
	}
	return st, ctx.Err()
}
