package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

const usageText = `sluice-bench runs the real sluice binary and measures it.

Each run starts "<binary> serve" on an empty temporary data dir and a free
local port, and then:

  1. ingests -n generated records of the -dataset (gen: JSON application
     logs from ~50 services, nginx access lines, multi-line Java exceptions,
     syslog lines; alt: bench/altgen's 400 sparse apps, other field names,
     mixed-case words; spread over 24 h) through POST /insert/jsonline (with -protocol bulk: the
     Elasticsearch _bulk API, a create action line before every record, the
     fields mapped by the config's ingest.bulk) from -concurrency clients in batches
     of -batch records, retrying 429/503 as Retry-After says; it reports
     records/s, MB/s of raw JSON, server CPU seconds (from /proc/PID/stat)
     and peak RSS (VmHWM);
  2. calls POST /internal/force_flush, waits until Sluice's status reports
     no merge pending (an idle partition's final merge included) and an
     empty head, then until the data dir has not changed for 3 s
     (VictoriaLogs: 12 s), and reports bytes on disk per record;
  2a. with -live: while background writers send new records (timed after
     the data's window, so that answers stay exact) at -live-rate, half the
     bulk ingest's rate by default, runs every bench query over the data's
     last hour and over its 24 h: the figures "under ingest", taken on the
     layout a live node has (today's partition still receiving flushes and
     merges). Those records count in the CPU and disk per record below;
  3. runs each bench query -queries-repeat times through POST /api/v1/query,
     reports the median latency and checks every answer EXACTLY against the
     ground truth the generator computed (each data set has its own query
     set, written in both systems' languages): the figures "idle", on the settled
     store (with -live, over the last hour too);
  4. measures ingest-to-searchable latency: while a background writer sends
     -fresh-rate records/s, it writes -probes single records with a unique
     word and polls a query for each until it is found (p50, p99);
  4a. reads what Sluice's guards did over the run from its /metrics (the
     GUARDS section, "guard" in the JSON): the CPU slots taken by
     priority (high: searches, ingest, low: flushes and merges), how many
     after a wait and how long (a search's extra workers apart: they wait
     while their search goes on), how many the guard admitted over the
     limit, and the holders' units of work (how many of 1, 4 and 16 ms
     or more: a search waits for a slot about one unit); ingest requests refused at ingest.max_in_flight_bytes and
     waits for the head; and the 429 answers to its own queries (the query
     slots, query.max_concurrent, all taken), which /metrics does not
     count. So a run shows whether its queries were queued or refused;
  5. sends SIGTERM and expects exit status 0 within 2 min;
  6. with -restart: starts the server again on the same data dir, reports
     the time until its readiness path answers (startup), runs the 24 h
     queries once more (checked like the others) and stops it again.

Throughout, the server's VmRSS and VmHWM are sampled every -rss-interval
(in the JSON, with the records acknowledged at each sample); the report
gives them at 5% of the records and at the end of the ingest, and their
ratio: how memory grows with the data.

The long run, -days N (N > 1): the -n records are spread evenly over N
days ending at -end, in time order, generated and sent as they go (no
file); the ground truth is kept as they are generated, over the last 24 h
and the last hour, which the queries cover. Pin -end to compare runs: both
systems partition by UTC day, so the time of day it falls at decides the
layout the queries read (the report's END line says which). -days above 1 turns on -live
and -restart (unless set explicitly: -live=false -restart=false measures
the ingest until settled alone): the issue's long run is
  sluice-bench -n 100000000 -days 10 -vlogs-binary ...

With -runs > 1 every figure is the median over runs. The exit status is 1
if any answer was wrong, a probe record never became searchable, the server
did not shut down cleanly or a run failed; 2 for bad flags.

Measure on a quiet machine, and compare systems only on the same data,
machine and session (see docs on benchmarking).

Flags:
`

func main() {
	os.Exit(mainErr(os.Args[1:], os.Stdout, os.Stderr))
}

func mainErr(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if o.config == "" {
		cfg, err := writeSluiceConfig(o.data)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer os.Remove(cfg)
		o.config = cfg
	}
	sluice := system{name: "sluice", binary: o.binary, config: o.config, bulk: o.protocol == "bulk", data: o.data}
	vlogs := system{name: "victorialogs", binary: o.vlogsBinary, vlogs: true, bulk: o.protocol == "bulk", data: o.data}
	var runs, refRuns []runResult
	var runErr error
	// Side by side, the systems alternate run by run, so that a noisy spell
	// of the shared machine hurts both alike.
	for i := range o.runs {
		log.Info("run", "n", i+1, "of", o.runs)
		res, err := run(ctx, o, sluice, log)
		if err != nil {
			runErr = fmt.Errorf("run %d: %w", i+1, err)
			break
		}
		runs = append(runs, res)
		if o.vlogsBinary == "" {
			continue
		}
		res, err = run(ctx, o, vlogs, log)
		if err != nil {
			runErr = fmt.Errorf("victorialogs run %d: %w", i+1, err)
			break
		}
		refRuns = append(refRuns, res)
	}
	rep := newReport(o, runs, runErr)
	if o.vlogsBinary != "" {
		rep.addReference(o, refRuns)
	}
	if o.jsonOut {
		err = rep.writeJSON(stdout)
	} else {
		err = rep.writeTable(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "write report:", err)
		return 1
	}
	if !rep.Pass {
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	var end, data string
	fs := flag.NewFlagSet("sluice-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.binary, "binary", "./bin/sluice", "path of the sluice `binary` to run (build it first: go build -o bin/sluice ./cmd/sluice)")
	fs.StringVar(&o.config, "config", "", "YAML config `file` passed to sluice serve (default: the built-in defaults with the forward, syslog and OTLP gRPC listeners off and the data set's fields mapped for _bulk and, for -dataset alt, jsonline; a config of your own must map them too)")
	fs.StringVar(&data, "dataset", "gen", "the `data set` with its query set and ground truth: gen (bench/gen: application JSON, nginx, Java traces, syslog) or alt (bench/altgen, issue 13's second data set: fields ts, text, severity, duration_ms; 400 apps x 3 pods in 3 regions as stream fields; mixed-case words; whole-second times)")
	fs.StringVar(&o.vlogsBinary, "vlogs-binary", "", "VictoriaLogs `binary` to run side by side on the same data, alternating runs, with ratios in the report")
	fs.StringVar(&o.protocol, "protocol", "jsonline", "how the data set is sent: `jsonline` (POST /insert/jsonline) or bulk (the Elasticsearch _bulk API, one create action line per record)")
	fs.IntVar(&o.records, "n", 1_000_000, "`records` to ingest; the brief's reference figures use 5000000")
	fs.IntVar(&o.concurrency, "concurrency", 4, "concurrent insert `requests`")
	fs.IntVar(&o.batch, "batch", 5000, "`records` per insert request")
	fs.IntVar(&o.runs, "runs", 1, "number of full `runs`, each on a fresh server and data dir; medians are reported")
	fs.IntVar(&o.queriesRepeat, "queries-repeat", 5, "`times` each query runs; its median latency is reported, and from 10 on the 90th percentile and maximum of the queries under ingest")
	fs.BoolVar(&o.keep, "keep", false, "keep the work dir (data dir and server.log) of successful runs; failed runs always keep it")
	fs.BoolVar(&o.jsonOut, "json", false, "print the result as JSON instead of a table")
	fs.Uint64Var(&o.seed, "seed", 1, "generator `seed`; the same seed and -end give the same data")
	fs.StringVar(&end, "end", "", "end of the data's 24 h window, RFC 3339 (`time`); default: now, rounded down to the minute. Both systems partition by UTC day, so the time of day decides the layout the last hour and the 24 h are read from: pin it to compare runs")
	fs.IntVar(&o.freshRate, "fresh-rate", 20000, "background `records/s` sent while ingest-to-searchable latency is measured")
	fs.IntVar(&o.probes, "probes", 50, "`records` probed for ingest-to-searchable latency")
	fs.BoolVar(&o.live, "live", false, "also run the queries, over the data's last hour and its 24 h, while new records are sent (at -live-rate), on the layout a live node has; then the last hour's queries again once settled")
	fs.IntVar(&o.liveRate, "live-rate", 0, "`records/s` sent during the -live queries; 0: half the rate the bulk ingest reached")
	fs.DurationVar(&o.liveWarmup, "live-warmup", 20*time.Second, "how long the -live load runs before the queries (`duration`)")
	fs.IntVar(&o.days, "days", 1, "spread the records over this many `days` ending at -end (the long run); the queries cover the last 24 h and the last hour; above 1 turns on -live and -restart unless they are set to false")
	fs.DurationVar(&o.rssInterval, "rss-interval", time.Second, "how often the server's VmRSS and VmHWM are sampled (`duration`); 0: only at 5% of the records and at the end of the ingest")
	fs.BoolVar(&o.restart, "restart", false, "after the other phases, start the server again on the same data dir, time it until ready and check the 24 h queries once more")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q (see -help)", fs.Args())
	}
	for _, c := range []struct {
		name string
		v    int
	}{{"n", o.records}, {"concurrency", o.concurrency}, {"batch", o.batch}, {"runs", o.runs}, {"queries-repeat", o.queriesRepeat}, {"fresh-rate", o.freshRate}, {"probes", o.probes}} {
		if c.v <= 0 {
			return o, fmt.Errorf("-%s must be positive, got %d", c.name, c.v)
		}
	}
	if o.protocol != "jsonline" && o.protocol != "bulk" {
		return o, fmt.Errorf("-protocol must be jsonline or bulk, got %q", o.protocol)
	}
	d, err := datasetNamed(data)
	if err != nil {
		return o, err
	}
	o.data = d
	if o.liveRate < 0 || o.liveWarmup < 0 || o.rssInterval < 0 {
		return o, fmt.Errorf("-live-rate, -live-warmup and -rss-interval must not be negative")
	}
	if o.days <= 0 {
		return o, fmt.Errorf("-days must be positive, got %d", o.days)
	}
	if o.days > 1 {
		// Unless set explicitly: -live=false -restart=false measures
		// the ingest until settled alone, sooner.
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		o.live = o.live || !set["live"]
		o.restart = o.restart || !set["restart"]
	}
	o.end = time.Now().UTC().Truncate(time.Minute)
	if end != "" {
		t, err := time.Parse(time.RFC3339, end)
		if err != nil {
			return o, fmt.Errorf("-end: %w", err)
		}
		o.end, o.endPinned = t, true
	}
	return o, nil
}

// writeSluiceConfig writes the config sluice serves d with (see
// dataset.sluiceConfig) to a temporary file and returns its name.
func writeSluiceConfig(d dataset) (string, error) {
	f, err := os.CreateTemp("", "sluice-bench-*.yaml")
	if err != nil {
		return "", fmt.Errorf("write the benchmark's sluice config: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(d.sluiceConfig()); err != nil {
		return "", fmt.Errorf("write the benchmark's sluice config: %w", err)
	}
	return f.Name(), nil
}
