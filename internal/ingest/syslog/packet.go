package syslog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
)

// udpQueueChunks is how many datagrams may wait for the batcher; beyond it
// datagrams are dropped and counted. It covers a few batches, so short
// sink stalls lose nothing.
const udpQueueChunks = 4 * DefaultBatchRecords

// PacketServer receives syslog over UDP, one message per datagram. UDP
// cannot push back on a sender, so when the sink does, datagrams that do
// not fit in the queue are dropped, counted and warned about.
type PacketServer struct {
	pc   net.PacketConn
	sink ingest.Sink
	cfg  Config
	conv converter
	m    *Metrics
	log  *slog.Logger

	warnDrop, warnInvalid warnLimiter
}

// NewPacketServer serves pc.
func NewPacketServer(pc net.PacketConn, sink ingest.Sink, cfg Config, m *Metrics, log *slog.Logger) *PacketServer {
	cfg = cfg.withDefaults()
	return &PacketServer{pc: pc, sink: sink, cfg: cfg, conv: newConverter(cfg.StreamFields, cfg.Tenant, cfg.Window), m: m, log: log}
}

// Addr is the listening address.
func (s *PacketServer) Addr() string { return "udp://" + s.pc.LocalAddr().String() }

// Close closes the socket of a server that is not serving.
func (s *PacketServer) Close() error { return s.pc.Close() }

// Serve reads datagrams until ctx is cancelled, then flushes and returns.
func (s *PacketServer) Serve(ctx context.Context) error {
	flushCtx, cancelFlush := drainContext(ctx, s.cfg.DrainTimeout)
	defer cancelFlush()
	b := newBatcher(s.sink, s.cfg, s.m, s.log, udpQueueChunks)
	wrote := make(chan error, 1)
	go func() { wrote <- s.write(flushCtx, b) }()
	stop := context.AfterFunc(ctx, func() { _ = s.pc.SetReadDeadline(time.Now()) })
	defer stop()

	rerr := s.read(ctx, b)
	close(b.in)
	werr := <-wrote
	_ = s.pc.Close()
	return errors.Join(rerr, werr)
}

// write runs the batcher for as long as the server runs: a sink failure
// drops that batch (UDP has no one to tell) and batching goes on.
func (s *PacketServer) write(ctx context.Context, b *batcher) error {
	for {
		err := b.run(ctx)
		if err == nil {
			return nil
		}
		s.log.Error("syslog UDP records dropped", "err", err)
		if ctx.Err() != nil {
			return nil
		}
		b.done = make(chan struct{})
	}
}

func (s *PacketServer) read(ctx context.Context, b *batcher) error {
	// One byte more than the limit tells an oversized datagram from one
	// that fits exactly.
	buf := make([]byte, s.cfg.MaxMessageBytes+1)
	for {
		n, addr, err := s.pc.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("read syslog datagram: %w", err)
		}
		s.m.bytes(n)
		if n > s.cfg.MaxMessageBytes {
			s.m.rejected(ingest.RejectReason(ingest.ErrLineTooLong), 1)
			s.warnInvalid.warn(s.log, "syslog datagram dropped: over max_message_bytes", "remote", addr.String(), "max_message_bytes", s.cfg.MaxMessageBytes)
			continue
		}
		now := time.Now()
		rec, reason, err := s.conv.parse(buf[:n], now, s.cfg.Location)
		if err != nil {
			s.m.rejected(reason, 1)
			s.warnInvalid.warn(s.log, "syslog datagram rejected", "remote", addr.String(), "err", err)
			continue
		}
		if !b.offer([]record.Record{rec}) {
			s.m.rejected(reasonDropped, 1)
			s.warnDrop.warn(s.log, "syslog datagrams dropped: the sink is pushing back and UDP cannot; use TCP to avoid losses")
		}
	}
}
