package otlp

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"

	"github.com/sluice-log/sluice/internal/ingest"
)

// Protocol labels of this receiver's metrics, one per transport.
const (
	ProtocolHTTP = "otlp_http"
	ProtocolGRPC = "otlp_grpc"
)

// exporter is what both transports share: convert a request, hand its
// records to the sink in one call, and say what was rejected.
type exporter struct {
	sink ingest.Sink
	conv *Converter
	m    *ingest.Metrics
	log  *slog.Logger
}

func newExporter(sink ingest.Sink, cfg Config, m *ingest.Metrics, log *slog.Logger) *exporter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &exporter{sink: sink, conv: NewConverter(cfg), m: m, log: log}
}

// export ingests req's records for tenant. It returns the answer to send,
// or the sink's error, in which case nothing was acknowledged.
func (e *exporter) export(ctx context.Context, protocol string, req *collogspb.ExportLogsServiceRequest, tenant string, now time.Time) (*collogspb.ExportLogsServiceResponse, error) {
	res := e.conv.Convert(req, tenant, now)
	if len(res.Records) > 0 {
		if err := e.sink.Ingest(ctx, res.Records); err != nil {
			if _, ok := ingest.IsBackpressure(err); ok {
				// Flow control, not a fault: the client retries.
				e.log.Debug("sink pushed back", "protocol", protocol, "tenant", tenant, "records", len(res.Records), "err", err)
			} else {
				e.log.Warn("sink refused records", "protocol", protocol, "tenant", tenant, "records", len(res.Records), "err", err)
			}
			return nil, err
		}
	}
	e.m.Records(protocol, len(res.Records))
	for reason, n := range res.Reasons {
		e.m.Rejected(protocol, reason, n)
	}
	resp := &collogspb.ExportLogsServiceResponse{}
	if res.Rejected > 0 {
		e.log.Debug("rejected log records", "protocol", protocol, "tenant", tenant, "rejected", res.Rejected, "first_err", res.FirstErr)
		resp.PartialSuccess = &collogspb.ExportLogsPartialSuccess{
			RejectedLogRecords: int64(res.Rejected),
			ErrorMessage:       strings.ToValidUTF8(fmt.Sprintf("%d log records rejected; first: %v", res.Rejected, res.FirstErr), "\uFFFD"),
		}
	}
	return resp, nil
}
