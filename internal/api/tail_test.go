package api

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

func TestTailSSEDelivers(t *testing.T) {
	srv, p := newTestServer(t, nil, QueryLimits{})
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/tail?query=level:error", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	recs := []record.Record{
		{Time: time.Now().UnixNano(), Message: "skip me", Fields: []record.Field{{Name: "level", Value: "info"}}},
		{Time: time.Now().UnixNano(), Message: "deliver me", Fields: []record.Field{{Name: "level", Value: "error"}}},
	}
	if err := p.Ingest(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "skip me") {
			t.Fatalf("tail sent a record the filter rejects: %s", line)
		}
		if strings.HasPrefix(line, "data: ") && strings.Contains(line, "deliver me") {
			return
		}
	}
	t.Fatalf("stream ended without the record: %v", sc.Err())
}

// TestTailSlowConsumer stalls a tail client while many batches are
// stored: ingest must not wait for it, and once it reads again it must be
// told how many records it missed.
func TestTailSlowConsumer(t *testing.T) {
	srv, p := newTestServer(t, nil, QueryLimits{})
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /api/v1/tail?query=* HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(conn)
	if status, err := br.ReadString('\n'); err != nil || !strings.Contains(status, "200") {
		t.Fatalf("tail answered %q, %v", status, err)
	}
	// Far more than the subscription's buffer and the sockets' buffers
	// hold: 1200 batches of 32 KiB, stored while the client reads nothing.
	big := strings.Repeat("x", 32<<10)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				r := record.Record{Time: time.Now().UnixNano(), Message: fmt.Sprintf("%d-%d %s", g, i, big)}
				if err := p.Ingest(context.Background(), []record.Record{r}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	ingested := make(chan struct{})
	go func() { wg.Wait(); close(ingested) }()
	select {
	case <-ingested:
	case err := <-errs:
		t.Fatal(err)
	case <-time.After(25 * time.Second):
		t.Fatal("ingest did not finish while a tail client was stalled: the tail blocks ingest")
	}
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("no missed notice before %v", err)
		}
		if strings.HasPrefix(line, `{"_missed":`) {
			return
		}
	}
}
