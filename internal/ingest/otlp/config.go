package otlp

import (
	"github.com/sluice-log/sluice/internal/connlimit"
	"github.com/sluice-log/sluice/internal/ingest"
)

// Config configures the OTLP receiver.
type Config struct {
	// StreamFields names the resource attributes that become stream labels.
	// A name ending in "*" matches every attribute with that prefix.
	StreamFields []string
	// MaxFieldsPerRecord rejects log records with more fields; 0: no limit.
	MaxFieldsPerRecord int
	// MaxMessageBytes bounds one request after decompression, on both
	// transports.
	MaxMessageBytes int64
	// Window rejects (or stamps) records whose time is outside it; nil
	// accepts every time.
	Window *ingest.TimeWindow
	// InFlight bounds the bytes that gRPC requests in flight hold (their
	// protobuf size) together with the other receivers'; nil: no bound.
	// The HTTP handler is bounded by InFlight.Wrap around it instead.
	InFlight *ingest.InFlight
	// MaxConnections bounds the gRPC listener's connections; 0: no bound.
	// At the bound a new connection displaces the one that sent nothing
	// for the longest (see connlimit.Limiter). ConnMetrics counts them.
	MaxConnections int
	ConnMetrics    *connlimit.Metrics
	// Authorize, when set, decides a gRPC export's tenant from its
	// metadata (authorization, x-scope-orgid) and the peer's address, or
	// refuses it with an HTTP status (401, 403) that becomes
	// Unauthenticated or PermissionDenied. Unset, the tenant is
	// x-scope-orgid's, checked. (HTTP exports are decided by the edge in
	// front of the handler.)
	Authorize func(authorization, asked, remote string) (tenant string, status int, err error)
}

// DefaultConfig returns the configuration used when nothing is set.
func DefaultConfig() Config {
	return Config{
		StreamFields:       []string{"service.name", "service.namespace", "host.name", "k8s.namespace.name", "k8s.pod.name", "k8s.container.name"},
		MaxFieldsPerRecord: 1000,
		MaxMessageBytes:    ingest.DefaultMaxRequestBytes,
	}
}
