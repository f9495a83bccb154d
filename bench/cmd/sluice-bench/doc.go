// Command sluice-bench measures a real sluice server binary: ingest rate,
// CPU and memory, bytes on disk, query latency with every answer checked
// against the generator's ground truth, how soon a written record becomes
// searchable, and a clean shutdown.
//
// It owns running the binary and talking HTTP to it; the data and the right
// answers come from bench/gen or bench/altgen (-dataset; see dataset.go). It
// must not import the server's packages (beyond internal/record's JSON and
// field-name helpers): what it measures is the binary as users run it, over
// HTTP.
package main
