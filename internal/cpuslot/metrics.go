package cpuslot

import "github.com/prometheus/client_golang/prometheus"

// Collector exports a pool's counters per priority.
type Collector struct {
	p                                             *Pool
	acquired, waited, waitSec, over, handed, line *prometheus.Desc
	gaveUp                                        *prometheus.Desc
	extraAcquired, extraWaited, extraWaitSec      *prometheus.Desc
	extraGaveUp, extraOver, extraHanded           *prometheus.Desc
	size, held, units                             *prometheus.Desc
}

// NewCollector returns the collector of p's metrics (sluice_cpu_slot_*).
func NewCollector(p *Pool) *Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("sluice_cpu_slot_"+name, help, labels, nil)
	}
	return &Collector{
		p:             p,
		acquired:      d("acquired_total", "CPU slots taken, by priority (high: searches; ingest: request parsing, WAL encoding; low: flushes, merges).", "priority"),
		waited:        d("waits_total", "CPU slot acquisitions that had to wait, by priority.", "priority"),
		waitSec:       d("wait_seconds_total", "Time spent waiting for a CPU slot, by priority.", "priority"),
		gaveUp:        d("gave_up_total", "CPU slot waits that ended without a slot (the work was cancelled or ended), by priority.", "priority"),
		extraAcquired: d("extra_acquired_total", "CPU slots taken by a task's extra workers (a search's second worker), by priority; not in sluice_cpu_slot_acquired_total. The task goes on without them meanwhile.", "priority"),
		extraWaited:   d("extra_waits_total", "Extra workers' CPU slot acquisitions that had to wait, by priority.", "priority"),
		extraWaitSec:  d("extra_wait_seconds_total", "Time extra workers spent waiting for a CPU slot while their task went on, by priority.", "priority"),
		extraGaveUp:   d("extra_gave_up_total", "Extra workers' waits that ended without a slot (their task had no work left for them), by priority.", "priority"),
		extraOver:     d("extra_over_limit_total", "Extra workers admitted above the CPU slots after waiting the longest wait, by priority; not in sluice_cpu_slot_over_limit_total.", "priority"),
		extraHanded:   d("extra_handed_over_total", "CPU slots an extra worker gave to a waiter of another task at the end of a unit of work, by priority; not in sluice_cpu_slot_handed_over_total.", "priority"),
		over:          d("over_limit_total", "Waiters admitted above the CPU slots after waiting the longest wait (a holder blocked), by priority; extra workers' are in sluice_cpu_slot_extra_over_limit_total.", "priority"),
		handed:        d("handed_over_total", "CPU slots a holder gave to a waiter at the end of a unit of work (a search; ingest or background work while searches hold more than their share; one of its own priority, or for background work ingest, after cpuslot.Slice), by the holder's priority; extra workers' are in sluice_cpu_slot_extra_handed_over_total.", "priority"),
		line:          d("waiting", "Waiters for a CPU slot now, by priority.", "priority"),
		units:         d("unit_seconds", "Lengths of the units of work done on a CPU slot between two points where a waiting search could have had it (taking the slot or a yield, and the next yield or giving it back), by the holder's priority: a search waits for a slot about one holder's unit.", "priority"),
		size:          d("slots", "CPU slots (GOMAXPROCS at start)."),
		held:          d("held", "CPU slots held now (above sluice_cpu_slot_slots while waiters are admitted over the limit)."),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.acquired, c.waited, c.waitSec, c.gaveUp, c.extraAcquired, c.extraWaited, c.extraWaitSec, c.extraGaveUp, c.extraOver, c.extraHanded, c.over, c.handed, c.line, c.size, c.held, c.units} {
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
		ch <- prometheus.MustNewConstMetric(c.gaveUp, prometheus.CounterValue, float64(st.GaveUp), l)
		ex := c.p.ExtraStats(prio)
		ch <- prometheus.MustNewConstMetric(c.extraAcquired, prometheus.CounterValue, float64(ex.Acquired), l)
		ch <- prometheus.MustNewConstMetric(c.extraWaited, prometheus.CounterValue, float64(ex.Waited), l)
		ch <- prometheus.MustNewConstMetric(c.extraWaitSec, prometheus.CounterValue, ex.WaitTime.Seconds(), l)
		ch <- prometheus.MustNewConstMetric(c.extraGaveUp, prometheus.CounterValue, float64(ex.GaveUp), l)
		ch <- prometheus.MustNewConstMetric(c.extraOver, prometheus.CounterValue, float64(ex.OverLimit), l)
		ch <- prometheus.MustNewConstMetric(c.extraHanded, prometheus.CounterValue, float64(ex.HandedOver), l)
		ch <- prometheus.MustNewConstMetric(c.over, prometheus.CounterValue, float64(st.OverLimit), l)
		ch <- prometheus.MustNewConstMetric(c.handed, prometheus.CounterValue, float64(st.HandedOver), l)
		ch <- prometheus.MustNewConstMetric(c.line, prometheus.GaugeValue, float64(st.Waiting), l)
		held = st.Held
		u := c.p.Units(prio)
		var n uint64
		buckets := make(map[float64]uint64, len(u.Counts))
		for i, k := range u.Counts {
			n += uint64(k)
			if up := UnitUpper(i); up > 0 {
				buckets[up.Seconds()] = n
			}
		}
		ch <- prometheus.MustNewConstHistogram(c.units, n, u.Sum.Seconds(), buckets, l)
	}
	ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, float64(c.p.Size()))
	ch <- prometheus.MustNewConstMetric(c.held, prometheus.GaugeValue, float64(held))
}
