package ingest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// readAllHandler reads its body with OpenBody and answers the status that
// an error maps to, as the receivers do; it reports what it read.
func readAllHandler(read *int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := OpenBody(r, 1<<20)
		if err == nil {
			var b []byte
			b, err = io.ReadAll(body)
			*read = len(b)
			body.Close()
		}
		if err != nil {
			w.WriteHeader(RequestStatus(err))
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// holdingRequest serves, through b, an HTTP request whose known length n
// is reserved before the handler runs; it holds the bytes until release
// is called.
func holdingRequest(t *testing.T, b *InFlight, n int64) (release func()) {
	t.Helper()
	reserved, done := make(chan struct{}), make(chan struct{})
	h := b.Wrap("loki", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := OpenBody(r, 1<<30); err != nil {
			t.Errorf("the older request was refused: %v", err)
		}
		close(reserved)
		<-done
	}))
	req := httptest.NewRequest(http.MethodPost, "/loki/api/v1/push", bytes.NewReader(make([]byte, n)))
	served := make(chan struct{})
	go func() { h.ServeHTTP(httptest.NewRecorder(), req); close(served) }()
	<-reserved
	return func() { close(done); <-served }
}

// TestInFlightHTTP: a body that fits with what others hold is read; one
// that does not is refused with 429 and Retry-After, before it is read when
// its length is known and as it decompresses otherwise; the oldest request
// in flight is never refused; every byte is released.
func TestInFlightHTTP(t *testing.T) {
	plain := bytes.Repeat([]byte("0123456789abcdef"), 16<<10) // 256 KiB
	for _, tc := range []struct {
		name       string
		body       []byte
		gzip       bool
		chunked    bool
		olderOwns  int64 // bytes an older HTTP request holds meanwhile
		batchesOwn int64 // bytes stream receivers' batches hold meanwhile
		want       int
		wantRead   int
	}{
		{"fits", plain, false, false, 512 << 10, 0, 200, len(plain)},
		{"known length over the bound: refused unread", plain, false, false, 900 << 10, 0, 429, 0},
		{"chunked over the bound: refused while read", plain, false, true, 900 << 10, 0, 429, 0},
		{"gzip grows past the bound while decompressing", plain, true, false, 900 << 10, 0, 429, 0},
		{"alone: never refused, even over the bound", append(plain, plain...), false, false, 0, 0, 200, 2 * len(plain)},
		{"gzip alone over the bound", append(plain, plain...), true, false, 0, 0, 200, 2 * len(plain)},
		{"oldest request: never refused while batches fill the bound", plain, true, false, 0, 900 << 10, 200, len(plain)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			b := NewInFlight(1<<20, reg)
			others := tc.olderOwns + tc.batchesOwn
			releaseOlder := func() {}
			if tc.olderOwns > 0 {
				releaseOlder = holdingRequest(t, b, tc.olderOwns)
			}
			batch, ok := b.TryAcquire("forward", tc.batchesOwn)
			if !ok {
				t.Fatal("setup reservation refused")
			}
			var read int
			h := b.Wrap("jsonline", readAllHandler(&read))
			body := tc.body
			if tc.gzip {
				body = gzipped(t, body)
			}
			req := httptest.NewRequest(http.MethodPost, "/insert/jsonline", bytes.NewReader(body))
			if tc.gzip {
				req.Header.Set("Content-Encoding", "gzip")
			}
			if tc.chunked {
				req.ContentLength = -1
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d", rec.Code, tc.want)
			}
			refused := counterValue(t, b.rejected.WithLabelValues("jsonline"))
			if tc.want == 429 {
				if rec.Header().Get("Retry-After") != "1" || refused != 1 {
					t.Errorf("Retry-After %q, refusals counted %v", rec.Header().Get("Retry-After"), refused)
				}
			} else if read != tc.wantRead || refused != 0 {
				t.Errorf("read %d bytes (want %d), refusals %v", read, tc.wantRead, refused)
			}
			if got := b.Used(); got != others {
				t.Errorf("after the request %d bytes are held, want the others' %d", got, others)
			}
			releaseOlder()
			batch.Release()
			if b.Used() != 0 {
				t.Errorf("%d bytes held after every release", b.Used())
			}
		})
	}
}

// TestInFlightDeclaredLength: a compressed body's declared Content-Length,
// unbounded before it is read, reserves at most the request limit, so the
// oldest request (never refused) cannot hold the whole bound by declaring
// a huge length and keep the next request out.
func TestInFlightDeclaredLength(t *testing.T) {
	b := NewInFlight(4<<20, nil)
	opened, done := make(chan int64), make(chan struct{})
	h := b.Wrap("jsonline", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := OpenBody(r, 1<<20)
		if err != nil {
			t.Errorf("OpenBody: %v", err)
			close(opened)
			return
		}
		opened <- b.Used()
		<-done
		body.Close()
	}))
	req := httptest.NewRequest(http.MethodPost, "/insert/jsonline", bytes.NewReader(gzipped(t, []byte("{}\n"))))
	req.Header.Set("Content-Encoding", "gzip")
	req.ContentLength = 1 << 62
	served := make(chan struct{})
	go func() { h.ServeHTTP(httptest.NewRecorder(), req); close(served) }()
	if used := <-opened; used > 1<<20 {
		t.Errorf("a declared length of 2^62 reserved %d bytes, want at most the request limit %d", used, 1<<20)
	}
	var read int
	rec := httptest.NewRecorder()
	b.Wrap("jsonline", readAllHandler(&read)).ServeHTTP(rec,
		httptest.NewRequest(http.MethodPost, "/insert/jsonline", bytes.NewReader(make([]byte, 64<<10))))
	if rec.Code != http.StatusOK {
		t.Errorf("the next request got %d while the first was open, want 200", rec.Code)
	}
	close(done)
	<-served
	if b.Used() != 0 {
		t.Errorf("%d bytes held after both requests", b.Used())
	}
}

// TestInFlightBatches: stream receivers' reservations.
func TestInFlightBatches(t *testing.T) {
	b := NewInFlight(100, nil)
	a, ok := b.TryAcquire("forward", 60)
	if !ok {
		t.Fatal("first batch refused")
	}
	if _, ok := b.TryAcquire("forward", 50); ok {
		t.Fatal("a batch over the bound was taken while another holds bytes")
	}
	if !a.TryGrow(40) || b.Used() != 100 || !b.Full() {
		t.Fatalf("grow to the bound: used %d", b.Used())
	}
	// The sole holder may pass the bound; nobody else gets a byte.
	if !a.TryGrow(50) {
		t.Fatal("the only holder was refused")
	}
	if _, ok := b.TryAcquire("forward", 1); ok {
		t.Fatal("a batch was taken past the bound")
	}
	// A waiter gets its bytes once they are freed, and gives up with its
	// context.
	got := make(chan error, 1)
	go func() {
		w, err := b.Acquire(context.Background(), "syslog", 30)
		if err == nil {
			w.Release()
		}
		got <- err
	}()
	// The waiter above holds the waiters' turn (as it does once it runs
	// first): one behind it still gives up with its own context.
	for len(b.waits) == 0 {
		runtime.Gosched()
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.Acquire(ctx, "syslog", 30); !errors.Is(err, context.Canceled) {
		t.Fatalf("Acquire with a cancelled context: %v", err)
	}
	a.Release()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if b.Used() != 0 || b.Full() {
		t.Fatalf("used %d after every release", b.Used())
	}
	// No bound, and a nil bound, take everything.
	for _, nb := range []*InFlight{NewInFlight(0, nil), nil} {
		r, ok := nb.TryAcquire("x", 1<<40)
		if !ok || !r.TryGrow(1<<40) || nb.Full() {
			t.Fatal("an unbounded InFlight refused")
		}
		r.Release()
	}
}
