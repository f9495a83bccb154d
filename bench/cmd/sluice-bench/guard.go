package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// metricsPath is where Sluice serves its Prometheus metrics.
const metricsPath = "/metrics"

// slotPriorities are the CPU slots' priorities (package cpuslot), in the
// order the report prints them.
var slotPriorities = []string{"high", "ingest", "low"}

// guardStats is what the guards that admit, queue or refuse work did in
// a run, as Sluice's /metrics counts them at the run's end (the server
// is fresh for each run): the CPU slots by priority (high: searches;
// ingest: request parsing and WAL encoding; low: flushes and merges),
// the ingest guards, and the query slots' refusals the harness itself
// saw, which /metrics does not count.
type guardStats struct {
	Slots map[string]slotStats `json:"cpu_slots"`
	// IngestRefused is sluice_ingest_in_flight_rejected_total: requests
	// refused (429) or held back at ingest.max_in_flight_bytes.
	IngestRefused int64 `json:"ingest_refused"`
	// HeadWaits is sluice_store_head_waits_total: ingest requests that
	// waited for a flush with the head at its bound.
	HeadWaits int64 `json:"ingest_head_waits"`
	// QueriesRefused counts the 429 (or 503) answers to the harness's
	// queries, each retried after its Retry-After: the query slots
	// (query.max_concurrent) were all taken for the query timeout.
	QueriesRefused int64 `json:"queries_refused"`
}

// slotStats is one priority's CPU slot counters: slots taken, of which
// after a wait (queued), the time waited, and the waiters the guard
// admitted above the limit once no slot had been given back for
// cpuslot.MaxWait.
type slotStats struct {
	Acquired    int64   `json:"acquired"`
	Waited      int64   `json:"waited"`
	WaitSeconds float64 `json:"wait_seconds"`
	OverLimit   int64   `json:"over_limit"`
	// Extra* are a task's extra workers' (a search's second worker),
	// counted apart by the server: they wait while the task goes on,
	// often for its whole run, and end without a slot (ExtraGaveUp)
	// once it has no work left for them.
	ExtraAcquired    int64   `json:"extra_acquired"`
	ExtraWaited      int64   `json:"extra_waited"`
	ExtraWaitSeconds float64 `json:"extra_wait_seconds"`
	ExtraGaveUp      int64   `json:"extra_gave_up"`
	ExtraOverLimit   int64   `json:"extra_over_limit"`
	// Units* are the holders' units of work between two points where a
	// waiting search could have had the slot (sluice_cpu_slot_unit_seconds):
	// how many, their total length, and how many were at least about 1,
	// 4 and 16 ms long (2^10, 2^12, 2^14 µs).
	Units         int64   `json:"units"`
	UnitsSeconds  float64 `json:"units_seconds"`
	UnitsOver1ms  int64   `json:"units_over_1ms"`
	UnitsOver4ms  int64   `json:"units_over_4ms"`
	UnitsOver16ms int64   `json:"units_over_16ms"`
}

// unitBounds are the unit histogram's bucket bounds (le) whose complement
// slotStats keeps: about 1, 4 and 16 ms.
var unitBounds = map[string]func(s *slotStats, below int64){
	"0.001024": func(s *slotStats, below int64) { s.UnitsOver1ms = -below },
	"0.004096": func(s *slotStats, below int64) { s.UnitsOver4ms = -below },
	"0.016384": func(s *slotStats, below int64) { s.UnitsOver16ms = -below },
}

// readGuards reads the guards' counters from the server's /metrics.
func readGuards(ctx context.Context, c *client) (*guardStats, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+metricsPath, nil)
	if err != nil {
		return nil, err
	}
	r, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", metricsPath, err)
	}
	defer r.Body.Close()
	if r.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(r.Body)
		return nil, fmt.Errorf("get %s: status %d: %s", metricsPath, r.StatusCode, snippet(data))
	}
	return parseGuards(r.Body)
}

// parseGuards reads the guards' counters from metrics in the Prometheus
// text format. A server without the CPU slots' metrics is an error: the
// report would say that nothing waited.
func parseGuards(rd io.Reader) (*guardStats, error) {
	g := &guardStats{Slots: make(map[string]slotStats)}
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	seen := false
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, labels, value, ok := parseSample(line)
		if !ok {
			continue
		}
		n := int64(value)
		prio := labelValue(labels, "priority")
		s := g.Slots[prio]
		switch name {
		case "sluice_cpu_slot_acquired_total":
			s.Acquired, seen = n, true
		case "sluice_cpu_slot_waits_total":
			s.Waited = n
		case "sluice_cpu_slot_wait_seconds_total":
			s.WaitSeconds = value
		case "sluice_cpu_slot_over_limit_total":
			s.OverLimit = n
		case "sluice_cpu_slot_extra_acquired_total":
			s.ExtraAcquired = n
		case "sluice_cpu_slot_extra_waits_total":
			s.ExtraWaited = n
		case "sluice_cpu_slot_extra_wait_seconds_total":
			s.ExtraWaitSeconds = value
		case "sluice_cpu_slot_extra_gave_up_total":
			s.ExtraGaveUp = n
		case "sluice_cpu_slot_extra_over_limit_total":
			s.ExtraOverLimit = n
		case "sluice_cpu_slot_unit_seconds_count":
			s.Units = n
		case "sluice_cpu_slot_unit_seconds_sum":
			s.UnitsSeconds = value
		case "sluice_cpu_slot_unit_seconds_bucket":
			if set := unitBounds[labelValue(labels, "le")]; set != nil {
				set(&s, n)
			}
		case "sluice_ingest_in_flight_rejected_total":
			g.IngestRefused += n
			continue
		case "sluice_store_head_waits_total":
			g.HeadWaits = n
			continue
		default:
			continue
		}
		g.Slots[prio] = s
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", metricsPath, err)
	}
	if !seen {
		return nil, fmt.Errorf("%s has no sluice_cpu_slot_acquired_total", metricsPath)
	}
	for prio, s := range g.Slots {
		// The buckets held the units below each bound, as negatives.
		for _, over := range []*int64{&s.UnitsOver1ms, &s.UnitsOver4ms, &s.UnitsOver16ms} {
			if *over < 0 {
				*over += s.Units
			}
		}
		g.Slots[prio] = s
	}
	return g, nil
}

// parseSample splits a sample line, `name{labels} value` or `name value`
// (a timestamp after the value is ignored).
func parseSample(line string) (name, labels string, value float64, ok bool) {
	rest := line
	if i := strings.IndexByte(line, '{'); i >= 0 {
		j := strings.LastIndexByte(line, '}')
		if j < i {
			return "", "", 0, false
		}
		name, labels, rest = line[:i], line[i+1:j], line[j+1:]
	} else {
		var found bool
		name, rest, found = strings.Cut(line, " ")
		if !found {
			return "", "", 0, false
		}
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return "", "", 0, false
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return "", "", 0, false
	}
	return name, labels, v, true
}

// labelValue returns the value of label key in labels (`a="x",b="y"`),
// "" when absent. Sluice's label values hold no quotes or commas.
func labelValue(labels, key string) string {
	for _, l := range strings.Split(labels, ",") {
		k, v, ok := strings.Cut(l, "=")
		if ok && strings.TrimSpace(k) == key {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

// guardSummary is the median over runs of each guard figure.
type guardSummary struct {
	Slots          map[string]slotSummary `json:"cpu_slots"`
	IngestRefused  figure                 `json:"ingest_refused"`
	HeadWaits      figure                 `json:"ingest_head_waits"`
	QueriesRefused figure                 `json:"queries_refused"`
}

type slotSummary struct {
	Acquired         figure `json:"acquired"`
	Waited           figure `json:"waited"`
	WaitSeconds      figure `json:"wait_seconds"`
	OverLimit        figure `json:"over_limit"`
	ExtraAcquired    figure `json:"extra_acquired"`
	ExtraWaited      figure `json:"extra_waited"`
	ExtraWaitSeconds figure `json:"extra_wait_seconds"`
	ExtraGaveUp      figure `json:"extra_gave_up"`
	ExtraOverLimit   figure `json:"extra_over_limit"`
	Units            figure `json:"units"`
	UnitsSeconds     figure `json:"units_seconds"`
	UnitsOver1ms     figure `json:"units_over_1ms"`
	UnitsOver4ms     figure `json:"units_over_4ms"`
	UnitsOver16ms    figure `json:"units_over_16ms"`
}

// summarizeGuards takes the medians over the runs that read the guards;
// nil when none did (VictoriaLogs).
func summarizeGuards(runs []runResult) *guardSummary {
	var gs []*guardStats
	for i := range runs {
		if runs[i].Guard != nil {
			gs = append(gs, runs[i].Guard)
		}
	}
	if len(gs) == 0 {
		return nil
	}
	med := func(f func(g *guardStats) float64) figure {
		xs := make([]float64, len(gs))
		for i, g := range gs {
			xs[i] = f(g)
		}
		return figure(median(xs))
	}
	s := &guardSummary{
		Slots:          make(map[string]slotSummary),
		IngestRefused:  med(func(g *guardStats) float64 { return float64(g.IngestRefused) }),
		HeadWaits:      med(func(g *guardStats) float64 { return float64(g.HeadWaits) }),
		QueriesRefused: med(func(g *guardStats) float64 { return float64(g.QueriesRefused) }),
	}
	for _, p := range slotPriorities {
		slot := func(f func(s slotStats) float64) figure {
			return med(func(g *guardStats) float64 {
				s, ok := g.Slots[p]
				if !ok {
					return math.NaN()
				}
				return f(s)
			})
		}
		s.Slots[p] = slotSummary{
			Acquired:         slot(func(s slotStats) float64 { return float64(s.Acquired) }),
			Waited:           slot(func(s slotStats) float64 { return float64(s.Waited) }),
			WaitSeconds:      slot(func(s slotStats) float64 { return s.WaitSeconds }),
			OverLimit:        slot(func(s slotStats) float64 { return float64(s.OverLimit) }),
			ExtraAcquired:    slot(func(s slotStats) float64 { return float64(s.ExtraAcquired) }),
			ExtraWaited:      slot(func(s slotStats) float64 { return float64(s.ExtraWaited) }),
			ExtraWaitSeconds: slot(func(s slotStats) float64 { return s.ExtraWaitSeconds }),
			ExtraGaveUp:      slot(func(s slotStats) float64 { return float64(s.ExtraGaveUp) }),
			ExtraOverLimit:   slot(func(s slotStats) float64 { return float64(s.ExtraOverLimit) }),
			Units:            slot(func(s slotStats) float64 { return float64(s.Units) }),
			UnitsSeconds:     slot(func(s slotStats) float64 { return s.UnitsSeconds }),
			UnitsOver1ms:     slot(func(s slotStats) float64 { return float64(s.UnitsOver1ms) }),
			UnitsOver4ms:     slot(func(s slotStats) float64 { return float64(s.UnitsOver4ms) }),
			UnitsOver16ms:    slot(func(s slotStats) float64 { return float64(s.UnitsOver16ms) }),
		}
	}
	return s
}

// writeGuards prints the guards' section of the report.
func writeGuards(p func(format string, args ...any), g *guardSummary) {
	p("GUARDS\t(whole run, from /metrics: work admitted, queued or refused)")
	names := map[string]string{"high": "searches", "ingest": "request parsing, WAL encoding", "low": "flushes, merges"}
	for _, prio := range slotPriorities {
		s := g.Slots[prio]
		p("  CPU slots, %s (%s)\t%.0f taken, %.0f after a wait (%.1f s waited), %.0f admitted over the limit",
			prio, names[prio], s.Acquired, s.Waited, s.WaitSeconds, s.OverLimit)
		if s.ExtraAcquired+s.ExtraWaited > 0 {
			p("  CPU slots, %s, extra workers\t%.0f taken, %.0f after a wait (%.1f s waited, the task going on meanwhile), %.0f waits ended with no work left, %.0f admitted over the limit",
				prio, s.ExtraAcquired, s.ExtraWaited, s.ExtraWaitSeconds, s.ExtraGaveUp, s.ExtraOverLimit)
		}
		if s.Units > 0 {
			p("  CPU slots, %s, units of work\t%.0f (%.1f s), %.0f of 1 ms or more, %.0f of 4 ms or more, %.0f of 16 ms or more",
				prio, s.Units, s.UnitsSeconds, s.UnitsOver1ms, s.UnitsOver4ms, s.UnitsOver16ms)
		}
	}
	p("  ingest refused\t%.0f\t(ingest.max_in_flight_bytes; %.0f waits for the head)", g.IngestRefused, g.HeadWaits)
	p("  queries refused\t%.0f\t(429 from query.max_concurrent, retried)", g.QueriesRefused)
}
