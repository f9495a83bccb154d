package api

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/sluice-log/sluice/internal/record"
)

// smallSendBuffers makes the server's connections buffer little, so that
// its writes wait for the client's reads as soon as the answer is a few
// tens of KiB ahead of them.
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(32 << 10)
	}
	return c, err
}

// newSmallBufferServer serves recs over connections with small send
// buffers.
func newSmallBufferServer(recs []record.Record, limits QueryLimits) (*Server, *httptest.Server) {
	reg := prometheus.NewRegistry()
	s := New(Config{Backend: &queryBackend{recs: recs}, Limits: limits, Gatherer: reg, Registry: reg})
	ts := httptest.NewUnstartedServer(s)
	ts.Listener = smallSendBuffers{ts.Listener}
	ts.Start()
	return s, ts
}

// TestAnswerWriteTimeout, over a real HTTP server: a client that reads a
// 4 MiB answer slowly but on gets all of it, although that takes longer
// than query.write_timeout; a client that sends a query and never reads
// its answer is cut off after it (sluice_query_answers_cut_off_total), so
// that the server's Close, which waits for the requests in flight, returns
// and the query slot is free. Without the bound the write to the second
// client blocks for ever, and so does Close.
func TestAnswerWriteTimeout(t *testing.T) {
	const n, size = 1000, 4 << 10
	msg := strings.Repeat("x", size)
	recs := make([]record.Record, n)
	for i := range recs {
		recs[i] = record.Record{Time: int64(i + 1), Message: msg}
	}
	limits := queryLimits
	limits.MaxLimit, limits.WriteTimeout = n, time.Second
	s, ts := newSmallBufferServer(recs, limits)
	defer ts.Close()
	target := fmt.Sprintf("/api/v1/query?query=*&limit=%d", n)
	cutOff := s.cutOff.WithLabelValues("/api/v1/query")

	resp, err := http.Get(ts.URL + target)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var lines int
	br := bufio.NewReaderSize(resp.Body, 1<<20)
	for {
		line, err := br.ReadSlice('\n')
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d lines: %v", lines, err)
		}
		if len(line) > size {
			lines++
		}
		if lines%8 == 0 {
			time.Sleep(10 * time.Millisecond) // about 32 KiB every 10 ms
		}
	}
	resp.Body.Close()
	took := time.Since(start)
	if lines != n || took <= limits.WriteTimeout {
		t.Fatalf("a client reading on got %d of %d records in %s; want all of them, in more than the write timeout (%s)", lines, n, took, limits.WriteTimeout)
	}
	if got := testutil.ToFloat64(cutOff); got != 0 {
		t.Fatalf("a client reading on was cut off (%v)", got)
	}

	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.(*net.TCPConn).SetReadBuffer(4 << 10)
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: sluice\r\n\r\n", target); err != nil {
		t.Fatal(err)
	}
	for len(s.sem) == 0 { // the query has its slot: its answer is on its way
		time.Sleep(time.Millisecond)
	}
	closed := make(chan struct{})
	go func() { ts.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(30 * limits.WriteTimeout):
		t.Fatalf("the server's Close still waits %s after a client stopped reading, with query.write_timeout %s", 30*limits.WriteTimeout, limits.WriteTimeout)
	}
	if got := testutil.ToFloat64(cutOff); got != 1 {
		t.Errorf("sluice_query_answers_cut_off_total = %v, want 1", got)
	}
	if len(s.sem) != 0 {
		t.Errorf("%d query slots still held", len(s.sem))
	}
}

// handlerEnded waits until the server's handler of route has answered
// with code want times (its latency is observed as it returns).
func handlerEnded(t *testing.T, s *Server, route, code string, want uint64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var m dto.Metric
		if err := s.latency.WithLabelValues(route, code).(prometheus.Metric).Write(&m); err != nil {
			t.Fatal(err)
		}
		if m.GetHistogram().GetSampleCount() >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s answered %s %d times, want %d", route, code, m.GetHistogram().GetSampleCount(), want)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestLokiTailWriteTimeout: Loki's WebSocket tail whose client stops
// reading is cut off after query.write_timeout and counted, every time.
// The write's deadline closes the connection, which ends the WebSocket's
// reader too and with it the tail's context: which of the two the
// scheduler runs first must not decide whether the cut-off counts.
func TestLokiTailWriteTimeout(t *testing.T) {
	const n, size, clients = 1000, 4 << 10, 8
	msg := strings.Repeat("x", size)
	now := time.Now().UnixNano()
	recs := make([]record.Record, n)
	for i := range recs {
		recs[i] = record.Record{Time: now - int64(n-i)*int64(time.Millisecond), Stream: []record.Field{{Name: "app", Value: "web"}}, Message: msg}
	}
	limits := queryLimits
	limits.MaxLimit, limits.WriteTimeout = n, 50*time.Millisecond
	s, ts := newSmallBufferServer(recs, limits)
	defer ts.Close()
	const route = "GET /loki/api/v1/tail"
	cutOff := s.cutOff.WithLabelValues(route)
	// A client that never reads: the history (4 MiB in one message)
	// fills the sockets' buffers.
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(4 << 10)
		}
		return c, err
	}}}
	u := "ws" + strings.TrimPrefix(ts.URL, "http") + "/loki/api/v1/tail?" + url.Values{"query": {`{app="web"}`}, "limit": {strconv.Itoa(n)}}.Encode()
	for i := 1; i <= clients; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		conn, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: client})
		cancel()
		if err != nil {
			t.Fatalf("dial: %v (%v)", err, resp)
		}
		handlerEnded(t, s, route, "101", uint64(i))
		conn.CloseNow()
		if got := testutil.ToFloat64(cutOff); got != float64(i) {
			t.Fatalf("after %d clients that stopped reading, sluice_query_answers_cut_off_total{route=%q} = %v", i, route, got)
		}
	}
}

// pipeListener serves connections made of net.Pipe, which buffers
// nothing: a server's write waits until the client has read all of it.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

// dial returns the client's end of a new connection.
func (l *pipeListener) dial() net.Conn {
	client, server := net.Pipe()
	l.conns <- server
	return client
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error   { close(l.done); return nil }
func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// TestAnswerCutOffAtEnd: a client that reads all of an answer but its
// last bytes, which the handler's writes left buffered for net/http to
// send after it returned, is cut off after query.write_timeout and
// counted, as one that stops earlier is. An answer of at most heldAnswer
// bytes keeps its Content-Length.
func TestAnswerCutOffAtEnd(t *testing.T) {
	const body = 100 << 10
	limits := queryLimits
	limits.WriteTimeout = 50 * time.Millisecond
	reg := prometheus.NewRegistry()
	s := New(Config{Backend: &queryBackend{}, Limits: limits, Gatherer: reg, Registry: reg})
	const route = "GET /test/answer"
	s.handle(route, s.boundWrites(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.FormValue("n"))
		_, _ = w.Write(bytes.Repeat([]byte("x"), n))
		_, _ = w.Write([]byte("end"))
	}))
	l := newPipeListener()
	srv := &http.Server{Handler: s}
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()

	conn := l.dial()
	defer conn.Close()
	go func() { _, _ = fmt.Fprintf(conn, "GET /test/answer?n=%d HTTP/1.1\r\nHost: sluice\r\n\r\n", body) }()
	buf := make([]byte, 32<<10)
	for xs := 0; xs < body; {
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("after %d bytes of the body: %v", xs, err)
		}
		xs += bytes.Count(buf[:n], []byte("x"))
	}
	// This client reads no more: "end" never goes out.
	handlerEnded(t, s, route, "200", 1)
	if got := testutil.ToFloat64(s.cutOff.WithLabelValues(route)); got != 1 {
		t.Errorf("an answer whose end was not read: sluice_query_answers_cut_off_total = %v, want 1", got)
	}

	ts := httptest.NewServer(s)
	defer ts.Close()
	before := testutil.ToFloat64(s.cutOff.WithLabelValues(route))
	for _, n := range []int{0, heldAnswer - 3, heldAnswer, 2 * heldAnswer} {
		resp, err := http.Get(fmt.Sprintf("%s/test/answer?n=%d", ts.URL, n))
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || len(b) != n+3 {
			t.Fatalf("n=%d: read %d bytes, %v", n, len(b), err)
		}
		if chunked := resp.ContentLength < 0; chunked != (n+3 > heldAnswer) {
			t.Errorf("an answer of %d bytes: Content-Length %d", n+3, resp.ContentLength)
		}
	}
	if got := testutil.ToFloat64(s.cutOff.WithLabelValues(route)); got != before {
		t.Errorf("answers read to the end counted cut off: %v", got-before)
	}
}

// TestWriteWithin: a write is cut off when its timeout ends it, also when
// its connection's reader ends the context meanwhile, and not when the
// context ends first or the write fails of itself.
func TestWriteWithin(t *testing.T) {
	errGone := errors.New("connection reset")
	tests := []struct {
		name    string
		timeout time.Duration
		write   func(ctx context.Context, parentCancel context.CancelFunc) error
		cutOff  bool
	}{
		{"written", time.Hour, func(context.Context, context.CancelFunc) error { return nil }, false},
		{"fails of itself", time.Hour, func(context.Context, context.CancelFunc) error { return errGone }, false},
		{"timeout", time.Millisecond, func(ctx context.Context, _ context.CancelFunc) error {
			<-ctx.Done()
			return ctx.Err()
		}, true},
		{"timeout, then the reader ends the context", time.Millisecond, func(ctx context.Context, parentCancel context.CancelFunc) error {
			<-ctx.Done()
			parentCancel()
			return ctx.Err()
		}, true},
		{"the reader ends the context first", time.Hour, func(ctx context.Context, parentCancel context.CancelFunc) error {
			parentCancel()
			<-ctx.Done()
			return ctx.Err()
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			cutOff, err := writeWithin(ctx, tc.timeout, func(wctx context.Context) error { return tc.write(wctx, cancel) })
			if cutOff != tc.cutOff {
				t.Errorf("cut off %v (err %v), want %v", cutOff, err, tc.cutOff)
			}
		})
	}
}
