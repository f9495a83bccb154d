// Package metricpush pushes what a Prometheus gatherer holds (Sluice's own
// metrics and the metrics from logs) to Graphite over its plaintext
// protocol or to InfluxDB in line protocol, over one TCP connection
// redialled on failure. It owns those two text formats, not the metrics.
package metricpush

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"math"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Options configure a Pusher.
type Options struct {
	Addr     string
	Prefix   string
	Interval time.Duration
	Format   string // graphite or influx
	Gatherer prometheus.Gatherer
	Log      *slog.Logger
}

// Pusher pushes every Interval until its context ends.
type Pusher struct {
	opts           Options
	conn           net.Conn
	pushed, failed prometheus.Counter
}

// New builds a pusher and registers its own counters in reg.
func New(opts Options, reg prometheus.Registerer) *Pusher {
	p := &Pusher{opts: opts,
		pushed: prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_graphite_pushed_lines_total",
			Help: "Lines pushed to graphite.addr (Graphite plaintext or InfluxDB line protocol)."}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_graphite_push_failures_total",
			Help: "Pushes to graphite.addr that failed (the connection is redialled at the next interval)."}),
	}
	reg.MustRegister(p.pushed, p.failed)
	return p
}

// Run pushes until ctx ends.
func (p *Pusher) Run(ctx context.Context) error {
	t := time.NewTicker(p.opts.Interval)
	defer t.Stop()
	defer func() {
		if p.conn != nil {
			p.conn.Close()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			if err := p.push(ctx, now); err != nil {
				p.failed.Inc()
				p.opts.Log.Warn("pushing metrics failed", "addr", p.opts.Addr, "format", p.opts.Format, "err", err)
				if p.conn != nil {
					p.conn.Close()
					p.conn = nil
				}
			}
		}
	}
}

func (p *Pusher) push(ctx context.Context, now time.Time) error {
	families, err := p.opts.Gatherer.Gather()
	if err != nil && len(families) == 0 {
		return fmt.Errorf("gather: %w", err)
	}
	if p.conn == nil {
		d := net.Dialer{Timeout: p.opts.Interval}
		c, err := d.DialContext(ctx, "tcp", p.opts.Addr)
		if err != nil {
			return err
		}
		p.conn = c
	}
	_ = p.conn.SetWriteDeadline(now.Add(p.opts.Interval))
	w := bufio.NewWriter(p.conn)
	n := 0
	for _, s := range Samples(families) {
		if p.opts.Format == "influx" {
			writeInflux(w, p.opts.Prefix, s, now)
		} else {
			writeGraphite(w, p.opts.Prefix, s, now)
		}
		n++
	}
	if err := w.Flush(); err != nil {
		return err
	}
	p.pushed.Add(float64(n))
	return nil
}

// Sample is one value of a gathered metric.
type Sample struct {
	Name   string
	Labels [][2]string // sorted by name
	Value  float64
}

// Samples flattens metric families: counters and gauges as they are,
// histograms as _bucket (with le), _sum and _count, summaries as their
// quantiles, _sum and _count.
func Samples(families []*dto.MetricFamily) []Sample {
	var out []Sample
	for _, f := range families {
		for _, m := range f.GetMetric() {
			labels := make([][2]string, 0, len(m.GetLabel())+1)
			for _, l := range m.GetLabel() {
				labels = append(labels, [2]string{l.GetName(), l.GetValue()})
			}
			sort.Slice(labels, func(i, j int) bool { return labels[i][0] < labels[j][0] })
			add := func(suffix string, v float64, extra ...[2]string) {
				ls := labels
				if len(extra) > 0 {
					ls = append(append([][2]string{}, labels...), extra...)
				}
				out = append(out, Sample{Name: f.GetName() + suffix, Labels: ls, Value: v})
			}
			switch {
			case m.Counter != nil:
				add("", m.Counter.GetValue())
			case m.Gauge != nil:
				add("", m.Gauge.GetValue())
			case m.Untyped != nil:
				add("", m.Untyped.GetValue())
			case m.Histogram != nil:
				inf := false
				for _, b := range m.Histogram.GetBucket() {
					add("_bucket", float64(b.GetCumulativeCount()), [2]string{"le", formatFloat(b.GetUpperBound())})
					inf = math.IsInf(b.GetUpperBound(), 1)
				}
				if !inf { // the exposition format's implicit last bucket
					add("_bucket", float64(m.Histogram.GetSampleCount()), [2]string{"le", "+Inf"})
				}
				add("_sum", m.Histogram.GetSampleSum())
				add("_count", float64(m.Histogram.GetSampleCount()))
			case m.Summary != nil:
				for _, q := range m.Summary.GetQuantile() {
					add("", q.GetValue(), [2]string{"quantile", formatFloat(q.GetQuantile())})
				}
				add("_sum", m.Summary.GetSampleSum())
				add("_count", float64(m.Summary.GetSampleCount()))
			}
		}
	}
	return out
}

func formatFloat(v float64) string {
	if math.IsInf(v, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// graphiteEscaper keeps Graphite's separators out of names and tag values:
// '.' splits a path, ';' starts a tag, '=' ends a tag's name, and spaces
// end the path.
var graphiteEscaper = strings.NewReplacer(" ", "_", ";", "_", "=", "_", "~", "_", "\n", "_")

// writeGraphite writes one line of Graphite's plaintext protocol with
// tags (Graphite 1.1): prefix.name;tag=value;… value unix-seconds.
func writeGraphite(w *bufio.Writer, prefix string, s Sample, now time.Time) {
	if prefix != "" {
		w.WriteString(graphiteEscaper.Replace(prefix))
		w.WriteByte('.')
	}
	w.WriteString(graphiteEscaper.Replace(s.Name))
	for _, l := range s.Labels {
		if l[1] == "" {
			continue // Graphite refuses empty tag values
		}
		w.WriteByte(';')
		w.WriteString(graphiteEscaper.Replace(l[0]))
		w.WriteByte('=')
		w.WriteString(graphiteEscaper.Replace(l[1]))
	}
	fmt.Fprintf(w, " %s %d\n", formatFloat(s.Value), now.Unix())
}

var (
	influxNameEscaper = strings.NewReplacer(",", `\,`, " ", `\ `, "\n", `\n`)
	influxTagEscaper  = strings.NewReplacer(",", `\,`, " ", `\ `, "=", `\=`, "\n", `\n`)
)

// writeInflux writes one line of InfluxDB's line protocol:
// prefix.name,tag=value,… value=v unix-nanoseconds.
func writeInflux(w *bufio.Writer, prefix string, s Sample, now time.Time) {
	name := s.Name
	if prefix != "" {
		name = prefix + "." + name
	}
	w.WriteString(influxNameEscaper.Replace(name))
	for _, l := range s.Labels {
		if l[1] == "" {
			continue // line protocol has no empty tag values
		}
		w.WriteByte(',')
		w.WriteString(influxTagEscaper.Replace(l[0]))
		w.WriteByte('=')
		w.WriteString(influxTagEscaper.Replace(l[1]))
	}
	v := s.Value
	if math.IsNaN(v) || math.IsInf(v, 0) {
		v = 0 // line protocol has no NaN or infinity
	}
	fmt.Fprintf(w, " value=%s %d\n", strconv.FormatFloat(v, 'g', -1, 64), now.UnixNano())
}
