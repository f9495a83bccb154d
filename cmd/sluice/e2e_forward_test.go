package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/testutil/fluentclient"
)

// TestE2EForward sends with fluent-logger-golang (the library of Docker's
// fluentd log driver) to the real binary's forward listener, with acks, then
// counts what the query engine finds.
func TestE2EForward(t *testing.T) {
	needBinary(t)
	t.Parallel()
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

	fluentclient.Send(t, fwd, fluentclient.Options{N: 300, Tag: "docker.web", Ack: true, Docker: true})
	fluentclient.Send(t, fwd, fluentclient.Options{N: 500, Tag: "app.orders", Ack: true, Async: true, SubSecond: true})

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
