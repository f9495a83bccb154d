package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"text/tabwriter"
	"time"
)

// report is everything the command prints, as a table or as JSON.
type report struct {
	Date     string      `json:"date"`
	Machine  machine     `json:"machine"`
	Settings settings    `json:"settings"`
	Runs     []runResult `json:"runs"`
	Median   summary     `json:"median"`
	Pass     bool        `json:"pass"`
	Failures []string    `json:"failures,omitempty"`
	// Reference is VictoriaLogs run side by side, when -vlogs-binary is set.
	Reference *reference `json:"reference,omitempty"`
}

type machine struct {
	CPUs     int    `json:"nproc"`
	CPUModel string `json:"cpu_model"`
}

type settings struct {
	Binary        string `json:"binary"`
	Dataset       string `json:"dataset"`
	Protocol      string `json:"protocol"`
	Records       int    `json:"records"`
	Concurrency   int    `json:"concurrency"`
	Batch         int    `json:"batch"`
	QueriesRepeat int    `json:"queries_repeat"`
	Seed          uint64 `json:"seed"`
	End           string `json:"end"`
	// EndTimeOfDay is End's UTC time of day ("01:41"), EndPinned whether
	// -end was given, and EndLayout what the time of day means for the
	// day partitions the queries read (see endLayout).
	EndTimeOfDay string `json:"end_utc_time_of_day"`
	EndPinned    bool   `json:"end_pinned"`
	EndLayout    string `json:"end_layout"`
	FreshRate    int    `json:"fresh_rate"`
	Days         int    `json:"days"`
	RSSInterval  string `json:"rss_interval"`
}

// summary holds the median over runs of every figure.
type summary struct {
	RecordsPerSec     figure         `json:"records_per_s"`
	MBPerSec          figure         `json:"mb_per_s"`
	CPUSecondsPerM    figure         `json:"server_cpu_seconds_per_million"`
	CPUSettledPerM    figure         `json:"server_cpu_seconds_per_million_to_settle"`
	PeakRSSIngestMB   figure         `json:"peak_rss_after_ingest_mb"`
	PeakRSSMB         figure         `json:"peak_rss_mb"`
	BytesPerRecord    figure         `json:"disk_bytes_per_record"`
	RawBytesPerRecord figure         `json:"raw_json_bytes_per_record"`
	SettleSeconds     figure         `json:"settle_seconds"`
	SettledParts      figure         `json:"settled_parts"`
	Retries           figure         `json:"backpressure_retries"`
	FreshP50Ms        figure         `json:"fresh_p50_ms"`
	FreshP99Ms        figure         `json:"fresh_p99_ms"`
	BackgroundRS      figure         `json:"fresh_background_records_per_s"`
	ShutdownSeconds   figure         `json:"shutdown_seconds"`
	Queries           []querySummary `json:"queries"`
	// With -live: the last hour's queries on the settled store, and the
	// figures under ingest.
	QueriesLastHour []querySummary `json:"queries_last_hour,omitempty"`
	Live            *liveSummary   `json:"live,omitempty"`
	// The peak RSS (VmHWM) at rssCheckpoint of the records and at the end
	// of the ingest, and the end's over the checkpoint's for the peak and
	// for the RSS at the time (VmRSS).
	RSSCheckpointMB  figure `json:"peak_rss_at_checkpoint_mb"`
	RSSEndOfIngestMB figure `json:"peak_rss_at_end_of_ingest_mb"`
	RSSGrowth        figure `json:"peak_rss_growth"`
	RSSNowGrowth     figure `json:"rss_growth"`
	// With -restart: the time to ready on the same data dir, and the 24 h
	// queries on the restarted server.
	StartupSeconds float64        `json:"startup_seconds,omitempty"`
	RestartQueries []querySummary `json:"restart_queries,omitempty"`
	// Guard is the medians of what the guards admitted, queued and
	// refused (Sluice only).
	Guard *guardSummary `json:"guard,omitempty"`
}

// liveSummary is the median over runs of the queries under ingest.
type liveSummary struct {
	TargetRS   figure         `json:"target_records_per_s"`
	AchievedRS figure         `json:"records_per_s"`
	PartsMax   figure         `json:"parts_max"`
	LastHour   []querySummary `json:"last_hour"`
	Day        []querySummary `json:"last_24h"`
}

type querySummary struct {
	Name     string `json:"name"`
	Query    string `json:"query"`
	MedianMs figure `json:"median_ms"`
	// P90Ms and MaxMs are the medians over runs of each run's 90th
	// percentile and maximum (NaN below tailRepeats repetitions).
	P90Ms   figure `json:"p90_ms"`
	MaxMs   figure `json:"max_ms"`
	Correct bool   `json:"correct"`
	Want    string `json:"want"`
	// Explain is the first run's explain cost, and ReadFraction its bytes
	// read over that run's settled bytes on disk (the data are the same in
	// every run, so the first stands for all).
	Explain      *explainCost `json:"explain,omitempty"`
	ReadFraction figure       `json:"read_fraction,omitempty"`
}

func newReport(o options, runs []runResult, runErr error) report {
	r := report{
		Date:    time.Now().UTC().Format(time.RFC3339),
		Machine: machine{CPUs: runtime.NumCPU(), CPUModel: cpuModel()},
		Settings: settings{
			Binary: o.binary, Dataset: o.data.name, Protocol: o.protocol, Records: o.records, Concurrency: o.concurrency, Batch: o.batch,
			QueriesRepeat: o.queriesRepeat, Seed: o.seed, End: o.end.UTC().Format(time.RFC3339), FreshRate: o.freshRate,
			Days: o.days, RSSInterval: o.rssInterval.String(),
			EndTimeOfDay: o.end.UTC().Format("15:04"), EndPinned: o.endPinned, EndLayout: endLayout(o.end),
		},
		Runs:   runs,
		Median: summarize(runs),
	}
	for i := range runs {
		for _, f := range runs[i].failures() {
			r.Failures = append(r.Failures, fmt.Sprintf("run %d: %s", i+1, f))
		}
	}
	if runErr != nil {
		r.Failures = append(r.Failures, runErr.Error())
	}
	r.Pass = len(r.Failures) == 0 && len(runs) == o.runs
	return r
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	return parseCPUModel(b)
}

// summarize takes the median over runs of each figure; a query is correct
// only if it was correct in every run.
func summarize(runs []runResult) summary {
	med := func(f func(r *runResult) float64) figure {
		xs := make([]float64, len(runs))
		for i := range runs {
			xs[i] = f(&runs[i])
		}
		return figure(median(xs))
	}
	s := summary{
		RecordsPerSec: med(func(r *runResult) float64 { return float64(r.RecordsPerSec) }),
		MBPerSec:      med(func(r *runResult) float64 { return float64(r.MBPerSec) }),
		CPUSecondsPerM: med(func(r *runResult) float64 {
			return r.CPUSeconds / float64(r.Records) * 1e6
		}),
		CPUSettledPerM: med(func(r *runResult) float64 {
			return r.CPUSettled / float64(r.stored()) * 1e6
		}),
		PeakRSSIngestMB:   med(func(r *runResult) float64 { return float64(r.PeakRSSIngest) / 1e6 }),
		PeakRSSMB:         med(func(r *runResult) float64 { return float64(r.PeakRSS) / 1e6 }),
		BytesPerRecord:    med(func(r *runResult) float64 { return float64(r.DiskBytes) / float64(r.stored()) }),
		RawBytesPerRecord: med(func(r *runResult) float64 { return float64(r.RawBytes) / float64(r.Records) }),
		SettleSeconds:     med(func(r *runResult) float64 { return r.SettleSeconds }),
		SettledParts:      med(func(r *runResult) float64 { return float64(r.SettledParts) }),
		Retries:           med(func(r *runResult) float64 { return float64(r.Retries) }),
		FreshP50Ms:        med(func(r *runResult) float64 { return float64(r.Freshness.P50Ms) }),
		FreshP99Ms:        med(func(r *runResult) float64 { return float64(r.Freshness.P99Ms) }),
		BackgroundRS:      med(func(r *runResult) float64 { return float64(r.Freshness.BackgroundRS) }),
		ShutdownSeconds:   med(func(r *runResult) float64 { return r.ShutdownSeconds }),
		RSSCheckpointMB: med(func(r *runResult) float64 {
			if r.RSS == nil || r.RSS.AtCheckpoint == nil {
				return math.NaN()
			}
			return float64(r.RSS.AtCheckpoint.Peak) / 1e6
		}),
		RSSEndOfIngestMB: med(func(r *runResult) float64 {
			if r.RSS == nil || r.RSS.EndOfIngest == nil {
				return math.NaN()
			}
			return float64(r.RSS.EndOfIngest.Peak) / 1e6
		}),
		RSSGrowth:    med(func(r *runResult) float64 { peak, _ := r.RSS.growth(); return float64(peak) }),
		RSSNowGrowth: med(func(r *runResult) float64 { _, now := r.RSS.growth(); return float64(now) }),
	}
	if len(runs) == 0 {
		return s
	}
	s.Guard = summarizeGuards(runs)
	if runs[0].Restart != nil {
		s.StartupSeconds = float64(med(func(r *runResult) float64 {
			if r.Restart == nil {
				return math.NaN()
			}
			return r.Restart.StartupSeconds
		}))
		s.RestartQueries = summarizeQueries(runs, func(r *runResult) []queryResult {
			if r.Restart == nil {
				return nil
			}
			return r.Restart.Queries
		})
	}
	s.Queries = summarizeQueries(runs, func(r *runResult) []queryResult { return r.Queries })
	s.QueriesLastHour = summarizeQueries(runs, func(r *runResult) []queryResult { return r.QueriesLastHour })
	if runs[0].Live != nil {
		live := func(f func(l *liveResult) float64) figure {
			return med(func(r *runResult) float64 {
				if r.Live == nil {
					return math.NaN()
				}
				return f(r.Live)
			})
		}
		s.Live = &liveSummary{
			TargetRS:   live(func(l *liveResult) float64 { return float64(l.TargetRS) }),
			AchievedRS: live(func(l *liveResult) float64 { return float64(l.AchievedRS) }),
			PartsMax:   live(func(l *liveResult) float64 { return float64(l.PartsMax) }),
			LastHour:   summarizeQueries(runs, func(r *runResult) []queryResult { return liveQueries(r, true) }),
			Day:        summarizeQueries(runs, func(r *runResult) []queryResult { return liveQueries(r, false) }),
		}
	}
	return s
}

func liveQueries(r *runResult, lastHour bool) []queryResult {
	switch {
	case r.Live == nil:
		return nil
	case lastHour:
		return r.Live.LastHour
	}
	return r.Live.Day
}

// summarizeQueries takes the median latency over runs of each query of
// the set of, which is correct only if it was correct in every run.
func summarizeQueries(runs []runResult, of func(r *runResult) []queryResult) []querySummary {
	var out []querySummary
	for qi, q := range of(&runs[0]) {
		qs := querySummary{Name: q.Name, Query: q.Query, Want: q.Want, Correct: true, Explain: q.Explain}
		if q.Explain != nil && runs[0].DiskBytes > 0 {
			qs.ReadFraction = figure(float64(q.Explain.BytesRead) / float64(runs[0].DiskBytes))
		}
		var ms, p90, mx []float64
		for i := range runs {
			rqs := of(&runs[i])
			if qi >= len(rqs) {
				continue
			}
			ms = append(ms, float64(rqs[qi].MedianMs))
			p90 = append(p90, float64(rqs[qi].P90Ms))
			mx = append(mx, float64(rqs[qi].MaxMs))
			qs.Correct = qs.Correct && rqs[qi].Correct
		}
		qs.MedianMs, qs.P90Ms, qs.MaxMs = figure(median(ms)), figure(median(p90)), figure(median(mx))
		out = append(out, qs)
	}
	return out
}

func (r *report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// writeTable prints the report for people. NaN figures (a phase that did
// not run) print as NaN rather than being hidden.
func (r *report) writeTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format+"\n", args...) }
	p("sluice-bench\t%s", r.Date)
	p("machine\t%d CPUs, %s", r.Machine.CPUs, r.Machine.CPUModel)
	p("binary\t%s", r.Settings.Binary)
	if r.Settings.Days > 1 {
		p("data\t%d records of data set %s (seed %d, %d days ending %s; the queries cover its last 24 h and last hour), sent by %s", r.Settings.Records, r.Settings.Dataset, r.Settings.Seed, r.Settings.Days, r.Settings.End, r.Settings.Protocol)
	} else {
		p("data\t%d records of data set %s (seed %d, 24 h ending %s), sent by %s", r.Settings.Records, r.Settings.Dataset, r.Settings.Seed, r.Settings.End, r.Settings.Protocol)
	}
	pinned := "pinned by -end"
	if !r.Settings.EndPinned {
		pinned = "not pinned: -end defaulted to the start; pin it to compare runs"
	}
	p("END\t%s UTC\t(%s; %s)", r.Settings.EndTimeOfDay, r.Settings.EndLayout, pinned)
	p("runs\t%d completed; figures are medians", len(r.Runs))
	if len(r.Runs) > 0 {
		r.writeFigures(p, &r.Median)
	}
	if r.Reference != nil {
		r.writeReference(p)
	}
	p("\t")
	if r.Pass {
		p("RESULT\tPASS")
	} else {
		p("RESULT\tFAIL")
		for _, f := range r.Failures {
			p("  %s", f)
		}
	}
	return tw.Flush()
}

// endLayout says where the queries' windows fall among UTC day
// partitions, which both systems keep, for data ending at end: the newest
// day holds only the hours since midnight, so an end just after 00:00 puts
// the last hour in (or across into) a nearly empty partition, and the
// 24 h almost all in the day before. Runs ending at different times of
// day read different layouts and are not comparable query for query.
func endLayout(end time.Time) string {
	end = end.UTC()
	into := end.Sub(end.Truncate(24 * time.Hour))
	switch {
	case into == 0:
		return "at midnight: the last hour and the 24 h lie in the day before"
	case into < time.Hour:
		return fmt.Sprintf("the last hour straddles midnight: %s of it in the newest day partition, the rest in the day before", hoursMinutes(into))
	default:
		return fmt.Sprintf("the newest day partition holds the last %s, the last hour lies in it, the 24 h %s in it and %s in the day before",
			hoursMinutes(into), hoursMinutes(into), hoursMinutes(24*time.Hour-into))
	}
}

// hoursMinutes prints d as "1h41m", "0h30m", rounded down to the minute.
func hoursMinutes(d time.Duration) string {
	m := int(d / time.Minute)
	return fmt.Sprintf("%dh%02dm", m/60, m%60)
}

// writeFigures prints the median figures, one section per phase.
func (r *report) writeFigures(p func(format string, args ...any), m *summary) {
	p("\t")
	p("INGEST\t(concurrency %d, batch %d)", r.Settings.Concurrency, r.Settings.Batch)
	p("  records/s\t%.0f", m.RecordsPerSec)
	p("  MB/s of raw JSON\t%.1f\t(%.0f bytes/record)", m.MBPerSec, m.RawBytesPerRecord)
	p("  server CPU s per 1M records\t%.2f\t(%.2f including flush and merges until settled)", m.CPUSecondsPerM, m.CPUSettledPerM)
	p("  peak RSS after ingest\t%.1f MB", m.PeakRSSIngestMB)
	p("  peak RSS at %.0f%% / end of ingest\t%.1f MB / %.1f MB\t(%.2fx; RSS at the time %.2fx)",
		rssCheckpoint*100, m.RSSCheckpointMB, m.RSSEndOfIngestMB, m.RSSGrowth, m.RSSNowGrowth)
	p("  backpressure retries\t%.0f", m.Retries)
	p("STORAGE\t")
	p("  bytes on disk per record\t%.1f\t(%.1fx smaller than the JSON)", m.BytesPerRecord, m.RawBytesPerRecord/m.BytesPerRecord)
	p("  settled after\t%.1f s\t(%.0f parts)", m.SettleSeconds, m.SettledParts)
	if l := m.Live; l != nil {
		p("QUERIES UNDER INGEST\t(median of %d, while %.0f records/s were sent, target %.0f; at most %.0f parts)",
			r.Settings.QueriesRepeat, l.AchievedRS, l.TargetRS, l.PartsMax)
		p("  last hour\t")
		writeQueries(p, l.LastHour)
		p("  24 h\t")
		writeQueries(p, l.Day)
		if r.Settings.QueriesRepeat >= tailRepeats {
			p("QUERIES UNDER INGEST, TAIL\t(of %d repeats each: p50 / p90 / max)", r.Settings.QueriesRepeat)
			writeTails(p, "last hour", l.LastHour)
			writeTails(p, "24 h", l.Day)
		}
	}
	p("QUERIES\t(median of %d; idle: the settled store, 24 h)", r.Settings.QueriesRepeat)
	writeQueries(p, m.Queries)
	if len(m.QueriesLastHour) > 0 {
		p("QUERIES, LAST HOUR\t(median of %d; idle: the settled store)", r.Settings.QueriesRepeat)
		writeQueries(p, m.QueriesLastHour)
	}
	if len(r.Runs) > 0 {
		for _, q := range r.Runs[0].Queries {
			if q.ExplainError != "" {
				p("  %s\texplain failed: %s", q.Name, q.ExplainError)
			}
		}
	}
	p("FRESHNESS\t(ingest to searchable, background %.0f records/s)", m.BackgroundRS)
	p("  p50\t%.1f ms", m.FreshP50Ms)
	p("  p99\t%.1f ms", m.FreshP99Ms)
	if m.Guard != nil {
		writeGuards(p, m.Guard)
	}
	p("SHUTDOWN\t%.1f s after SIGTERM", m.ShutdownSeconds)
	p("  peak RSS overall\t%.1f MB", m.PeakRSSMB)
	if m.RestartQueries != nil {
		p("RESTART\t(on the same data dir)")
		p("  startup\t%.2f s\t(process start to ready)", m.StartupSeconds)
		p("  queries after the restart, 24 h\t(one run each)")
		writeQueries(p, m.RestartQueries)
	}
}

// writeTails prints each query's median, 90th percentile and slowest run.
func writeTails(p func(format string, args ...any), set string, qs []querySummary) {
	for _, q := range qs {
		p("  %s, %s\t%.1f / %.1f / %.1f ms", q.Name, set, q.MedianMs, q.P90Ms, q.MaxMs)
	}
}

func writeQueries(p func(format string, args ...any), qs []querySummary) {
	for _, q := range qs {
		verdict := "ok"
		if !q.Correct {
			verdict = "WRONG"
		}
		p("  %s\t%.1f ms\t%s\t%s\t%s", q.Name, q.MedianMs, verdict, q.Want, q.Query)
		if e := q.Explain; e != nil {
			p("  \texplain\tread %.2f MB = %.1f%% of disk\tblocks %d: %d skipped by index, %d by time, %d read; %d head records",
				float64(e.BytesRead)/1e6, float64(q.ReadFraction)*100, e.Blocks, e.BlocksSkippedIndex, e.BlocksSkippedTime, e.BlocksRead, e.HeadRecords)
		}
	}
}
