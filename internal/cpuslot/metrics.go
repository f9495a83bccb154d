package cpuslot

import "github.com/prometheus/client_golang/prometheus"

// Collector exports a pool's counters per priority.
type Collector struct {
	p                                             *Pool
	acquired, waited, waitSec, over, handed, line *prometheus.Desc
	size, held                                    *prometheus.Desc
}

// NewCollector returns the collector of p's metrics (sluice_cpu_slot_*).
func NewCollector(p *Pool) *Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("sluice_cpu_slot_"+name, help, labels, nil)
	}
	return &Collector{
		p:        p,
		acquired: d("acquired_total", "CPU slots taken, by priority (high: searches; ingest: request parsing, WAL encoding; low: flushes, merges).", "priority"),
		waited:   d("waits_total", "CPU slot acquisitions that had to wait, by priority.", "priority"),
		waitSec:  d("wait_seconds_total", "Time spent waiting for a CPU slot, by priority.", "priority"),
		over:     d("over_limit_total", "Waiters admitted above the CPU slots after waiting the longest wait (a holder blocked), by priority.", "priority"),
		handed:   d("handed_over_total", "CPU slots a holder gave to a waiter at the end of a unit of work (a search; ingest or background work while searches hold more than their share; one of its own priority, or for background work ingest, after cpuslot.Slice), by the holder's priority.", "priority"),
		line:     d("waiting", "Waiters for a CPU slot now, by priority.", "priority"),
		size:     d("slots", "CPU slots (GOMAXPROCS at start)."),
		held:     d("held", "CPU slots held now (above sluice_cpu_slot_slots while waiters are admitted over the limit)."),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.acquired, c.waited, c.waitSec, c.over, c.handed, c.line, c.size, c.held} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	var held int64
	for prio := range numPriorities {
		st := c.p.Stats(prio)
		l := prio.String()
		ch <- prometheus.MustNewConstMetric(c.acquired, prometheus.CounterValue, float64(st.Acquired), l)
		ch <- prometheus.MustNewConstMetric(c.waited, prometheus.CounterValue, float64(st.Waited), l)
		ch <- prometheus.MustNewConstMetric(c.waitSec, prometheus.CounterValue, st.WaitTime.Seconds(), l)
		ch <- prometheus.MustNewConstMetric(c.over, prometheus.CounterValue, float64(st.OverLimit), l)
		ch <- prometheus.MustNewConstMetric(c.handed, prometheus.CounterValue, float64(st.HandedOver), l)
		ch <- prometheus.MustNewConstMetric(c.line, prometheus.GaugeValue, float64(st.Waiting), l)
		held = st.Held
	}
	ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, float64(c.p.Size()))
	ch <- prometheus.MustNewConstMetric(c.held, prometheus.GaugeValue, float64(held))
}
