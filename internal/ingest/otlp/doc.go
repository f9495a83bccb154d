// Package otlp receives OpenTelemetry logs (OTLP): ExportLogsServiceRequest
// over HTTP (POST /v1/logs, protobuf or OTLP/JSON, optionally gzip) and over
// gRPC (LogsService/Export). Every log record becomes one record.Record:
// resource attributes named in the stream fields become stream labels, the
// other resource attributes, the scope and the log attributes become fields,
// the body becomes the message, and the severity becomes a normalized
// `level`. One request reaches the sink in one Ingest call, acknowledged
// only after it returned.
//
// It owns the OTLP mapping and both transports' answers (status codes,
// partial_success, retry hints). It must not know what the sink does with
// records, nor how the binary mounts its handler and listener.
package otlp
