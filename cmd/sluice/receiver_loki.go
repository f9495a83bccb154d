package main

import (
	"net/http"

	"github.com/sluice-log/sluice/internal/ingest/loki"
)

func init() {
	registerReceiver("loki", func(env receiverEnv) (receiverParts, error) {
		if !env.cfg.Loki.Enabled {
			return receiverParts{}, nil
		}
		h := loki.NewHandler(env.sink, loki.Config{
			MaxMessageBytes:    int64(env.cfg.Loki.MaxMessageBytes),
			MaxFieldsPerRecord: env.cfg.Ingest.MaxFieldsPerRecord,
			Window:             env.window,
		}, env.metrics, env.log.With("component", "loki"))
		return receiverParts{routes: map[string]http.Handler{"POST /loki/api/v1/push": h}}, nil
	})
}
