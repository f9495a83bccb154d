// Package logql reads the subset of Grafana Loki's query language (LogQL)
// that Sluice serves on its Loki-compatible read API, and turns it into a
// query of Sluice's own language (internal/query): the Loki routes run on
// the same engine as every other query, not a second one.
//
// It owns the lexer, the parser, the translation and the evaluation of
// range aggregations over the engine's time buckets (Windows). It knows
// nothing of HTTP: internal/api serves the routes. Constructs outside the
// subset are refused with an *UnsupportedError naming them.
package logql
