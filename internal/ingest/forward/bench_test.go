package forward

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

// countSink counts records and keeps nothing.
type countSink struct{ n int }

func (s *countSink) Ingest(_ context.Context, recs []record.Record) error {
	s.n += len(recs)
	return nil
}

// BenchmarkForwardPackedForward measures records/s from a PackedForward
// message of 1,000 Docker-shaped records on the wire, through framing,
// decoding and conversion, to the sink, and back with its ack.
func BenchmarkForwardPackedForward(b *testing.B) {
	const perMsg = 1000
	var entries []byte
	for i := range perMsg {
		entries = append(entries, mp{}.arr(2).eventTime(sec, uint32(i)).mapN(4).
			kv("container_id", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef").
			kv("container_name", "/web").kv("source", "stdout").
			kv("log", fmt.Sprintf("10.0.0.%d - - \"GET /api/items/%d HTTP/1.1\" 200 512 \"-\" \"curl/8.0\"", i%256, i))...)
	}
	msg := mp{}.arr(3).str("docker.web").bin(entries).mapN(2).str("size").u32(perMsg).kv("chunk", "bench-chunk")
	ack := appendAck(nil, "bench-chunk")

	sink := &countSink{}
	srv, err := Listen(Config{Addr: "127.0.0.1:0", MaxMessageBytes: 16 << 20}, sink, nil, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	c, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, len(ack))
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for range b.N {
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := readFull(c, buf); err != nil || string(buf) != string(ack) {
			b.Fatalf("ack %q: %v", buf, err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*perMsg)/b.Elapsed().Seconds(), "records/s")
	c.Close()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	if sink.n != b.N*perMsg {
		b.Fatalf("sink got %d records, want %d", sink.n, b.N*perMsg)
	}
}

// BenchmarkDecodePackedForward is the decoder alone on the same message.
func BenchmarkDecodePackedForward(b *testing.B) {
	var entries []byte
	for i := range 1000 {
		entries = append(entries, mp{}.arr(2).eventTime(sec, uint32(i)).mapN(3).
			kv("container_name", "/web").kv("source", "stdout").kv("log", fmt.Sprintf("line %d", i))...)
	}
	msg := mp{}.arr(2).str("docker.web").bin(entries)
	d := newDecoder(16<<20, 0, nil)
	b.SetBytes(int64(len(msg)))
	var out []record.Record
	for range b.N {
		var err error
		if out, _, err = d.decode(msg, out[:0]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "records/s")
}

func readFull(c net.Conn, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := c.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
