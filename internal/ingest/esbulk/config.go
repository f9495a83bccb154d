package esbulk

import "github.com/sluice-log/sluice/internal/ingest"

// Config configures the Elasticsearch bulk receiver.
type Config struct {
	Record ingest.RecordConfig
	// MaxRequestBytes bounds a request body after decompression.
	MaxRequestBytes int64
	// IndexField receives a document's index name; "" stores none.
	IndexField string
}

// DefaultConfig returns the configuration used when nothing is set. The
// field names are those of the Elastic Common Schema that Beats send.
func DefaultConfig() Config {
	return Config{
		Record: ingest.RecordConfig{
			TimeFields:         []string{"@timestamp", "_time", "timestamp"},
			MessageFields:      []string{"message", "_msg", "msg", "log"},
			StreamFields:       []string{"host.name", "service.name", "container.name", "kubernetes.pod.name"},
			MaxFieldsPerRecord: 1000,
			MaxLineBytes:       1 << 20,
		},
		MaxRequestBytes: ingest.DefaultMaxRequestBytes,
		IndexField:      "_index",
	}
}
