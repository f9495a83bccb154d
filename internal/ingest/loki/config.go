package loki

import "github.com/sluice-log/sluice/internal/ingest"

// Config configures the Loki push receiver.
type Config struct {
	// MaxMessageBytes bounds a push request after decompression.
	MaxMessageBytes int64
	// MaxFieldsPerRecord rejects entries with more labels and structured
	// metadata together; 0: no limit.
	MaxFieldsPerRecord int
}

// DefaultConfig returns the configuration used when nothing is set.
func DefaultConfig() Config {
	return Config{MaxMessageBytes: ingest.DefaultMaxRequestBytes, MaxFieldsPerRecord: 1000}
}
