// Command agentcmp compares sluice agent with the OpenTelemetry
// Collector's filelog receiver doing the same work on the same files:
// tail JSON lines, parse them, redact e-mail addresses in the message and
// ship them with checkpoints on disk and a disk-backed queue. It runs the
// two in turn (A B A B …), each from a fresh state directory against a
// sink in this process that acknowledges everything, and reads each
// tailer's CPU time (utime+stime from /proc/PID/stat) when the sink has
// every line. It prints each run, the medians and the load average.
//
//	(cd bench/agentcmp && go build -o otelcol.bin ./otelcol && go run . -sluice ../../bin/sluice -otelcol ./otelcol.bin)
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vmihailenco/msgpack/v5"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

func main() {
	sluice := flag.String("sluice", "", "sluice binary")
	otelcol := flag.String("otelcol", "", "collector binary built from ./otelcol")
	files := flag.Int("files", 4, "files to tail")
	lines := flag.Int("lines", 100000, "lines per file")
	runs := flag.Int("runs", 5, "runs of each")
	flag.Parse()
	dir, err := os.MkdirTemp("", "agentcmp")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	logs := filepath.Join(dir, "logs")
	total, bytesTotal := generate(logs, *files, *lines)
	fmt.Printf("data: %d files, %d lines, %.1f MB of JSON lines\n", *files, total, float64(bytesTotal)/1e6)
	fmt.Printf("load average before: %s", loadavg())
	var res = map[string][]result{}
	for i := range *runs {
		for _, name := range []string{"sluice agent", "otelcol filelog"} {
			var r result
			if name == "sluice agent" {
				r = runAgent(*sluice, dir, logs, total, i)
			} else {
				r = runCollector(*otelcol, dir, logs, total, i)
			}
			fmt.Printf("run %d %-16s %7.2f s wall %7.2f s CPU %9.0f lines/s %9.0f lines/CPU-s redacted=%v\n", i, name, r.wall, r.cpu, float64(total)/r.wall, float64(total)/r.cpu, r.redacted)
			res[name] = append(res[name], r)
		}
	}
	fmt.Printf("load average after: %s", loadavg())
	a, o := median(res["sluice agent"]), median(res["otelcol filelog"])
	for _, p := range []struct {
		name string
		m    result
	}{{"sluice agent", a}, {"otelcol filelog", o}} {
		fmt.Printf("median %-16s %9.0f lines/s  %9.0f lines per CPU-second  %.3f CPU per 10k lines/s\n", p.name, float64(total)/p.m.wall, float64(total)/p.m.cpu, p.m.cpu/float64(total)*1e4)
	}
	fmt.Printf("ratio (agent/otelcol) lines per CPU-second: %.2f\n", o.cpu/a.cpu)
}

type result struct {
	wall, cpu float64
	redacted  bool
}

func median(rs []result) result {
	w := make([]float64, len(rs))
	c := make([]float64, len(rs))
	for i, r := range rs {
		w[i], c[i] = r.wall, r.cpu
	}
	sort.Float64s(w)
	sort.Float64s(c)
	return result{wall: w[len(w)/2], cpu: c[len(c)/2]}
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return string(b)
}

// generate writes JSON lines as an application would, one in four with an
// e-mail address in its message.
func generate(dir string, files, lines int) (int, int64) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		log.Fatal(err)
	}
	var total int64
	for f := range files {
		var b bytes.Buffer
		for i := range lines {
			msg := fmt.Sprintf("order %d shipped to warehouse %d", i, i%17)
			if i%4 == 0 {
				msg = fmt.Sprintf("password reset requested by user%d@example.com from 10.0.%d.%d", i, i%256, f)
			}
			fmt.Fprintf(&b, `{"time":"2026-01-01T00:00:%02d.%06dZ","level":"%s","service":"svc%d","msg":"%s","user_id":%d,"latency_ms":%d.%d}`+"\n",
				i%60, i%1000000, []string{"info", "warn", "error", "debug"}[i%4], f, msg, i*7, i%500, i%10)
		}
		total += int64(b.Len())
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("app%d.log", f)), b.Bytes(), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	return files * lines, total
}

func cpuOf(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		log.Fatal(err)
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseFloat(fields[11], 64)
	st, _ := strconv.ParseFloat(fields[12], 64)
	return (ut + st) / 100 // USER_HZ
}

// measure runs cmd until count reaches want and returns its wall and CPU
// time.
func measure(cmd *exec.Cmd, count *atomic.Int64, want int) result {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	deadline := start.Add(10 * time.Minute)
	for count.Load() < int64(want) {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			log.Fatalf("%s: %d of %d lines after 10 minutes:\n%s", cmd.Path, count.Load(), want, out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	r := result{wall: time.Since(start).Seconds(), cpu: cpuOf(cmd.Process.Pid)}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if n := count.Load(); n != int64(want) {
		log.Fatalf("%s delivered %d lines, want %d", cmd.Path, n, want)
	}
	return r
}

func runAgent(bin, dir, logs string, want, run int) result {
	state := filepath.Join(dir, fmt.Sprintf("agent-state-%d", run))
	var count atomic.Int64
	var redacted atomic.Bool
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	go serveForward(ln, &count, &redacted)
	cfg := filepath.Join(dir, "agent.yaml")
	writeFile(cfg, fmt.Sprintf(`state_dir: %s
inputs: [{type: file, paths: ["%s/*.log"]}]
output: {forward: "%s"}
metrics_addr: ""
pipeline:
  processors:
    - type: parse_json
    - type: redact
      patterns: [email]
`, state, logs, ln.Addr()))
	r := measure(exec.Command(bin, "agent", "--config", cfg), &count, want)
	r.redacted = redacted.Load()
	return r
}

// serveForward acknowledges PackedForward messages and counts their
// entries.
func serveForward(ln net.Listener, count *atomic.Int64, redacted *atomic.Bool) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			dec := msgpack.NewDecoder(bufio.NewReaderSize(c, 1<<20))
			for {
				if _, err := dec.DecodeArrayLen(); err != nil {
					return
				}
				if _, err := dec.DecodeString(); err != nil {
					return
				}
				entries, err := dec.DecodeBytes()
				if err != nil {
					return
				}
				opt, err := dec.DecodeMap()
				if err != nil {
					return
				}
				n := 0
				ed := msgpack.NewDecoder(bytes.NewReader(entries))
				for {
					if _, err := ed.DecodeArrayLen(); err != nil {
						break
					}
					_ = ed.Skip()
					m, _ := ed.DecodeMap()
					if s, _ := m["message"].(string); strings.Contains(s, "[REDACTED:email]") {
						redacted.Store(true)
					}
					n++
				}
				count.Add(int64(n))
				ack, _ := msgpack.Marshal(map[string]any{"ack": opt["chunk"]})
				if _, err := c.Write(ack); err != nil {
					return
				}
			}
		}()
	}
}

func runCollector(bin, dir, logs string, want, run int) result {
	state := filepath.Join(dir, fmt.Sprintf("otel-state-%d", run))
	if err := os.MkdirAll(state, 0o755); err != nil {
		log.Fatal(err)
	}
	var count atomic.Int64
	var redacted atomic.Bool
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			body = zr
		}
		b, err := io.ReadAll(body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		req := plogotlp.NewExportRequest()
		if err := req.UnmarshalProto(b); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		lg := req.Logs()
		if lg.ResourceLogs().Len() > 0 {
			rec := lg.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
			for i := 0; i < rec.Len(); i++ {
				if v, ok := rec.At(i).Attributes().Get("msg"); ok && strings.Contains(v.Str(), "[REDACTED:email]") {
					redacted.Store(true)
					break
				}
			}
		}
		count.Add(int64(lg.LogRecordCount()))
		out, _ := plogotlp.NewExportResponse().MarshalProto()
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	cfg := filepath.Join(dir, "otelcol.yaml")
	writeFile(cfg, fmt.Sprintf(`extensions:
  file_storage: {directory: %s}
receivers:
  file_log:
    include: ["%s/*.log"]
    start_at: beginning
    storage: file_storage
    operators:
      - type: json_parser
        parse_from: body
        parse_to: attributes
      - type: regex_replace
        field: attributes.msg
        regex: '[A-Za-z0-9._%%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}'
        replace_with: '[REDACTED:email]'
processors:
  batch: {}
exporters:
  otlp_http:
    endpoint: http://%s
    compression: none
    sending_queue: {storage: file_storage}
service:
  extensions: [file_storage]
  telemetry: {metrics: {level: none}, logs: {level: warn}}
  pipelines:
    logs: {receivers: [file_log], processors: [batch], exporters: [otlp_http]}
`, state, logs, ln.Addr()))
	r := measure(exec.Command(bin, "--config", cfg), &count, want)
	r.redacted = redacted.Load()
	return r
}

func writeFile(path, s string) {
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		log.Fatal(errors.Join(err))
	}
}
