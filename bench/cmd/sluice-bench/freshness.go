package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-log/sluice/bench/gen"
	"github.com/sluice-log/sluice/internal/record"
)

// freshnessStats says how long records took from being sent to being found.
type freshnessStats struct {
	P50Ms        figure `json:"p50_ms"`
	P99Ms        figure `json:"p99_ms"`
	Probes       int    `json:"probes"`
	Lost         int    `json:"lost"`
	BackgroundRS figure `json:"background_records_per_s"`
}

// Probing parameters: how often a probe's query is repeated while it is not
// yet visible, and when it counts as lost. bgWarmup lets the background
// load establish itself before the first probe, since the probes of a fast
// server can all finish within a few of the writer's ticks.
const (
	pollInterval = 2 * time.Millisecond
	probeTimeout = 30 * time.Second
	bgWarmup     = time.Second
)

// measureFreshness sends probes single records, each with a unique marker
// word and the current time, while a background writer sends about rate
// records/s, and polls for each marker until a query finds it.
func measureFreshness(ctx context.Context, c *client, rate, probes int, seed uint64) (freshnessStats, error) {
	// With so many records their times hardly advance from the window's
	// start: now, after the data's window, as a live node receives them,
	// and outside the queries' window, so that the queries after a restart
	// (-restart) still have exact answers.
	bg, err := c.sys.dataset().open(seed, 1<<40, time.Now().Add(gen.Window), 1)
	if err != nil {
		return freshnessStats{}, err
	}
	bgCtx, stopBG := context.WithCancel(ctx)
	var bgRecords atomic.Int64
	var bgErr error
	var wg sync.WaitGroup
	bgStart := time.Now()
	wg.Go(func() { bgErr = backgroundWriter(bgCtx, c, bg, rate, &bgRecords) })
	select {
	case <-ctx.Done():
	case <-time.After(bgWarmup):
	}

	nonce := strconv.FormatUint(rand.Uint64(), 36)
	var lat []float64
	st := freshnessStats{Probes: probes}
	for i := range probes {
		marker := "sluiceprobe" + nonce + "x" + strconv.Itoa(i)
		d, found, err := probe(ctx, c, marker)
		if err != nil {
			stopBG()
			wg.Wait()
			return st, err
		}
		if !found {
			st.Lost++
			continue
		}
		lat = append(lat, float64(d)/float64(time.Millisecond))
	}
	stopBG()
	wg.Wait()
	st.BackgroundRS = figure(float64(bgRecords.Load()) / time.Since(bgStart).Seconds())
	st.P50Ms, st.P99Ms = figure(percentile(lat, 50)), figure(percentile(lat, 99))
	if bgErr != nil {
		return st, fmt.Errorf("background writer: %w", bgErr)
	}
	return st, nil
}

// backgroundWriter sends about rate records/s until ctx ends: every tick it
// sends what is due by then, so that a slow request is made up for by the
// next one, up to a second's worth at a time. If the server is slower than
// rate the writer falls behind rather than piling up requests; the
// achieved rate is reported.
func backgroundWriter(ctx context.Context, c *client, g source, rate int, sent *atomic.Int64) error {
	const tick = 100 * time.Millisecond
	t := time.NewTicker(tick)
	defer t.Stop()
	start := time.Now()
	var buf []byte
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		due := int(float64(rate)*time.Since(start).Seconds()) - int(sent.Load())
		if due <= 0 {
			continue
		}
		var n int
		buf, n = g.AppendBatch(buf[:0], min(due, rate))
		if _, _, err := c.post(ctx, c.sys.insertPath(), ndjson, buf); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		sent.Add(int64(n))
	}
}

// probe writes one record holding marker and polls until a query for the
// marker finds it. It reports the time from sending to finding, and
// found=false if probeTimeout passed first.
func probe(ctx context.Context, c *client, marker string) (time.Duration, bool, error) {
	now := time.Now().UTC()
	line := make([]byte, 0, 256)
	d := c.sys.dataset()
	line = append(line, '{')
	line = record.AppendJSONString(line, d.timeField)
	line = append(line, ':')
	line = record.AppendJSONString(line, now.Format(time.RFC3339Nano))
	line = append(line, ',')
	line = record.AppendJSONString(line, d.msgField)
	line = append(line, ':')
	line = record.AppendJSONString(line, "freshness probe "+marker)
	line = append(line, d.probeFields...)
	line = append(line, "}\n"...)

	start := time.Now()
	if _, _, err := c.post(ctx, c.sys.insertPath(), ndjson, line); err != nil {
		return 0, false, fmt.Errorf("send probe: %w", err)
	}
	for time.Since(start) < probeTimeout {
		rows, _, err := c.query(ctx, marker, now.Add(-time.Minute), now.Add(time.Minute), 10)
		if err != nil {
			return 0, false, fmt.Errorf("poll probe: %w", err)
		}
		for _, r := range rows {
			if strings.Contains(r[record.MessageField], marker) {
				return time.Since(start), true, nil
			}
		}
		select {
		case <-ctx.Done():
			return 0, false, ctx.Err()
		case <-time.After(pollInterval):
		}
	}
	return 0, false, nil
}
