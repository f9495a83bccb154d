package main

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestE2EQueryStalledReader: a client that sends a query and never reads
// its answer (16 MiB, far more than the sockets buffer) is cut off after
// query.write_timeout: the answer counts in
// sluice_query_answers_cut_off_total and the only query slot is free for
// the next query. SIGTERM while such a client stalls: the server exits 0
// within about the write timeout, not at http.shutdown_timeout (5m here),
// which it waited for before, the answer's write blocked the while.
func TestE2EQueryStalledReader(t *testing.T) {
	needBinary(t)
	t.Parallel()
	s := startServer(t, t.TempDir(), "http:\n  shutdown_timeout: 5m\nquery:\n  max_concurrent: 1\n  write_timeout: 1s\n")
	const batches, lines = 8, 500
	msg := strings.Repeat("stall ", 4<<10/6)
	for i := range batches {
		var body strings.Builder
		for j := range lines {
			fmt.Fprintf(&body, `{"service":"stall","_msg":"%d-%d %s"}`+"\n", i, j, msg)
		}
		if code, resp, _ := s.post("/insert/jsonline", "application/x-ndjson", []byte(body.String())); code != http.StatusOK {
			t.Fatalf("ingest: %d %s", code, resp)
		}
	}
	target := fmt.Sprintf("/api/v1/query?query=service:stall&limit=%d", batches*lines)
	stall := func() net.Conn {
		conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		_ = conn.(*net.TCPConn).SetReadBuffer(4 << 10)
		if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", target); err != nil {
			t.Fatal(err)
		}
		return conn
	}
	waitMetric := func(name string, want float64) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			v, _ := metricValue(t, s, name)
			if v == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s = %v after 60s, want %v", name, v, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	stall()
	waitMetric(`sluice_query_answers_cut_off_total{route="/api/v1/query"}`, 1)
	waitMetric("sluice_query_running", 0)
	if got := s.count("service:stall"); got != batches*lines {
		t.Fatalf("the next query counted %d records, want %d", got, batches*lines)
	}

	stall()
	waitMetric("sluice_query_running", 1)
	start := time.Now()
	s.stop()
	if took := time.Since(start); took > 30*time.Second {
		t.Fatalf("SIGTERM with a stalled query client: exited after %s, with query.write_timeout 1s", took)
	}
}
