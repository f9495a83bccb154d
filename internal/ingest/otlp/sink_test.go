package otlp

import (
	"context"
	"sync"
	"testing"

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

// serveGRPC serves srv until the returned function is called, which stops
// it and checks that Serve returned cleanly.
func serveGRPC(t *testing.T, srv *GRPCServer) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	return func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
}
