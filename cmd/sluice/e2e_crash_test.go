package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestE2ECrashKill9 kills the server with SIGKILL in the middle of sustained
// concurrent ingest, with flushes and merges running, several times. After
// every restart each acknowledged batch must be queryable exactly once, and
// no batch may ever appear twice.
func TestE2ECrashKill9(t *testing.T) {
	needBinary(t)
	t.Parallel()
	const (
		rounds    = 4
		writers   = 4
		batchSize = 200
	)
	cfg := "store:\n  flush_interval: 150ms\n  merge_interval: 200ms\n  merge_fan_in: 3\n"
	dataDir := t.TempDir()
	var (
		mu      sync.Mutex
		acked   = map[int]bool{}
		nextID  atomic.Int64
		maxSent int
	)
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Now().Add(-2 * time.Hour)
	for round := 0; round < rounds; round++ {
		s := startServer(t, dataDir, cfg)
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for w := 0; w < writers; w++ {
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
					id := int(nextID.Add(1))
					var body bytes.Buffer
					for i := 0; i < batchSize; i++ {
						// Spread over three days so that several partitions flush and merge.
						ts := base.Add(-time.Duration(id%3) * 24 * time.Hour).Add(time.Duration(i) * time.Millisecond)
						fmt.Fprintf(&body, `{"_time":%q,"service":"svc%d","b":"%d","i":"%d","_msg":"crash test record %d of batch %d"}`+"\n",
							ts.Format(time.RFC3339Nano), id%5, id, i, i, id)
					}
					resp, err := client.Post(s.url+"/insert/jsonline", "application/x-ndjson", &body)
					if err != nil {
						return // the server died
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
		time.Sleep(time.Duration(400+rng.IntN(900)) * time.Millisecond)
		s.kill()
		close(stop)
		wg.Wait()
		maxSent = int(nextID.Load())
	}
	s := startServer(t, dataDir, cfg)
	rows := s.queryRows("* | stats count() as n, count_uniq(i) as u by b")
	got := map[int][2]int{}
	for _, r := range rows {
		b, err := strconv.Atoi(fmt.Sprint(r["b"]))
		if err != nil {
			t.Fatalf("row without batch id: %v", r)
		}
		got[b] = [2]int{int(r["n"].(float64)), int(r["u"].(float64))}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(acked) < rounds {
		t.Fatalf("only %d batches were acknowledged; the test did not exercise ingest", len(acked))
	}
	for id := range acked {
		if c := got[id]; c[0] != batchSize || c[1] != batchSize {
			t.Errorf("acknowledged batch %d: %d records (%d distinct), want %d", id, c[0], c[1], batchSize)
		}
	}
	for id, c := range got {
		if c[0] != c[1] || c[0] > batchSize || id > maxSent {
			t.Errorf("batch %d: %d records, %d distinct: duplicated or invented records", id, c[0], c[1])
		}
	}
	t.Logf("%d rounds: %d batches acknowledged, %d batches present", rounds, len(acked), len(got))
	s.stop()
}

// TestE2EBackpressure fills a small WAL faster than the store flushes: ingest
// must answer 429 with Retry-After, then recover, and every acknowledged
// record must be stored.
func TestE2EBackpressure(t *testing.T) {
	needBinary(t)
	t.Parallel()
	cfg := "wal:\n  segment_size: 1MiB\n  max_size: 2MiB\nstore:\n  flush_interval: 1h\n  flush_bytes: 1GiB\n"
	s := startServer(t, t.TempDir(), cfg)
	const batches, perBatch = 30, 1500
	saw429 := 0
	for b := 0; b < batches; b++ {
		var body bytes.Buffer
		for i := 0; i < perBatch; i++ {
			fmt.Fprintf(&body, `{"service":"bp","b":"%d","_msg":"backpressure padding padding padding padding padding %d"}`+"\n", b, i)
		}
		for attempt := 0; ; attempt++ {
			code, ans, hdr := s.post("/insert/jsonline", "application/x-ndjson", body.Bytes())
			if code == 200 {
				break
			}
			if code != http.StatusTooManyRequests {
				t.Fatalf("batch %d: %d %s", b, code, ans)
			}
			saw429++
			if hdr.Get("Retry-After") == "" {
				t.Fatalf("429 without Retry-After: %s", ans)
			}
			if attempt > 100 {
				t.Fatalf("batch %d still refused after %d attempts: ingest did not recover", b, attempt)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if saw429 == 0 {
		t.Fatal("a 2MiB WAL took 30 batches of ~130KiB without pushing back")
	}
	if got := s.count("service:bp"); got != batches*perBatch {
		t.Fatalf("stored %d records, want %d", got, batches*perBatch)
	}
	t.Logf("%d answers were 429 before ingest recovered", saw429)
	s.stop()
}
