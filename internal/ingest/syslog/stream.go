package syslog

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/sluice-log/sluice/internal/connlimit"
	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/tenant"
)

// StreamServer receives syslog over TCP or, when its listener is a
// tls.Listener, over TLS (RFC 5425). Every connection has its own batcher,
// so a slow or hostile client only ever stalls itself.
type StreamServer struct {
	ln        net.Listener
	transport string
	sink      ingest.Sink
	cfg       Config
	conv      converter
	m         *Metrics
	log       *slog.Logger

	mu    sync.Mutex
	conns map[net.Conn]struct{}

	warnTooLong, warnInvalid warnLimiter
}

// NewStreamServer serves ln, a TCP listener: plain TCP when tlsCfg is nil,
// else TLS only (RFC 5425). Its connections are bounded by
// cfg.MaxConnections (see connlimit.Limiter: at the bound a new
// connection displaces the one that sent no whole message for the
// longest).
func NewStreamServer(ln net.Listener, tlsCfg *tls.Config, sink ingest.Sink, cfg Config, m *Metrics, log *slog.Logger) *StreamServer {
	cfg = cfg.withDefaults()
	transport := "tcp"
	if tlsCfg != nil {
		transport = "tls"
	}
	ln = connlimit.New(connlimit.Options{Name: "syslog_" + transport, Max: cfg.MaxConnections}, m.connMetrics()).Listener(ln)
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
	}
	return &StreamServer{ln: ln, transport: transport, sink: sink, cfg: cfg,
		conv: newConverter(cfg.StreamFields, cfg.Tenant, cfg.Window), m: m, log: log,
		conns: map[net.Conn]struct{}{}}
}

// Addr is the listening address.
func (s *StreamServer) Addr() string { return s.transport + "://" + s.ln.Addr().String() }

// Close closes the listener of a server that is not serving.
func (s *StreamServer) Close() error { return s.ln.Close() }

// Serve accepts connections until ctx is cancelled; then it stops
// accepting, reads what connections already sent for a short grace period,
// flushes their batches and returns.
func (s *StreamServer) Serve(ctx context.Context) error {
	flushCtx, cancelFlush := drainContext(ctx, s.cfg.DrainTimeout)
	defer cancelFlush()
	stopped := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(stopped)
	go func() {
		select {
		case <-ctx.Done():
		case <-stopped:
			return
		}
		_ = s.ln.Close()
		s.mu.Lock()
		for c := range s.conns {
			_ = c.SetReadDeadline(time.Now().Add(drainGrace))
		}
		s.mu.Unlock()
	}()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			// Out of file descriptors and the like: wait and go on.
			s.log.Warn("accept syslog connection", "err", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.handle(ctx, flushCtx, conn)
		}()
	}
}

func (s *StreamServer) track(c net.Conn, add bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		s.conns[c] = struct{}{}
	} else {
		delete(s.conns, c)
	}
}

// handle runs one connection: this goroutine reads and parses, a second
// one batches and writes to the sink.
func (s *StreamServer) handle(ctx, flushCtx context.Context, conn net.Conn) {
	defer conn.Close()
	s.track(conn, true)
	defer s.track(conn, false)
	s.m.connOpened(s.transport, 1)
	defer s.m.connOpened(s.transport, -1)
	log := s.log.With("remote", conn.RemoteAddr().String(), "transport", s.transport)

	if tc, ok := conn.(*tls.Conn); ok {
		_ = conn.SetDeadline(time.Now().Add(s.cfg.ReadTimeout))
		if err := tc.HandshakeContext(ctx); err != nil {
			s.m.closed(s.transport, "tls_handshake")
			log.Debug("syslog TLS handshake failed", "err", err)
			return
		}
	}
	tnt, err := s.certTenant(conn)
	if err != nil {
		s.m.closed(s.transport, "tenant")
		log.Warn("syslog connection refused", "err", err)
		if s.cfg.Refused != nil {
			s.cfg.Refused(conn.RemoteAddr().String(), tnt, err)
		}
		return
	}
	b := newBatcher(s.sink, s.cfg, s.m, log, 1)
	wrote := make(chan error, 1)
	go func() {
		err := b.run(flushCtx)
		if err != nil {
			_ = conn.Close() // unblocks the reader
		}
		wrote <- err
	}()
	rerr := s.read(ctx, conn, b, tnt)
	close(b.in)
	if werr := <-wrote; werr != nil {
		log.Error("syslog connection closed: records could not be stored", "err", werr)
		return
	}
	switch {
	case rerr == nil:
	case connlimit.IsShed(conn, rerr):
		s.m.closed(s.transport, "shed")
		log.Debug("syslog connection shed for a newer one: it sent no whole message for the longest at syslog.max_connections")
	case errors.Is(rerr, ErrFraming):
		s.m.closed(s.transport, "framing")
		log.Warn("syslog connection closed: broken framing", "err", rerr)
	case errors.Is(rerr, os.ErrDeadlineExceeded):
		s.m.closed(s.transport, "read_timeout")
		log.Debug("syslog connection closed after read_timeout", "read_timeout", s.cfg.ReadTimeout)
	default:
		s.m.closed(s.transport, "read_error")
		log.Debug("syslog connection ended", "err", rerr)
	}
}

// certTenant is the tenant of a connection's records with
// TenantFromCert: its client certificate's CN, which must be a valid
// tenant name.
func (s *StreamServer) certTenant(conn net.Conn) (string, error) {
	if !s.cfg.TenantFromCert {
		return "", nil
	}
	tc, ok := conn.(*tls.Conn)
	if !ok {
		return "", errors.New("the tenant comes from a client certificate, and this connection is not TLS")
	}
	certs := tc.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return "", errors.New("no client certificate: set syslog.tls.client_ca_file")
	}
	cn := certs[0].Subject.CommonName
	if cn == "" {
		return "", errors.New("the client certificate has no CN to take the tenant from")
	}
	if err := tenant.Check(cn); err != nil {
		return cn, fmt.Errorf("client certificate's CN: %w", err)
	}
	return cn, nil
}

// read parses frames into chunks of records for b. It sends a chunk
// whenever the next read may block, so that a quiet sender's records are
// not held back, and returns nil at the end of the stream or of the
// shutdown grace.
func (s *StreamServer) read(ctx context.Context, conn net.Conn, b *batcher, tnt string) error {
	fr := newFrameReader(conn, s.cfg.MaxMessageBytes)
	var chunk []record.Record
	nbytes := 0
	// The connection moves to the fresh end of its listener's idle list
	// with each whole message, and is not shed while its records wait for
	// the sink (unread data in its socket would be lost).
	lc := connlimit.Of(conn)
	sendChunk := func() bool {
		s.m.bytes(nbytes)
		nbytes = 0
		if len(chunk) == 0 {
			return true
		}
		lc.Busy()
		ok := b.send(chunk)
		lc.Served()
		chunk = nil
		return ok
	}
	var deadlineSet time.Time
	for {
		now := time.Now()
		if fr.Buffered() == 0 {
			if !sendChunk() {
				return nil // the writer failed and reports it
			}
			now = time.Now()
		}
		// Moving the deadline costs a timer update; doing it every few
		// seconds keeps an active connection open all the same.
		if now.Sub(deadlineSet) > s.cfg.ReadTimeout/8 && ctx.Err() == nil {
			deadlineSet = now
			_ = conn.SetReadDeadline(now.Add(s.cfg.ReadTimeout))
			if ctx.Err() != nil { // lost a race with Serve's shutdown
				_ = conn.SetReadDeadline(now.Add(drainGrace))
			}
		}
		frame, err := fr.Next()
		if errors.Is(err, ingest.ErrLineTooLong) {
			s.m.rejected(ingest.RejectReason(err), 1)
			s.warnTooLong.warn(s.log, "syslog message skipped", "remote", conn.RemoteAddr().String(), "err", err)
			continue
		}
		if err != nil {
			sendChunk()
			if err == io.EOF || (ctx.Err() != nil && errors.Is(err, os.ErrDeadlineExceeded)) {
				return nil
			}
			return err
		}
		nbytes += len(frame)
		rec, reason, err := s.conv.parse(frame, now, s.cfg.Location)
		if err != nil {
			s.m.rejected(reason, 1)
			s.warnInvalid.warn(s.log, "syslog message rejected", "remote", conn.RemoteAddr().String(), "err", err)
			continue
		}
		if s.cfg.TenantFromCert {
			rec.Tenant = tnt
		}
		chunk = append(chunk, rec)
		if len(chunk) >= s.cfg.BatchRecords && !sendChunk() {
			return nil
		}
	}
}
