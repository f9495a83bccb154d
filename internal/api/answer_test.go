package api

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sluice-log/sluice/internal/record"
)

// smallSendBuffers makes the server's connections buffer little, so that
// its writes wait for the client's reads as soon as the answer is a few
// tens of KiB ahead of them.
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(32 << 10)
	}
	return c, err
}

// TestAnswerWriteTimeout, over a real HTTP server: a client that reads a
// 4 MiB answer slowly but on gets all of it, although that takes longer
// than query.write_timeout; a client that sends a query and never reads
// its answer is cut off after it (sluice_query_answers_cut_off_total), so
// that the server's Close, which waits for the requests in flight, returns
// and the query slot is free. Without the bound the write to the second
// client blocks for ever, and so does Close.
func TestAnswerWriteTimeout(t *testing.T) {
	const n, size = 1000, 4 << 10
	msg := strings.Repeat("x", size)
	recs := make([]record.Record, n)
	for i := range recs {
		recs[i] = record.Record{Time: int64(i + 1), Message: msg}
	}
	limits := queryLimits
	limits.MaxLimit, limits.WriteTimeout = n, time.Second
	reg := prometheus.NewRegistry()
	s := New(Config{Backend: &queryBackend{recs: recs}, Limits: limits, Gatherer: reg, Registry: reg})
	ts := httptest.NewUnstartedServer(s)
	ts.Listener = smallSendBuffers{ts.Listener}
	ts.Start()
	defer ts.Close()
	target := fmt.Sprintf("/api/v1/query?query=*&limit=%d", n)
	cutOff := s.cutOff.WithLabelValues("/api/v1/query")

	resp, err := http.Get(ts.URL + target)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var lines int
	br := bufio.NewReaderSize(resp.Body, 1<<20)
	for {
		line, err := br.ReadSlice('\n')
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d lines: %v", lines, err)
		}
		if len(line) > size {
			lines++
		}
		if lines%8 == 0 {
			time.Sleep(10 * time.Millisecond) // about 32 KiB every 10 ms
		}
	}
	resp.Body.Close()
	took := time.Since(start)
	if lines != n || took <= limits.WriteTimeout {
		t.Fatalf("a client reading on got %d of %d records in %s; want all of them, in more than the write timeout (%s)", lines, n, took, limits.WriteTimeout)
	}
	if got := testutil.ToFloat64(cutOff); got != 0 {
		t.Fatalf("a client reading on was cut off (%v)", got)
	}

	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.(*net.TCPConn).SetReadBuffer(4 << 10)
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: sluice\r\n\r\n", target); err != nil {
		t.Fatal(err)
	}
	for len(s.sem) == 0 { // the query has its slot: its answer is on its way
		time.Sleep(time.Millisecond)
	}
	closed := make(chan struct{})
	go func() { ts.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(30 * limits.WriteTimeout):
		t.Fatalf("the server's Close still waits %s after a client stopped reading, with query.write_timeout %s", 30*limits.WriteTimeout, limits.WriteTimeout)
	}
	if got := testutil.ToFloat64(cutOff); got != 1 {
		t.Errorf("sluice_query_answers_cut_off_total = %v, want 1", got)
	}
	if len(s.sem) != 0 {
		t.Errorf("%d query slots still held", len(s.sem))
	}
}
