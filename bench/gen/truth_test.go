package gen

import (
	"bytes"
	"encoding/json"
	"maps"
	"regexp"
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
	// 60000 records are more than traceRecords, so the trace_id query's
	// window is narrower than the data.
	for _, c := range []struct {
		seed    uint64
		records int
	}{{1, 30000}, {42, 60000}} {
		seed := c.seed
		g, out := generateAll(t, Config{Seed: seed, Records: c.records, End: testEnd})
		if c.records > traceRecords && g.truth.traceTo-g.truth.traceFrom >= int64(Window) {
			t.Errorf("seed %d: the trace_id window covers all %d records", seed, c.records)
		}
		var term, phrase, payments, slow, rare int64
		var prefix, infix, serviceRE, errors, serverErrors, noTrace int64
		traces := map[string]int64{}
		re := regexp.MustCompile("^(pay|check)")
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
			if slices.ContainsFunc(record.TokenList(svc), func(w string) bool { return strings.HasPrefix(w, "re") }) {
				prefix++
			}
			if slices.ContainsFunc(record.TokenList(svc), func(w string) bool { return strings.HasPrefix(w, "re") }) !=
				slices.ContainsFunc(words(svc), func(w string) bool { return strings.HasPrefix(w, "re") }) {
				t.Fatalf("line %d: service %q has a word starting with re that only one engine sees", i, svc)
			}
			if strings.Contains(strings.ToLower(msg), "refus") {
				infix++
			}
			if strings.Contains(strings.ToLower(msg), "refus") != strings.Contains(msg, "refus") {
				t.Fatalf("line %d: %q holds refus in capitals", i, msg)
			}
			if re.MatchString(svc) {
				serviceRE++
			}
			if st, ok := rec["status"].(float64); ok && st >= 500 && st <= 599 {
				serverErrors++
			}
			tid, _ := rec["trace_id"].(string)
			if tid == "" {
				noTrace++
			}
			level := rec["level"].(string)
			if level == "error" {
				errors++
			}
			levels[level]++
			if level == "error" {
				errs[svc]++
			}
			tm, err := time.Parse(time.RFC3339Nano, rec["_time"].(string))
			if err != nil {
				t.Fatalf("line %d: %v", i, err)
			}
			minutes[tm.Truncate(time.Minute).UTC().Format(time.RFC3339)]++
			if ns := tm.UnixNano(); ns >= g.truth.traceFrom && ns < g.truth.traceTo {
				traces[tid]++
			}
		}
		if rare != 3 {
			t.Errorf("seed %d: rare trace id occurs %d times, want 3", seed, rare)
		}
		for name, n := range map[string]int64{
			"term": term, "phrase": phrase, "slow": slow, "payments": payments, "prefix": prefix,
			"infix": infix, "regexp": serviceRE, "error": errors, "5xx": serverErrors, "no trace": noTrace,
		} {
			if n == 0 {
				t.Errorf("seed %d: query %s matches nothing", seed, name)
			}
		}
		if serviceRE <= payments {
			t.Errorf("seed %d: the regexp selects %d records, no more than service:payments (%d)", seed, serviceRE, payments)
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
		traceRows := groupRows("trace_id", traces)
		slices.SortStableFunc(traceRows, func(a, b map[string]string) int {
			na, _ := strconv.Atoi(a["n"])
			nb, _ := strconv.Atoi(b["n"])
			return nb - na
		})
		brute := map[string][]map[string]string{
			"term":         countRow(term),
			"phrase":       countRow(phrase),
			"field":        countRow(payments),
			"range":        countRow(slow),
			"trace":        countRow(rare),
			"by_level":     groupRows("level", levels),
			"histogram":    groupRows("_time", minutes),
			"top_errors":   topRows[:10],
			"prefix":       countRow(prefix),
			"infix":        countRow(infix),
			"regexp":       countRow(serviceRE),
			"exact":        countRow(errors),
			"stream":       countRow(payments),
			"status_range": countRow(serverErrors),
			"no_trace":     countRow(noTrace),
			"top_traces":   traceRows[:5],
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
			if q.Name == "top_traces" {
				// Without the limit, every group must agree: this checks the
				// claim that the unlisted trace ids are all distinct.
				all := q.Want
				all.Limit = 0
				if err := all.Check(traceRows); err != nil {
					t.Errorf("seed %d: all groups by trace_id disagree with brute force: %v", seed, err)
				}
			}
		}
	}
}

func TestQueryStrings(t *testing.T) {
	g, _ := generateAll(t, Config{Seed: 1, Records: 100, End: testEnd})
	rare := string(g.rareID[:])
	want := map[string]string{
		"term":         "timeout | stats count() as n",
		"phrase":       `"connection refused" | stats count() as n`,
		"field":        "service:payments | stats count() as n",
		"range":        "latency_ms:>1000 | stats count() as n",
		"trace":        "trace_id:" + rare + " | stats count() as n",
		"by_level":     "* | stats count() as n by level",
		"histogram":    "* | stats count() as n by _time:1m",
		"top_errors":   "level:error | stats count() as n by service | sort by n desc | limit 10",
		"prefix":       "service:re* | stats count() as n",
		"infix":        "*refus* | stats count() as n",
		"regexp":       "service:/^(pay|check)/ | stats count() as n",
		"exact":        `level:="error" | stats count() as n`,
		"stream":       `_stream:{service="payments"} | stats count() as n`,
		"status_range": "status:[500 TO 599] | stats count() as n",
		"no_trace":     "NOT trace_id:* | stats count() as n",
		"top_traces":   "_time:[2026-11-24T12:00:00Z TO 2026-11-25T12:00:00Z} | stats count() as n by trace_id | sort by n desc | limit 5",
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

// TestTraceWindow checks that the stats-by-trace_id query's window holds
// about traceRecords records at any data size (so that its groups stay
// under the server's default limit of 100k), in whole minutes, around the
// middle of the data where a rare record is.
func TestTraceWindow(t *testing.T) {
	from := testEnd.Add(-Window).UnixNano()
	to := testEnd.UnixNano()
	for _, records := range []int{100, 50000, 1_000_000, 5_000_000, 100_000_000} {
		var tr truth
		tr.init(from, to, records)
		w := tr.traceTo - tr.traceFrom
		inWindow := float64(w) / float64(Window) * float64(records)
		// Rounding out to whole minutes adds at most two minutes' records.
		if slack := 2 * float64(records) / (24 * 60); inWindow > traceRecords+slack {
			t.Errorf("%d records: window %s holds ~%.0f records, want at most ~%.0f", records, time.Duration(w), inWindow, traceRecords+slack)
		}
		if records <= 10_000_000 && inWindow >= 100_000 {
			t.Errorf("%d records: window %s holds ~%.0f records, more groups than the server's default limit", records, time.Duration(w), inWindow)
		}
		if tr.traceFrom%int64(time.Minute) != 0 || w%int64(time.Minute) != 0 || w <= 0 {
			t.Errorf("%d records: window [%d, %d) is not whole minutes", records, tr.traceFrom, tr.traceTo)
		}
		if mid := from + (to-from)/2; tr.traceFrom > mid-int64(jitter) || tr.traceTo < mid+int64(jitter) {
			t.Errorf("%d records: window [%d, %d) misses the middle record", records, tr.traceFrom, tr.traceTo)
		}
	}
}

// decodeLine decodes line i of the generator's output and its _time.
func decodeLine(t *testing.T, i int, line []byte) (map[string]any, time.Time) {
	t.Helper()
	var rec map[string]any
	if err := json.Unmarshal(line, &rec); err != nil {
		t.Fatalf("line %d: %v", i, err)
	}
	tm, err := time.Parse(time.RFC3339Nano, rec["_time"].(string))
	if err != nil {
		t.Fatal(err)
	}
	return rec, tm
}

// TestRecentGroundTruth checks the answers of the recent queries (the last
// hour of the window) against brute-force counts over the records of that
// hour, for the queries whose counts cover every kind of answer.
func TestRecentGroundTruth(t *testing.T) {
	g, out := generateAll(t, Config{Seed: 7, Records: 48000, End: testEnd})
	if got, want := g.RecentFrom(), testEnd.Add(-RecentWindow).UTC(); !got.Equal(want) {
		t.Fatalf("RecentFrom %s, want %s", got, want)
	}
	var term, payments, noTrace int64
	levels, minutes, errs := map[string]int64{}, map[string]int64{}, map[string]int64{}
	for i, line := range bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n")) {
		rec, tm := decodeLine(t, i, line)
		if tm.Before(g.RecentFrom()) {
			continue
		}
		if hasToken(rec["_msg"].(string), "timeout") {
			term++
		}
		svc := rec["service"].(string)
		if svc == "payments" {
			payments++
		}
		if tid, _ := rec["trace_id"].(string); tid == "" {
			noTrace++
		}
		level := rec["level"].(string)
		levels[level]++
		if level == "error" {
			errs[svc]++
		}
		minutes[tm.Truncate(time.Minute).UTC().Format(time.RFC3339)]++
	}
	if len(minutes) != 60 {
		t.Fatalf("%d minutes in the last hour, want 60", len(minutes))
	}
	topRows := groupRows("service", errs)
	slices.SortStableFunc(topRows, func(a, b map[string]string) int {
		na, _ := strconv.Atoi(a["n"])
		nb, _ := strconv.Atoi(b["n"])
		return nb - na
	})
	brute := map[string][]map[string]string{
		"term":       countRow(term),
		"field":      countRow(payments),
		"no_trace":   countRow(noTrace),
		"by_level":   groupRows("level", levels),
		"histogram":  groupRows("_time", minutes),
		"top_errors": topRows[:min(10, len(topRows))],
	}
	checked := 0
	for _, q := range g.RecentQueries() {
		if rows, ok := brute[q.Name]; ok {
			checked++
			if err := q.Want.Check(rows); err != nil {
				t.Errorf("%s over the last hour: %v", q.Name, err)
			}
		}
	}
	if checked != len(brute) {
		t.Errorf("checked %d queries, want %d", checked, len(brute))
	}
}

// TestMultiDayGroundTruth spreads the records over ten days, as a long run
// does, and checks that they cover the whole span in time order and that
// the answers count only the last 24 h (and the last hour), against brute
// force over the JSON.
func TestMultiDayGroundTruth(t *testing.T) {
	const days = 10
	g, out := generateAll(t, Config{Seed: 3, Records: 200000, End: testEnd, Days: days})
	if got, want := g.DataFrom(), testEnd.Add(-days*Window).UTC(); !got.Equal(want) {
		t.Fatalf("DataFrom %s, want %s", got, want)
	}
	if got, want := g.From(), testEnd.Add(-Window).UTC(); !got.Equal(want) {
		t.Fatalf("From %s, want %s", got, want)
	}
	type counts struct {
		term, payments, noTrace, rare int64
		levels, minutes               map[string]int64
	}
	day := counts{levels: map[string]int64{}, minutes: map[string]int64{}}
	hour := counts{levels: map[string]int64{}, minutes: map[string]int64{}}
	rareID := string(g.rareID[:])
	perDay := map[int]int{}
	var prev time.Time
	for i, line := range bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n")) {
		rec, tm := decodeLine(t, i, line)
		if tm.Before(g.DataFrom()) || !tm.Before(g.To()) {
			t.Fatalf("line %d: time %s outside [%s, %s)", i, tm, g.DataFrom(), g.To())
		}
		if tm.Before(prev.Add(-2 * jitter)) {
			t.Fatalf("line %d: time %s goes back from %s by more than the jitter", i, tm, prev)
		}
		prev = tm
		perDay[int(tm.Sub(g.DataFrom())/Window)]++
		for _, c := range []struct {
			from time.Time
			c    *counts
		}{{g.From(), &day}, {g.RecentFrom(), &hour}} {
			if tm.Before(c.from) {
				continue
			}
			if hasToken(rec["_msg"].(string), "timeout") {
				c.c.term++
			}
			if rec["service"] == "payments" {
				c.c.payments++
			}
			tid, _ := rec["trace_id"].(string)
			if tid == "" {
				c.c.noTrace++
			}
			if tid == rareID {
				c.c.rare++
			}
			c.c.levels[rec["level"].(string)]++
			c.c.minutes[tm.Truncate(time.Minute).UTC().Format(time.RFC3339)]++
		}
	}
	for d := range days {
		if n := perDay[d]; n < 19000 || n > 21000 {
			t.Errorf("day %d holds %d records, want about 20000", d, n)
		}
	}
	if day.rare != 3 {
		t.Errorf("the rare trace id occurs %d times in the last 24 h, want 3", day.rare)
	}
	if len(day.minutes) != 1440 || len(hour.minutes) != 60 {
		t.Errorf("%d minutes in the last 24 h and %d in the last hour, want 1440 and 60", len(day.minutes), len(hour.minutes))
	}
	for _, set := range []struct {
		name string
		qs   []Query
		c    *counts
	}{{"24 h", g.Queries(), &day}, {"last hour", g.RecentQueries(), &hour}} {
		brute := map[string][]map[string]string{
			"term":      countRow(set.c.term),
			"field":     countRow(set.c.payments),
			"no_trace":  countRow(set.c.noTrace),
			"by_level":  groupRows("level", set.c.levels),
			"histogram": groupRows("_time", set.c.minutes),
		}
		if set.name == "24 h" {
			brute["trace"] = countRow(set.c.rare)
		}
		checked := 0
		for _, q := range set.qs {
			if rows, ok := brute[q.Name]; ok {
				checked++
				if err := q.Want.Check(rows); err != nil {
					t.Errorf("%s over the %s: %v", q.Name, set.name, err)
				}
			}
		}
		if checked != len(brute) {
			t.Errorf("%s: checked %d queries, want %d", set.name, checked, len(brute))
		}
	}
}
