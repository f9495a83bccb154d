// Package esfake is a test server standing in for Elasticsearch 8 and
// OpenSearch 2 in Sluice's tests, because neither can run where the tests
// run. It is not a search engine: it answers the requests the search sinks
// make — _bulk, index templates, ILM and ISM policies, data streams,
// rollover — with the status codes and JSON bodies those APIs document,
// keeps what it was sent, and maps documents the way dynamic mapping does
// for the JSON types Sluice writes (strings, numbers, booleans, dates
// detected by dynamic_date_formats, dynamic templates by
// match_mapping_type and match, object/leaf conflicts, ignore_malformed).
// Where its answers stop being faithful it says so in a comment.
package esfake
