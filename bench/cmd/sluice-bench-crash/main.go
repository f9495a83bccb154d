// Command sluice-bench-crash is the standing kill -9 campaign: it runs the
// real binary with flushes and merges every 150 ms under concurrent ingest,
// kills it with SIGKILL at a random moment of each round (so that kills land
// during ingest, flushes and merges alike), restarts it, and at the end
// checks that every acknowledged batch is stored exactly once and nothing
// else is, and that `sluice verify` passes.
//
//	go build -o bin/sluice ./cmd/sluice
//	go run ./bench/cmd/sluice-bench-crash -binary bin/sluice -rounds 100
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const config = "store:\n  flush_interval: 150ms\n  merge_interval: 150ms\n  idle_merge_after: 300ms\n"

func main() {
	binary := flag.String("binary", "./bin/sluice", "path of the sluice binary")
	rounds := flag.Int("rounds", 100, "kill -9 rounds")
	writers := flag.Int("writers", 4, "concurrent ingest clients")
	batchSize := flag.Int("batch", 50, "records per request")
	flag.Parse()
	if err := run(*binary, *rounds, *writers, *batchSize); err != nil {
		fmt.Fprintln(os.Stderr, "sluice-bench-crash:", err)
		os.Exit(1)
	}
}

type server struct {
	cmd *exec.Cmd
	url string
}

func start(binary, dataDir, cfgPath string) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(binary, "serve", "--data-dir", dataDir, "--http-addr", addr, "--config", cfgPath)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, url: "http://" + addr}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get(s.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s, nil
			}
		}
	}
	_ = cmd.Process.Kill()
	return nil, fmt.Errorf("server not ready after 60 s")
}

func run(binary string, rounds, writers, batchSize int) error {
	dir, err := os.MkdirTemp("", "sluice-bench-crash")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	dataDir, cfgPath := filepath.Join(dir, "data"), filepath.Join(dir, "sluice.yaml")
	// Servers on other ports: the campaign uses only HTTP ingest.
	cfg := config + "forward:\n  addr: 127.0.0.1:0\nsyslog:\n  udp_addr: \"\"\n  tcp_addr: \"\"\notlp:\n  grpc_addr: \"\"\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	var nextID atomic.Int64
	var mu sync.Mutex
	acked := map[int64]bool{}
	began := time.Now()
	var restarts []time.Duration
	for round := range rounds {
		t0 := time.Now()
		s, err := start(binary, dataDir, cfgPath)
		if err != nil {
			return fmt.Errorf("round %d: %w", round, err)
		}
		if round > 0 {
			restarts = append(restarts, time.Since(t0))
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				client := &http.Client{Timeout: 10 * time.Second}
				for {
					select {
					case <-stop:
						return
					default:
					}
					id := nextID.Add(1)
					var body bytes.Buffer
					for i := range batchSize {
						fmt.Fprintf(&body, `{"_msg":"crash campaign %d/%d","b":%d,"i":%d}`+"\n", id, i, id, i)
					}
					resp, err := client.Post(s.url+"/insert/jsonline", "application/x-ndjson", &body)
					if err != nil {
						return
					}
					resp.Body.Close()
					if resp.StatusCode == 200 {
						mu.Lock()
						acked[id] = true
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(time.Duration(300+rng.IntN(900)) * time.Millisecond)
		_ = s.cmd.Process.Signal(syscall.SIGKILL)
		_ = s.cmd.Wait()
		close(stop)
		wg.Wait()
		fmt.Fprintf(os.Stderr, "round %d/%d: %d batches acknowledged so far\n", round+1, rounds, len(acked))
	}
	s, err := start(binary, dataDir, cfgPath)
	if err != nil {
		return err
	}
	defer func() { _ = s.cmd.Process.Signal(syscall.SIGTERM); _ = s.cmd.Wait() }()
	got, err := counts(binary, s.url)
	if err != nil {
		return err
	}
	var missing, duplicated, invented int
	for id := range acked {
		if c := got[id]; c[0] != batchSize || c[1] != batchSize {
			missing++
		}
	}
	for id, c := range got {
		switch {
		case c[0] != c[1]:
			duplicated++
		case !acked[id] && c[0] != 0 && c[0] != batchSize:
			invented++ // part of an unacknowledged batch: never all or nothing
		case id > nextID.Load():
			invented++
		}
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	_ = s.cmd.Wait()
	out, verr := exec.Command(binary, "verify", "--data-dir", dataDir).CombinedOutput()
	var sum time.Duration
	for _, d := range restarts {
		sum += d
	}
	fmt.Printf("rounds: %d in %s\nbatches acknowledged: %d of %d sent (%d records each)\nbatches present: %d\nacknowledged batches missing or incomplete: %d\nbatches with duplicated records: %d\nunacknowledged batches stored in part: %d\nmean restart to ready: %s\nverify: %s",
		rounds, time.Since(began).Round(time.Second), len(acked), nextID.Load(), batchSize, len(got), missing, duplicated, invented,
		(sum / time.Duration(max(len(restarts), 1))).Round(time.Millisecond), out)
	if missing+duplicated+invented > 0 || verr != nil {
		return fmt.Errorf("the campaign found data loss, duplication or a failed verify")
	}
	return nil
}

// counts returns, per batch id, its records and distinct record numbers.
func counts(binary, url string) (map[int64][2]int, error) {
	out, err := exec.Command(binary, "query", "* | stats count() as n, count_uniq(i) as u by b", "--json", "--limit", "100000", "--server", url).Output()
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	got := map[int64][2]int{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<26)
	for sc.Scan() {
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil || strings.HasPrefix(sc.Text(), `{"_partial"`) {
			continue
		}
		var id int64
		if _, err := fmt.Sscan(fmt.Sprint(row["b"]), &id); err != nil {
			continue
		}
		n, _ := row["n"].(float64)
		u, _ := row["u"].(float64)
		got[id] = [2]int{int(n), int(u)}
	}
	return got, sc.Err()
}
