package otlp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	// Registers the gzip decompressor: the Collector's otlp exporter
	// compresses with gzip by default.
	_ "google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/sluice-log/sluice/internal/connlimit"
	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/tenant"
)

// tenantMetadata is the gRPC metadata key of the tenant: the HTTP header's
// name, lowercased as gRPC metadata keys are.
const tenantMetadata = "x-scope-orgid"

// handshakeTimeout bounds a new connection's TLS and HTTP/2 handshake;
// maxConnIdle closes a connection without a call for this long.
const (
	handshakeTimeout = 10 * time.Second
	maxConnIdle      = 5 * time.Minute
)

// stopTimeout bounds how long Serve waits for running exports after its
// context ended before it cuts them off.
const stopTimeout = 10 * time.Second

// GRPCServer serves LogsService/Export on its own listener.
type GRPCServer struct {
	srv *grpc.Server
	ln  net.Listener
	log *slog.Logger
}

// ListenGRPC binds addr and returns the server for it; tlsCfg nil serves
// plaintext. Requests over cfg.MaxMessageBytes (decompressed) are refused
// with ResourceExhausted by gRPC itself. Under backpressure Export answers
// Unavailable with a RetryInfo, which OTLP exporters retry after its delay.
func ListenGRPC(addr string, tlsCfg *tls.Config, sink ingest.Sink, cfg Config, m *ingest.Metrics, log *slog.Logger) (*GRPCServer, error) {
	exp := newExporter(sink, cfg, m, log)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for OTLP gRPC on %s: %w", addr, err)
	}
	// gRPC has no hook for a connection's idle time, so data read is its
	// activity; one that opens a connection and sends nothing is cut at
	// the handshake timeout, and one idle past maxConnIdle is told to go
	// away (clients reconnect when they next export).
	ln = connlimit.New(connlimit.Options{Name: "otlp_grpc", Max: cfg.MaxConnections, TouchOnRead: true}, cfg.ConnMetrics).Listener(ln)
	opts := []grpc.ServerOption{grpc.MaxRecvMsgSize(int(cfg.MaxMessageBytes)),
		grpc.ConnectionTimeout(handshakeTimeout), grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: maxConnIdle})}
	if cfg.InFlight.Limit() > 0 {
		// Refused before gRPC reads and decodes the message, while the
		// bytes in flight are at their bound.
		opts = append(opts, grpc.InTapHandle(func(ctx context.Context, _ *tap.Info) (context.Context, error) {
			if cfg.InFlight.Full() {
				cfg.InFlight.Refused(ProtocolGRPC)
				return nil, inFlightFull(cfg.InFlight)
			}
			return ctx, nil
		}))
	}
	if tlsCfg != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(tlsCfg)))
	}
	srv := grpc.NewServer(opts...)
	collogspb.RegisterLogsServiceServer(srv, &logsService{exp: exp, inFlight: cfg.InFlight, authorize: cfg.Authorize})
	return &GRPCServer{srv: srv, ln: ln, log: exp.log}, nil
}

// Addr is the address listened on.
func (s *GRPCServer) Addr() string { return s.ln.Addr().String() }

// Serve answers clients until ctx ends, then lets running exports finish
// (for at most stopTimeout) and returns nil.
func (s *GRPCServer) Serve(ctx context.Context) error {
	served := make(chan error, 1)
	go func() { served <- s.srv.Serve(s.ln) }()
	select {
	case err := <-served:
		if err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			return fmt.Errorf("serve OTLP gRPC on %s: %w", s.Addr(), err)
		}
		return nil
	case <-ctx.Done():
	}
	stopped := make(chan struct{})
	go func() { s.srv.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(stopTimeout):
		s.log.Warn("OTLP gRPC exports still running at the stop timeout were cut off", "timeout", stopTimeout)
		s.srv.Stop()
		<-stopped
	}
	<-served
	return nil
}

// Close stops the server at once; for a server that never served.
func (s *GRPCServer) Close() error {
	s.srv.Stop()
	return s.ln.Close()
}

type logsService struct {
	collogspb.UnimplementedLogsServiceServer
	exp       *exporter
	inFlight  *ingest.InFlight
	authorize func(authorization, asked, remote string) (string, int, error)
}

func (s *logsService) Export(ctx context.Context, req *collogspb.ExportLogsServiceRequest) (*collogspb.ExportLogsServiceResponse, error) {
	start := time.Now()
	tenant, err := s.tenant(ctx)
	if err != nil {
		s.exp.m.Request(ProtocolGRPC, http.StatusUnauthorized, time.Since(start))
		return nil, err
	}
	size := int64(proto.Size(req))
	s.exp.m.Bytes(ProtocolGRPC, size)
	// gRPC decoded the request already; what is bounded is its conversion
	// into records, which takes as much again, while others hold theirs.
	held, ok := s.inFlight.TryAcquire(ProtocolGRPC, size)
	if !ok {
		s.exp.m.Request(ProtocolGRPC, http.StatusTooManyRequests, time.Since(start))
		return nil, inFlightFull(s.inFlight)
	}
	defer held.Release()
	resp, err := s.exp.export(ctx, ProtocolGRPC, req, tenant, start)
	code := http.StatusOK
	if err != nil {
		var retryAfter int
		code, retryAfter = ingest.SinkFailure(err)
		err = unavailable(err, retryAfter)
	}
	// The request counter's code label is HTTP's, for one vocabulary
	// across receivers.
	s.exp.m.Request(ProtocolGRPC, code, time.Since(start))
	return resp, err
}

// tenant decides an export's tenant from its metadata.
func (s *logsService) tenant(ctx context.Context) (string, error) {
	var authz, asked, remote string
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get(tenantMetadata); len(v) > 0 {
			asked = v[0]
		}
		if v := md.Get("authorization"); len(v) > 0 {
			authz = v[0]
		}
	}
	if s.authorize == nil {
		if err := tenant.Check(asked); err != nil {
			return "", status.Errorf(codes.InvalidArgument, "metadata %s: %v", tenantMetadata, err)
		}
		return asked, nil
	}
	if p, ok := peer.FromContext(ctx); ok {
		remote = p.Addr.String()
	}
	t, code, err := s.authorize(authz, asked, remote)
	switch {
	case err == nil:
		return t, nil
	case code == http.StatusForbidden:
		return "", status.Error(codes.PermissionDenied, err.Error())
	}
	return "", status.Error(codes.Unauthenticated, err.Error())
}

// inFlightFull is the gRPC error of a request refused because the bytes
// in flight are at their bound: Unavailable with a RetryInfo, which the
// OTLP specification has exporters retry.
func inFlightFull(b *ingest.InFlight) error {
	return unavailable(fmt.Errorf("%w: the server holds %d of its %d bytes of requests in flight (ingest.max_in_flight_bytes)",
		ingest.ErrInFlightFull, b.Used(), b.Limit()), 1)
}

// unavailable is the gRPC error for a sink failure: Unavailable, which
// OTLP exporters retry, with the delay to wait when there is one.
func unavailable(err error, retryAfterSeconds int) error {
	st := status.New(codes.Unavailable, err.Error())
	if retryAfterSeconds > 0 {
		d := durationpb.New(time.Duration(retryAfterSeconds) * time.Second)
		if withInfo, derr := st.WithDetails(&errdetails.RetryInfo{RetryDelay: d}); derr == nil {
			st = withInfo
		}
	}
	return st.Err()
}
