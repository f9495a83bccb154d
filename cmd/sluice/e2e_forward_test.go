package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestE2EForward sends with fluent-logger-golang (the library of Docker's
// fluentd log driver) to the real binary's forward listener, with acks, then
// counts what the query engine finds.
func TestE2EForward(t *testing.T) {
	needBinary(t)
	client := buildFluentClient(t)
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

	send := func(args ...string) {
		t.Helper()
		args = append([]string{"-addr", fwd}, args...)
		out, err := exec.Command(client, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("fluentclient %v: %v\n%s", args, err, out)
		}
	}
	send("-ack", "-docker", "-tag", "docker.web", "-n", "300")
	send("-ack", "-async", "-subsecond", "-tag", "app.orders", "-n", "500")

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

// buildFluentClient builds the forward package's test client, a module of
// its own so that fluent-logger-golang stays out of Sluice's dependencies.
func buildFluentClient(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "fluentclient")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = filepath.Join("..", "..", "internal", "ingest", "forward", "testdata", "fluentclient")
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build fluentclient: %v\n%s", err, out)
	}
	return bin
}
