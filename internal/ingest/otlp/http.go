package otlp

import (
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/tenant"
)

type handler struct {
	exp *exporter
	max int64
}

// NewHandler returns the OTLP/HTTP logs handler (POST /v1/logs). It answers
// an ExportLogsServiceResponse in the request's encoding, with
// partial_success when some log records were rejected; 400 with a
// google.rpc.Status for a payload it cannot decode; 429 with Retry-After
// under backpressure and 503 when the sink failed otherwise (OTLP clients
// retry both). m may be nil.
func NewHandler(sink ingest.Sink, cfg Config, m *ingest.Metrics, log *slog.Logger) http.Handler {
	return &handler{exp: newExporter(sink, cfg, m, log), max: cfg.MaxMessageBytes}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	status := h.serve(w, r, start)
	h.exp.m.Request(ProtocolHTTP, status, time.Since(start))
}

func (h *handler) serve(w http.ResponseWriter, r *http.Request, now time.Time) int {
	ct := r.Header.Get("Content-Type")
	enc, err := ParseContentType(ct)
	if err != nil {
		if isJSONType(ct) {
			enc = JSON
		}
		return writeStatus(w, enc, http.StatusUnsupportedMediaType, 0, codes.InvalidArgument, err.Error())
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return writeStatus(w, enc, http.StatusMethodNotAllowed, 0, codes.InvalidArgument, "method "+r.Method+" not allowed; use POST")
	}
	body, err := ingest.OpenBody(r, h.max)
	if err != nil {
		return writeBodyError(w, enc, err)
	}
	data, err := io.ReadAll(body)
	body.Close()
	h.exp.m.Bytes(ProtocolHTTP, int64(len(data)))
	if err != nil {
		return writeBodyError(w, enc, err)
	}
	req, err := Decode(enc, data)
	if err != nil {
		return writeStatus(w, enc, http.StatusBadRequest, 0, codes.InvalidArgument, err.Error())
	}
	resp, err := h.exp.export(r.Context(), ProtocolHTTP, req, tenant.Of(r), now)
	if err != nil {
		status, retryAfter := ingest.SinkFailure(err)
		return writeStatus(w, enc, status, retryAfter, codes.Unavailable, err.Error())
	}
	return write(w, enc, http.StatusOK, 0, resp)
}

// writeBodyError answers a failure to open or read the body: the client's
// fault, or, with 429, too many request bytes in flight (retryable).
func writeBodyError(w http.ResponseWriter, enc Encoding, err error) int {
	status, code := ingest.RequestStatus(err), codes.InvalidArgument
	if status == http.StatusTooManyRequests {
		code = codes.Unavailable
	}
	return writeStatus(w, enc, status, 0, code, err.Error())
}

// writeStatus answers a failure with a google.rpc.Status, as OTLP/HTTP
// prescribes.
func writeStatus(w http.ResponseWriter, enc Encoding, httpStatus, retryAfter int, code codes.Code, msg string) int {
	// Protobuf strings must be UTF-8, and msg may quote the client's bytes.
	msg = strings.ToValidUTF8(msg, "\uFFFD")
	return write(w, enc, httpStatus, retryAfter, &spb.Status{Code: int32(code), Message: msg})
}

func write(w http.ResponseWriter, enc Encoding, status, retryAfter int, m proto.Message) int {
	var body []byte
	var err error
	if enc == JSON {
		body, err = protojson.Marshal(m)
	} else {
		body, err = proto.Marshal(m)
	}
	ct := enc.contentType()
	if err != nil {
		// Cannot happen with the UTF-8 checked messages built here; if it
		// did, the client still learns the status.
		body, ct = []byte("marshal answer: "+err.Error()), "text/plain; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return status
}
