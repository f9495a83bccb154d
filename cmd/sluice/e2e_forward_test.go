package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fluent/fluent-logger-golang/fluent"
)

// TestE2EForward sends with fluent-logger-golang (the library of Docker's
// fluentd log driver) to the real binary's forward listener, with acks, then
// counts what the query engine finds.
func TestE2EForward(t *testing.T) {
	needBinary(t)
	fwd := freeAddr(t)
	// Other receivers with sockets of their own are off so that their
	// default ports cannot collide with other tests on this machine.
	s := startServer(t, t.TempDir(), fmt.Sprintf(`
forward:
  addr: %s
syslog:
  enabled: false
otlp:
  enabled: false
`, fwd))

	forwardSend(t, fwd, forwardSendOpts{n: 300, tag: "docker.web", ack: true, docker: true})
	forwardSend(t, fwd, forwardSendOpts{n: 500, tag: "app.orders", ack: true, async: true, subsecond: true})

	// A client sending garbage is disconnected; the others are unaffected.
	c, err := net.Dial("tcp", fwd)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte{0x93, 0x01, 0x02, 0x03}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("garbage connection: read err = %v, want EOF", err)
	}
	c.Close()

	// Acknowledged means durable and searchable: no waiting needed.
	for q, want := range map[string]int{
		"*":                                    800,
		"container_name:web":                   300,
		`tag:"docker.web" AND source:stdout`:   300,
		`"GET /item/299 200"`:                  1,
		`tag:"app.orders"`:                     500,
		`tag:"app.orders" AND http.status:200`: 500,
		`seq:499`:                              1,
	} {
		if got := s.count(q); got != want {
			t.Errorf("count(%s) = %d, want %d", q, got, want)
		}
	}
	rows := s.queryRows(`seq:7`)
	if len(rows) != 1 || !strings.HasPrefix(fmt.Sprint(rows[0]["_time"]), "2026-01-02T03:04:05.130456789") {
		t.Errorf("EventTime not kept to the nanosecond: %v", rows)
	}

	metrics := forwardGetText(t, s.url+"/metrics")
	for _, want := range []string{
		`sluice_ingest_records_total{protocol="forward"} 800`,
		`sluice_ingest_rejected_records_total{protocol="forward",reason="malformed"} 1`,
		`sluice_forward_connections_closed_total{reason="malformed"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	s.stop()
}

func forwardGetText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// forwardSendOpts says what forwardSend sends and how.
type forwardSendOpts struct {
	n         int
	tag       string
	ack       bool // RequestAck
	async     bool
	subsecond bool // SubSecondPrecision: times as EventTime
	docker    bool // records shaped like Docker's fluentd log driver's
}

// forwardSend sends o.n records to addr with fluent-logger-golang and fails
// t if the library reports any error. Record i has time
// 2026-01-02T03:04:05.123456789Z plus i ms.
func forwardSend(t *testing.T, addr string, o forwardSendOpts) {
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
	base := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
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
		if err := f.PostWithTime(o.tag, base.Add(time.Duration(i)*time.Millisecond), rec); err != nil {
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
