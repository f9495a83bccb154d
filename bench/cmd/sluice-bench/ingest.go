package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-log/sluice/bench/gen"
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
func ingest(ctx context.Context, c *client, g *gen.Generator, concurrency, batch int) (ingestStats, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	type job struct {
		buf []byte
		n   int
	}
	jobs := make(chan job, concurrency)
	free := make(chan []byte, 2*concurrency)
	var records, bytes, retries atomic.Int64
	var firstErr error
	var once sync.Once
	fail := func(err error) {
		once.Do(func() { firstErr = err; cancel() })
	}

	start := time.Now()
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for j := range jobs {
				_, r, err := c.post(ctx, c.sys.insertPath(), ndjson, j.buf)
				retries.Add(int64(r))
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
	st := ingestStats{records: records.Load(), bytes: bytes.Load(), retries: retries.Load(), elapsed: time.Since(start)}
	if firstErr != nil {
		return st, firstErr
	}
	return st, ctx.Err()
}
