package aimd

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// TestTransport: requests through the transport never exceed the limit
// in flight at the server, and the server's 429s shrink the limit; a
// request Match refuses is not limited.
func TestTransport(t *testing.T) {
	var inFlight, peak atomic.Int64
	var busy atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		if busy.Load() {
			w.WriteHeader(http.StatusTooManyRequests)
		}
	}))
	defer srv.Close()
	l := New(Config{Initial: 8, Max: 8})
	hc := &http.Client{Transport: &Transport{Next: http.DefaultTransport, L: l, Match: func(r *http.Request) bool { return r.URL.Path == "/_bulk" }}}
	get := func(path string) int {
		resp, err := hc.Get(srv.URL + path)
		if err != nil {
			t.Error(err)
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() { get("/_bulk") })
	}
	wg.Wait()
	if p := peak.Load(); p > 8 {
		t.Errorf("%d requests in flight at the server, limit 8", p)
	}
	// The limit shrinks once per window of about one round trip: keep
	// answering 429 until it did (at most 5,000 requests).
	busy.Store(true)
	for i := 0; i < 5000 && l.Limit() >= 8; i++ {
		get("/_bulk")
	}
	if l.Limit() >= 8 {
		t.Errorf("limit %d after 5,000 answers 429, want below 8", l.Limit())
	}
	if l.InFlight() != 0 {
		t.Errorf("%d slots held after every request ended", l.InFlight())
	}
	// Unlimited paths do not take slots.
	for l.TryAcquire() {
	}
	if code := get("/_index_template/x"); code != http.StatusTooManyRequests {
		t.Errorf("unlimited request: %d", code)
	}
}

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		status int
		err    error
		want   Outcome
	}{
		{200, nil, OK}, {400, nil, OK}, {429, nil, Overloaded}, {503, nil, Overloaded}, {504, nil, Overloaded},
		{0, context.DeadlineExceeded, Overloaded}, {0, errors.New("connection refused"), Failed},
	} {
		var resp *http.Response
		if c.err == nil {
			resp = &http.Response{StatusCode: c.status}
		}
		if got := Classify(resp, c.err); got != c.want {
			t.Errorf("Classify(%d, %v) = %v, want %v", c.status, c.err, got, c.want)
		}
	}
}
