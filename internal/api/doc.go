// Package api assembles Sluice's HTTP surface: it mounts each protocol's
// ingest handler (which lives with its protocol under internal/ingest), and
// serves the query API, live tail, metrics and health endpoints.
//
// It knows the query engine and the pipeline through small interfaces and
// holds no state of its own beyond the concurrency limit of queries.
package api
