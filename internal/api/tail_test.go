package api

import (
	"bufio"
	"context"
	"fmt"
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
// stored: ingest must not wait for it; once it is over its buffer bound it
// is dropped and its query slot freed (a new tail gets the only tail slot),
// and when it reads again its stream ends with a line saying why.
func TestTailSlowConsumer(t *testing.T) {
	srv, p := newTestServer(t, nil, QueryLimits{DefaultLimit: 100, MaxLimit: 1000, MaxGroups: 1000,
		Timeout: 10 * time.Second, MaxConcurrent: 2, TailBufferBytes: 256 << 10})
	resp, err := http.Get(srv.URL + "/api/v1/tail?query=*")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("tail answered %d", resp.StatusCode)
	}
	// The one tail slot (half of query.max_concurrent=2) is taken.
	if code, body := get(t, srv.URL+"/api/v1/tail?query=*"); code != http.StatusTooManyRequests || !strings.Contains(body, "too many live tails") {
		t.Fatalf("second tail while the first runs: %d %s", code, body)
	}
	// Far more than the subscription's bound and the sockets' buffers
	// hold: 1200 batches of 32 KiB, stored while the client reads nothing.
	big := strings.Repeat("x", 32<<10)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			for i := range 300 {
				r := record.Record{Time: time.Now().UnixNano(), Message: fmt.Sprintf("%d-%d %s", g, i, big)}
				if err := p.Ingest(context.Background(), []record.Record{r}); err != nil {
					errs <- err
					return
				}
			}
		})
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
	if st := p.Status(); st.TailDropped != 1 || st.TailSubscribers != 0 || st.TailBufferedBytes != 0 {
		t.Fatalf("after the stall: %d dropped, %d subscribers, %d bytes buffered", st.TailDropped, st.TailSubscribers, st.TailBufferedBytes)
	}
	// Its slot is free although its handler may still be stuck writing.
	next, err := http.Get(srv.URL + "/api/v1/tail?query=*")
	if err != nil {
		t.Fatal(err)
	}
	next.Body.Close()
	if next.StatusCode != http.StatusOK {
		t.Fatalf("a new tail after the drop: %d", next.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	var last string
	for sc.Scan() {
		last = sc.Text()
	}
	if !strings.HasPrefix(last, `{"_dropped":true,"_msg":"live tail ended: this client read more slowly than records arrived`) ||
		!strings.Contains(last, "query.tail_buffer_bytes") {
		t.Fatalf("the stream's last line: %.300q (%v)", last, sc.Err())
	}
}
