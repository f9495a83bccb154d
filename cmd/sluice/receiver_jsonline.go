package main

import (
	"net/http"

	"github.com/sluice-log/sluice/internal/ingest/jsonline"
)

func init() {
	registerReceiver("jsonline", func(env receiverEnv) (receiverParts, error) {
		rc := recordConfig(env.cfg, env.cfg.Ingest.JSONLine)
		rc.Window = env.window
		h := jsonline.NewHandler(env.sink, jsonline.Config{
			Record:          rc,
			MaxRequestBytes: int64(env.cfg.Ingest.MaxRequestBytes),
		}, env.metrics, env.log.With("component", "jsonline"))
		return receiverParts{routes: map[string]http.Handler{
			"POST /insert/jsonline":        h,
			"POST /api/v1/ingest/jsonline": h,
		}}, nil
	})
}
