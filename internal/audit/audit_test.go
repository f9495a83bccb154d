package audit

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sluice-log/sluice/internal/auth"
	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/tenant"
)

type sink struct {
	mu   sync.Mutex
	recs []record.Record
	err  error
}

func (s *sink) Ingest(_ context.Context, recs []record.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.recs = append(s.recs, recs...)
	return nil
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestLogWritesAuditTenant(t *testing.T) {
	s := &sink{}
	l := New(s, prometheus.NewRegistry(), quiet())
	go l.Run()
	l.Audit(auth.Event{Time: time.Unix(100, 0), Action: "refused", Key: "k", Tenant: strings.Repeat("x", 1000),
		Remote: "127.0.0.1:1", Method: "POST", Path: "/insert/jsonline", Status: 403, Reason: "forbidden"})
	l.Audit(auth.Event{Action: "key_created", Key: "new"})
	l.Close()
	if len(s.recs) != 2 {
		t.Fatalf("%d records written, want 2", len(s.recs))
	}
	r := s.recs[0]
	if r.Tenant != tenant.Audit || r.Time != 100e9 || r.Stream[0].Value != "refused" {
		t.Errorf("record %+v", r)
	}
	if got, _ := r.Get("status"); got != "403" {
		t.Errorf("status %q", got)
	}
	if got, _ := r.Get("tenant"); len(got) > 300 {
		t.Errorf("tenant field of %d bytes: a client's header is not bounded", len(got))
	}
	if !strings.Contains(r.Message, "refused POST /insert/jsonline (403): forbidden") {
		t.Errorf("message %q", r.Message)
	}
	if testutil.ToFloat64(l.written) != 2 {
		t.Errorf("written %v", testutil.ToFloat64(l.written))
	}
}

func TestLogDropsWhenFullOrRefused(t *testing.T) {
	s := &sink{err: errors.New("disk full")}
	l := New(s, nil, quiet())
	// Not running: the queue fills and the rest is dropped, never blocks.
	for range queueLen + 10 {
		l.Audit(auth.Event{Action: "refused"})
	}
	if got := testutil.ToFloat64(l.dropped); got != 10 {
		t.Errorf("dropped %v, want 10", got)
	}
	go l.Run()
	l.Close()
	if got := testutil.ToFloat64(l.dropped); got != queueLen+10 {
		t.Errorf("dropped %v after a refusing sink, want %d", got, queueLen+10)
	}
}
