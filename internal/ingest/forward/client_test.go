package forward

import (
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fluent/fluent-logger-golang/fluent"

	"github.com/sluice-log/sluice/internal/record"
)

// fluentSend says what sendFluent sends and how.
type fluentSend struct {
	n         int
	tag       string // "app" when empty
	ack       bool   // RequestAck
	async     bool
	subsecond bool // SubSecondPrecision: times as EventTime
	docker    bool // records shaped like Docker's fluentd log driver's
}

// sendFluent sends o.n records to addr with
// github.com/fluent/fluent-logger-golang, the library Docker's fluentd log
// driver uses, and fails t if the library reports any error. Record i has
// time clientBase+i ms.
func sendFluent(t *testing.T, addr string, o fluentSend) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	var asyncErrs atomic.Int64
	cfg := fluent.Config{
		FluentHost:         host,
		FluentPort:         p,
		RequestAck:         o.ack,
		Async:              o.async,
		SubSecondPrecision: o.subsecond,
		Timeout:            5 * time.Second,
		WriteTimeout:       5 * time.Second,
		ReadTimeout:        10 * time.Second,
		MaxRetry:           3,
	}
	if o.async {
		// Async posts only queue; their errors arrive here.
		cfg.AsyncResultCallback = func(_ []byte, err error) {
			if err != nil {
				asyncErrs.Add(1)
				t.Errorf("async send: %v", err)
			}
		}
	}
	f, err := fluent.New(cfg)
	if err != nil {
		t.Fatalf("fluent.New: %v", err)
	}
	tag := o.tag
	if tag == "" {
		tag = "app"
	}
	for i := range o.n {
		var rec map[string]any
		if o.docker {
			// The fields and shapes Docker's fluentd log driver sends.
			rec = map[string]any{
				"container_id":   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
				"container_name": "/web",
				"source":         "stdout",
				"log":            fmt.Sprintf("GET /item/%d 200", i),
			}
		} else {
			rec = map[string]any{
				"message": fmt.Sprintf("event %d", i),
				"seq":     i,
				"http":    map[string]any{"status": 200, "method": "GET"},
			}
		}
		if err := f.PostWithTime(tag, clientBase.Add(time.Duration(i)*time.Millisecond), rec); err != nil {
			_ = f.Close()
			t.Fatalf("post %d: %v", i, err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if e := asyncErrs.Load(); e > 0 {
		t.Fatalf("%d async errors", e)
	}
}

var clientBase = time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)

func TestFluentLoggerGolang(t *testing.T) {
	tests := []struct {
		name  string
		send  fluentSend
		check func(t *testing.T, ts *testServer)
	}{
		{name: "sync without ack", send: fluentSend{n: 200}},
		{name: "sync with ack", send: fluentSend{n: 200, ack: true}},
		{name: "async without ack", send: fluentSend{n: 500, async: true}},
		{name: "async with ack", send: fluentSend{n: 500, async: true, ack: true}},
		{name: "EventTime", send: fluentSend{n: 50, subsecond: true, ack: true}, check: func(t *testing.T, ts *testServer) {
			want := clientBase.Add(7 * time.Millisecond).UnixNano()
			found := false
			for _, r := range ts.sink.records() {
				if s, _ := r.Get("seq"); s == "7" {
					found = true
					if r.Time != want {
						t.Errorf("seq 7 time = %d, want %d", r.Time, want)
					}
				}
			}
			if !found {
				t.Error("no record with seq 7")
			}
		}},
		{name: "docker-driver-shaped record", send: fluentSend{n: 100, docker: true, ack: true, tag: "docker.web"}, check: func(t *testing.T, ts *testServer) {
			for _, r := range ts.sink.records() {
				name, _ := r.Get("container_name")
				src, _ := r.Get("source")
				if name != "web" || src != "stdout" || r.StreamString() != `{container_id="0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",container_name="web",tag="docker.web"}` {
					t.Fatalf("record %s", dump([]record.Record{r}))
				}
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := startTest(t, Config{}, &memSink{})
			sendFluent(t, ts.Addr(), tc.send)
			// Without acks the client is done once it has written; the
			// server may still be storing the last batch.
			deadline := time.Now().Add(10 * time.Second)
			for len(ts.sink.records()) < tc.send.n && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			recs := ts.sink.records()
			if len(recs) != tc.send.n {
				t.Fatalf("stored %d records, want exactly %d", len(recs), tc.send.n)
			}
			seen := map[string]bool{}
			for _, r := range recs {
				seen[r.Message] = true
			}
			if len(seen) != tc.send.n {
				t.Fatalf("%d distinct messages among %d records", len(seen), tc.send.n)
			}
			if tc.check != nil {
				tc.check(t, ts)
			}
		})
	}
}
