package forward

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

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/connlimit"
	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
)

const protocol = "forward"

// Config configures a Server.
type Config struct {
	// Addr is the TCP listen address; the UDP heartbeat uses the same one.
	Addr string
	// TLS, when set, makes the TCP listener speak TLS only.
	TLS *tls.Config
	// SharedKey, when set, requires the HELO/PING/PONG handshake.
	SharedKey string
	// Users (username -> password) additionally authenticate clients in
	// the handshake; they need SharedKey.
	Users map[string]string
	// UserTenants (username -> tenant) is the tenant of each user's
	// records (Fluentd's <user> per team); a user without an entry, or no
	// user authentication, writes into the default tenant.
	UserTenants map[string]string
	// Refused, when set, is told of every client that failed the
	// handshake (for the audit trail).
	Refused func(remote, user string, err error)
	// Hostname is the server's name in PONG; empty: os.Hostname.
	Hostname string
	// MaxMessageBytes bounds one message and the decompressed entries of a
	// CompressedPackedForward message.
	MaxMessageBytes int
	// MaxConnections bounds concurrent connections; 0: no bound. At the
	// bound a new connection displaces the one idle the longest (see
	// connlimit.Limiter).
	MaxConnections int
	// ReadTimeout closes a connection idle this long; 0: never.
	ReadTimeout time.Duration
	// MaxFieldsPerRecord rejects records with more fields; 0: no bound.
	MaxFieldsPerRecord int
	// Window rejects (or stamps) records whose time is outside it; nil
	// accepts every time.
	Window *ingest.TimeWindow
	// ShutdownGrace bounds how long batches in flight (including ones
	// waiting out backpressure) may take once Serve's context is done.
	ShutdownGrace time.Duration
	// InFlight bounds the bytes of messages being decoded and stored,
	// together with the other receivers'; a connection waits (reading
	// nothing more) while it is full. nil: no bound.
	InFlight *ingest.InFlight
}

// Batching bounds: messages already buffered on a connection are decoded
// into one Ingest call (one fsync) up to these.
const (
	maxBatchRecords    = 10_000
	defaultGrace       = 10 * time.Second
	writeTimeout       = 30 * time.Second
	defaultRetry       = 100 * time.Millisecond
	maxBackpressureGap = 5 * time.Second
)

// Server is the forward protocol listener.
type Server struct {
	cfg     Config
	sink    ingest.Sink
	metrics *ingest.Metrics
	conns   *connMetrics
	log     *slog.Logger
	auth    *auth

	ln  net.Listener
	udp net.PacketConn

	// ingestCtx outlives Serve's context by ShutdownGrace, so that batches
	// in flight at shutdown can finish.
	ingestCtx    context.Context
	cancelIngest context.CancelFunc
	stopping     chan struct{}

	mu   sync.Mutex
	open map[net.Conn]struct{}
	wg   sync.WaitGroup
}

// Listen binds the TCP listener and the UDP heartbeat socket on cfg.Addr.
func Listen(cfg Config, sink ingest.Sink, metrics *ingest.Metrics, reg prometheus.Registerer, log *slog.Logger) (*Server, error) {
	if cfg.MaxMessageBytes <= 0 {
		return nil, fmt.Errorf("forward: max message bytes must be positive")
	}
	if len(cfg.Users) > 0 && cfg.SharedKey == "" {
		return nil, fmt.Errorf("forward: users need a shared key")
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = defaultGrace
	}
	if cfg.Hostname == "" {
		cfg.Hostname, _ = os.Hostname()
	}
	cm, err := newConnMetrics(reg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("forward: listen on tcp %s: %w (set forward.addr, or forward.enabled: false)", cfg.Addr, err)
	}
	// The heartbeat shares the port actually bound (Addr may say port 0).
	udp, err := net.ListenPacket("udp", ln.Addr().String())
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("forward: listen on udp %s for heartbeats: %w", ln.Addr(), err)
	}
	ln = connlimit.New(connlimit.Options{Name: protocol, Max: cfg.MaxConnections}, connlimit.NewMetrics(reg)).Listener(ln)
	if cfg.TLS != nil {
		ln = tls.NewListener(ln, cfg.TLS)
	}
	s := &Server{
		cfg: cfg, sink: sink, metrics: metrics, conns: cm, log: log,
		ln: ln, udp: udp, stopping: make(chan struct{}), open: map[net.Conn]struct{}{},
	}
	if cfg.SharedKey != "" {
		s.auth = &auth{sharedKey: cfg.SharedKey, users: cfg.Users, hostname: cfg.Hostname}
	}
	s.ingestCtx, s.cancelIngest = context.WithCancel(context.Background())
	return s, nil
}

// Addr is the TCP address listened on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close releases the sockets of a server whose Serve was never called.
func (s *Server) Close() error {
	s.cancelIngest()
	return errors.Join(s.ln.Close(), s.udp.Close())
}

// Serve accepts clients until ctx is done; then it stops accepting, lets
// batches in flight finish (up to ShutdownGrace), closes every connection
// and returns nil.
func (s *Server) Serve(ctx context.Context) error {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.heartbeat()
	}()
	stopped := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-stopped:
		}
		s.shutdown()
	}()
	var err error
	for {
		var conn net.Conn
		conn, err = s.ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			break
		}
		if err != nil {
			// Running out of file descriptors passes; keep serving the
			// connections that are open and try again shortly.
			s.log.Warn("forward accept failed", "err", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if !s.track(conn) {
			conn.Close()
			break
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.untrack(conn)
			s.serveConn(conn)
		}()
	}
	close(stopped)
	s.wg.Wait()
	s.cancelIngest()
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("forward: accept: %w", err)
}

// shutdown stops accepting and reading; in-flight batches get ShutdownGrace.
func (s *Server) shutdown() {
	s.mu.Lock()
	close(s.stopping)
	for c := range s.open {
		// Wakes a connection blocked in Read; one that is ingesting sees
		// stopping before its next read.
		_ = c.SetReadDeadline(time.Now())
	}
	s.mu.Unlock()
	_ = s.ln.Close()
	_ = s.udp.Close()
	time.AfterFunc(s.cfg.ShutdownGrace, s.cancelIngest)
}

func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.stopping:
		return false
	default:
	}
	s.open[c] = struct{}{}
	s.conns.accepted.Inc()
	s.conns.open.Inc()
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.open, c)
	s.mu.Unlock()
	s.conns.open.Dec()
	c.Close()
}

// serveConn reads messages, ingests them in batches and acknowledges them,
// until the client goes, misbehaves or the server stops.
func (s *Server) serveConn(conn net.Conn) {
	log := s.log.With("remote", conn.RemoteAddr().String())
	if tc, ok := conn.(*tls.Conn); ok {
		hctx, cancel := context.WithTimeout(s.ingestCtx, writeTimeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			s.conns.refused.WithLabelValues("tls").Inc()
			log.Warn("forward TLS handshake failed", "err", err)
			return
		}
	}
	fr := newFrameReader(conn, s.cfg.MaxMessageBytes, s.cfg.ReadTimeout, s.stopping)
	var tenant string
	if s.auth != nil {
		user, err := s.auth.handshake(conn, fr, writeTimeout)
		if err != nil {
			s.conns.refused.WithLabelValues("auth_failed").Inc()
			log.Warn("forward handshake failed", "err", err)
			if s.cfg.Refused != nil {
				s.cfg.Refused(conn.RemoteAddr().String(), user, err)
			}
			return
		}
		tenant = s.cfg.UserTenants[user]
	}
	dec := newDecoder(s.cfg.MaxMessageBytes, s.cfg.MaxFieldsPerRecord, s.cfg.Window)
	var acks []byte
	// pending is a message taken from the buffer that did not fit in the
	// bytes in flight with the batch before it: it starts the next batch.
	var pending []byte
	// The connection is idle (may be shed for a newer one) while it waits
	// for a whole message, and busy from then until its batch is stored
	// and acknowledged: then it has proven itself (see connlimit.Limiter).
	lc := connlimit.Of(conn)
	for {
		msg, err := pending, error(nil)
		pending = nil
		if msg == nil {
			msg, err = fr.next()
		}
		if err != nil {
			s.closeReason(log, conn, err, fr)
			return
		}
		lc.Busy()
		// Holding nothing, wait for room: meanwhile this connection reads
		// nothing more, and its client's socket buffer fills.
		held, aerr := s.cfg.InFlight.Acquire(s.ingestCtx, protocol, int64(len(msg)))
		if aerr != nil {
			s.closeReason(log, conn, aerr, fr)
			return
		}
		var batch []record.Record
		var chunks []string
		batch, chunks, err = s.decodeOne(dec, msg, batch, chunks)
		// Messages that already arrived join this batch: one Ingest (one
		// fsync) for many small Message-mode events.
		for err == nil && len(batch) < maxBatchRecords {
			var ok bool
			if msg, ok, err = fr.buffered(); !ok || err != nil {
				break
			}
			if !held.TryGrow(int64(len(msg))) {
				pending = msg
				break
			}
			batch, chunks, err = s.decodeOne(dec, msg, batch, chunks)
		}
		s.metrics.Bytes(protocol, fr.read)
		fr.read = 0
		// The protocol has no way to refuse one record: the client's chunk
		// is acknowledged, the refused records are counted and logged.
		if rerr := dec.takeRejected(func(reason string, n int) { s.metrics.Rejected(protocol, reason, n) }); rerr != nil {
			log.Debug("forward records rejected", "first_err", rerr)
		}
		if len(batch) > 0 {
			for i := range batch {
				batch[i].Tenant = tenant
			}
			if ierr := s.ingest(batch); ierr != nil {
				held.Release()
				s.conns.closed.WithLabelValues("sink_error").Inc()
				log.Error("forward batch not stored; closing the connection without acknowledging it", "records", len(batch), "err", ierr)
				return
			}
		}
		held.Release()
		if len(chunks) > 0 {
			acks = acks[:0]
			for _, c := range chunks {
				acks = appendAck(acks, c)
			}
			if werr := write(conn, acks, writeTimeout); werr != nil {
				s.conns.closed.WithLabelValues("write_error").Inc()
				log.Warn("forward ack not delivered", "err", werr)
				return
			}
		}
		if err != nil {
			// A bad message after good ones: those were stored and
			// acknowledged above; the connection ends here.
			s.closeReason(log, conn, err, fr)
			return
		}
		lc.Served()
	}
}

// decodeOne decodes one message into the batch. A malformed message leaves
// none of its records in the batch.
func (s *Server) decodeOne(dec *decoder, msg []byte, batch []record.Record, chunks []string) ([]record.Record, []string, error) {
	n := len(batch)
	batch, chunk, err := dec.decode(msg, batch)
	if err != nil {
		return batch[:n], chunks, err
	}
	if chunk != "" {
		chunks = append(chunks, chunk)
	}
	return batch, chunks, nil
}

// ingest hands the batch to the sink, waiting out backpressure for as long
// as it lasts: meanwhile nothing more is read from this connection, so the
// client's socket buffer fills and it slows down.
func (s *Server) ingest(batch []record.Record) error {
	for {
		err := s.sink.Ingest(s.ingestCtx, batch)
		if err == nil {
			s.metrics.Records(protocol, len(batch))
			return nil
		}
		bp, ok := ingest.IsBackpressure(err)
		if !ok {
			return err
		}
		s.conns.backpressure.Inc()
		wait := min(max(bp.RetryAfter, defaultRetry), maxBackpressureGap)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-s.ingestCtx.Done():
			t.Stop()
			return fmt.Errorf("gave up waiting out backpressure at shutdown: %w", err)
		}
	}
}

// closeReason counts and logs why a connection ended.
func (s *Server) closeReason(log *slog.Logger, conn net.Conn, err error, fr *frameReader) {
	var ne net.Error
	switch {
	case connlimit.IsShed(conn, err):
		s.conns.closed.WithLabelValues("shed").Inc()
		log.Debug("forward connection shed for a newer one: it was idle the longest at forward.max_connections")
	case errors.Is(err, io.EOF):
		s.conns.closed.WithLabelValues("eof").Inc()
	case errors.Is(err, errStopping), errors.Is(err, net.ErrClosed):
		s.conns.closed.WithLabelValues("shutdown").Inc()
	case errors.As(err, &ne) && ne.Timeout():
		select {
		case <-s.stopping:
			s.conns.closed.WithLabelValues("shutdown").Inc()
		default:
			s.conns.closed.WithLabelValues("idle").Inc()
		}
	case errors.Is(err, errTruncated):
		s.conns.closed.WithLabelValues("truncated").Inc()
		log.Warn("forward client closed the connection in the middle of a message", "buffered_bytes", fr.end-fr.start)
	case errors.Is(err, errMalformed), errors.Is(err, errTooLarge), errors.Is(err, errCompression),
		errors.Is(err, errTooDeep), errors.Is(err, errBadByte):
		r := reason(err)
		s.conns.closed.WithLabelValues(r).Inc()
		s.metrics.Rejected(protocol, r, 1)
		log.Warn("forward message rejected; closing the connection", "reason", r, "err", err)
	default:
		s.conns.closed.WithLabelValues("read_error").Inc()
		log.Debug("forward connection read failed", "err", err)
	}
}

// heartbeat answers UDP pings on the listener's port with one zero byte,
// as Fluentd's in_forward does, so that out_forward's heartbeat sees the
// node alive.
func (s *Server) heartbeat() {
	buf := make([]byte, 1024)
	for {
		_, addr, err := s.udp.ReadFrom(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.log.Warn("forward heartbeat socket failed", "err", err)
			}
			return
		}
		if _, err := s.udp.WriteTo([]byte{0}, addr); err == nil {
			s.conns.heartbeats.Inc()
		}
	}
}
