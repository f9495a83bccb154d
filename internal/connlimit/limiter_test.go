package connlimit

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// value reads a gauge's or counter's value.
func value(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		t.Fatal(err)
	}
	if d.Gauge != nil {
		return d.Gauge.GetValue()
	}
	return d.Counter.GetValue()
}

// pair accepts one connection of ln for a client dialled to it.
func pair(t *testing.T, ln net.Listener) (client net.Conn, server *Conn) {
	t.Helper()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return c, s.(*Conn)
}

func listen(t *testing.T, max int) (*Limiter, net.Listener, *Metrics) {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	m := NewMetrics(prometheus.NewRegistry())
	l := New(Options{Name: "test", Max: max}, m)
	return l, l.Listener(raw), m
}

func closedByServer(t *testing.T, c net.Conn) bool {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	return err != nil && !(errorsAs(err, &ne) && ne.Timeout())
}

func errorsAs(err error, ne *net.Error) bool {
	x, ok := err.(net.Error)
	if ok {
		*ne = x
	}
	return ok
}

// TestShedsLongestIdle: at the bound a new connection displaces the one
// idle the longest among those that never completed a request, then among
// the others; busy ones are never displaced, and when all are busy the new
// one is refused. Slots come back on Close, once.
func TestShedsLongestIdle(t *testing.T) {
	l, ln, m := listen(t, 3)
	_, s1 := pair(t, ln)
	_, s2 := pair(t, ln)
	_, s3 := pair(t, ln)
	s1.Served() // proven, and idle the longest after this
	s2.Busy()
	_, s4 := pair(t, ln)
	if !s3.Shed() || s1.Shed() || s2.Shed() || s4.Shed() {
		t.Fatalf("shed: s1 %v s2 %v s3 %v s4 %v; want s3 alone", s1.Shed(), s2.Shed(), s3.Shed(), s4.Shed())
	}
	if got := value(t, m.shedN.WithLabelValues("test")); got != 1 {
		t.Fatalf("shed metric = %v", got)
	}
	// The shed connection's own Close gives nothing back: its slot is s4's.
	_ = s3.Close()
	if l.n != 3 {
		t.Fatalf("open = %d, want 3", l.n)
	}
	// s4 waits for a request body: idle, unproven, so shed before s1.
	s4.Busy()
	s4.Idle()
	_, s5 := pair(t, ln)
	if !s4.Shed() || s1.Shed() {
		t.Fatalf("shed s1 %v s4 %v; want s4", s1.Shed(), s4.Shed())
	}
	// Only proven ones left idle: the one idle the longest goes.
	s5.Busy()
	_, s6 := pair(t, ln)
	if !s1.Shed() {
		t.Fatal("s1 not shed")
	}
	// Everyone busy: the next is refused and closed.
	s6.Busy()
	c7, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c7.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	if !closedByServer(t, c7) {
		t.Fatal("the connection over the bound was not closed")
	}
	if got := value(t, m.refusedN.WithLabelValues("test")); got != 1 {
		t.Fatalf("refused metric = %v", got)
	}
	// A slot freed by Close admits the next one; a second Close frees nothing.
	_ = s2.Close()
	_ = s2.Close()
	c8, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c8.Close()
	s8 := (<-accepted).(*Conn)
	defer s8.Close()
	if l.n != 3 || s5.Shed() || s6.Shed() {
		t.Fatalf("open = %d, shed s5 %v s6 %v", l.n, s5.Shed(), s6.Shed())
	}
}

// TestTouch: the first touch proves a connection at once; later ones move
// it to the fresh end at most once per touchEvery.
func TestTouch(t *testing.T) {
	l, ln, _ := listen(t, 3)
	_, s1 := pair(t, ln)
	_, s2 := pair(t, ln)
	s1.Touch()
	s2.Touch()
	if !s1.proven || !s2.proven {
		t.Fatal("a first touch did not prove the connection")
	}
	s1.since.Store(time.Now().Add(-2 * touchEvery).UnixNano())
	s1.Touch() // moves: now fresher than s2
	if l.served.Back().Value.(*Conn) != s1 {
		t.Fatal("s1 is not at the fresh end after its touch")
	}
	s2.Touch() // within the throttle: stays
	if l.served.Back().Value.(*Conn) != s1 {
		t.Fatal("a throttled touch moved s2")
	}
}

// TestServeHTTPSlowloris: with every slot held by clients that trickle
// their headers or their body, a client with a whole request is served,
// and a request being served is never cut.
func TestServeHTTPSlowloris(t *testing.T) {
	l, ln, m := listen(t, 4)
	release := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-release
		}
		_, _ = io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, "served")
	})}
	ServeHTTP(srv, l)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	addr := ln.Addr().String()

	busy := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/slow")
		if err != nil {
			busy <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		busy <- string(b)
	}()
	waitFor(t, func() bool { return value(t, m.open.WithLabelValues("test")) == 1 })
	var loris []net.Conn
	for i := range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if i == 0 {
			// Headers whole, the body trickling.
			fmt.Fprint(c, "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nab")
		} else {
			fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: a\r\nX-Trickle: ")
		}
		loris = append(loris, c)
	}
	// All three wait for their client (the body's handler in its read).
	waitFor(t, func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.fresh.Len() == 3
	})
	for range 3 {
		getServed(t, addr)
	}
	for i, c := range loris {
		if !closedByServer(t, c) {
			t.Errorf("slow connection %d still open", i)
		}
	}
	close(release)
	if got := <-busy; got != "served" {
		t.Fatalf("the request being served was cut: %s", got)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestBudget(t *testing.T) {
	tests := []struct {
		fds, storeFiles, listeners int
		reserved, share            int
		warn                       string
	}{
		{fds: 20000, listeners: 5, reserved: 5000, share: 3000},
		{fds: 4096, storeFiles: 10, listeners: 2, reserved: 1024, share: 1536},
		{fds: 1024, storeFiles: 10, listeners: 2, reserved: 512, share: 256, warn: "to at least 1044"},
		{fds: 1048576, storeFiles: 3000, listeners: 1, reserved: 262144, share: 786432},
		{fds: 20000, storeFiles: 6000, listeners: 3, reserved: 6512, share: 4496},
		{fds: 2000, storeFiles: 900, listeners: 2, reserved: 1000, share: 500, warn: "raise the limit"},
	}
	for _, tc := range tests {
		b := NewBudget(tc.fds, tc.storeFiles, tc.listeners)
		if b.Reserved != tc.reserved || b.Share() != tc.share {
			t.Errorf("%+v: reserved %d share %d, want %d %d", tc, b.Reserved, b.Share(), tc.reserved, tc.share)
		}
		if w := b.Warning(b.Share() * tc.listeners); tc.warn == "" && w != "" || !strings.Contains(w, tc.warn) {
			t.Errorf("%+v: warning %q", tc, w)
		}
	}
	if w := NewBudget(20000, 0, 2).Warning(20000); !strings.Contains(w, "add up to 20000") {
		t.Errorf("over-configured: %q", w)
	}
	if fds, err := RaiseFDLimit(); err != nil || fds <= 0 {
		t.Errorf("RaiseFDLimit = %d, %v", fds, err)
	}
	// The store's default bound fits the reserve's floor, without a
	// warning, wherever the floor leaves room for it.
	for _, fds := range []int{4096, 20000, 1048576} {
		files := StoreFiles(fds)
		b := NewBudget(fds, files, 2)
		if b.Reserved != fds/4 || files+reserveSlack != fds/4 || b.Warning(b.Share()*2) != "" {
			t.Errorf("fds %d: store files %d, reserved %d, warning %q", fds, files, b.Reserved, b.Warning(b.Share()*2))
		}
	}
	if got := StoreFiles(1024); got != 64 {
		t.Errorf("StoreFiles(1024) = %d, want the floor of 64", got)
	}
}

// TestIdleWhile: requests whose handlers wait on purpose (IdleWhile) hold
// every slot, and a new client is served all the same: the waiting ones
// are shed.
func TestIdleWhile(t *testing.T) {
	l, ln, m := listen(t, 2)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/held" {
			busy := IdleWhile(r.Context())
			<-release
			busy()
		}
		fmt.Fprint(w, "served")
	})}
	ServeHTTP(srv, l)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	addr := ln.Addr().String()
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprint(c, "GET /held HTTP/1.1\r\nHost: a\r\n\r\n")
	}
	waitFor(t, func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.fresh.Len() == 2
	})
	getServed(t, addr)
	if n := value(t, m.shedN.WithLabelValues("test")); n != 1 {
		t.Errorf("%v connections shed, want one of the two held", n)
	}
}

// getServed asks addr for / on a connection of its own, kept open, and
// wants the answer "served".
func getServed(t *testing.T, addr string) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(client.CloseIdleConnections)
	resp, err := client.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "served" {
		t.Fatalf("answer %q", b)
	}
}

// TestShedPassesOverUnread: at the bound the connection shed is the
// longest idle unproven one, else proven one, whose client's bytes the
// server has read; one with bytes unread in its socket (a sender that
// wrote and closed before the server could read it) is passed over,
// unless its server holds it unread on purpose (IdleWhile) or every idle
// one has bytes unread; only when every one is busy is the new
// connection refused.
func TestShedPassesOverUnread(t *testing.T) {
	type conn struct {
		state  string // fresh, served, busy or held, set in this order
		unread bool   // its client sent bytes the server has not read
	}
	tests := []struct {
		name  string
		conns []conn
		shed  int // index in conns, -1 for the new one refused
	}{
		{"longest idle read", []conn{{"fresh", false}, {"fresh", false}}, 0},
		{"unread passed over", []conn{{"fresh", true}, {"fresh", false}}, 1},
		{"unproven before proven", []conn{{"served", false}, {"fresh", true}, {"fresh", false}}, 2},
		{"proven when every unproven is unread", []conn{{"served", true}, {"served", false}, {"fresh", true}}, 1},
		{"held shed unread", []conn{{"served", false}, {"held", true}}, 1},
		{"every one unread: the longest idle unproven", []conn{{"served", true}, {"busy", false}, {"fresh", true}, {"fresh", true}}, 2},
		{"every one unread or busy: the longest idle proven", []conn{{"busy", false}, {"served", true}, {"served", true}}, 1},
		{"every one busy: refused", []conn{{"busy", false}, {"busy", true}}, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, ln, m := listen(t, len(tc.conns))
			var server []*Conn
			for _, c := range tc.conns {
				client, s := pair(t, ln)
				if c.unread {
					if _, err := client.Write([]byte("<13>1 - - - - - - line\n")); err != nil {
						t.Fatal(err)
					}
					waitFor(t, func() bool { return unread(s.Conn) })
				}
				server = append(server, s)
			}
			// Idle order: the order of conns.
			for _, s := range server {
				s.Busy()
			}
			for i, c := range tc.conns {
				switch c.state {
				case "fresh":
					server[i].Idle()
				case "served":
					server[i].Served()
				case "held":
					server[i].hold()
				}
			}
			accepted := make(chan net.Conn, 1)
			go func() {
				c, _ := ln.Accept()
				accepted <- c
			}()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if tc.shed < 0 {
				if !closedByServer(t, c) {
					t.Fatal("the new connection was not refused")
				}
			} else {
				s := (<-accepted).(*Conn)
				defer s.Close()
			}
			for i, s := range server {
				if s.Shed() != (i == tc.shed) {
					t.Errorf("conn %d (%+v): shed %v, want %v", i, tc.conns[i], s.Shed(), i == tc.shed)
				}
			}
			if l.n != len(tc.conns) {
				t.Errorf("open = %d, want %d", l.n, len(tc.conns))
			}
			if got := value(t, m.refusedN.WithLabelValues("test")); got != float64(min(0, tc.shed)*-1) {
				t.Errorf("refused metric = %v", got)
			}
		})
	}
}
