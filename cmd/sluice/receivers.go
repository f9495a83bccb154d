package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/auth"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/tlsreload"
)

// A receiver turns one protocol into records for the sink. Each protocol's
// file in this package (receiver_<protocol>.go) registers a receiverFactory
// in init(); serve builds every registered receiver, so that adding a
// protocol touches no central file.
type receiverFactory struct {
	name  string
	build func(env receiverEnv) (receiverParts, error)
}

// receiverEnv is what a factory may use.
type receiverEnv struct {
	cfg      config.Config
	sink     ingest.Sink
	metrics  *ingest.Metrics
	registry prometheus.Registerer
	log      *slog.Logger
	// window is the accepted span of record times, shared by every
	// receiver (set by buildReceivers).
	window *ingest.TimeWindow
	// guard is the edge with authentication on (nil: off); receivers with
	// sockets of their own use it for their credentials.
	guard *auth.Guard
	// inFlight bounds the request bytes every receiver holds at once
	// (set by buildReceivers; routes are wrapped there, listeners take
	// it in their configuration).
	inFlight *ingest.InFlight
}

// receiverParts is what a receiver contributes: HTTP routes on the main
// listener (pattern → handler, in net/http.ServeMux syntax) and listeners of
// its own.
type receiverParts struct {
	routes    map[string]http.Handler
	listeners []listener
}

// listener is a receiver with a socket of its own (TCP, UDP, gRPC).
type listener interface {
	// Serve accepts clients until ctx is cancelled, then stops accepting,
	// lets in-flight batches finish and returns nil.
	Serve(ctx context.Context) error
	// Addr is the address actually listened on, for logs.
	Addr() string
}

var receiverFactories []receiverFactory

func registerReceiver(name string, build func(env receiverEnv) (receiverParts, error)) {
	receiverFactories = append(receiverFactories, receiverFactory{name: name, build: build})
}

// buildReceivers builds every registered receiver.
func buildReceivers(env receiverEnv) (map[string]http.Handler, []listener, error) {
	env.window = timeWindow(env.cfg, env.registry)
	env.inFlight = ingest.NewInFlight(env.cfg.InFlightBytes(), env.registry)
	routes := map[string]http.Handler{}
	var listeners []listener
	for _, f := range receiverFactories {
		parts, err := f.build(env)
		if err != nil {
			for _, l := range listeners {
				if c, ok := l.(interface{ Close() error }); ok {
					_ = c.Close()
				}
			}
			return nil, nil, fmt.Errorf("receiver %s: %w", f.name, err)
		}
		for p, h := range parts.routes {
			if _, dup := routes[p]; dup {
				return nil, nil, fmt.Errorf("receiver %s: route %q is already taken", f.name, p)
			}
			routes[p] = env.inFlight.Wrap(f.name, h)
		}
		listeners = append(listeners, parts.listeners...)
	}
	return routes, listeners, nil
}

// timeWindow is the span of record times the receivers accept: from the
// record's tenant's retention ago to ingest.max_future ahead; it checks the
// tenant's cardinality bounds too.
func timeWindow(cfg config.Config, reg prometheus.Registerer) *ingest.TimeWindow {
	tenants := make(map[string]time.Duration, len(cfg.Store.Tenants))
	for t, tr := range cfg.Store.Tenants {
		tenants[t] = time.Duration(tr.Retention)
	}
	return ingest.NewTimeWindow(ingest.WindowConfig{
		Retention:       time.Duration(cfg.Store.Retention),
		TenantRetention: tenants,
		MaxFuture:       time.Duration(cfg.Ingest.MaxFuture),
		Stamp:           cfg.Ingest.OutOfWindow == config.OutOfWindowStamp,
		Cardinality: ingest.NewCardinality(ingest.CardinalityConfig{
			MaxStreams:    cfg.Ingest.MaxStreamsPerTenant,
			MaxFieldNames: cfg.Ingest.MaxFieldNamesPerTenant,
			Window:        time.Duration(cfg.Ingest.CardinalityWindow),
		}, reg),
	}, reg)
}

// recordConfig maps a field mapping onto the shared conversion options.
func recordConfig(cfg config.Config, m config.FieldMapping) ingest.RecordConfig {
	return ingest.RecordConfig{
		TimeFields:         m.TimeFields,
		MessageFields:      m.MessageFields,
		StreamFields:       m.StreamFields,
		MaxFieldsPerRecord: cfg.Ingest.MaxFieldsPerRecord,
		MaxLineBytes:       int(cfg.Ingest.MaxLineBytes),
	}
}

// serverTLS builds a listener's TLS configuration from its section's tls
// settings; nil when TLS is off. section names the config section in
// errors. The certificate, key and client CA bundle are re-read when they
// change (auth.reload_interval), so a renewed certificate needs no restart.
func serverTLS(env receiverEnv, section string, c config.TLSConfig) (*tls.Config, error) {
	if !c.Enabled() {
		return nil, nil
	}
	cfg, err := tlsreload.Config(tlsreload.Files{Cert: c.CertFile, Key: c.KeyFile, ClientCA: c.ClientCAFile},
		time.Duration(env.cfg.Auth.ReloadInterval), env.log.With("component", section+"-tls"))
	if err != nil {
		return nil, fmt.Errorf("%s.tls: %w", section, err)
	}
	return cfg, nil
}
