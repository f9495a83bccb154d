package main

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/bench/gen"
)

func TestParseLines(t *testing.T) {
	tests := []struct {
		name, in string
		want     []rec
		err      string
	}{
		{name: "fields sorted, numbers as text",
			in: `{"_time":"2026-01-02T03:04:05.5Z","_msg":"hi","status":200,"host":"a","ok":true}` + "\n\n",
			want: []rec{{time: time.Date(2026, 1, 2, 3, 4, 5, 5e8, time.UTC).UnixNano(), msg: "hi",
				fields: []field{{"host", "a"}, {"ok", "true"}, {"status", "200"}}}}},
		{name: "no trailing newline", in: `{"_time":"2026-01-02T03:04:05Z","_msg":""}`,
			want: []rec{{time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano()}}},
		{name: "nested", in: `{"_time":"2026-01-02T03:04:05Z","_msg":"","a":{"b":1}}`, err: "line 1: field \"a\""},
		{name: "no time", in: `{"_msg":"x"}`, err: "_time"},
		{name: "bad time", in: `{"_time":"yesterday","_msg":"x"}`, err: "_time"},
		{name: "no msg", in: `{"_time":"2026-01-02T03:04:05Z"}`, err: "_msg"},
		{name: "not json", in: "{\n", err: "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseLines([]byte(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				got[i].line = nil
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestParseGenerated checks that every record bench/gen writes parses.
func TestParseGenerated(t *testing.T) {
	g, err := gen.New(gen.Config{Seed: 1, Records: 2000, End: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	lines, n := g.AppendBatch(nil, 2000)
	recs, err := parseLines(lines)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n {
		t.Fatalf("parsed %d records, generated %d", len(recs), n)
	}
}

func TestBatches(t *testing.T) {
	recs := make([]rec, 7)
	var sizes []int
	for _, b := range batches(recs, 3) {
		sizes = append(sizes, len(b))
	}
	if !reflect.DeepEqual(sizes, []int{3, 3, 1}) {
		t.Fatalf("batch sizes %v, want [3 3 1]", sizes)
	}
}

func FuzzParseLine(f *testing.F) {
	f.Add([]byte(`{"_time":"2026-01-02T03:04:05.5Z","_msg":"hi","status":200}`))
	f.Add([]byte(`{"_time":1,"_msg":null}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := parseLine(line)
		if err != nil {
			return
		}
		for i := 1; i < len(r.fields); i++ {
			if r.fields[i-1].name >= r.fields[i].name {
				t.Fatalf("fields not sorted: %v", r.fields)
			}
		}
	})
}
