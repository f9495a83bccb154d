package loki

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/golang/snappy"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/tenant"
)

// protocol labels this receiver's metrics and logs.
const protocol = "loki"

type handler struct {
	sink ingest.Sink
	cfg  Config
	m    *ingest.Metrics
	log  *slog.Logger
}

// NewHandler returns the push API handler (POST /loki/api/v1/push). It
// answers 204 once every entry is durable; 400 with a message for a body
// it cannot decode, or when some entries were rejected (the others are
// stored, as Loki does, so that the client does not resend them); 429 with
// Retry-After under backpressure and 503 when the sink failed otherwise.
// m may be nil.
func NewHandler(sink ingest.Sink, cfg Config, m *ingest.Metrics, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &handler{sink: sink, cfg: cfg, m: m, log: log.With("protocol", protocol)}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	status := h.serve(w, r, start)
	h.m.Request(protocol, status, time.Since(start))
}

func (h *handler) serve(w http.ResponseWriter, r *http.Request, now time.Time) int {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return writeText(w, http.StatusMethodNotAllowed, 0, "method "+r.Method+" not allowed; use POST")
	}
	body, err := ingest.OpenBody(r, h.cfg.MaxMessageBytes)
	if err != nil {
		return writeText(w, ingest.RequestStatus(err), 0, err.Error())
	}
	data, err := io.ReadAll(body)
	body.Close()
	if err != nil {
		h.m.Bytes(protocol, int64(len(data)))
		return writeText(w, ingest.RequestStatus(err), 0, err.Error())
	}
	tenant := tenant.Of(r)
	var push Push
	// Loki decodes everything that is not JSON as protobuf, and so do we.
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/json" {
		h.m.Bytes(protocol, int64(len(data)))
		push, err = DecodeJSON(data, tenant, now, h.cfg.MaxFieldsPerRecord)
	} else {
		data, err = h.unsnappy(data)
		h.m.Bytes(protocol, int64(len(data)))
		if err == nil {
			push, err = DecodeProto(data, tenant, now, h.cfg.MaxFieldsPerRecord)
		}
	}
	if err != nil {
		return writeText(w, ingest.RequestStatus(err), 0, err.Error())
	}
	push.admit(h.cfg.Window, now)
	if len(push.Records) > 0 {
		if err := h.sink.Ingest(r.Context(), push.Records); err != nil {
			status, retryAfter := ingest.SinkFailure(err)
			if retryAfter > 0 {
				// Flow control, not a fault: the client retries.
				h.log.Debug("sink pushed back", "tenant", tenant, "records", len(push.Records), "err", err)
			} else {
				h.log.Warn("sink refused records", "tenant", tenant, "records", len(push.Records), "status", status, "err", err)
			}
			return writeText(w, status, retryAfter, err.Error())
		}
	}
	h.m.Records(protocol, len(push.Records))
	for reason, n := range push.Reasons {
		h.m.Rejected(protocol, reason, n)
	}
	if push.Rejected > 0 {
		h.log.Debug("rejected entries", "tenant", tenant, "rejected", push.Rejected, "first_err", push.FirstErr)
		return writeText(w, http.StatusBadRequest, 0, fmt.Sprintf("%d entries rejected, %d stored; first error: %v",
			push.Rejected, len(push.Records), push.FirstErr))
	}
	w.WriteHeader(http.StatusNoContent)
	return http.StatusNoContent
}

// errSnappy is the reason for a protobuf body that is not a snappy block.
var errSnappy = errors.New("decode snappy body (the push API wants snappy block format, not framed)")

// unsnappy decompresses a protobuf body, refusing one whose decoded length
// is over the limit before allocating it.
func (h *handler) unsnappy(data []byte) ([]byte, error) {
	n, err := snappy.DecodedLen(data)
	if err != nil {
		return nil, &ingest.RequestError{Status: http.StatusBadRequest, Err: fmt.Errorf("%w: %w", errSnappy, err)}
	}
	if limit := h.cfg.MaxMessageBytes; limit > 0 && int64(n) > limit {
		return nil, &ingest.RequestError{Status: http.StatusRequestEntityTooLarge,
			Err: fmt.Errorf("%w: decoded snappy body is %d bytes; limit is %d", ingest.ErrBodyTooLarge, n, limit)}
	}
	out, err := snappy.Decode(nil, data)
	if err != nil {
		return nil, &ingest.RequestError{Status: http.StatusBadRequest, Err: fmt.Errorf("%w: %w", errSnappy, err)}
	}
	return out, nil
}

func writeText(w http.ResponseWriter, status, retryAfter int, msg string) int {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
	w.WriteHeader(status)
	_, _ = fmt.Fprintln(w, msg)
	return status
}
