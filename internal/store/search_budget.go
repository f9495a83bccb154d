package store

import (
	"fmt"
	"sync/atomic"
)

// ScanLimitError is a search stopped by SearchRequest.MaxScannedRecords
// or MaxScannedBytes.
type ScanLimitError struct {
	// Bytes is true when MaxScannedBytes stopped it, false for records.
	Bytes bool
	// Max is the bound that was reached.
	Max int64
}

func (e *ScanLimitError) Error() string {
	what := "records"
	if e.Bytes {
		what = "bytes"
	}
	return fmt.Sprintf("store: search stopped after scanning more than %d %s", e.Max, what)
}

// scanBudget is what a search, with all its workers, may still scan; nil
// when unbounded.
type scanBudget struct {
	maxRecords, maxBytes int64
	records, bytes       atomic.Int64
}

func newScanBudget(req *SearchRequest) *scanBudget {
	if req.MaxScannedRecords <= 0 && req.MaxScannedBytes <= 0 {
		return nil
	}
	return &scanBudget{maxRecords: req.MaxScannedRecords, maxBytes: req.MaxScannedBytes}
}

// charge accounts for records decoded and bytes read, and fails once
// either goes past its bound.
func (b *scanBudget) charge(records, bytes int64) error {
	if b == nil {
		return nil
	}
	if n := b.records.Add(records); b.maxRecords > 0 && n > b.maxRecords {
		return &ScanLimitError{Max: b.maxRecords}
	}
	if n := b.bytes.Add(bytes); b.maxBytes > 0 && n > b.maxBytes {
		return &ScanLimitError{Bytes: true, Max: b.maxBytes}
	}
	return nil
}
