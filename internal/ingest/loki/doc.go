// Package loki receives the Loki push API (POST /loki/api/v1/push), as
// Promtail, Grafana Alloy and Loki client libraries send it: a PushRequest
// in protobuf (snappy block-compressed) or in JSON (optionally gzip). Each
// entry becomes one record: the stream's labels become stream labels, the
// entry's structured metadata becomes fields and its line the message.
//
// The protobuf is decoded here with protowire, following Loki's published
// logproto definitions, because Loki's own Go module is AGPL-licensed and
// must not be imported. The package owns the wire formats, the label-set
// parser and the push answer; it must not know what the sink does with
// records, nor how the binary mounts the handler.
package loki
