package main

import (
	"net/http"

	"github.com/sluice-log/sluice/internal/ingest/esbulk"
)

func init() {
	registerReceiver("esbulk", func(env receiverEnv) (receiverParts, error) {
		rc := recordConfig(env.cfg, env.cfg.Ingest.Bulk)
		rc.Window = env.window
		h := esbulk.NewHandler(env.sink, esbulk.Config{
			Record:          rc,
			MaxRequestBytes: int64(env.cfg.Ingest.MaxRequestBytes),
			IndexField:      env.cfg.Ingest.BulkIndexField,
		}, env.metrics, env.log.With("component", "esbulk"))
		return receiverParts{routes: map[string]http.Handler{
			"POST /_bulk":         h,
			"PUT /_bulk":          h,
			"POST /{index}/_bulk": h,
			"PUT /{index}/_bulk":  h,
			"GET /{$}":            h, // Elasticsearch's info document; GET also matches HEAD
		}}, nil
	})
}
