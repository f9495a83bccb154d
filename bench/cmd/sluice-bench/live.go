package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-log/sluice/bench/gen"
)

// liveResult is what the queries-under-ingest phase (-live) measured: the
// bench queries over the data's last hour and over all of its 24 h, run
// while background writers send new records at a share of the rate the
// bulk ingest reached. The store is then in the layout a live node has
// (today's partition receiving flushes and merges, never idle-merged), not
// the settled one the idle figures are taken on.
type liveResult struct {
	TargetRS   figure `json:"target_records_per_s"`
	AchievedRS figure `json:"records_per_s"`
	Records    int64  `json:"records"`
	// PartsMin and PartsMax are the store's parts while the queries ran
	// (Sluice only; -1 when not sampled).
	PartsMin int           `json:"parts_min"`
	PartsMax int           `json:"parts_max"`
	LastHour []queryResult `json:"last_hour"`
	Day      []queryResult `json:"last_24h"`
}

// measureLive runs the bench queries over the last hour and over 24 h
// while -concurrency writers send rate records/s in all (one sequential
// writer cannot send tens of thousands of records per second). The live records are timed
// at the phase's start, after the data's window, so that every answer
// stays exact while the records land in the same (today's) partition.
func measureLive(ctx context.Context, o options, c *client, g source, rate int, log interface{ Info(string, ...any) }) (liveResult, error) {
	res := liveResult{TargetRS: figure(rate), PartsMin: -1, PartsMax: -1}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	writers := max(1, o.concurrency)
	var (
		// One count per writer: each paces itself by what it sent.
		sent = make([]atomic.Int64, writers)
		wg   sync.WaitGroup
		errs = make([]error, writers)
	)
	start := time.Now()
	for i := range writers {
		// A generator whose window starts now: with so many records its
		// times hardly advance, all just after the data's window.
		lg, err := c.sys.dataset().open(o.seed+100+uint64(i), 1<<40, start.Add(gen.Window), 1)
		if err != nil {
			return res, err
		}
		wg.Go(func() { errs[i] = backgroundWriter(wctx, c, lg, max(1, rate/writers), &sent[i]) })
	}
	log.Info("live ingest warm-up", "records_per_s", rate, "seconds", o.liveWarmup.Seconds())
	select {
	case <-ctx.Done():
		return res, ctx.Err()
	case <-time.After(o.liveWarmup):
	}

	// Sample the parts while the queries run (Sluice only).
	sampled := make(chan struct{})
	if !c.sys.vlogs {
		go func() {
			defer close(sampled)
			for wctx.Err() == nil {
				if st, err := storeStatus(wctx, c); err == nil {
					if res.PartsMin < 0 || st.Parts < res.PartsMin {
						res.PartsMin = st.Parts
					}
					res.PartsMax = max(res.PartsMax, st.Parts)
				}
				select {
				case <-wctx.Done():
				case <-time.After(time.Second):
				}
			}
		}()
	} else {
		close(sampled)
	}
	log.Info("queries under ingest", "repeat", o.queriesRepeat)
	res.LastHour = runQueries(ctx, c, g.RecentQueries(), g.RecentFrom(), g.To(), o.queriesRepeat)
	res.Day = runQueries(ctx, c, g.Queries(), g.From(), g.To(), o.queriesRepeat)
	stop()
	wg.Wait()
	<-sampled
	for i := range sent {
		res.Records += sent[i].Load()
	}
	res.AchievedRS = figure(float64(res.Records) / time.Since(start).Seconds())
	for _, err := range errs {
		if err != nil {
			return res, fmt.Errorf("live writer: %w", err)
		}
	}
	return res, nil
}
