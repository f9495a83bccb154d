// Package process is the processing pipeline that the server applies on
// ingest (before the write-ahead log) and the agent applies before its
// disk buffer: a list of steps, each a processor (parse_json, grok,
// redact, route, sample, …) with an optional condition in the query
// filter language, read from YAML, with test cases that the same file
// carries.
//
// Processors live in a registry: each is one file that registers its
// Spec in init(), and the Spec's config struct (yaml and doc tags, its
// constructor's defaults) is the single source of the processor's
// validation, defaults and documentation (docs/pipeline.md is generated
// from it).
//
// It knows records, the query filter language (for conditions) and
// JSON-to-record conversion; it must not know receivers, the WAL, the
// agent's inputs or outputs.
package process
