package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// server is a running `sluice serve` with every receiver on a free port.
type server struct {
	cmd                               *exec.Cmd
	done                              chan error
	logPath                           string
	httpURL                           string
	forwardAddr, syslogAddr, grpcAddr string
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startServer runs binary with its data and config in dir and waits for
// /readyz.
func startServer(binary, dir string) (*server, error) {
	var addrs [5]string
	for i := range addrs {
		a, err := freeAddr()
		if err != nil {
			return nil, err
		}
		addrs[i] = a
	}
	s := &server{httpURL: "http://" + addrs[0], forwardAddr: addrs[1], syslogAddr: addrs[2], grpcAddr: addrs[4],
		logPath: filepath.Join(dir, "server.log"), done: make(chan error, 1)}
	cfg := fmt.Sprintf("forward:\n  addr: %s\nsyslog:\n  udp_addr: %s\n  tcp_addr: %s\n  tls_addr: %s\notlp:\n  grpc_addr: %s\n",
		addrs[1], addrs[2], addrs[2], addrs[3], addrs[4])
	cfgPath := filepath.Join(dir, "sluice.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return nil, fmt.Errorf("write server config: %w", err)
	}
	logf, err := os.Create(s.logPath)
	if err != nil {
		return nil, fmt.Errorf("create server log: %w", err)
	}
	defer logf.Close()
	s.cmd = exec.Command(binary, "serve", "--data-dir", filepath.Join(dir, "data"), "--http-addr", addrs[0], "--config", cfgPath)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", binary, err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		if resp, err := http.Get(s.httpURL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case err := <-s.done:
			return nil, fmt.Errorf("server exited before it was ready (%v); log in %s", err, s.logPath)
		case <-time.After(50 * time.Millisecond):
		}
	}
	s.stop()
	return nil, fmt.Errorf("server not ready after 60s; log in %s", s.logPath)
}

// stop sends SIGTERM and waits for the exit (SIGKILL after 30 s).
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// count returns how many records in [from, to) match filter.
func (s *server) count(filter string, from, to time.Time) (int, error) {
	form := url.Values{
		"query": {filter + " | stats count() as n"},
		"from":  {strconv.FormatInt(from.Unix(), 10)},
		"to":    {strconv.FormatInt(to.Unix()+1, 10)},
	}
	resp, err := http.PostForm(s.httpURL+"/api/v1/query", form)
	if err != nil {
		return 0, fmt.Errorf("query %q: %w", filter, err)
	}
	defer resp.Body.Close()
	var rows []map[string]any
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			return 0, fmt.Errorf("query %q: answer line %q: %w", filter, sc.Text(), err)
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("query %q: read answer: %w", filter, err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("query %q: status %d: %v", filter, resp.StatusCode, rows)
	}
	if len(rows) == 0 {
		return 0, nil // no matching records: stats over nothing may answer no row
	}
	n, ok := rows[0]["n"].(float64)
	if len(rows) != 1 || !ok {
		return 0, fmt.Errorf("query %q: want one row with a numeric n, got %v", filter, rows)
	}
	return int(n), nil
}
