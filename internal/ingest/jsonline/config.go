package jsonline

import "github.com/sluice-log/sluice/internal/ingest"

// Config configures the JSON lines receiver.
type Config struct {
	Record ingest.RecordConfig
	// MaxRequestBytes bounds a request body after decompression.
	MaxRequestBytes int64
}

// DefaultConfig returns the configuration used when nothing is set.
func DefaultConfig() Config {
	return Config{
		Record: ingest.RecordConfig{
			TimeFields:         []string{"_time", "@timestamp", "timestamp", "time", "ts"},
			MessageFields:      []string{"_msg", "message", "msg", "log"},
			StreamFields:       []string{"service", "host", "container"},
			MaxFieldsPerRecord: 1000,
			MaxLineBytes:       256 << 10,
		},
		MaxRequestBytes: ingest.DefaultMaxRequestBytes,
	}
}
