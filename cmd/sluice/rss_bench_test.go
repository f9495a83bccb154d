package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-log/sluice/bench/gen"
)

var (
	rssRecords    = flag.Int("rss.n", 150000, "BenchmarkRSSGrowth: records of the small case; the large case has 20 times as many")
	rssBinary     = flag.String("rss.binary", "", "BenchmarkRSSGrowth: sluice binary to measure (default: built from this tree without -race)")
	rssIndexCache = flag.String("rss.index-cache", "2MiB", "BenchmarkRSSGrowth: store.index_cache_bytes (empty: leave it out, for a build without it)")
)

// BenchmarkRSSGrowth measures the resident memory of the real binary
// (built without -race, which multiplies memory) after it ingested and
// queried -rss.n records, and 20 times as many, each on a fresh data dir,
// with memory_limit and the index cache set small: the memory of the
// large case must stay within 1.2 times the small case's, since what the
// store keeps in memory is bounded by configuration, not by the data. RSS
// is read once settled (see plainServer.rss). The bounds are set small
// enough that the small case reaches them too, as a node does after its
// first hours, so that the comparison is between two steady states: the
// head flushes at 4 MiB (a larger head reached only by the larger ingest
// leaves the runtime holding more freed heap afterwards), and blocks of
// 256 records fill in the small case (what grows with a block until it
// is full, decompression buffers and pooled block scratch, is full in
// both; the generator's data has about 470 streams a day over two days),
// which also makes the index about ten bytes a record, what a store
// without the index cache would hold in memory. It
// reports both RSS figures and their ratio after ingest and the bench
// queries, and again after a restart and the same queries (with the time
// the restart took), and fails when a ratio exceeds 1.2. Run it alone:
//
//	go test ./cmd/sluice -short -run '^$' -bench BenchmarkRSSGrowth -benchtime 1x
func BenchmarkRSSGrowth(b *testing.B) {
	bin := *rssBinary
	if bin == "" {
		bin = filepath.Join(b.TempDir(), "sluice")
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			b.Fatalf("build: %v\n%s", err, out)
		}
	}
	cfg := "memory_limit: 256MiB\nhttp: {pprof: true}\nforward: {enabled: false}\nsyslog: {enabled: false}\notlp: {enabled: false}\nstore:\n  flush_interval: 1s\n  flush_bytes: 4MiB\n  block_records: 256\n"
	if *rssIndexCache != "" {
		cfg += "  index_cache_bytes: " + *rssIndexCache + "\n"
	}
	for b.Loop() {
		small := measureRSS(b, bin, cfg, *rssRecords)
		large := measureRSS(b, bin, cfg, 20**rssRecords)
		ratio := float64(large.afterQueries) / float64(small.afterQueries)
		restartRatio := float64(large.afterRestart) / float64(small.afterRestart)
		b.ReportMetric(float64(small.afterQueries)/1e6, "small-MB")
		b.ReportMetric(float64(large.afterQueries)/1e6, "large-MB")
		b.ReportMetric(ratio, "ratio")
		b.ReportMetric(float64(small.afterRestart)/1e6, "small-restart-MB")
		b.ReportMetric(float64(large.afterRestart)/1e6, "large-restart-MB")
		b.ReportMetric(restartRatio, "restart-ratio")
		b.ReportMetric(large.startup.Seconds()*1e3, "large-startup-ms")
		b.Logf("small: %s", small)
		b.Logf("large: %s", large)
		if ratio > 1.2 || restartRatio > 1.2 {
			b.Errorf("RSS of 20x the records: %.2fx after ingest and queries, %.2fx after a restart and queries; want at most 1.2x", ratio, restartRatio)
		}
	}
}

type rssFigures struct {
	afterQueries, afterRestart int64 // VmRSS, bytes
	startup                    time.Duration
	// what the server said of its memory at each point
	queriesMem, restartMem string
}

func (f rssFigures) String() string {
	return fmt.Sprintf("RSS %.1f MB after ingest and queries (%s); %.1f MB after a restart (%s) and queries (%s)",
		float64(f.afterQueries)/1e6, f.queriesMem, float64(f.afterRestart)/1e6, f.startup.Round(time.Millisecond), f.restartMem)
}

// measureRSS ingests n generated records into a fresh server, waits for
// its merges, runs the bench queries (checking every answer) and reads its
// RSS; then restarts it, runs the queries again and reads it again.
func measureRSS(b *testing.B, bin, cfg string, n int) rssFigures {
	dir := b.TempDir()
	cfgPath := filepath.Join(dir, "sluice.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		b.Fatal(err)
	}
	dataDir := filepath.Join(dir, "data")
	g, err := gen.New(gen.Config{Seed: 3, Records: n, End: time.Now().Truncate(time.Minute)})
	if err != nil {
		b.Fatal(err)
	}
	var f rssFigures
	srv, _ := startPlain(b, bin, dataDir, cfgPath)
	const path = "/insert/jsonline?_time_field=_time&_msg_field=_msg&_stream_fields=service,host,container"
	var body []byte
	for g.Remaining() > 0 {
		body, _ = g.AppendBatch(body[:0], 10000)
		for {
			code, ans := srv.post(path, body)
			if code == http.StatusTooManyRequests {
				time.Sleep(200 * time.Millisecond)
				continue
			}
			if code != http.StatusOK {
				b.Fatalf("ingest: %d %s", code, ans)
			}
			break
		}
	}
	if code, ans := srv.post("/internal/force_flush", nil); code != http.StatusOK {
		b.Fatalf("flush: %d %s", code, ans)
	}
	deadline := time.Now().Add(10 * time.Minute)
	for srv.mergesPending(b) > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Second)
	}
	queries := func() {
		for _, q := range g.Queries() {
			rows, err := srv.query(q.Sluice)
			if err == nil {
				err = q.Want.Check(rows)
			}
			if err != nil {
				b.Fatalf("%d records: %s (%s): %v", n, q.Name, q.Sluice, err)
			}
		}
	}
	queries()
	f.afterQueries, f.queriesMem = srv.rss(b), srv.memory(b)
	srv.stop(b)
	srv, f.startup = startPlain(b, bin, dataDir, cfgPath)
	queries()
	f.afterRestart, f.restartMem = srv.rss(b), srv.memory(b)
	srv.stop(b)
	return f
}

// memory is what the server says of its memory: the Go heap and what its
// store holds.
func (s *plainServer) memory(b *testing.B) string {
	resp, err := http.Get(s.url + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out []string
	for line := range strings.Lines(string(data)) {
		for _, name := range []string{"go_memstats_heap_alloc_bytes", "go_memstats_heap_inuse_bytes", "go_memstats_heap_idle_bytes",
			"go_memstats_heap_released_bytes", "sluice_store_index_bytes", "sluice_store_head_bytes"} {
			if v, ok := strings.CutPrefix(line, name+" "); ok {
				f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
				out = append(out, fmt.Sprintf("%s=%.1fMB", strings.TrimPrefix(strings.TrimPrefix(name, "go_memstats_"), "sluice_store_"), f/1e6))
			}
		}
		for _, name := range []string{"sluice_store_parts", "sluice_store_open_files"} {
			if v, ok := strings.CutPrefix(line, name+" "); ok {
				out = append(out, strings.TrimPrefix(name, "sluice_store_")+"="+strings.TrimSpace(v))
			}
		}
	}
	return strings.Join(out, " ")
}

// plainServer is a sluice process of this benchmark.
type plainServer struct {
	cmd  *exec.Cmd
	url  string
	logs bytes.Buffer
}

// startPlain starts bin serve and returns once it is ready, with the time
// that took.
func startPlain(b *testing.B, bin, dataDir, cfgPath string) (*plainServer, time.Duration) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s := &plainServer{url: "http://" + addr}
	s.cmd = exec.Command(bin, "serve", "--data-dir", dataDir, "--http-addr", addr, "--config", cfgPath)
	s.cmd.Stdout, s.cmd.Stderr = &s.logs, &s.logs
	start := time.Now()
	if err := s.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Kill()
			_ = s.cmd.Wait()
		}
	})
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if resp, err := http.Get(s.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, time.Since(start)
			}
		}
	}
	b.Fatalf("server not ready:\n%s", s.logs.String())
	return nil, 0
}

func (s *plainServer) post(path string, body []byte) (int, string) {
	resp, err := http.Post(s.url+path, "application/x-ndjson", bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	ans, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(ans)
}

// query runs q through the HTTP API and returns its rows, every value as
// text, as the generator's ground truth compares them.
func (s *plainServer) query(q string) ([]map[string]string, error) {
	resp, err := http.Get(s.url + "/api/v1/query?" + url.Values{"query": {q}}.Encode())
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, msg)
	}
	var rows []map[string]string
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	for dec.More() {
		var row map[string]any
		if err := dec.Decode(&row); err != nil {
			return nil, err
		}
		if _, partial := row["_partial"]; partial {
			return nil, fmt.Errorf("partial answer: %v", row)
		}
		text := make(map[string]string, len(row))
		for k, v := range row {
			text[k] = fmt.Sprint(v)
		}
		rows = append(rows, text)
	}
	return rows, nil
}

func (s *plainServer) mergesPending(b *testing.B) int {
	resp, err := http.Get(s.url + "/api/v1/status")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Pipeline struct {
			MergesPending int `json:"merges_pending"`
		} `json:"pipeline"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		b.Fatal(err)
	}
	return st.Pipeline.MergesPending
}

// rss reads the server's resident set (VmRSS) once it has settled: the
// queries just run leave garbage in proportion to what they read (a count
// by trace id builds a group per trace), which is not what the store
// keeps. It asks for a garbage collection (the profiler's heap endpoint
// with gc=1), then waits until the runtime's background scavenger has
// returned the freed memory, which it does in spells: until VmRSS has not
// shrunk by 1% over 5 seconds (at most 90 s).
func (s *plainServer) rss(b *testing.B) int64 {
	resp, err := http.Get(s.url + "/debug/pprof/heap?gc=1")
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	var window []int64 // the last readings, one a second
	for deadline := time.Now().Add(90 * time.Second); ; {
		window = append(window, s.vmRSS(b))
		if len(window) > 6 {
			window = window[1:]
		}
		last := window[len(window)-1]
		if len(window) == 6 && last > window[0]*99/100 || time.Now().After(deadline) {
			return last
		}
		time.Sleep(time.Second)
	}
}

func (s *plainServer) vmRSS(b *testing.B) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

func (s *plainServer) stop(b *testing.B) {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	if err := s.cmd.Wait(); err != nil {
		b.Fatalf("server did not stop cleanly: %v\n%s", err, s.logs.String())
	}
}
