// Package fluentclient sends records to a Fluentd forward listener with
// github.com/fluent/fluent-logger-golang, the library Docker's fluentd log
// driver uses, for the forward receiver's tests and the end-to-end tests of
// the real binary. It is test support: it fails the test on any error.
package fluentclient

import (
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fluent/fluent-logger-golang/fluent"
)

// Base is the time of record 0; record i is Base plus i ms.
var Base = time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)

// Options say what Send sends and how.
type Options struct {
	N         int
	Tag       string // "app" when empty
	Ack       bool   // RequestAck
	Async     bool
	SubSecond bool // SubSecondPrecision: times as EventTime
	Docker    bool // records shaped like Docker's fluentd log driver's
}

// Send sends o.N records to addr and fails t if the library reports any
// error. Plain records hold message "event <i>", seq i and a nested http
// object; Docker-shaped ones container_id, container_name, source and log.
func Send(t testing.TB, addr string, o Options) {
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
		RequestAck:         o.Ack,
		Async:              o.Async,
		SubSecondPrecision: o.SubSecond,
		Timeout:            5 * time.Second,
		WriteTimeout:       5 * time.Second,
		ReadTimeout:        10 * time.Second,
		MaxRetry:           3,
	}
	if o.Async {
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
	tag := o.Tag
	if tag == "" {
		tag = "app"
	}
	for i := range o.N {
		var rec map[string]any
		if o.Docker {
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
		if err := f.PostWithTime(tag, Base.Add(time.Duration(i)*time.Millisecond), rec); err != nil {
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
