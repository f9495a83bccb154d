// Package jsonline receives logs as JSON lines over HTTP: one JSON object per
// line, each becoming one record, as VictoriaLogs' /insert/jsonline does
// (same query parameters). Bad lines are rejected one by one with their line
// numbers; the good lines of a request reach the sink in one call, so a
// request is stored whole or not at all.
//
// It owns the line-level protocol and its answer. It must not know what the
// sink does with records, nor about routing: the caller mounts the handler.
package jsonline
