package forward

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/testutil/testcert"
)

// memSink stores what it is given. While refuse is above zero it answers
// backpressure (and counts down) instead.
type memSink struct {
	mu      sync.Mutex
	recs    []record.Record
	calls   int
	refuse  int
	refused chan struct{} // gets a value each time a batch is refused
}

func (s *memSink) Ingest(_ context.Context, recs []record.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.refuse > 0 {
		s.refuse--
		if s.refused != nil {
			s.refused <- struct{}{}
		}
		return &ingest.BackpressureError{RetryAfter: 10 * time.Millisecond, Reason: "test buffer full"}
	}
	s.recs = append(s.recs, recs...)
	return nil
}

func (s *memSink) records() []record.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]record.Record(nil), s.recs...)
}

type testServer struct {
	*Server
	sink    *memSink
	metrics *ingest.Metrics
	reg     *prometheus.Registry
	cancel  context.CancelFunc
	done    chan error
}

func startTest(t *testing.T, cfg Config, sink *memSink) *testServer {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.MaxMessageBytes == 0 {
		cfg.MaxMessageBytes = 1 << 20
	}
	reg := prometheus.NewRegistry()
	m := ingest.NewMetrics(reg)
	srv, err := Listen(cfg, sink, m, reg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{Server: srv, sink: sink, metrics: m, reg: reg, cancel: cancel, done: make(chan error, 1)}
	go func() { ts.done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-ts.done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ts
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// readValue reads one msgpack value from c, a byte at a time so that
// nothing after it is consumed.
func readValue(t *testing.T, c net.Conn) []byte {
	t.Helper()
	var s scanner
	s.reset(1 << 16)
	var b []byte
	one := make([]byte, 1)
	for {
		if _, err := io.ReadFull(c, one); err != nil {
			t.Fatalf("read answer after %q: %v", b, err)
		}
		b = append(b, one[0])
		n, err := s.scan(b)
		if err != nil {
			t.Fatalf("answer %q: %v", b, err)
		}
		if n > 0 {
			return b
		}
	}
}

func send(t *testing.T, c net.Conn, b []byte) {
	t.Helper()
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
}

func TestAckAfterIngest(t *testing.T) {
	ts := startTest(t, Config{}, &memSink{})
	c := dial(t, ts.Addr())
	// Two messages in one write: one batch, two acks in order.
	send(t, c, cat(
		mp{}.arr(4).str("app").u32(sec).mapN(1).kv("message", "a").chunk("first"),
		mp{}.arr(3).str("app").bin(cat(entry(sec, "b"), entry(sec, "c"))).chunk("second"),
	))
	for _, want := range []string{"first", "second"} {
		if got, wantB := readValue(t, c), appendAck(nil, want); string(got) != string(wantB) {
			t.Fatalf("ack = %q, want %q", got, wantB)
		}
	}
	if n := len(ts.sink.records()); n != 3 {
		t.Fatalf("sink has %d records, want 3", n)
	}
	if v := value(t, ts.conns.accepted); v != 1 {
		t.Errorf("accepted connections = %v, want 1", v)
	}
}

// A refused batch is not acknowledged and nothing more is read until the
// buffer takes it; then it is acknowledged and stored exactly once.
func TestBackpressureRetriesWithoutAck(t *testing.T) {
	sink := &memSink{refuse: 3, refused: make(chan struct{}, 3)}
	ts := startTest(t, Config{}, sink)
	c := dial(t, ts.Addr())
	send(t, c, mp{}.arr(4).str("app").u32(sec).mapN(1).kv("message", "once").chunk("c1"))
	for range 3 {
		<-sink.refused
		// No ack may be waiting while the batch is refused.
		_ = c.SetReadDeadline(time.Now().Add(time.Millisecond))
		if n, _ := c.Read(make([]byte, 16)); n != 0 {
			t.Fatalf("got %d bytes of answer while the batch was refused", n)
		}
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if got := readValue(t, c); string(got) != string(appendAck(nil, "c1")) {
		t.Fatalf("ack = %q", got)
	}
	recs := sink.records()
	if len(recs) != 1 || recs[0].Message != "once" {
		t.Fatalf("records = %s", dump(recs))
	}
	if sink.calls != 4 {
		t.Errorf("Ingest called %d times, want 4", sink.calls)
	}
	if v := value(t, ts.conns.backpressure); v != 3 {
		t.Errorf("backpressure waits = %v, want 3", v)
	}
}

// A malformed message closes its connection (after storing and
// acknowledging the good message before it) and is counted; other clients
// carry on.
func TestMalformedClosesOnlyThatConnection(t *testing.T) {
	ts := startTest(t, Config{}, &memSink{})
	good := dial(t, ts.Addr())
	bad := dial(t, ts.Addr())
	send(t, bad, cat(mp{}.arr(4).str("app").u32(sec).mapN(1).kv("message", "ok").chunk("c"), mp{}.arr(2).str("app").mapN(0)))
	if got := readValue(t, bad); string(got) != string(appendAck(nil, "c")) {
		t.Fatalf("ack = %q", got)
	}
	if _, err := bad.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("bad connection: read err = %v, want EOF", err)
	}
	send(t, good, mp{}.arr(4).str("app").u32(sec).mapN(1).kv("message", "still").chunk("g"))
	if got := readValue(t, good); string(got) != string(appendAck(nil, "g")) {
		t.Fatalf("ack = %q", got)
	}
	if n := len(ts.sink.records()); n != 2 {
		t.Fatalf("sink has %d records, want 2", n)
	}
	if v := value(t, ts.conns.closed.WithLabelValues("malformed")); v != 1 {
		t.Errorf("closed{malformed} = %v, want 1", v)
	}
	if n := rejectedMetric(t, ts.reg, "malformed"); n != 1 {
		t.Errorf("rejected{malformed} = %v, want 1", n)
	}
}

func TestMessageTooLarge(t *testing.T) {
	ts := startTest(t, Config{MaxMessageBytes: 1024}, &memSink{})
	c := dial(t, ts.Addr())
	send(t, c, mp{}.arr(2).str("app").raw(0xc6, 0, 0x10, 0, 0)) // announces 1 MiB
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read err = %v, want EOF", err)
	}
	if n := rejectedMetric(t, ts.reg, "message_too_large"); n != 1 {
		t.Errorf("rejected{message_too_large} = %v, want 1", n)
	}
}

// TestMaxConnectionsShedsIdlest: at forward.max_connections a new client
// is served, in place of the connection that sent nothing whole for the
// longest (here one stuck in the middle of a message), and a client that
// sends messages keeps its connection.
func TestMaxConnectionsShedsIdlest(t *testing.T) {
	ts := startTest(t, Config{MaxConnections: 2}, &memSink{})
	msg := func(text, chunk string) []byte {
		return mp{}.arr(4).str("app").u32(sec).mapN(1).kv("message", text).chunk(chunk)
	}
	stuck := dial(t, ts.Addr())
	send(t, stuck, msg("never finished", "s")[:5])
	active := dial(t, ts.Addr())
	send(t, active, msg("a", "a1"))
	readValue(t, active)

	fresh := dial(t, ts.Addr())
	send(t, fresh, msg("b", "b1"))
	if got := readValue(t, fresh); string(got) != string(appendAck(nil, "b1")) {
		t.Fatalf("new client's ack = %q", got)
	}
	if n, err := stuck.Read(make([]byte, 1)); err == nil {
		t.Fatalf("the stuck connection is still open (read %d bytes)", n)
	}
	send(t, active, msg("c", "a2"))
	if got := readValue(t, active); string(got) != string(appendAck(nil, "a2")) {
		t.Fatalf("active client's ack = %q", got)
	}
	// The stuck connection's goroutine counts it once its read fails.
	for deadline := time.Now().Add(5 * time.Second); value(t, ts.conns.closed.WithLabelValues("shed")) != 1; {
		if time.Now().After(deadline) {
			t.Fatalf("closed{shed} = %v, want 1", value(t, ts.conns.closed.WithLabelValues("shed")))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestHeartbeat(t *testing.T) {
	ts := startTest(t, Config{}, &memSink{})
	c, err := net.Dial("udp", ts.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte{0}); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 8)
	n, err := c.Read(b)
	if err != nil || n != 1 || b[0] != 0 {
		t.Fatalf("heartbeat answer %q, %v", b[:n], err)
	}
}

func TestTLS(t *testing.T) {
	cert := testcert.New(t).TLS
	ts := startTest(t, Config{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}}, &memSink{})
	c, err := tls.Dial("tcp", ts.Addr(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	send(t, c, mp{}.arr(4).str("app").u32(sec).mapN(1).kv("message", "secret").chunk("t"))
	if got := readValue(t, c); string(got) != string(appendAck(nil, "t")) {
		t.Fatalf("ack = %q", got)
	}
	// A plaintext client gets no service and is counted.
	plain := dial(t, ts.Addr())
	send(t, plain, mp{}.arr(4).str("app").u32(sec).mapN(1).kv("message", "x").chunk("p"))
	if _, err := io.ReadAll(plain); err != nil {
		t.Logf("plaintext client: %v", err)
	}
	if n := len(ts.sink.records()); n != 1 {
		t.Fatalf("sink has %d records, want 1", n)
	}
}

// Serve returns once its context is cancelled, closing idle connections.
func TestServeStops(t *testing.T) {
	sink := &memSink{}
	reg := prometheus.NewRegistry()
	srv, err := Listen(Config{Addr: "127.0.0.1:0", MaxMessageBytes: 1 << 20}, sink, ingest.NewMetrics(reg), reg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	c := dial(t, srv.Addr())
	send(t, c, mp{}.arr(4).str("app").u32(sec).mapN(1).kv("message", "a").chunk("c"))
	readValue(t, c)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("connection after shutdown: read err = %v, want EOF", err)
	}
	if _, err := net.Dial("tcp", srv.Addr()); err == nil {
		t.Fatal("still accepting after shutdown")
	}
}

func rejectedMetric(t *testing.T, reg *prometheus.Registry, reason string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "sluice_ingest_rejected_records_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["protocol"] == protocol && labels["reason"] == reason {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// value reads a counter or gauge.
func value(t *testing.T, c prometheus.Collector) float64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 1)
	c.Collect(ch)
	var m dto.Metric
	if err := (<-ch).Write(&m); err != nil {
		t.Fatal(err)
	}
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}

// A batch still refused by the buffer at shutdown is given up after the
// grace period, unacknowledged, and Serve returns.
func TestShutdownDuringBackpressure(t *testing.T) {
	// Retries come at least 100ms apart, so a few slots outlast the 50ms grace.
	sink := &memSink{refuse: 1 << 30, refused: make(chan struct{}, 16)}
	reg := prometheus.NewRegistry()
	srv, err := Listen(Config{Addr: "127.0.0.1:0", MaxMessageBytes: 1 << 20, ShutdownGrace: 50 * time.Millisecond},
		sink, ingest.NewMetrics(reg), reg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	c := dial(t, srv.Addr())
	send(t, c, mp{}.arr(4).str("app").u32(sec).mapN(1).kv("message", "stuck").chunk("c"))
	<-sink.refused
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return while a batch was refused")
	}
	if b, err := io.ReadAll(c); len(b) != 0 {
		t.Fatalf("got %q (%v) for a batch that was never stored", b, err)
	}
	if n := len(sink.records()); n != 0 {
		t.Fatalf("stored %d records", n)
	}
}

// TestTimeWindow: a record outside the window is refused on its own and
// counted with its reason; the chunk is acknowledged with the rest stored.
func TestTimeWindow(t *testing.T) {
	w := ingest.NewTimeWindow(ingest.WindowConfig{Retention: 24 * time.Hour, MaxFuture: time.Hour}, nil)
	ts := startTest(t, Config{Window: w}, &memSink{})
	c := dial(t, ts.Addr())
	now := uint32(time.Now().Unix())
	send(t, c, mp{}.arr(3).str("app").bin(cat(entry(now, "now"), entry(now-3*86400, "old"), entry(now+7200, "ahead"))).chunk("c1"))
	if got, want := readValue(t, c), appendAck(nil, "c1"); string(got) != string(want) {
		t.Fatalf("ack = %q, want %q", got, want)
	}
	if recs := ts.sink.records(); len(recs) != 1 || recs[0].Message != "now" {
		t.Fatalf("stored %v", recs)
	}
	for _, reason := range []string{"too_old", "too_far_in_future"} {
		if got := rejectedMetric(t, ts.reg, reason); got != 1 {
			t.Errorf("rejected %s = %v, want 1", reason, got)
		}
	}
}

// TestBadTimeKeepsNeighbours: a record whose seconds lie past 2262 is
// refused on its own; its neighbours are stored, the chunk acknowledged,
// and the connection stays open for the next message.
func TestBadTimeKeepsNeighbours(t *testing.T) {
	ts := startTest(t, Config{}, &memSink{})
	c := dial(t, ts.Addr())
	past2262 := mp{}.arr(2).raw(0xcf, 0, 0, 0, 3, 0, 0, 0, 0).mapN(1).kv("message", "bad")
	send(t, c, mp{}.arr(3).str("app").bin(cat(entry(sec, "before"), past2262, entry(sec, "after"))).chunk("c1"))
	if got, want := readValue(t, c), appendAck(nil, "c1"); string(got) != string(want) {
		t.Fatalf("ack = %q, want %q", got, want)
	}
	send(t, c, mp{}.arr(4).str("app").u32(sec).mapN(1).kv("message", "next").chunk("c2"))
	if got, want := readValue(t, c), appendAck(nil, "c2"); string(got) != string(want) {
		t.Fatalf("second ack = %q, want %q", got, want)
	}
	var msgs []string
	for _, r := range ts.sink.records() {
		msgs = append(msgs, r.Message)
	}
	if strings.Join(msgs, ",") != "before,after,next" {
		t.Fatalf("stored %q", msgs)
	}
	if got := rejectedMetric(t, ts.reg, "invalid_time"); got != 1 {
		t.Errorf("rejected invalid_time = %v, want 1", got)
	}
}

// While the bytes in flight are at their bound, a connection's message is
// neither stored nor acknowledged, and nothing more is read from it; once
// they are freed it is stored and acknowledged once.
func TestInFlightWaits(t *testing.T) {
	reg := prometheus.NewRegistry()
	inFlight := ingest.NewInFlight(100, reg)
	other, _ := inFlight.TryAcquire("jsonline", 200) // another receiver's request
	ts := startTest(t, Config{InFlight: inFlight}, &memSink{})
	c := dial(t, ts.Addr())
	send(t, c, mp{}.arr(4).str("app").u32(sec).mapN(1).kv("message", "waited").chunk("w1"))
	for waits := 0.0; waits == 0; {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "sluice_ingest_in_flight_rejected_total" {
				waits = mf.GetMetric()[0].GetCounter().GetValue()
			}
		}
		time.Sleep(time.Millisecond)
	}
	_ = c.SetReadDeadline(time.Now().Add(time.Millisecond))
	if n, _ := c.Read(make([]byte, 16)); n != 0 || len(ts.sink.records()) != 0 {
		t.Fatalf("acknowledged (%d bytes) or stored (%d records) while waiting for room", n, len(ts.sink.records()))
	}
	other.Release()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if got := readValue(t, c); string(got) != string(appendAck(nil, "w1")) {
		t.Fatalf("ack = %q", got)
	}
	if recs := ts.sink.records(); len(recs) != 1 || recs[0].Message != "waited" {
		t.Fatalf("records = %s", dump(recs))
	}
	if inFlight.Used() != 0 {
		t.Fatalf("%d bytes still held after the batch", inFlight.Used())
	}
}
