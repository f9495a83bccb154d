package otlp

import (
	"context"
	"sync"

	"github.com/sluice-log/sluice/internal/record"
)

// memSink keeps what it was given; fail, when set, decides per call
// whether to refuse the batch instead.
type memSink struct {
	mu    sync.Mutex
	recs  []record.Record
	calls int
	fail  func(call int) error
}

func (s *memSink) Ingest(_ context.Context, recs []record.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.fail != nil {
		if err := s.fail(s.calls); err != nil {
			return err
		}
	}
	s.recs = append(s.recs, recs...)
	return nil
}

func (s *memSink) records() []record.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]record.Record(nil), s.recs...)
}
