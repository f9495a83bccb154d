package gen

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var testEnd = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func generateAll(t testing.TB, cfg Config) (*Generator, []byte) {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	for {
		var n int
		out, n = g.AppendBatch(out, 1000)
		if n == 0 {
			break
		}
	}
	return g, out
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{Records: 0, End: testEnd},
		{Records: -1, End: testEnd},
		{Records: 10},
		{Records: 10, End: testEnd, Days: -1},
		{Records: 10, End: testEnd, Days: maxDays + 1},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}

func TestDeterministic(t *testing.T) {
	cfg := Config{Seed: 7, Records: 5000, End: testEnd}
	_, a := generateAll(t, cfg)
	_, b := generateAll(t, cfg)
	if !bytes.Equal(a, b) {
		t.Fatal("the same config generated different data")
	}
	cfg.Seed = 8
	_, c := generateAll(t, cfg)
	if bytes.Equal(a, c) {
		t.Fatal("different seeds generated the same data")
	}
}

func TestAppendBatchCountsDown(t *testing.T) {
	g, err := New(Config{Seed: 1, Records: 25, End: testEnd})
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	var buf []byte
	for {
		var n int
		buf, n = g.AppendBatch(buf[:0], 10)
		if n == 0 {
			break
		}
		if got := bytes.Count(buf, []byte("\n")); got != n {
			t.Fatalf("batch of %d records has %d lines", n, got)
		}
		sizes = append(sizes, n)
	}
	if want := []int{10, 10, 5}; !slices.Equal(sizes, want) {
		t.Fatalf("batch sizes %v, want %v", sizes, want)
	}
	if g.Remaining() != 0 {
		t.Fatalf("Remaining = %d after the end", g.Remaining())
	}
}

var (
	hex32    = regexp.MustCompile(`^[0-9a-f]{32}$`)
	nginxRe  = regexp.MustCompile(`^10\.\d+\.\d+\.\d+ - - \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000\] "[A-Z]+ /api/v1/\S+ HTTP/1\.1" \d{3} \d+ "[^"]*" "[^"]*"$`)
	syslogRe = regexp.MustCompile(`^<\d+>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ (sshd|cron|kernel)(\[\d+\])?: .+$`)
)

// TestRecordShapes checks every kind of record has the fields the brief and
// the queries rely on, in valid JSON.
func TestRecordShapes(t *testing.T) {
	g, out := generateAll(t, Config{Seed: 3, Records: 20000, End: testEnd})
	kinds := map[string]int{}
	appLevels := map[string]int{}
	apps := map[string]bool{}
	prev := time.Time{}
	for i, line := range bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n")) {
		var rec map[string]any
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", i, err, line)
		}
		ts, _ := rec["_time"].(string)
		tm, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil || !strings.HasSuffix(ts, "Z") {
			t.Fatalf("line %d: bad _time %q", i, ts)
		}
		if tm.Before(g.From()) || !tm.Before(g.To()) {
			t.Fatalf("line %d: _time %s outside [%s, %s)", i, tm, g.From(), g.To())
		}
		if !prev.IsZero() && tm.Before(prev.Add(-2*jitter)) {
			t.Fatalf("line %d: _time %s goes back more than the jitter from %s", i, tm, prev)
		}
		prev = tm
		for _, f := range []string{"_msg", "service", "host", "level"} {
			if s, _ := rec[f].(string); s == "" {
				t.Fatalf("line %d: no %s: %s", i, f, line)
			}
		}
		msg, svc := rec["_msg"].(string), rec["service"].(string)
		switch {
		case svc == "nginx":
			kinds["nginx"]++
			if !nginxRe.MatchString(msg) {
				t.Fatalf("line %d: not a combined log line: %q", i, msg)
			}
			if _, ok := rec["bytes"].(float64); !ok {
				t.Fatalf("line %d: nginx record without numeric bytes", i)
			}
		case svc == "sshd" || svc == "cron" || svc == "kernel":
			kinds["syslog"]++
			if !syslogRe.MatchString(msg) {
				t.Fatalf("line %d: not an RFC 3164 line: %q", i, msg)
			}
		case strings.HasPrefix(msg, "Exception in thread"):
			kinds["java"]++
			if !strings.Contains(msg, "\n\tat com.example.") || rec["level"] != "error" {
				t.Fatalf("line %d: not a Java stack trace at level error: %q", i, msg)
			}
		default:
			kinds["app"]++
			apps[svc] = true
			appLevels[rec["level"].(string)]++
			if id, _ := rec["trace_id"].(string); !hex32.MatchString(id) {
				t.Fatalf("line %d: trace_id %q is not 32 hex digits", i, id)
			}
			if _, ok := rec["latency_ms"].(float64); !ok {
				t.Fatalf("line %d: no numeric latency_ms", i)
			}
			if st, _ := rec["status"].(float64); st < 200 || st > 599 {
				t.Fatalf("line %d: status %v", i, rec["status"])
			}
		}
	}
	for _, k := range []string{"app", "nginx", "java", "syslog"} {
		if kinds[k] == 0 {
			t.Errorf("no %s records", k)
		}
	}
	if len(apps) < 45 || len(appServices) != 50 {
		t.Errorf("%d application services seen of %d", len(apps), len(appServices))
	}
	// The seed is fixed, so these shares are fixed too; the bounds document
	// the intended skew.
	for level, want := range map[string]float64{"info": .70, "debug": .15, "warn": .10, "error": .05} {
		share := float64(appLevels[level]) / float64(kinds["app"])
		if share < want*0.85 || share > want*1.15 {
			t.Errorf("application level %s: share %.3f, want about %.2f", level, share, want)
		}
	}
}
