package autoscale

import (
	"bufio"
	"cmp"
	"embed"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Trace is a load over time: records/s at points, linear in between.
type Trace struct {
	Name   string
	Points []Point
}

// Point is the ingest rate at one time from the trace's start.
type Point struct {
	At   time.Duration
	Rate float64
}

// Limits of a trace file: explicit so that a hostile file cannot make the
// simulator run for ever.
const (
	MaxTracePoints   = 1 << 20
	MaxTraceDuration = 7 * 24 * time.Hour
)

//go:embed traces/*.csv
var builtin embed.FS

// Builtin names the traces shipped in the binary.
func Builtin() []string { return []string{"spike", "ramp", "daily", "bench"} }

// LoadBuiltin reads a trace shipped in the binary.
func LoadBuiltin(name string) (Trace, error) {
	f, err := builtin.Open("traces/" + name + ".csv")
	if err != nil {
		return Trace{}, fmt.Errorf("no built-in trace %q (have %s)", name, strings.Join(Builtin(), ", "))
	}
	defer f.Close()
	return ParseTrace(name, f)
}

// ParseTrace reads a trace: one "seconds,records_per_second" line per
// point, times rising from 0; blank lines and lines starting with # are
// skipped, and so is a header line "seconds,rate".
func ParseTrace(name string, r io.Reader) (Trace, error) {
	t := Trace{Name: name}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 4096)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") || (len(t.Points) == 0 && strings.HasPrefix(s, "seconds")) {
			continue
		}
		a, b, ok := strings.Cut(s, ",")
		if !ok {
			return Trace{}, fmt.Errorf("trace %s line %d: want seconds,records_per_second, got %q", name, line, s)
		}
		sec, err := strconv.ParseFloat(strings.TrimSpace(a), 64)
		if err != nil || math.IsNaN(sec) || sec < 0 || sec > MaxTraceDuration.Seconds() {
			return Trace{}, fmt.Errorf("trace %s line %d: seconds must be a number in [0, %.0f], got %q", name, line, MaxTraceDuration.Seconds(), a)
		}
		rate, err := strconv.ParseFloat(strings.TrimSpace(b), 64)
		if err != nil || math.IsNaN(rate) || rate < 0 || rate > 1e12 {
			return Trace{}, fmt.Errorf("trace %s line %d: records/s must be a number in [0, 1e12], got %q", name, line, b)
		}
		at := time.Duration(sec * float64(time.Second))
		if n := len(t.Points); n > 0 && at <= t.Points[n-1].At {
			return Trace{}, fmt.Errorf("trace %s line %d: times must rise, %v after %v", name, line, at, t.Points[n-1].At)
		}
		if len(t.Points) == MaxTracePoints {
			return Trace{}, fmt.Errorf("trace %s: more than %d points", name, MaxTracePoints)
		}
		t.Points = append(t.Points, Point{at, rate})
	}
	if err := sc.Err(); err != nil {
		return Trace{}, fmt.Errorf("read trace %s: %w", name, err)
	}
	if len(t.Points) < 2 {
		return Trace{}, fmt.Errorf("trace %s: want at least two points", name)
	}
	return t, nil
}

// Duration is the time of the trace's last point.
func (t Trace) Duration() time.Duration { return t.Points[len(t.Points)-1].At }

// RateAt is the rate at d, linear between points, the last rate after the
// end.
func (t Trace) RateAt(d time.Duration) float64 {
	i, found := slices.BinarySearchFunc(t.Points, d, func(p Point, d time.Duration) int {
		return cmp.Compare(p.At, d)
	})
	if found {
		return t.Points[i].Rate
	}
	if i == 0 {
		return t.Points[0].Rate
	}
	if i == len(t.Points) {
		return t.Points[i-1].Rate
	}
	a, b := t.Points[i-1], t.Points[i]
	f := float64(d-a.At) / float64(b.At-a.At)
	return a.Rate + f*(b.Rate-a.Rate)
}
