package gen

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

func hasToken(s, word string) bool {
	return slices.Contains(record.TokenList(s), word)
}

func hasTokenPhrase(s string, phrase ...string) bool {
	return hasPhrase(record.TokenList(s), phrase...)
}

func hasPhrase(toks []string, phrase ...string) bool {
	for i := 0; i+len(phrase) <= len(toks); i++ {
		if slices.Equal(toks[i:i+len(phrase)], phrase) {
			return true
		}
	}
	return false
}

// words splits s into words keeping their case, as a case-sensitive engine
// (VictoriaLogs) sees them; the generated text is ASCII.
func words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_')
	})
}

func countRow(n int64) []map[string]string {
	return []map[string]string{{"n": strconv.FormatInt(n, 10)}}
}

func groupRows(by string, counts map[string]int64) []map[string]string {
	var rows []map[string]string
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		rows = append(rows, map[string]string{by: k, "n": strconv.FormatInt(counts[k], 10)})
	}
	return rows
}

// TestGroundTruth re-counts every bench query over the generated records by
// brute force, from the JSON itself, and checks that the generator's
// answers agree and that Answer.Check accepts the brute-force rows.
func TestGroundTruth(t *testing.T) {
	for _, seed := range []uint64{1, 42} {
		g, out := generateAll(t, Config{Seed: seed, Records: 30000, End: testEnd})
		var term, phrase, payments, slow, rare int64
		levels := map[string]int64{}
		minutes := map[string]int64{}
		errs := map[string]int64{}
		rareID := string(g.rareID[:])
		for i, line := range bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n")) {
			var rec map[string]any
			if err := json.Unmarshal(line, &rec); err != nil {
				t.Fatalf("line %d: %v", i, err)
			}
			msg := rec["_msg"].(string)
			if hasToken(msg, "timeout") {
				term++
			}
			// VictoriaLogs matches words case-sensitively, Sluice does not:
			// the data must make the difference moot.
			if hasToken(msg, "timeout") != slices.Contains(words(msg), "timeout") {
				t.Fatalf("line %d: %q has the word timeout in capitals", i, msg)
			}
			if hasTokenPhrase(msg, "connection", "refused") {
				phrase++
			}
			if hasTokenPhrase(msg, "connection", "refused") != strings.Contains(msg, "connection refused") ||
				hasTokenPhrase(msg, "connection", "refused") != hasPhrase(words(msg), "connection", "refused") {
				t.Fatalf("line %d: %q has the phrase in a form the two engines would see differently", i, msg)
			}
			for name, v := range rec {
				s, ok := v.(string)
				if !ok || name == "_msg" {
					continue
				}
				if hasToken(s, "timeout") || hasTokenPhrase(s, "connection", "refused") {
					t.Fatalf("line %d: field %s=%q holds a searched word outside _msg", i, name, s)
				}
			}
			svc := rec["service"].(string)
			if svc == "payments" {
				payments++
			}
			if hasToken(svc, "payments") != (svc == "payments") {
				t.Fatalf("line %d: service %q holds the word payments", i, svc)
			}
			if lat, ok := rec["latency_ms"].(float64); ok && lat > 1000 {
				slow++
			}
			if rec["trace_id"] == rareID {
				rare++
			}
			level := rec["level"].(string)
			levels[level]++
			if level == "error" {
				errs[svc]++
			}
			tm, err := time.Parse(time.RFC3339Nano, rec["_time"].(string))
			if err != nil {
				t.Fatalf("line %d: %v", i, err)
			}
			minutes[tm.Truncate(time.Minute).UTC().Format(time.RFC3339)]++
		}
		if rare != 3 {
			t.Errorf("seed %d: rare trace id occurs %d times, want 3", seed, rare)
		}
		if term == 0 || phrase == 0 || slow == 0 || payments == 0 {
			t.Errorf("seed %d: a query matches nothing: term %d phrase %d slow %d payments %d", seed, term, phrase, slow, payments)
		}
		if len(minutes) != 1440 {
			t.Errorf("seed %d: %d minute buckets, want 1440", seed, len(minutes))
		}

		topRows := groupRows("service", errs)
		slices.SortStableFunc(topRows, func(a, b map[string]string) int {
			na, _ := strconv.Atoi(a["n"])
			nb, _ := strconv.Atoi(b["n"])
			return nb - na
		})
		brute := map[string][]map[string]string{
			"term":       countRow(term),
			"phrase":     countRow(phrase),
			"field":      countRow(payments),
			"range":      countRow(slow),
			"trace":      countRow(rare),
			"by_level":   groupRows("level", levels),
			"histogram":  groupRows("_time", minutes),
			"top_errors": topRows[:10],
		}
		qs := g.Queries()
		if len(qs) != len(brute) {
			t.Fatalf("%d queries, want %d", len(qs), len(brute))
		}
		for _, q := range qs {
			rows, ok := brute[q.Name]
			if !ok {
				t.Errorf("unexpected query %q", q.Name)
				continue
			}
			if err := q.Want.Check(rows); err != nil {
				t.Errorf("seed %d: %s (%s): ground truth disagrees with brute force: %v", seed, q.Name, q.Sluice, err)
			}
		}
	}
}

func TestQueryStrings(t *testing.T) {
	g, _ := generateAll(t, Config{Seed: 1, Records: 100, End: testEnd})
	rare := string(g.rareID[:])
	want := map[string]string{
		"term":       "timeout | stats count() as n",
		"phrase":     `"connection refused" | stats count() as n`,
		"field":      "service:payments | stats count() as n",
		"range":      "latency_ms:>1000 | stats count() as n",
		"trace":      "trace_id:" + rare + " | stats count() as n",
		"by_level":   "* | stats count() as n by level",
		"histogram":  "* | stats count() as n by _time:1m",
		"top_errors": "level:error | stats count() as n by service | sort by n desc | limit 10",
	}
	for _, q := range g.Queries() {
		if q.Sluice != want[q.Name] {
			t.Errorf("%s: %q, want %q", q.Name, q.Sluice, want[q.Name])
		}
		if q.LogsQL == "" {
			t.Errorf("%s: no LogsQL", q.Name)
		}
	}
	if appServices[paymentsIndex] != "payments" {
		t.Errorf("paymentsIndex names %q", appServices[paymentsIndex])
	}
}

func BenchmarkAppendBatch(b *testing.B) {
	g, err := New(Config{Seed: 1, Records: 1 << 62, End: testEnd})
	if err != nil {
		b.Fatal(err)
	}
	var buf []byte
	var bytesOut int64
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = g.AppendBatch(buf[:0], 1)
		bytesOut += int64(len(buf))
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(bytesOut)/float64(b.N), "bytes/record")
}
