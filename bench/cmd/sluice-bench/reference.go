package main

import (
	"fmt"
	"math"
)

// reference is the other system of a side-by-side run: its runs and
// medians, taken on the same data and machine, alternating with Sluice's.
type reference struct {
	System string      `json:"system"`
	Binary string      `json:"binary"`
	Runs   []runResult `json:"runs"`
	Median summary     `json:"median"`
}

// addReference adds the VictoriaLogs runs to r; their wrong answers and
// missing runs fail the report like Sluice's, since a comparison with a
// broken reference proves nothing.
func (r *report) addReference(o options, runs []runResult) {
	r.Reference = &reference{System: "victorialogs", Binary: o.vlogsBinary, Runs: runs, Median: summarize(runs)}
	for i := range runs {
		for _, f := range runs[i].failures() {
			r.Failures = append(r.Failures, fmt.Sprintf("victorialogs run %d: %s", i+1, f))
		}
	}
	r.Pass = r.Pass && len(runs) == o.runs && len(r.Failures) == 0
}

// ratio is a/b, NaN when b is zero.
func ratio(a, b figure) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// writeReference prints the reference's figures and, for every target, the
// ratio Sluice/reference and whether Sluice meets it.
func (r *report) writeReference(p func(format string, args ...any)) {
	ref := &r.Reference.Median
	p("\t")
	p("VICTORIALOGS\t%s (same data, runs alternating with Sluice's)", r.Reference.Binary)
	r.writeFigures(p, ref)
	m := &r.Median
	p("\t")
	p("SLUICE / VICTORIALOGS\t(medians; target: ≥1 for ingest, ≤1 for the rest)")
	target := func(name string, a, b figure, higherIsBetter bool) {
		q := ratio(a, b)
		met := q <= 1
		if higherIsBetter {
			met = q >= 1
		}
		verdict := "met"
		if !met {
			verdict = "NOT met"
		}
		p("  %s\t%.2f\t%s\t(%.4g vs %.4g)", name, q, verdict, float64(a), float64(b))
	}
	target("ingest records/s", m.RecordsPerSec, ref.RecordsPerSec, true)
	target("server CPU s per 1M", m.CPUSecondsPerM, ref.CPUSecondsPerM, false)
	target("server CPU s per 1M until settled", m.CPUSettledPerM, ref.CPUSettledPerM, false)
	target("peak RSS after ingest", m.PeakRSSIngestMB, ref.PeakRSSIngestMB, false)
	target("peak RSS overall", m.PeakRSSMB, ref.PeakRSSMB, false)
	target("disk bytes/record", m.BytesPerRecord, ref.BytesPerRecord, false)
	for i, q := range m.Queries {
		if i < len(ref.Queries) && ref.Queries[i].Name == q.Name {
			target("query "+q.Name+" (idle, 24 h)", q.MedianMs, ref.Queries[i].MedianMs, false)
		}
	}
	if m.Live != nil && ref.Live != nil {
		for _, set := range []struct {
			name     string
			got, ref []querySummary
		}{{"under ingest, last hour", m.Live.LastHour, ref.Live.LastHour}, {"under ingest, 24 h", m.Live.Day, ref.Live.Day}, {"idle, last hour", m.QueriesLastHour, ref.QueriesLastHour}} {
			for i, q := range set.got {
				if i < len(set.ref) && set.ref[i].Name == q.Name {
					target("query "+q.Name+" ("+set.name+")", q.MedianMs, set.ref[i].MedianMs, false)
					if !math.IsNaN(float64(q.P90Ms)) && !math.IsNaN(float64(set.ref[i].P90Ms)) {
						target("query "+q.Name+" p90 ("+set.name+")", q.P90Ms, set.ref[i].P90Ms, false)
					}
				}
			}
		}
	}
	target("freshness p99", m.FreshP99Ms, ref.FreshP99Ms, false)
	if m.RestartQueries != nil && ref.RestartQueries != nil {
		target("startup after restart", figure(m.StartupSeconds), figure(ref.StartupSeconds), false)
	}
}
