package jsonline

import (
	"time"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
)

// Parser turns single lines into records. It reuses buffers between calls
// and is not safe for concurrent use.
type Parser struct {
	conv *ingest.Converter
	// sizer sizes a request's records slice from the body parsed before
	// (the handler pools parsers).
	sizer ingest.RecordsSizer
}

// NewParser returns a Parser for cfg.
func NewParser(cfg ingest.RecordConfig) *Parser {
	return &Parser{conv: ingest.NewConverter(cfg)}
}

// ParseLine converts one line, which must be one JSON object, into a record
// of tenant whose time is now unless the line has a time field. The record
// shares nothing with line.
func (p *Parser) ParseLine(line []byte, now time.Time, tenant string) (record.Record, error) {
	return p.conv.Convert(line, now, tenant, nil)
}
