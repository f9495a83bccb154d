package altgen

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/bench/gen"
)

var testEnd = time.Date(2026, 12, 2, 20, 30, 0, 0, time.UTC)

// TestStreamMatchesRecords: the generator's JSON lines are AppendJSON of
// Records, byte for byte, whatever the batch sizes.
func TestStreamMatchesRecords(t *testing.T) {
	const n = 3001
	var want []byte
	for _, r := range Records(7, n, testEnd) {
		want = AppendJSON(want, &r)
	}
	g, err := New(Config{Seed: 7, Records: n, End: testEnd})
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	for size := 1; g.Remaining() > 0; size = size*2 + 1 {
		var k int
		got, k = g.AppendBatch(got, size)
		if k == 0 {
			t.Fatal("no records with some remaining")
		}
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("streamed lines differ from AppendJSON(Records)")
	}
}

// TestGroundTruth checks every answer against counts taken from the JSON
// lines themselves, by other means than the generator's (strings and a
// parser), over 2 days so that the window leaves records out, for the day
// and the last hour.
func TestGroundTruth(t *testing.T) {
	g, err := New(Config{Seed: 3, Records: 40000, End: testEnd, Days: 2})
	if err != nil {
		t.Fatal(err)
	}
	buf, _ := g.AppendBatch(nil, 40000)
	type rec struct {
		TS, Text, App, Pod, Region, Severity, Duration, Status string
	}
	var recs []rec
	sc := bufio.NewScanner(bytes.NewReader(buf))
	for sc.Scan() {
		var m map[string]string
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%v: %s", err, sc.Bytes())
		}
		recs = append(recs, rec{m["ts"], m["text"], m["app"], m["pod"], m["region"], m["severity"], m["duration_ms"], m["status"]})
	}
	if len(recs) != 40000 {
		t.Fatalf("%d lines", len(recs))
	}
	for _, w := range []struct {
		name     string
		from, to time.Time
		qs       []gen.Query
	}{{"day", g.From(), g.To(), g.Queries()}, {"hour", g.RecentFrom(), g.To(), g.RecentQueries()}} {
		counts := map[string]int64{}
		groups := map[string]map[string]int64{}
		uniq := map[string]map[string]bool{}
		add := func(q, key string) {
			if groups[q] == nil {
				groups[q] = map[string]int64{}
			}
			groups[q][key]++
		}
		in := 0
		for _, r := range recs {
			ts, err := time.Parse(time.RFC3339, r.TS)
			if err != nil {
				t.Fatal(err)
			}
			if ts.Before(w.from) || !ts.Before(w.to) {
				continue
			}
			in++
			dur, _ := strconv.Atoi(r.Duration)
			status, _ := strconv.Atoi(r.Status)
			lower := " " + strings.ToLower(r.Text) + " "
			uniq[""] = setAdd(uniq[""], r.App)
			uniq[r.Region] = setAdd(uniq[r.Region], r.Pod)
			if r.Severity == "ERROR" {
				counts["level_day"]++
				if !ts.Before(w.to.Add(-time.Hour)) {
					counts["level_last_hour"]++
				}
			}
			if r.App == "app-3" && dur > 500 {
				counts["stream_and_range"]++
				counts["field_and_range"]++
			}
			if strings.Contains(lower, " login ") {
				counts["word_folded"]++
			}
			if strings.Contains(lower, " timed out ") {
				counts["phrase_folded"]++
			}
			if status >= 500 && status <= 599 {
				counts["status_range"]++
			}
			add("histogram_by_level", r.Severity+gen.KeySep+ts.Truncate(time.Minute).Format(time.RFC3339))
			add("top_apps", r.App)
		}
		if in == 0 || in == len(recs) {
			t.Fatalf("%s: %d of %d records in the window", w.name, in, len(recs))
		}
		counts["count_uniq_stream"] = int64(len(uniq[""]))
		for _, r := range regions {
			if n := len(uniq[r]); n > 0 {
				if groups["count_uniq_stream_by"] == nil {
					groups["count_uniq_stream_by"] = map[string]int64{}
				}
				groups["count_uniq_stream_by"][r] = int64(n)
			}
		}
		names := map[string]bool{}
		for _, q := range w.qs {
			names[q.Name] = true
			if q.Sluice == "" || q.LogsQL == "" {
				t.Errorf("%s %s: a language missing", w.name, q.Name)
			}
			if q.Want.By == "" {
				if q.Want.Count != counts[q.Name] {
					t.Errorf("%s %s: truth %d, counted %d", w.name, q.Name, q.Want.Count, counts[q.Name])
				}
				continue
			}
			var want []gen.Group
			for k, n := range groups[q.Name] {
				want = append(want, gen.Group{Key: k, N: n})
			}
			want = gen.SortGroups(want)
			if q.Want.Limit > 0 {
				// Ties at the limit may fall either way: compare counts.
				if len(q.Want.Groups) != len(want) || !slices.Equal(counts64(q.Want.Groups), counts64(want)) {
					t.Errorf("%s %s: truth %v, counted %v", w.name, q.Name, q.Want.Groups[:min(5, len(q.Want.Groups))], want[:min(5, len(want))])
				}
				continue
			}
			if fmt.Sprint(q.Want.Groups) != fmt.Sprint(want) {
				t.Errorf("%s %s: truth %.200v, counted %.200v", w.name, q.Name, q.Want.Groups, want)
			}
		}
		for _, name := range []string{"count_uniq_stream", "count_uniq_stream_by", "level_last_hour", "stream_and_range", "word_folded", "phrase_folded", "histogram_by_level"} {
			if !names[name] {
				t.Errorf("query %s missing", name)
			}
		}
	}
}

func setAdd(s map[string]bool, k string) map[string]bool {
	if s == nil {
		s = map[string]bool{}
	}
	s[k] = true
	return s
}

func counts64(gs []gen.Group) []int64 {
	out := make([]int64, len(gs))
	for i, g := range gs {
		out[i] = g.N
	}
	return out
}

// TestCheckTwoKeys: a histogram by level checks both columns of its rows.
func TestCheckTwoKeys(t *testing.T) {
	g, err := New(Config{Seed: 1, Records: 500, End: testEnd})
	if err != nil {
		t.Fatal(err)
	}
	g.AppendBatch(nil, 500)
	var hist gen.Query
	for _, q := range g.Queries() {
		if q.Name == "histogram_by_level" {
			hist = q
		}
	}
	var rows []map[string]string
	for _, grp := range hist.Want.Groups {
		level, bucket, _ := strings.Cut(grp.Key, gen.KeySep)
		rows = append(rows, map[string]string{"severity": level, "_time": bucket, "n": strconv.FormatInt(grp.N, 10)})
	}
	if err := hist.Want.Check(rows); err != nil {
		t.Fatalf("right answer: %v", err)
	}
	rows[0]["severity"] = "NOTICE"
	if err := hist.Want.Check(rows); err == nil {
		t.Fatal("a wrong level passed")
	}
}

func TestNewRejects(t *testing.T) {
	for _, c := range []Config{{Records: 0, End: testEnd}, {Records: 1}, {Records: 1, End: testEnd, Days: -1}} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
}
