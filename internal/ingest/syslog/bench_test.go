package syslog

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

func BenchmarkParse(b *testing.B) {
	now := time.Now()
	for _, tc := range []struct{ name, msg string }{
		{"rfc5424", `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 1234 ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] An application event log entry`},
		{"rfc3164", `<13>Oct 11 22:14:15 web-01.example.com nginx[1234]: 10.0.0.1 - - "GET /index.html HTTP/1.1" 200 512`},
	} {
		b.Run(tc.name, func(b *testing.B) {
			conv := newConverter([]string{"hostname", "app_name"}, "", nil)
			buf := []byte(tc.msg)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				m, err := ParseBytes(buf, now, time.UTC)
				if err != nil {
					b.Fatal(err)
				}
				_ = conv.record(&m, now)
			}
		})
	}
}

// countSink counts records and signals when it has seen want of them.
type countSink struct {
	n    atomic.Int64
	want int64
	done chan struct{}
}

func (s *countSink) Ingest(_ context.Context, recs []record.Record) error {
	if s.n.Add(int64(len(recs))) == s.want {
		close(s.done)
	}
	return nil
}

// BenchmarkStreamTCP measures records/s through a real TCP connection:
// octet-counted framing, parsing, conversion and batching.
func BenchmarkStreamTCP(b *testing.B) {
	msg := `<165>1 2026-11-25T17:07:17.123456Z web-01.example.com nginx 1234 - [req@1 id="42"] 10.0.0.1 - - "GET /index.html HTTP/1.1" 200 512`
	frame := []byte(fmt.Sprintf("%d %s", len(msg), msg))
	sink := &countSink{want: int64(b.N), done: make(chan struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	s := NewStreamServer(ln, nil, sink, Config{StreamFields: []string{"hostname", "app_name"}}, nil, quietLog())
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(c, 64<<10)
	b.SetBytes(int64(len(frame)))
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if _, err := w.Write(frame); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	<-sink.done
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
	b.StopTimer()
	c.Close()
	cancel()
	<-served
}
