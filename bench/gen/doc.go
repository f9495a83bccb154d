// Package gen generates the benchmark's data set and knows the right answers
// to the benchmark's queries about it.
//
// A Generator produces a deterministic stream (seeded PCG) of realistic mixed
// log records as JSON lines: application logs from about fifty services,
// nginx access lines, multi-line Java exceptions and syslog lines, spread over
// a 24 hour window. While it generates, it counts what the bench queries ask
// for, so that every answer the server gives can be checked exactly: a fast
// wrong answer is a failure, not a result.
//
// The package owns the data's shape, the query set (in Sluice's syntax and in
// VictoriaLogs' LogsQL for side-by-side runs) and the comparison of an answer
// with the ground truth. It must not know how records reach a server or how
// answers are fetched; the harness in bench/cmd/sluice-bench does that.
package gen
