package logql

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

func TestEvaluate(t *testing.T) {
	min := int64(time.Minute)
	a := Labels{"app": "a"}
	b := Labels{"app": "b", "host": "h1"}
	c := Labels{"app": "b", "host": "h2"}
	// Buckets of one minute: a has 1 record at minutes 0,1,2,3; b 2 at
	// minute 1; c 5 at minute 3.
	buckets := []Bucket{{a, 0, 1}, {a, min, 1}, {a, 2 * min, 1}, {a, 3 * min, 1}, {b, min, 2}, {c, 3 * min, 5}}
	show := func(ss []Series) string {
		out := ""
		for _, s := range ss {
			out += s.Labels.Key() + ":"
			for _, p := range s.Points {
				out += fmt.Sprintf(" %d=%g", p.T/min, p.V)
			}
			out += ";"
		}
		return out
	}
	tests := []struct {
		m    MetricExpr
		want string
	}{
		// Windows [t-2m, t): at 2 → minutes 0,1; at 4 → minutes 2,3.
		{MetricExpr{Func: "count_over_time", Range: 2 * time.Minute},
			`app="a",: 1=1 2=2 3=2 4=2;app="b",host="h1",: 2=2 3=2;app="b",host="h2",: 4=5;`},
		{MetricExpr{Func: "rate", Range: 2 * time.Minute},
			`app="a",: 1=0.008333333333333333 2=0.016666666666666666 3=0.016666666666666666 4=0.016666666666666666;app="b",host="h1",: 2=0.016666666666666666 3=0.016666666666666666;app="b",host="h2",: 4=0.041666666666666664;`},
		{MetricExpr{Func: "count_over_time", Range: time.Minute, Agg: "max", By: []string{"app"}},
			`app="a",: 1=1 2=1 3=1 4=1;app="b",: 2=2 4=5;`},
		{MetricExpr{Func: "count_over_time", Range: time.Minute, Agg: "avg", By: []string{"app"}},
			`app="a",: 1=1 2=1 3=1 4=1;app="b",: 2=2 4=5;`},
		{MetricExpr{Func: "count_over_time", Range: 5 * time.Minute, Agg: "count", By: []string{}},
			`: 1=1 2=2 3=2 4=3;`},
		{MetricExpr{Func: "count_over_time", Range: 5 * time.Minute, Agg: "min"},
			`: 1=1 2=2 3=2 4=2;`},
		{MetricExpr{Func: "count_over_time", Range: time.Minute, Agg: "topk", K: 1},
			`app="a",: 1=1 3=1;app="b",host="h1",: 2=2;app="b",host="h2",: 4=5;`},
	}
	for _, tt := range tests {
		got := show(tt.m.Evaluate(buckets, min, 4*min, time.Minute, time.Minute))
		if got != tt.want {
			t.Errorf("%+v:\n got %s\nwant %s", tt.m, got, tt.want)
		}
	}
}

func TestBucketWidth(t *testing.T) {
	sec := int64(time.Second)
	for _, tt := range []struct {
		rng, step time.Duration
		start     int64
		want      time.Duration
	}{
		{5 * time.Minute, time.Minute, 0, time.Minute},
		{90 * time.Second, time.Minute, 0, 30 * time.Second},
		{time.Minute, 7 * time.Second, 0, time.Second},
		{time.Minute, 1500 * time.Microsecond, 0, time.Millisecond},
		// A start 20 s past the minute: 20 s buckets end windows there.
		{5 * time.Minute, time.Minute, 1700000000*sec + 20*sec, 20 * time.Second},
		// A start at an odd millisecond would need 1 ms buckets: too fine.
		{5 * time.Minute, time.Minute, 1700000000*sec + 7e6, time.Minute},
	} {
		if got := BucketWidth(tt.rng, tt.step, tt.start); got != tt.want {
			t.Errorf("BucketWidth(%s, %s, %d) = %s, want %s", tt.rng, tt.step, tt.start, got, tt.want)
		}
	}
}

func TestInstant(t *testing.T) {
	m := MetricExpr{Func: "rate", Range: 10 * time.Second, Agg: "max", By: []string{"app"}}
	got := m.Instant([]Bucket{{Labels{"app": "a", "host": "1"}, 0, 30}, {Labels{"app": "a", "host": "2"}, 0, 50}, {Labels{"app": "b"}, 0, 5}}, 99)
	want := []Series{{Labels{"app": "a"}, []Point{{99, 5}}}, {Labels{"app": "b"}, []Point{{99, 0.5}}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestParseStream(t *testing.T) {
	got := ParseStream(`{app="a\"b",host="web\\1",x="l1\nl2"}`)
	want := Labels{"app": `a"b`, "host": `web\1`, "x": "l1\nl2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := ParseStream(`{}`); len(got) != 0 {
		t.Errorf("{} gave %q", got)
	}
}
