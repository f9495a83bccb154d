package wal

// Stats are cumulative counters since Open, for metrics.
type Stats struct {
	Appends      uint64  // Append calls whose records were fsynced
	Records      uint64  // records fsynced
	BytesWritten uint64  // bytes written to segments
	Fsyncs       uint64  // fsyncs of segment files; fewer than Appends when commits are shared
	FsyncSeconds float64 // time spent in those fsyncs
	WriteErrors  uint64  // writes or fsyncs that failed (a full disk), each undone
	Segments     int     // segment files now, including the active one
}

// Stats returns the current counters.
func (l *Log) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.stats
	s.Segments = len(l.segs)
	return s
}
