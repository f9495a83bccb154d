package main

import (
	"time"

	"github.com/sluice-log/sluice/internal/ingest/forward"
)

func init() {
	registerReceiver("forward", func(env receiverEnv) (receiverParts, error) {
		c := env.cfg.Forward
		if !c.Enabled {
			return receiverParts{}, nil
		}
		tlsCfg, err := serverTLS("forward", c.TLS)
		if err != nil {
			return receiverParts{}, err
		}
		users := map[string]string{}
		for _, u := range c.Users {
			users[u.Username] = u.Password
		}
		srv, err := forward.Listen(forward.Config{
			Addr:               c.Addr,
			TLS:                tlsCfg,
			SharedKey:          c.SharedKey,
			Users:              users,
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
