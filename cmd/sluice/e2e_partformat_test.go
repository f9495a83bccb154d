package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sluice-log/sluice/bench/gen"
)

// TestE2EPartFormat ingests the bench data set through the real server,
// seals it into several flushed parts (column format, zstd level 1) that
// the merge loop then merges (level 7), and checks that aggregate queries
// which read one column (level), only the timestamps, or whole records give
// the exact answers before and after a restart, and that verify passes.
func TestE2EPartFormat(t *testing.T) {
	needBinary(t)
	t.Parallel()
	const records, batches = 20000, 4
	g, err := gen.New(gen.Config{Seed: 7, Records: records, End: time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := g.AppendBatch(nil, records)
	lines := bytes.SplitAfter(data, []byte("\n"))
	lines = lines[:len(lines)-1]
	wantLevels := map[string]int{}
	var wantErrors []string // messages of level error
	hours := map[int64]bool{}
	for _, l := range lines {
		var m struct {
			Time  time.Time `json:"_time"`
			Msg   string    `json:"_msg"`
			Level *string   `json:"level"`
		}
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatal(err)
		}
		if m.Level != nil {
			wantLevels[*m.Level]++
			if *m.Level == "error" {
				wantErrors = append(wantErrors, m.Msg)
			}
		}
		hours[m.Time.Unix()/3600] = true
	}
	slices.Sort(wantErrors)

	dataDir := t.TempDir()
	s := startServer(t, dataDir, "store:\n  flush_interval: 1h\n  merge_interval: 100ms\n  merge_fan_in: 2\n")
	per := len(lines) / batches
	for b := range batches {
		end := (b + 1) * per
		if b == batches-1 {
			end = len(lines)
		}
		body := bytes.Join(lines[b*per:end], nil)
		if code, resp, _ := s.post("/insert/jsonline?_stream_fields=service,host,container", "application/x-ndjson", body); code/100 != 2 {
			t.Fatalf("insert batch %d: %d %s", b, code, resp)
		}
		if code, resp, _ := s.post("/internal/force_flush", "", nil); code/100 != 2 {
			t.Fatalf("force flush %d: %d %s", b, code, resp)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		merges, _ := metricValue(t, s, "sluice_store_merges_total")
		parts, _ := metricValue(t, s, "sluice_store_parts")
		partitions, _ := metricValue(t, s, "sluice_store_partitions")
		if merges > 0 && parts <= 2*partitions {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no merge down to 2 parts per partition: %v merges, %v parts in %v partitions", merges, parts, partitions)
		}
		time.Sleep(100 * time.Millisecond)
	}

	check := func(when string) {
		t.Helper()
		if n := s.count("*"); n != records {
			t.Fatalf("%s: %d records, want %d", when, n, records)
		}
		got := map[string]int{}
		for _, row := range s.queryRows("* | stats count() as n by level") {
			lv, _ := row["level"].(string)
			n, _ := row["n"].(float64)
			if lv != "" {
				got[lv] = int(n)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(wantLevels) {
			t.Fatalf("%s: count by level %v, want %v", when, got, wantLevels)
		}
		// Only the timestamps column.
		buckets, total := 0, 0
		for _, row := range s.queryRows("* | stats count() as n by _time:1h") {
			n, _ := row["n"].(float64)
			buckets++
			total += int(n)
		}
		if buckets != len(hours) || total != records {
			t.Fatalf("%s: %d records in %d hourly buckets, want %d in %d", when, total, buckets, records, len(hours))
		}
		// Every column of the matching records, messages compared.
		var errs []string
		for _, row := range s.queryRows("level:error") {
			msg, _ := row["_msg"].(string)
			errs = append(errs, msg)
		}
		slices.Sort(errs)
		if !slices.Equal(errs, wantErrors) {
			t.Fatalf("%s: %d error messages differ from the %d ingested", when, len(errs), len(wantErrors))
		}
	}
	check("after merge")
	s.stop()
	if out, err := sluiceVerify(t, dataDir); err != nil {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	s = startServer(t, dataDir, "store:\n  flush_interval: 1h\n  merge_interval: 1h\n")
	check("after restart")
	s.stop()
}
