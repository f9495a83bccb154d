package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/query"
	"github.com/sluice-log/sluice/internal/record"
)

// tailBuffer is how many stored batches a live-tail client may fall behind
// before batches are dropped for it (and it is told how many records it
// missed). Ingest never waits for a tail client.
const tailBuffer = 256

// tail streams every newly stored record that matches the query, as NDJSON
// or, when the client accepts text/event-stream, as server-sent events.
func (s *Server) tail(w http.ResponseWriter, r *http.Request) {
	qs := r.FormValue("query")
	if qs == "" {
		qs = "*"
	}
	q, err := query.ParseWith(qs, s.parseOptions())
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if len(q.Pipes) > 0 {
		writeError(w, http.StatusBadRequest, "live tail takes a filter without pipes; drop everything from the first '|'")
		return
	}
	filter := q.CompileContext(r.Context())
	tenant := r.Header.Get(tenantHeader)
	sse := strings.Contains(r.Header.Get("Accept"), "text/event-stream")

	sub := s.cfg.Backend.Subscribe(tailBuffer)
	defer sub.Close()
	flusher, _ := w.(http.Flusher)
	if sse {
		w.Header().Set("Content-Type", "text/event-stream")
	} else {
		w.Header().Set("Content-Type", "application/x-ndjson")
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if flusher != nil {
		flusher.Flush()
	}

	heartbeat := time.NewTicker(time.Second)
	defer heartbeat.Stop()
	var buf []byte
	var rows int
	emit := func(line []byte) bool {
		if sse {
			buf = append(append([]byte("data: "), line...), '\n', '\n')
		} else {
			buf = append(line, '\n')
		}
		_, err := w.Write(buf)
		return err == nil
	}
	defer func() { s.rowsOut.WithLabelValues("tail").Add(float64(rows)) }()
	for {
		select {
		case <-r.Context().Done():
			return
		case batch, ok := <-sub.C:
			if !ok {
				return // server shutting down
			}
			var line []byte
			for i := range batch {
				rec := &batch[i]
				if rec.Tenant != tenant || !filter.Match(rec) {
					continue
				}
				line = record.AppendJSON(line[:0], rec)
				if !emit(line) {
					return
				}
				rows++
			}
			if flusher != nil {
				flusher.Flush()
			}
		case <-heartbeat.C:
			if n := sub.Missed(); n > 0 {
				msg := `{"_missed":` + strconv.FormatInt(n, 10) +
					`,"_msg":"live tail fell behind; records were not sent (they are stored: query them)"}`
				if !emit([]byte(msg)) {
					return
				}
			} else if sse {
				// A comment keeps proxies from closing an idle stream.
				if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil {
					return
				}
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
	}
}
