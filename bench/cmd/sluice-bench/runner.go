package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

// options are the command's flags.
type options struct {
	binary        string
	config        string // sluice's YAML config, "" for its defaults
	vlogsBinary   string // VictoriaLogs to run side by side, "" for none
	protocol      string // "jsonline" or "bulk": how the data set is sent
	data          dataset
	records       int
	concurrency   int
	batch         int
	runs          int
	queriesRepeat int
	keep          bool
	jsonOut       bool
	seed          uint64
	end           time.Time
	endPinned     bool // -end was given (not now)
	freshRate     int
	probes        int
	// live runs the queries also under ingest (see measureLive), at
	// liveRate records/s (0: half the bulk ingest's rate) after a warm-up.
	live       bool
	liveRate   int
	liveWarmup time.Duration
	// days spreads the records over that many days (the long run; more
	// than 1 turns live and restart on); rssInterval is how often the
	// server's RSS is sampled; restart stops the server after the other
	// phases and times its start on the same data dir.
	days        int
	rssInterval time.Duration
	restart     bool
}

// Time limits of one run's phases. They only bound a run that went wrong
// (the figures are the times measured, not these): generous enough for a
// 100M-record store, whose shutdown flush, restart and final merges take
// longer than a small one's.
const (
	readyTimeout = 2 * time.Minute
	stopTimeout  = 2 * time.Minute
	settleStable = 3 * time.Second
	// VictoriaLogs' force_flush makes pending records searchable in memory;
	// they reach the disk only with its next in-memory part flush (every
	// 5 s by default), so its size must stay still for longer than that.
	vlogsSettleStable = 12 * time.Second
	settlePoll        = 250 * time.Millisecond
	settleTimeout     = 30 * time.Minute
	flushPath         = "/internal/force_flush"
	formContentType   = "application/x-www-form-urlencoded"
)

// runResult holds every figure of one run.
type runResult struct {
	Records       int64   `json:"records"`
	RawBytes      int64   `json:"raw_bytes"`
	IngestSeconds float64 `json:"ingest_seconds"`
	RecordsPerSec figure  `json:"records_per_s"`
	MBPerSec      figure  `json:"mb_per_s"`
	Retries       int64   `json:"backpressure_retries"`
	CPUSeconds    float64 `json:"server_cpu_seconds"`
	CPUSettled    float64 `json:"server_cpu_seconds_to_settle"`
	PeakRSSIngest int64   `json:"peak_rss_after_ingest_bytes"`
	PeakRSS       int64   `json:"peak_rss_bytes"`
	DiskBytes     int64   `json:"disk_bytes"`
	SettleSeconds float64 `json:"settle_seconds"`
	// SettledParts is the store's parts once settled (Sluice only; 0 for
	// VictoriaLogs).
	SettledParts int `json:"settled_parts,omitempty"`
	// UnsettledAfterQueries says how the store changed while the idle
	// queries ran (a merge, a flush): their figures are then not of the
	// settled store, and the run fails. Sluice only; "" when it did not.
	UnsettledAfterQueries string        `json:"unsettled_after_queries,omitempty"`
	Queries               []queryResult `json:"queries"`
	// QueriesLastHour are the bench queries over the data's last hour on
	// the settled store, and Live the queries under ingest (-live only).
	QueriesLastHour []queryResult  `json:"queries_last_hour,omitempty"`
	Live            *liveResult    `json:"live,omitempty"`
	Freshness       freshnessStats `json:"freshness"`
	// RSS is the server's memory sampled from the ingest until before the
	// restart, Restart the restart phase (-restart only).
	RSS *rssTrace `json:"rss,omitempty"`
	// Guard is what the guards admitted, queued and refused over the run
	// (Sluice only).
	Guard           *guardStats    `json:"guard,omitempty"`
	Restart         *restartResult `json:"restart,omitempty"`
	ShutdownSeconds float64        `json:"shutdown_seconds"`
	ShutdownError   string         `json:"shutdown_error,omitempty"`
	WorkDir         string         `json:"work_dir,omitempty"`
}

// failures lists what makes the run a failure: wrong answers, records
// that never became searchable, an unclean shutdown.
func (r *runResult) failures() []string {
	var out []string
	qs := map[string][]queryResult{"": r.Queries, "last hour ": r.QueriesLastHour}
	if r.Live != nil {
		qs["under ingest, last hour "], qs["under ingest, 24 h "] = r.Live.LastHour, r.Live.Day
	}
	if r.Restart != nil {
		qs["after restart "] = r.Restart.Queries
	}
	for _, kind := range []string{"", "last hour ", "under ingest, last hour ", "under ingest, 24 h ", "after restart "} {
		for _, q := range qs[kind] {
			if !q.Correct {
				out = append(out, fmt.Sprintf("query %s%s: %s", kind, q.Name, q.Error))
			}
		}
	}
	if r.Freshness.Lost > 0 {
		out = append(out, fmt.Sprintf("%d of %d probe records not searchable within %s", r.Freshness.Lost, r.Freshness.Probes, probeTimeout))
	}
	if r.UnsettledAfterQueries != "" {
		out = append(out, "the store was not settled during the idle queries: "+r.UnsettledAfterQueries)
	}
	if r.ShutdownError != "" {
		out = append(out, "shutdown: "+r.ShutdownError)
	}
	return out
}

// run starts a fresh server on an empty data dir, measures it and stops it.
// The work dir (data and server log) is removed afterwards unless keep is
// set or the run failed, so that a failure can be examined.
func run(ctx context.Context, o options, sys system, log *slog.Logger) (res runResult, err error) {
	work, err := os.MkdirTemp("", "sluice-bench-")
	if err != nil {
		return res, fmt.Errorf("create work dir: %w", err)
	}
	res.WorkDir = work
	defer func() {
		if o.keep || err != nil || len(res.failures()) > 0 {
			log.Info("kept work dir", "dir", work)
			if err != nil {
				err = fmt.Errorf("%w (work dir %s kept)", err, work)
			}
			return
		}
		if rmErr := os.RemoveAll(work); rmErr != nil {
			log.Warn("remove work dir", "dir", work, "err", rmErr)
		}
		res.WorkDir = ""
	}()
	dataDir := filepath.Join(work, "data")
	if err := os.Mkdir(dataDir, 0o755); err != nil {
		return res, fmt.Errorf("create data dir: %w", err)
	}

	srv, err := startServer(sys, dataDir, filepath.Join(work, "server.log"))
	if err != nil {
		return res, err
	}
	// A closure: the restart phase replaces srv.
	defer func() { srv.kill() }()
	c := newClient(srv.base, o.concurrency+2)
	c.sys = sys
	if err := srv.waitReady(ctx, c.http, readyTimeout); err != nil {
		return res, err
	}
	log.Info("server ready", "system", sys.name, "pid", srv.pid(), "addr", srv.base)

	g, err := measure(ctx, o, sys, srv, c, dataDir, &res, log)
	if exited, exitErr := srv.exited(); exited {
		return res, fmt.Errorf("server exited during the run (%v); log %s:\n%s", exitErr, srv.logPath, srv.logTail(20))
	}
	if err != nil {
		return res, err
	}

	took, stopErr := srv.stop(stopTimeout)
	res.ShutdownSeconds = took.Seconds()
	if stopErr != nil {
		res.ShutdownError = stopErr.Error()
		return res, nil
	}
	if o.restart {
		if res.Restart, err = restart(ctx, sys, &srv, work, dataDir, g, log); err != nil {
			return res, err
		}
	}
	return res, nil
}

// stored is every record the run sent before the store settled: the data
// set and, with -live, the records sent under the queries.
func (r *runResult) stored() int64 {
	if r.Live != nil {
		return r.Records + r.Live.Records
	}
	return r.Records
}

// measure runs the phases against a ready server, filling res, and
// returns the generator with its ground truth.
func measure(ctx context.Context, o options, sys system, srv *server, c *client, dataDir string, res *runResult, log *slog.Logger) (source, error) {
	g, err := sys.dataset().open(o.seed, o.records, o.end, o.days)
	if err != nil {
		return nil, err
	}
	return g, measurePhases(ctx, o, sys, srv, c, dataDir, g, res, log)
}

func measurePhases(ctx context.Context, o options, sys system, srv *server, c *client, dataDir string, g source, res *runResult, log *slog.Logger) error {
	var sent atomic.Int64
	sampler := startRSSSampler(ctx, srv.pid(), &sent, o.records, o.rssInterval)
	defer func() { res.RSS = sampler.finish() }()

	cpu0, err := cpuSeconds(srv.pid())
	if err != nil {
		return err
	}
	log.Info("ingest", "dataset", sys.dataset().name, "records", o.records, "days", max(o.days, 1), "concurrency", o.concurrency, "batch", o.batch)
	st, err := ingest(ctx, c, g, o.concurrency, o.batch, &sent)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	sampler.endOfIngest()
	cpu1, err := cpuSeconds(srv.pid())
	if err != nil {
		return err
	}
	res.Records, res.RawBytes, res.Retries = st.records, st.bytes, st.retries
	res.IngestSeconds = st.elapsed.Seconds()
	res.RecordsPerSec = figure(float64(st.records) / res.IngestSeconds)
	res.MBPerSec = figure(float64(st.bytes) / 1e6 / res.IngestSeconds)
	res.CPUSeconds = cpu1 - cpu0
	if res.PeakRSSIngest, err = peakRSS(srv.pid()); err != nil {
		return err
	}
	if o.live {
		rate := o.liveRate
		if rate == 0 {
			rate = int(res.RecordsPerSec / 2)
		}
		live, err := measureLive(ctx, o, c, g, rate, log)
		if err != nil {
			return fmt.Errorf("queries under ingest: %w", err)
		}
		res.Live = &live
	}

	log.Info("flush and settle")
	if _, _, err := c.post(ctx, flushPath, formContentType, nil); err != nil {
		return fmt.Errorf("force flush: %w", err)
	}
	settleStart := time.Now()
	if !sys.vlogs {
		if err := waitMerges(ctx, c, settlePoll, settleTimeout); err != nil {
			return err
		}
	}
	merged := time.Since(settleStart)
	size, settled, err := settledSize(ctx, dataDir, sys.settleStable(), settlePoll, settleTimeout)
	if err != nil {
		return err
	}
	res.DiskBytes, res.SettleSeconds = size, (merged + settled).Seconds()
	if !sys.vlogs {
		st, err := storeStatus(ctx, c)
		if err != nil {
			return err
		}
		res.SettledParts = st.Parts
	}
	cpu2, err := cpuSeconds(srv.pid())
	if err != nil {
		return err
	}
	res.CPUSettled = cpu2 - cpu0

	log.Info("queries", "repeat", o.queriesRepeat)
	res.Queries = runQueries(ctx, c, g.Queries(), g.From(), g.To(), o.queriesRepeat)
	if o.live || o.days > 1 {
		res.QueriesLastHour = runQueries(ctx, c, g.RecentQueries(), g.RecentFrom(), g.To(), o.queriesRepeat)
	}
	if !sys.vlogs {
		st, err := storeStatus(ctx, c)
		if err != nil {
			return err
		}
		res.UnsettledAfterQueries = unsettled(res.SettledParts, st)
	}

	log.Info("freshness", "probes", o.probes, "background_rate", o.freshRate)
	if res.Freshness, err = measureFreshness(ctx, c, o.freshRate, o.probes, o.seed+1); err != nil {
		return fmt.Errorf("freshness: %w", err)
	}
	if !sys.vlogs {
		if res.Guard, err = readGuards(ctx, c); err != nil {
			return err
		}
		res.Guard.QueriesRefused = c.queryRetries.Load()
	}
	if res.PeakRSS, err = peakRSS(srv.pid()); err != nil {
		return err
	}
	return nil
}
