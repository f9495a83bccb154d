package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The end-to-end tests build the real binary once and run it as a user
// would. They are skipped with -short.
//
// They mostly wait (for start-ups, flushes, rebalances), so they call
// t.Parallel() (make test runs them with -parallel): each has its own data
// directories, ports from freeAddr and peers. A test stays serial, saying
// why, when it uses t.Setenv or other process state, or bounds a time, an
// RSS or a count of file descriptors that other tests' load would change.
var binPath string

func TestMain(m *testing.M) {
	code := func() int {
		// A binary of the operator's choice (a build without -race, for
		// figures measured by hand).
		if bin := os.Getenv("SLUICE_E2E_BIN"); bin != "" && !isShort() {
			binPath = bin
			return m.Run()
		}
		if !isShort() {
			dir, err := os.MkdirTemp("", "sluice-e2e-bin")
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			defer os.RemoveAll(dir)
			binPath = filepath.Join(dir, "sluice")
			out, err := exec.Command("go", "build", "-race", "-o", binPath, ".").CombinedOutput()
			if err != nil {
				// -race needs cgo; fall back to a plain build.
				out, err = exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "build sluice: %v\n%s", err, out)
				return 1
			}
		}
		return m.Run()
	}()
	os.Exit(code)
}

func isShort() bool {
	for _, a := range os.Args {
		if a == "-test.short" || a == "-test.short=true" {
			return true
		}
	}
	return false
}

func needBinary(t *testing.T) {
	t.Helper()
	if testing.Short() || binPath == "" {
		t.Skip("end-to-end test: skipped with -short")
	}
}

// server is one running `sluice serve` process.
type server struct {
	t       *testing.T
	cmd     *exec.Cmd
	url     string
	dataDir string
	logs    *syncBuffer
	done    chan error
	// cliEnv is added to the environment of the client commands run by
	// cli ("NAME=value"), so that a parallel test need not t.Setenv.
	cliEnv []string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// handedOut holds the ports freeAddr gave out. A port is free again once
// its listener is closed, before the server meant to take it binds it, so
// that without this record two parallel tests could be given the same one.
var handedOut struct {
	sync.Mutex
	ports map[string]bool
}

// freeAddr returns a free 127.0.0.1 TCP address that no other test of
// this process was given.
func freeAddr(t *testing.T) string {
	t.Helper()
	handedOut.Lock()
	defer handedOut.Unlock()
	if handedOut.ports == nil {
		handedOut.ports = map[string]bool{}
	}
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		if !handedOut.ports[addr] {
			handedOut.ports[addr] = true
			return addr
		}
	}
	t.Fatal("no free port that was not handed out already")
	return ""
}

// startServer runs the binary on dataDir with an optional YAML config and
// extra serve flags (such as --role), and waits until it is ready.
func startServer(t *testing.T, dataDir, configYAML string, flags ...string) *server {
	t.Helper()
	s := launchServer(t, nil, dataDir, configYAML, flags...)
	s.waitReady()
	return s
}

// startServerVia is startServer with the binary started by wrap, a command
// line that ends by running its arguments (a shell that lowers a limit
// first, say).
func startServerVia(t *testing.T, wrap []string, dataDir, configYAML string, flags ...string) *server {
	t.Helper()
	s := launch(t, nil, wrap, dataDir, configYAML, flags...)
	s.waitReady()
	return s
}

// launchServer starts the binary like startServer, with extra environment
// variables ("NAME=value", such as SLUICE_FAULT), and does not wait for it.
func launchServer(t *testing.T, env []string, dataDir, configYAML string, flags ...string) *server {
	t.Helper()
	return launch(t, env, nil, dataDir, configYAML, flags...)
}

// launch is launchServer, with the binary started by wrap when it is not
// nil (see startServerVia).
func launch(t *testing.T, env, wrap []string, dataDir, configYAML string, flags ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	args := append([]string{"serve", "--data-dir", dataDir, "--http-addr", addr}, flags...)
	configYAML = withFreeReceiverPorts(t, configYAML)
	if configYAML != "" {
		p := filepath.Join(t.TempDir(), "sluice.yaml")
		if err := os.WriteFile(p, []byte(configYAML), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config", p)
	}
	s := &server{t: t, url: "http://" + addr, dataDir: dataDir, logs: &syncBuffer{}, done: make(chan error, 1)}
	s.cmd = exec.Command(binPath, args...)
	if len(wrap) > 0 {
		s.cmd = exec.Command(wrap[0], append(append(wrap[1:len(wrap):len(wrap)], binPath), args...)...)
	}
	if env != nil {
		s.cmd.Env = append(os.Environ(), env...)
	}
	s.cmd.Stdout = s.logs
	s.cmd.Stderr = s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Kill()
			<-s.done
		}
		if t.Failed() {
			t.Logf("server logs:\n%s", s.logs.String())
		}
	})
	return s
}

// waitReady waits until /readyz answers 200.
func (s *server) waitReady() {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case err := <-s.done:
			s.t.Fatalf("server exited before it was ready: %v\n%s", err, s.logs.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	s.t.Fatalf("server not ready after 60s:\n%s", s.logs.String())
}

// kill ends the server with SIGKILL, as a crash would.
func (s *server) kill() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// stop sends SIGTERM and requires a clean exit 0.
func (s *server) stop() {
	s.t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Fatalf("server did not exit 0 on SIGTERM: %v\n%s", err, s.logs.String())
		}
	case <-time.After(60 * time.Second):
		s.t.Fatalf("server did not exit within 60s of SIGTERM")
	}
}

// post sends body to path and returns the status and the answer.
func (s *server) post(path, contentType string, body []byte, header ...string) (int, string, http.Header) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.url+path, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// cli runs a client command of the binary against this server.
func (s *server) cli(args ...string) string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args = append(args, "--server", s.url)
	cmd := exec.CommandContext(ctx, binPath, args...)
	if s.cliEnv != nil {
		cmd.Env = append(os.Environ(), s.cliEnv...)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		s.t.Fatalf("sluice %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// withFreeReceiverPorts moves the receivers that have sockets of their own
// off their fixed default ports, so that servers of different tests (and
// engineers' parallel runs) never collide. A test that configures a
// receiver's section itself keeps it as written.
func withFreeReceiverPorts(t *testing.T, configYAML string) string {
	t.Helper()
	has := func(section string) bool {
		return strings.HasPrefix(configYAML, section+":") || strings.Contains(configYAML, "\n"+section+":")
	}
	var extra strings.Builder
	if !has("forward") {
		fmt.Fprintf(&extra, "forward:\n  addr: %s\n", freeAddr(t))
	}
	if !has("syslog") {
		a := freeAddr(t)
		fmt.Fprintf(&extra, "syslog:\n  udp_addr: %s\n  tcp_addr: %s\n  tls_addr: %s\n", a, a, freeAddr(t))
	}
	if !has("otlp") {
		fmt.Fprintf(&extra, "otlp:\n  grpc_addr: %s\n", freeAddr(t))
	}
	if configYAML != "" && !strings.HasSuffix(configYAML, "\n") {
		configYAML += "\n"
	}
	return configYAML + extra.String()
}

// metricValue reads one unlabelled metric from s's /metrics.
func metricValue(t *testing.T, s *server, name string) (float64, bool) {
	t.Helper()
	resp, err := http.Get(s.url + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("metric %s: %v", name, err)
			}
			return f, true
		}
	}
	return 0, false
}

// metric is metricValue for a metric that must exist.
func metric(t *testing.T, s *server, name string) float64 {
	t.Helper()
	v, ok := metricValue(t, s, name)
	if !ok {
		t.Fatalf("metric %s not found", name)
	}
	return v
}
