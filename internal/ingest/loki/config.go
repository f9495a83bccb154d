package loki

import "github.com/sluice-log/sluice/internal/ingest"

// Config configures the Loki push receiver.
type Config struct {
	// MaxMessageBytes bounds a push request after decompression.
	MaxMessageBytes int64
	// MaxFieldsPerRecord rejects entries with more labels and structured
	// metadata together; 0: no limit.
	MaxFieldsPerRecord int
	// Window rejects (or stamps) records whose time is outside it; nil
	// accepts every time.
	Window *ingest.TimeWindow
}

// DefaultConfig returns the configuration used when nothing is set.
func DefaultConfig() Config {
	return Config{MaxMessageBytes: ingest.DefaultMaxRequestBytes, MaxFieldsPerRecord: 1000}
}
