package logql

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Labels are a series' or a stream's labels.
type Labels map[string]string

// Key is the labels' identity: name=value pairs, sorted.
func (l Labels) Key() string {
	names := make([]string, 0, len(l))
	for n := range l {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(l[n]))
		b.WriteByte(',')
	}
	return b.String()
}

// Point is one sample: a time in Unix nanoseconds and its value.
type Point struct {
	T int64
	V float64
}

// Series is one answer series of a metric query.
type Series struct {
	Labels Labels
	Points []Point
}

// Bucket is one row of StatsQuery's answer: a series' labels, the start
// of its bucket and the bucket's count or bytes.
type Bucket struct {
	Labels Labels
	Start  int64
	V      float64
}

// BucketWidth is the width of the buckets a range query is counted in:
// the greatest common divisor of its range, its step and its start's
// offset from the epoch (whole milliseconds, at least one), so that every
// window is whole buckets and ends at its evaluation time. When the start's
// offset would make buckets too fine (more than 1000 to a window, or
// 50000 over the query), it is left out, and windows end at their time
// rounded down to the bucket width (see Evaluate).
func BucketWidth(rng, step time.Duration, start int64) time.Duration {
	g := gcd(int64(rng/time.Millisecond), int64(step/time.Millisecond))
	if off := floorMod(start, int64(time.Millisecond)*g) / int64(time.Millisecond); off != 0 {
		fine := gcd(g, off)
		span := int64(rng/time.Millisecond) + int64(step/time.Millisecond)*lokiPoints
		if int64(rng/time.Millisecond)/fine <= 1000 && span/fine <= 50000 {
			g = fine
		}
	}
	return time.Duration(max(g, 1)) * time.Millisecond
}

// lokiPoints is the number of points BucketWidth assumes a query has.
const lokiPoints = 250

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func floorMod(t, g int64) int64 {
	if g <= 0 {
		return 0
	}
	r := t % g
	if r < 0 {
		r += g
	}
	return r
}

// Instant turns the rows of an instant query (one per series, counted
// over the window (t-range, t]) into the answer's series at t.
func (m *MetricExpr) Instant(rows []Bucket, t int64) []Series {
	var out []Series
	byKey := map[string]int{}
	for _, r := range rows {
		k := r.Labels.Key()
		i, ok := byKey[k]
		if !ok {
			i = len(out)
			byKey[k] = i
			out = append(out, Series{Labels: r.Labels, Points: []Point{{T: t}}})
		}
		out[i].Points[0].V += r.V
	}
	if m.Func == "rate" || m.Func == "bytes_rate" {
		for i := range out {
			out[i].Points[0].V /= m.Range.Seconds()
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Labels.Key() < out[j].Labels.Key() })
	return m.aggregate(out)
}

// Evaluate turns the buckets into the answer's series, evaluated at start,
// start+step, … up to end (all Unix nanoseconds). The window of a time t
// is [T-range, T) where T is t rounded down to the bucket width; a window
// without records gives no point, as in Loki.
func (m *MetricExpr) Evaluate(buckets []Bucket, start, end int64, step, bucket time.Duration) []Series {
	type acc struct {
		labels Labels
		values map[int64]float64
	}
	series := map[string]*acc{}
	var order []string
	for _, b := range buckets {
		k := b.Labels.Key()
		a := series[k]
		if a == nil {
			a = &acc{labels: b.Labels, values: map[int64]float64{}}
			series[k] = a
			order = append(order, k)
		}
		a.values[b.Start] += b.V
	}
	sort.Strings(order)
	if step <= 0 {
		step = 1 // an instant query: one time
	}
	g, rng := int64(bucket), int64(m.Range)
	perSecond := m.Func == "rate" || m.Func == "bytes_rate"
	var out []Series
	for _, k := range order {
		a := series[k]
		s := Series{Labels: a.labels}
		for t := start; t <= end; t += int64(step) {
			T := floorTo(t, g)
			sum, any := 0.0, false
			for b := T - rng; b < T; b += g {
				if v, ok := a.values[b]; ok {
					sum += v
					any = true
				}
			}
			if !any {
				continue
			}
			if perSecond {
				sum /= m.Range.Seconds()
			}
			s.Points = append(s.Points, Point{t, sum})
		}
		if len(s.Points) > 0 {
			out = append(out, s)
		}
	}
	return m.aggregate(out)
}

func floorTo(t, g int64) int64 { return t - floorMod(t, g) }

// aggregate applies the vector aggregation to the range aggregation's
// series (sum was done by the engine).
func (m *MetricExpr) aggregate(in []Series) []Series {
	switch m.Agg {
	case "", "sum":
		return in
	case "topk":
		return m.topk(in)
	}
	type group struct {
		labels Labels
		vals   map[int64][]float64
	}
	groups := map[string]*group{}
	var order []string
	for _, s := range in {
		l := Labels{}
		for _, n := range m.By {
			if v := s.Labels[n]; v != "" {
				l[n] = v
			}
		}
		k := l.Key()
		g := groups[k]
		if g == nil {
			g = &group{labels: l, vals: map[int64][]float64{}}
			groups[k] = g
			order = append(order, k)
		}
		for _, p := range s.Points {
			g.vals[p.T] = append(g.vals[p.T], p.V)
		}
	}
	sort.Strings(order)
	var out []Series
	for _, k := range order {
		g := groups[k]
		s := Series{Labels: g.labels}
		for t, vs := range g.vals {
			s.Points = append(s.Points, Point{t, reduce(m.Agg, vs)})
		}
		sort.Slice(s.Points, func(i, j int) bool { return s.Points[i].T < s.Points[j].T })
		out = append(out, s)
	}
	return out
}

func reduce(agg string, vs []float64) float64 {
	switch agg {
	case "count":
		return float64(len(vs))
	case "min":
		x := math.Inf(1)
		for _, v := range vs {
			x = math.Min(x, v)
		}
		return x
	case "max":
		x := math.Inf(-1)
		for _, v := range vs {
			x = math.Max(x, v)
		}
		return x
	}
	sum := 0.0
	for _, v := range vs {
		sum += v
	}
	return sum / float64(len(vs))
}

// topk keeps, at each time and within each by group, the k series with the
// greatest values (ties by labels, for a stable answer).
func (m *MetricExpr) topk(in []Series) []Series {
	type cand struct {
		series int
		v      float64
	}
	byTime := map[int64]map[string][]cand{}
	for i, s := range in {
		l := Labels{}
		for _, n := range m.By {
			if v := s.Labels[n]; v != "" {
				l[n] = v
			}
		}
		k := l.Key()
		for _, p := range s.Points {
			if byTime[p.T] == nil {
				byTime[p.T] = map[string][]cand{}
			}
			byTime[p.T][k] = append(byTime[p.T][k], cand{i, p.V})
		}
	}
	keep := make([]map[int64]bool, len(in))
	for t, groups := range byTime {
		for _, cs := range groups {
			sort.SliceStable(cs, func(i, j int) bool { return cs[i].v > cs[j].v })
			for _, c := range cs[:min(m.K, len(cs))] {
				if keep[c.series] == nil {
					keep[c.series] = map[int64]bool{}
				}
				keep[c.series][t] = true
			}
		}
	}
	var out []Series
	for i, s := range in {
		var pts []Point
		for _, p := range s.Points {
			if keep[i][p.T] {
				pts = append(pts, p)
			}
		}
		if len(pts) > 0 {
			out = append(out, Series{Labels: s.Labels, Points: pts})
		}
	}
	return out
}

// ParseStream reads a stream's text as Sluice renders it
// ({name="value",…}, record.StreamString) into labels.
func ParseStream(s string) Labels {
	l := Labels{}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	for s != "" {
		eq := strings.Index(s, `="`)
		if eq < 0 {
			break
		}
		name := s[:eq]
		var v strings.Builder
		i := eq + 2
		for ; i < len(s) && s[i] != '"'; i++ {
			if s[i] == '\\' && i+1 < len(s) {
				i++
				if s[i] == 'n' {
					v.WriteByte('\n')
					continue
				}
			}
			v.WriteByte(s[i])
		}
		l[name] = v.String()
		s = strings.TrimPrefix(s[min(i+1, len(s)):], ",")
	}
	return l
}
