// Package query implements Sluice's query language: a Kibana-like filter
// (words, phrases, field:value, wildcards, regular expressions, ranges,
// time ranges, stream selectors, AND/OR/NOT) followed by pipes (stats, top,
// sort, limit, fields, filter, and the extraction pipes unpack_json,
// unpack_logfmt and extract) that aggregate and shape the result.
//
// The package is layered so that each layer can grow on its own:
//
//   - lexer.go turns text into tokens;
//   - parser.go builds the syntax tree of ast.go, which print.go helps
//     print back (Parse(q.String()) gives back an equal tree);
//   - filter*.go compile the filter into a store.Filter (Match for records,
//     MayMatch for block summaries, and the optional store.BlockMatcher and
//     store.FieldFilter through which the store decides a block from its
//     labels and time, or a column from its distinct values);
//   - execute.go runs a query over a store.Searcher, through the pipe_*.go
//     stages and the stats_*.go functions; fieldnames.go lists the fields
//     of the matches;
//   - context.go finds the records around a hit in its stream, and
//     explain.go describes a query's plan with the cost the store reports.
//
// Pipes and stats functions are registries: a new pipe is one file that
// registers its parser in init (see pipe.go), a new stats function likewise
// (see stats.go).
//
// The package knows the store only through store.Searcher, store.Filter and
// store.BlockSummary; it must not know how the store lays out data, nor
// anything of HTTP or of how results are rendered beyond Row.AppendJSON.
package query
