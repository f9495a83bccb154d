// Package esbulk receives logs the way Elasticsearch's _bulk API does, so
// that Filebeat, Logstash, Fluent Bit, Vector and the official clients can
// ship to Sluice unchanged: index and create actions become records (with
// _index and _id as fields), and the answer has Elasticsearch's shape. It
// also answers GET / with an Elasticsearch info document, which clients read
// before they send anything.
//
// Logs are append-only, so update and delete are refused item by item. The
// records of one request reach the sink in one call, so a request is stored
// whole or not at all and a retried request is never half duplicated.
//
// It owns the _bulk wire format and Elasticsearch's answers. It must not know
// what the sink does with records, nor about other Elasticsearch APIs.
package esbulk
