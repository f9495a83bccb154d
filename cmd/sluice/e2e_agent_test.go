package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// agentProc is one running `sluice agent` process.
type agentProc struct {
	t    *testing.T
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan error
}

func startAgent(t *testing.T, configPath string) *agentProc {
	t.Helper()
	a := &agentProc{t: t, logs: &syncBuffer{}, done: make(chan error, 1)}
	a.cmd = exec.Command(binPath, "agent", "--config", configPath)
	a.cmd.Stdout, a.cmd.Stderr = a.logs, a.logs
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { a.done <- a.cmd.Wait() }()
	t.Cleanup(func() {
		if a.cmd.ProcessState == nil {
			_ = a.cmd.Process.Kill()
			<-a.done
		}
		if t.Failed() {
			t.Logf("agent logs:\n%s", a.logs.String())
		}
	})
	return a
}

func (a *agentProc) kill() {
	_ = a.cmd.Process.Signal(syscall.SIGKILL)
	<-a.done
}

func (a *agentProc) stop() {
	a.t.Helper()
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-a.done:
		if err != nil {
			a.t.Fatalf("agent did not exit 0 on SIGTERM: %v\n%s", err, a.logs.String())
		}
	case <-time.After(30 * time.Second):
		a.t.Fatal("agent did not exit within 30s of SIGTERM")
	}
}

// appLog writes numbered records to a file as an application would; every
// tenth is an ERROR with a Java stack trace (one record of four lines).
type appLog struct {
	t     *testing.T
	path  string
	f     *os.File
	n     int
	wrote []string // every record's first line
}

func (l *appLog) open() {
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		l.t.Fatal(err)
	}
	l.f = f
}

func (l *appLog) write(n int) {
	l.t.Helper()
	var b strings.Builder
	for range n {
		first := fmt.Sprintf("2026-01-01 12:00:00 INFO %s seq=%d", filepath.Base(l.path), l.n)
		if l.n%10 == 0 {
			first = fmt.Sprintf("2026-01-01 12:00:00 ERROR %s seq=%d failed", filepath.Base(l.path), l.n)
			b.WriteString(first + "\njava.lang.IllegalStateException: boom\n\tat com.example.A.run(A.java:10)\n\tat java.base/java.lang.Thread.run(Thread.java:1583)\n")
		} else {
			b.WriteString(first + "\n")
		}
		l.wrote = append(l.wrote, first)
		l.n++
	}
	if _, err := l.f.WriteString(b.String()); err != nil {
		l.t.Fatal(err)
	}
}

// TestE2EAgent runs the agent binary against the server binary while the
// files it reads are written, rotated by rename and by copytruncate and
// truncated, the agent is killed with SIGKILL five times and the server
// restarted once: every record arrives, none more than once beyond the
// batch in flight at each crash, and each stack trace is one record. Then
// a second agent ships Docker json-file and CRI logs over HTTP (_bulk).
func TestE2EAgent(t *testing.T) {
	needBinary(t)
	t.Parallel()
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	fwd := freeAddr(t)
	srvConfig := fmt.Sprintf("forward:\n  addr: %s\nsyslog:\n  enabled: false\notlp:\n  enabled: false\n", fwd)
	s := startServer(t, dataDir, srvConfig)
	logs := filepath.Join(dir, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	const batch = 50
	agentCfg := filepath.Join(dir, "agent.yaml")
	writeFile(t, agentCfg, fmt.Sprintf(`
state_dir: %s
inputs:
  - type: file
    paths: ["%s/*.log", "%s/*.log.1"]
    multiline: {start: '^\d{4}-\d{2}-\d{2}', flush_timeout: 200ms}
    stream: {service: shop}
    rotate_wait: 1s
output:
  forward: %s
  retry_max: 200ms
batch: {max_records: %d, max_wait: 50ms, poll_interval: 50ms}
metrics_addr: ""
`, filepath.Join(dir, "state"), logs, logs, fwd, batch))

	app := &appLog{t: t, path: filepath.Join(logs, "app.log")}
	app.open()
	other := &appLog{t: t, path: filepath.Join(logs, "other.log")}
	other.open()
	var all []string
	caughtUp := func() {
		t.Helper()
		want := len(app.wrote) + len(other.wrote)
		deadline := time.Now().Add(30 * time.Second)
		for {
			rows := s.queryRows("* | stats count_uniq(_msg) as u")
			if len(rows) == 1 && int(rows[0]["u"].(float64)) >= want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the server holds %v distinct records, want %d", rows, want)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	a := startAgent(t, agentCfg)
	kills := 0
	restart := func() {
		a.kill()
		kills++
		a = startAgent(t, agentCfg)
	}
	app.write(300)
	other.write(100)
	time.Sleep(100 * time.Millisecond)
	restart() // 1: while reading

	// Rotation by rename: the writer keeps writing to the old file for a
	// moment, then reopens.
	app.write(100)
	if err := os.Rename(app.path, app.path+".1"); err != nil {
		t.Fatal(err)
	}
	app.write(20)
	app.f.Close()
	app.open()
	app.write(200)
	restart() // 2: right after a rotation
	caughtUp()

	// copytruncate: the copy is not read (it matches no path); what the
	// agent had not read before the truncation would be lost, as with
	// every tailer, so the test lets it catch up first.
	copyTo(t, app.path, filepath.Join(logs, "app.log.2"))
	if err := os.Truncate(app.path, 0); err != nil {
		t.Fatal(err)
	}
	app.write(200)
	other.write(100)
	restart() // 3
	app.write(100)

	// The server goes away and comes back: the agent buffers and retries.
	s.kill()
	app.write(200)
	time.Sleep(300 * time.Millisecond)
	s = startServer(t, dataDir, srvConfig)
	caughtUp()

	// Truncation in place, then more crashes while writing.
	if err := os.Truncate(app.path, 0); err != nil {
		t.Fatal(err)
	}
	app.write(150)
	restart() // 4
	other.write(100)
	app.write(100)
	time.Sleep(20 * time.Millisecond)
	restart() // 5
	app.write(100)
	caughtUp()

	rows := s.queryRows("*", "--since", "1h")
	seen := map[string]int{}
	traces := 0
	for _, r := range rows {
		msg, _ := r["_msg"].(string)
		first, rest, multi := strings.Cut(msg, "\n")
		seen[first]++
		if multi {
			traces++
			if !strings.HasPrefix(rest, "java.lang.IllegalStateException: boom\n\tat com.example.A.run") || !strings.Contains(first, "ERROR") {
				t.Errorf("trace split or joined wrongly: %q", msg)
			}
		}
		if r["service"] != "shop" || r["tag"] != "sluice.agent" {
			t.Fatalf("record without its stream labels: %v", r)
		}
	}
	all = append(append(all, app.wrote...), other.wrote...)
	extra := 0
	for _, w := range all {
		switch n := seen[w]; {
		case n == 0:
			t.Errorf("record %q is missing", w)
		case n > 1:
			extra += n - 1
		}
	}
	if len(seen) != len(all) {
		t.Errorf("%d distinct records stored, %d written", len(seen), len(all))
	}
	// At most the batch in flight per crash (the agent's five, the
	// server's one) comes twice.
	if extra > (kills+1)*batch {
		t.Errorf("%d records stored twice, more than %d crashes × %d", extra, kills+1, batch)
	}
	wantTraces := 0
	for _, w := range all {
		if strings.Contains(w, "ERROR") {
			wantTraces++
		}
	}
	if traces < wantTraces {
		t.Errorf("%d stack traces stored as one record, want %d", traces, wantTraces)
	}
	t.Logf("%d records written, %d stored, %d twice, %d kills", len(all), len(rows), extra, kills)
	a.stop()

	containerLogsOverHTTP(t, s, dir)
}

// containerLogsOverHTTP ships Docker json-file and CRI files, generated in
// the runtimes' formats with partial lines, through a second agent with
// output.http (the _bulk API).
func containerLogsOverHTTP(t *testing.T, s *server, dir string) {
	id := strings.Repeat("c0ffee", 10) + "abcd"
	dockerDir := filepath.Join(dir, "docker", "containers", id)
	podDir := filepath.Join(dir, "pods", "shop_cart-5d8f_7a1b", "cart")
	for _, d := range []string{dockerDir, podDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(dockerDir, "config.v2.json"), `{"Name":"/web","Config":{"Image":"nginx:1.27","Labels":{}}}`)
	ts := time.Now().UTC()
	long := strings.Repeat("z", 20000) // Docker splits lines at 16 KiB
	var docker, cri strings.Builder
	for i := range 50 {
		j, _ := json.Marshal(map[string]string{"log": fmt.Sprintf("docker line %d\n", i), "stream": "stdout", "time": ts.Format(time.RFC3339Nano)})
		docker.Write(append(j, '\n'))
		fmt.Fprintf(&cri, "%s stdout F cri line %d\n", ts.Format(time.RFC3339Nano), i)
	}
	for _, part := range []string{long[:16384], long[16384:] + "\n"} {
		j, _ := json.Marshal(map[string]string{"log": part, "stream": "stderr", "time": ts.Format(time.RFC3339Nano)})
		docker.Write(append(j, '\n'))
	}
	fmt.Fprintf(&cri, "%s stderr P cri partial %s\n%s stderr F  joined\n", ts.Format(time.RFC3339Nano), long[:100], ts.Format(time.RFC3339Nano))
	writeFile(t, filepath.Join(dockerDir, id+"-json.log"), docker.String())
	writeFile(t, filepath.Join(podDir, "0.log"), cri.String())

	cfg := filepath.Join(dir, "agent-http.yaml")
	writeFile(t, cfg, fmt.Sprintf(`
state_dir: %s
inputs:
  - type: docker
    paths: ["%s/docker/containers/*/*-json.log"]
  - type: cri
    paths: ["%s/pods/*/*/*.log"]
output:
  http: %s
batch: {max_wait: 50ms, poll_interval: 50ms}
metrics_addr: ""
pipeline:
  processors:
    - type: redact
      patterns: [email]
`, filepath.Join(dir, "state-http"), dir, dir, s.url))
	a := startAgent(t, cfg)
	deadline := time.Now().Add(30 * time.Second)
	for s.count(`container_name:web OR namespace:shop`) < 102 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	for q, want := range map[string]int{
		`container_name:web AND image:"nginx:1.27" AND source:stdout`: 50,
		`container_id:` + id + ` AND source:stderr`:                   1,
		`namespace:shop AND pod:"cart-5d8f" AND container:cart`:       51,
		`namespace:shop AND "cri partial" AND joined`:                 1,
	} {
		if got := s.count(q); got != want {
			t.Errorf("count(%s) = %d, want %d", q, got, want)
		}
	}
	rows := s.queryRows(`container_id:` + id + ` AND source:stderr`)
	if len(rows) != 1 || rows[0]["_msg"] != long {
		t.Errorf("Docker's split line not joined into one record of %d bytes", len(long))
	}
	resp, err := http.Get(s.url + "/metrics")
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(b), `sluice_ingest_rejected_records_total{protocol="esbulk"`) {
			t.Logf("server rejected some _bulk records")
		}
	}
	a.stop()
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyTo(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, to, string(b))
}
