package main

import (
	"net/http"
	"time"

	"github.com/sluice-log/sluice/internal/auth"
	"github.com/sluice-log/sluice/internal/ingest/forward"
)

func init() {
	registerReceiver("forward", func(env receiverEnv) (receiverParts, error) {
		c := env.cfg.Forward
		if !c.Enabled {
			return receiverParts{}, nil
		}
		tlsCfg, err := serverTLS(env, "forward", c.TLS)
		if err != nil {
			return receiverParts{}, err
		}
		users, tenants := map[string]string{}, map[string]string{}
		for _, u := range c.Users {
			users[u.Username] = u.Password
			tenants[u.Username] = u.Tenant
		}
		var refused func(remote, user string, err error)
		if env.guard != nil {
			refused = func(remote, user string, err error) {
				env.guard.Audit(auth.Event{Action: "refused", Key: user, Remote: remote, Method: "forward", Path: "handshake", Status: http.StatusUnauthorized, Reason: err.Error()})
			}
		}
		srv, err := forward.Listen(forward.Config{
			Addr:               c.Addr,
			TLS:                tlsCfg,
			SharedKey:          c.SharedKey,
			Users:              users,
			UserTenants:        tenants,
			Refused:            refused,
			MaxMessageBytes:    int(c.MaxMessageBytes),
			MaxConnections:     c.MaxConnections,
			ReadTimeout:        time.Duration(c.ReadTimeout),
			MaxFieldsPerRecord: env.cfg.Ingest.MaxFieldsPerRecord,
			Window:             env.window,
			ShutdownGrace:      time.Duration(env.cfg.HTTP.ShutdownTimeout),
			InFlight:           env.inFlight,
		}, env.sink, env.metrics, env.registry, env.log.With("component", "forward"))
		if err != nil {
			return receiverParts{}, err
		}
		return receiverParts{listeners: []listener{srv}}, nil
	})
}
