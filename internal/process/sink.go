package process

import (
	"context"
	"slices"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/promreg"
	"github.com/sluice-log/sluice/internal/record"
)

// Sink is the server's processing stage: it runs the current pipeline
// over every batch a receiver hands in, then hands what is kept to the
// next sink (the WAL, or Kafka on a gateway) in one Ingest call, so the
// acknowledgement contract is the next sink's. Records a step dropped are
// acknowledged with the rest: dropping them was asked for, and counted.
type Sink struct {
	next     ingest.Sink
	window   *ingest.TimeWindow
	pipeline atomic.Pointer[Pipeline]
	rejected *prometheus.CounterVec
}

// NewSink returns a Sink in front of next with an empty pipeline. Records
// whose time a step moved out of window are refused (or stamped, as the
// window says) and counted.
func NewSink(next ingest.Sink, window *ingest.TimeWindow, reg prometheus.Registerer) *Sink {
	s := &Sink{next: next, window: window, rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sluice_processor_rejected_records_total",
		Help: "Records a pipeline step made unstorable (a time outside the accepted window after a step set it), by reason; they were acknowledged with their batch but not stored.",
	}, []string{"reason"})}
	if reg != nil {
		s.rejected = promreg.Register(reg, s.rejected)
	}
	return s
}

// Set makes p the pipeline of every later batch.
func (s *Sink) Set(p *Pipeline) { s.pipeline.Store(p) }

// Pipeline is the pipeline running.
func (s *Sink) Pipeline() *Pipeline { return s.pipeline.Load() }

// Ingest processes recs and passes them on. The caller's records are not
// changed: a receiver that retries the same batch after backpressure
// must not see it parsed twice.
func (s *Sink) Ingest(ctx context.Context, recs []record.Record) error {
	p := s.pipeline.Load()
	if p.Len() == 0 {
		return s.next.Ingest(ctx, recs)
	}
	out := make([]record.Record, len(recs))
	for i := range recs {
		out[i] = recs[i]
		out[i].Fields = slices.Clone(recs[i].Fields)
		out[i].Stream = slices.Clone(recs[i].Stream)
	}
	out = p.Process(out)
	if s.window != nil {
		now := time.Now()
		kept := out[:0]
		for i := range out {
			if err := s.window.Check(&out[i], now); err != nil {
				s.rejected.WithLabelValues(ingest.RejectReason(err)).Inc()
				continue
			}
			kept = append(kept, out[i])
		}
		out = kept
	}
	if len(out) == 0 {
		return nil
	}
	return s.next.Ingest(ctx, out)
}
