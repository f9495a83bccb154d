package syslog

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
)

// fakeSink stores records; while pushBack is set it answers with
// backpressure.
type fakeSink struct {
	mu       sync.Mutex
	recs     []record.Record
	batches  int
	pushBack bool
	refused  int
	got      chan struct{}
}

func newFakeSink() *fakeSink { return &fakeSink{got: make(chan struct{}, 1<<16)} }

func (s *fakeSink) Ingest(_ context.Context, recs []record.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pushBack {
		s.refused++
		return &ingest.BackpressureError{RetryAfter: time.Millisecond, Reason: "test"}
	}
	s.recs = append(s.recs, recs...)
	s.batches++
	for range recs {
		s.got <- struct{}{}
	}
	return nil
}

func (s *fakeSink) setPushBack(v bool) {
	s.mu.Lock()
	s.pushBack = v
	s.mu.Unlock()
}

func (s *fakeSink) messages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.recs {
		out = append(out, r.Message)
	}
	return out
}

// waitRecords waits until the sink has n records in all.
func (s *fakeSink) waitRecords(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-s.got:
		case <-time.After(10 * time.Second):
			t.Fatalf("sink has %d records, want %d", len(s.messages()), n)
		}
	}
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func startTCP(t *testing.T, sink ingest.Sink, cfg Config, m *Metrics) (addr string, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := NewStreamServer(ln, nil, sink, cfg, m, quietLog())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	return ln.Addr().String(), func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestStreamServer(t *testing.T) {
	sink := newFakeSink()
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, ingest.NewMetrics(reg))
	addr, stop := startTCP(t, sink, Config{MaxMessageBytes: 100, StreamFields: []string{"hostname"}}, m)

	good := dial(t, addr)
	fmt.Fprintf(good, "<13>Oct 11 22:14:15 h a: one\n")
	msg := "<14>1 - h a - - - two"
	fmt.Fprintf(good, "%d %s", len(msg), msg)
	fmt.Fprintf(good, "not syslog\n")      // rejected, connection goes on
	fmt.Fprintf(good, "200 <13>%0196d", 0) // too long, skipped
	fmt.Fprintf(good, "<13>a: three\n")    // after the skipped frame
	bad := dial(t, addr)
	fmt.Fprintf(bad, "12x")                                 // broken framing: only this connection closes
	if _, err := bad.Read(make([]byte, 1)); err != io.EOF { // the server closed it
		t.Errorf("broken framing: read %v, want EOF", err)
	}
	fmt.Fprintf(good, "<13>a: four\n")
	sink.waitRecords(t, 4)
	if got, want := fmt.Sprint(sink.messages()), "[one two three four]"; got != want {
		t.Errorf("messages %s, want %s", got, want)
	}
	stop()
	for reason, want := range map[string]float64{reasonInvalid: 1, "line_too_long": 1} {
		if got := counterValue(t, reg, "sluice_ingest_rejected_records_total", reason); got != want {
			t.Errorf("rejected %s = %v, want %v", reason, got, want)
		}
	}
	if got := counterValue(t, reg, "sluice_syslog_connections_closed_total", "framing"); got != 1 {
		t.Errorf("closed for framing = %v, want 1", got)
	}
}

// counterValue sums the samples of metric whose labels include value.
func counterValue(t *testing.T, g prometheus.Gatherer, metric, value string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != metric {
			continue
		}
		for _, mm := range mf.GetMetric() {
			for _, l := range mm.GetLabel() {
				if l.GetValue() == value {
					sum += mm.GetCounter().GetValue() + mm.GetGauge().GetValue()
				}
			}
		}
	}
	return sum
}

func TestStreamBackpressure(t *testing.T) {
	sink := newFakeSink()
	sink.setPushBack(true)
	addr, stop := startTCP(t, sink, Config{}, nil)
	defer stop()
	c := dial(t, addr)
	for i := range 50 {
		fmt.Fprintf(c, "<13>a: m%d\n", i)
	}
	// The batch is retried, not dropped, while the sink pushes back.
	deadline := time.Now().Add(10 * time.Second)
	for {
		sink.mu.Lock()
		refused := sink.refused
		sink.mu.Unlock()
		if refused >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the sink was never retried")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := len(sink.messages()); n != 0 {
		t.Fatalf("%d records stored while pushing back", n)
	}
	sink.setPushBack(false)
	sink.waitRecords(t, 50)
	msgs := sink.messages()
	for i, m := range msgs {
		if want := fmt.Sprintf("m%d", i); m != want {
			t.Fatalf("record %d is %q, want %q (order or duplicates)", i, m, want)
		}
	}
}

func TestStreamShutdownFlushes(t *testing.T) {
	sink := newFakeSink()
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, nil)
	// A batch that would wait an hour must still be flushed on shutdown.
	addr, stop := startTCP(t, sink, Config{BatchDelay: time.Hour}, m)
	c := dial(t, addr)
	deadline := time.Now().Add(10 * time.Second)
	for counterValue(t, reg, "sluice_syslog_connections", "tcp") != 1 {
		if time.Now().After(deadline) {
			t.Fatal("connection never accepted")
		}
		time.Sleep(time.Millisecond)
	}
	for i := range 10 {
		fmt.Fprintf(c, "<13>a: m%d\n", i)
	}
	// What the client wrote before the shutdown is read during the grace
	// period and flushed, although the connection stays open.
	stop()
	if n := len(sink.messages()); n != 10 {
		t.Fatalf("%d records after shutdown, want 10", n)
	}
}

func TestPacketServer(t *testing.T) {
	sink := newFakeSink()
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, ingest.NewMetrics(reg))
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := NewPacketServer(pc, sink, Config{MaxMessageBytes: 100}, m, quietLog())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	c, err := net.Dial("udp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "<13>Oct 11 22:14:15 h a: one")
	fmt.Fprintf(c, "<13>%0200d", 0) // too long
	fmt.Fprintf(c, "garbage")
	fmt.Fprintf(c, "<14>1 - h a - - - two\n")
	sink.waitRecords(t, 2)

	// Under backpressure datagrams beyond the queue are dropped and counted.
	sink.setPushBack(true)
	deadline := time.Now().Add(10 * time.Second)
	for counterValue(t, reg, "sluice_ingest_rejected_records_total", reasonDropped) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no drops counted under backpressure")
		}
		for range 1000 {
			fmt.Fprintf(c, "<13>a: flood")
		}
		time.Sleep(time.Millisecond)
	}
	sink.setPushBack(false)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if got := fmt.Sprint(sink.messages()[:2]); got != "[one two]" {
		t.Errorf("messages %s", got)
	}
	for reason, want := range map[string]float64{reasonInvalid: 1, "line_too_long": 1} {
		if got := counterValue(t, reg, "sluice_ingest_rejected_records_total", reason); got != want {
			t.Errorf("rejected %s = %v, want %v", reason, got, want)
		}
	}
}

// TestStreamMaxConnections: at syslog.max_connections a new sender is
// served, in place of the connection that sent no whole message for the
// longest (an idle one), and a sender of messages keeps its connection.
func TestStreamMaxConnections(t *testing.T) {
	sink := newFakeSink()
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, nil)
	addr, stop := startTCP(t, sink, Config{MaxConnections: 2}, m)
	defer stop()
	idle := dial(t, addr)
	fmt.Fprintf(idle, "<13>a: half a mess")
	active := dial(t, addr)
	fmt.Fprintf(active, "<13>a: first\n")
	sink.waitRecords(t, 1)
	fresh := dial(t, addr)
	fmt.Fprintf(fresh, "<13>b: from the new sender\n")
	sink.waitRecords(t, 1)
	if _, err := idle.Read(make([]byte, 1)); err == nil {
		t.Error("the idle connection is still open")
	}
	fmt.Fprintf(active, "<13>a: still served\n")
	sink.waitRecords(t, 1)
	for deadline := time.Now().Add(5 * time.Second); counterValue(t, reg, "sluice_syslog_connections_closed_total", "shed") != 1; {
		if time.Now().After(deadline) {
			t.Fatalf("closed for shed = %v, want 1", counterValue(t, reg, "sluice_syslog_connections_closed_total", "shed"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := counterValue(t, reg, "sluice_listener_connections_shed_total", "syslog_tcp"); got != 1 {
		t.Errorf("listener shed = %v, want 1", got)
	}
}

// TestStreamTimeWindow: a message whose time is outside the window is
// rejected on its own and counted with its reason; the connection goes on.
func TestStreamTimeWindow(t *testing.T) {
	sink := newFakeSink()
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, ingest.NewMetrics(reg))
	w := ingest.NewTimeWindow(ingest.WindowConfig{Retention: 24 * time.Hour, MaxFuture: time.Hour}, nil)
	addr, stop := startTCP(t, sink, Config{Window: w}, m)
	c := dial(t, addr)
	fmt.Fprintf(c, "<14>1 2001-02-03T04:05:06Z h a - - - old\n")
	fmt.Fprintf(c, "<14>1 2100-02-03T04:05:06Z h a - - - ahead\n")
	fmt.Fprintf(c, "<14>1 - h a - - - now\n")
	sink.waitRecords(t, 1)
	stop()
	if got := fmt.Sprint(sink.messages()); got != "[now]" {
		t.Errorf("messages %s, want [now]", got)
	}
	for _, reason := range []string{"too_old", "too_far_in_future"} {
		if got := counterValue(t, reg, "sluice_ingest_rejected_records_total", reason); got != 1 {
			t.Errorf("rejected %s = %v, want 1", reason, got)
		}
	}
}
