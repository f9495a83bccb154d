package main

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestE2EValuesFilter checks the one-pass filtering of raw columns
// through the real binary: words, phrases, infixes on the message and a
// numeric range on a raw field, over sealed parts and the head together,
// must count what a scan of the sent records counts, and explain must show
// the parts' blocks decided without building their rows.
func TestE2EValuesFilter(t *testing.T) {
	needBinary(t)
	t.Parallel()
	s := startServer(t, t.TempDir(), "forward: {enabled: false}\nsyslog: {enabled: false}\notlp: {enabled: false}\n")
	defer s.stop()

	type rec struct {
		msg     string
		latency string // "" when the record has no latency_ms
	}
	var recs []rec
	// Distinct messages and latencies, so that both columns are stored
	// raw; words at the values' edges and in every case, the Kelvin sign
	// (which lowercases to 'k') and a token split over two records.
	for i := range 3000 {
		r := rec{msg: fmt.Sprintf("req %d ok", i), latency: strconv.Itoa(i % 1500)}
		switch i % 7 {
		case 0:
			r.msg = fmt.Sprintf("Timeout after %dms", i)
		case 1:
			r.msg = fmt.Sprintf("dial %d: connection refused", i)
		case 2:
			r.msg = fmt.Sprintf("CONNECTION REFUSED by peer %d; timeout", i)
		case 3:
			r.msg = fmt.Sprintf("%d timeouts, connection, refusal", i)
		case 4:
			r.msg = fmt.Sprintf("\u212aelvin %d time", i)
			r.latency = ""
		case 5:
			r.msg = fmt.Sprintf("out %d kelvin", i)
		}
		recs = append(recs, r)
	}
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	send := func(rs []rec, from int) {
		var body bytes.Buffer
		for i, r := range rs {
			ts := base.Add(time.Duration(from+i) * time.Millisecond).Format(time.RFC3339Nano)
			lat := ""
			if r.latency != "" {
				lat = `,"latency_ms":"` + r.latency + `"`
			}
			fmt.Fprintf(&body, `{"_time":%q,"_msg":%q,"app":"shop"%s}`+"\n", ts, r.msg, lat)
		}
		if code, ans, _ := s.post("/insert/jsonline?_stream_fields=app", "application/x-ndjson", body.Bytes()); code != 200 {
			t.Fatalf("ingest: %d %s", code, ans)
		}
	}
	// Most records in parts, the rest in the head.
	send(recs[:2500], 0)
	if code, ans, _ := s.post("/internal/force_flush", "application/json", nil); code != 200 {
		t.Fatalf("flush: %d %s", code, ans)
	}
	send(recs[2500:], 2500)

	word := func(w string) func(rec) bool {
		re := regexp.MustCompile(`(?i)(^|[^\pL\pN_])` + w + `($|[^\pL\pN_])`)
		return func(r rec) bool { return re.MatchString(r.msg) }
	}
	for _, tc := range []struct {
		q    string
		want func(rec) bool
	}{
		{`timeout`, word("timeout")},
		{`"connection refused"`, word(`connection\s+refused`)},
		{`*refus*`, func(r rec) bool { return strings.Contains(strings.ToLower(r.msg), "refus") }},
		{`kelvin`, func(r rec) bool { return strings.Contains(strings.ToLower(r.msg), "kelvin") }},
		{`latency_ms:>1000`, func(r rec) bool { n, err := strconv.Atoi(r.latency); return err == nil && n > 1000 }},
		{`latency_ms:[10 TO 20] OR latency_ms:>1490`, func(r rec) bool {
			n, err := strconv.Atoi(r.latency)
			return err == nil && (n >= 10 && n <= 20 || n > 1490)
		}},
		{`NOT timeout`, func(r rec) bool { return !word("timeout")(r) }},
	} {
		want := 0
		for _, r := range recs {
			if tc.want(r) {
				want++
			}
		}
		if want == 0 {
			t.Fatalf("%s: the test data holds no match", tc.q)
		}
		if got := s.count(tc.q); got != want {
			t.Errorf("%s: %d records, want %d", tc.q, got, want)
		}
	}

	// The parts' blocks were decided from the message column alone.
	out := s.cli("query", `timeout | stats count() as n`, "--explain")
	m := regexp.MustCompile(`(\d+) decided by one column without building rows`).FindStringSubmatch(out)
	if m == nil || m[1] == "0" {
		t.Errorf("explain shows no block decided by the message column:\n%s", out)
	}
}
