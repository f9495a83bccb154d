package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sluice-log/sluice/internal/pipeline"
	"github.com/sluice-log/sluice/internal/query"
	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/tenant"
)

// DefaultTailBufferBytes is how far (in bytes of records) a live-tail
// client may fall behind before it is dropped, when QueryLimits does not
// say.
const DefaultTailBufferBytes = 8 << 20

// tailHeartbeat is how often an idle server-sent-events stream gets a
// comment, which keeps proxies from closing it.
const tailHeartbeat = time.Second

// acquireTail takes a query slot for a live tail, which holds it as long
// as it runs: live tails count against query.max_concurrent, and may hold
// at most half of its slots (at least one), so that queries always have
// the other half. A tail does not wait for a slot: it gets 429 at once.
// release is safe to call more than once.
func (s *Server) acquireTail(w http.ResponseWriter) (release func(), ok bool) {
	select {
	case s.tails <- struct{}{}:
	default:
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusTooManyRequests, "too many live tails: they may take %d of the %d query slots (half of query.max_concurrent); retry later", cap(s.tails), cap(s.sem))
		return nil, false
	}
	select {
	case s.sem <- struct{}{}:
	default:
		<-s.tails
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusTooManyRequests, "too many concurrent queries (query.max_concurrent=%d); retry later", cap(s.sem))
		return nil, false
	}
	var once sync.Once
	return func() { once.Do(func() { <-s.sem; <-s.tails }) }, true
}

// withTailSlot holds a live-tail slot while h serves (a querier's relayed
// tail).
func (s *Server) withTailSlot(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		release, ok := s.acquireTail(w)
		if !ok {
			return
		}
		defer release()
		h.ServeHTTP(w, r)
	})
}

// tail streams every newly stored record that matches the query, as NDJSON
// or, when the client accepts text/event-stream, as server-sent events. A
// client that falls more than query.tail_buffer_bytes behind is dropped:
// its slot is freed at once, and its stream ends with one line saying why
// ({"_dropped":true,"_msg":"…"}) if it reads on.
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
	tnt := tenant.Of(r)
	sse := strings.Contains(r.Header.Get("Accept"), "text/event-stream")

	release, ok := s.acquireTail(w)
	if !ok {
		return
	}
	sub := s.cfg.Backend.Subscribe(s.cfg.Limits.TailBufferBytes)
	defer sub.Close()
	// The slot goes back when the subscription ends, also while a write to
	// a client that stopped reading still blocks.
	go func() { <-sub.Done(); release() }()

	rc := http.NewResponseController(w)
	if sse {
		w.Header().Set("Content-Type", "text/event-stream")
	} else {
		w.Header().Set("Content-Type", "application/x-ndjson")
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_ = rc.Flush()

	var buf []byte
	var rows int
	defer func() { s.rowsOut.WithLabelValues("tail").Add(float64(rows)) }()
	// A write waits at most query.write_timeout (answerWriter): a client
	// that stops reading is let go after it even when too few records
	// arrive to fill its buffer.
	write := func(b []byte) bool {
		_, err := w.Write(b)
		return err == nil
	}
	emit := func(line []byte) bool {
		if sse {
			buf = append(append(buf[:0], "data: "...), line...)
			buf = append(buf, '\n', '\n')
		} else {
			buf = append(append(buf[:0], line...), '\n')
		}
		return write(buf)
	}
	for {
		next, cancel := context.WithTimeout(r.Context(), tailHeartbeat)
		batch, err := sub.Next(next)
		cancel()
		switch {
		case r.Context().Err() != nil:
			return
		case errors.Is(err, context.DeadlineExceeded):
			// A comment keeps proxies from closing an idle stream.
			if sse && (!write([]byte(": keep-alive\n\n")) || rc.Flush() != nil) {
				return
			}
			continue
		case errors.Is(err, pipeline.ErrSlowReader):
			msg := fmt.Sprintf("live tail ended: this client read more slowly than records arrived (%v; query.tail_buffer_bytes). The records are stored: query them, or tail a narrower filter", err)
			line := append([]byte(`{"_dropped":true,"_msg":`), jsonString(msg)...)
			if emit(append(line, '}')) {
				_ = rc.Flush()
			}
			return
		case err != nil:
			return // the server is shutting down
		}
		var line []byte
		for i := range batch {
			rec := &batch[i]
			if rec.Tenant != tnt || !filter.Match(rec) {
				continue
			}
			line = record.AppendJSON(line[:0], rec)
			if !emit(line) {
				return
			}
			rows++
		}
		if rc.Flush() != nil {
			return
		}
	}
}
