// Package audit keeps the audit trail in Sluice itself: every refused key
// use, every key created or revoked, every admin action becomes a record
// of the reserved tenant _audit (tenant.Audit), which only admin keys
// query. It must not know HTTP or keys beyond auth.Event.
package audit

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/auth"
	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/tenant"
)

// queueLen bounds the events waiting to be written. A flood of refused
// requests must not grow memory: past it events are dropped and counted
// (sluice_audit_dropped_total), and the log line of each still goes out.
const queueLen = 4096

// batchEvery is how long events wait to be written together.
const batchEvery = 500 * time.Millisecond

// Log writes events into the audit tenant through a sink (the pipeline's
// WAL, or a gateway's Kafka producer). Audit never blocks the caller.
type Log struct {
	sink    ingest.Sink
	log     *slog.Logger
	ch      chan auth.Event
	written prometheus.Counter
	dropped prometheus.Counter
	done    chan struct{}
	once    sync.Once
	stop    chan struct{}
}

// New returns a trail writing to sink (nil: to the log only, for roles
// that store nothing of their own). Run must be called for events to be
// written.
func New(sink ingest.Sink, reg prometheus.Registerer, log *slog.Logger) *Log {
	l := &Log{sink: sink, log: log, ch: make(chan auth.Event, queueLen), done: make(chan struct{}), stop: make(chan struct{}),
		written: prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_audit_events_total", Help: "Audit events written to the audit tenant."}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_audit_dropped_total", Help: "Audit events dropped because the trail's queue was full or its sink refused them (each is still logged)."}),
	}
	if reg != nil {
		reg.MustRegister(l.written, l.dropped)
	}
	return l
}

// Audit takes one event: logged at once, written with the next batch.
func (l *Log) Audit(ev auth.Event) {
	l.log.Info("audit", "action", ev.Action, "key", limit(ev.Key), "tenant", limit(ev.Tenant), "remote", ev.Remote,
		"method", ev.Method, "path", limit(ev.Path), "status", ev.Status, "reason", limit(ev.Reason))
	if l.sink == nil {
		return
	}
	select {
	case l.ch <- ev:
	default:
		l.dropped.Inc()
	}
}

// Run writes batches until Close; then it writes what is queued and
// returns.
func (l *Log) Run() {
	defer close(l.done)
	if l.sink == nil {
		<-l.stop
		return
	}
	t := time.NewTicker(batchEvery)
	defer t.Stop()
	var batch []record.Record
	for {
		select {
		case ev := <-l.ch:
			batch = append(batch, Record(ev))
			if len(batch) < 256 {
				continue
			}
		case <-t.C:
		case <-l.stop:
			for drained := false; !drained; {
				select {
				case ev := <-l.ch:
					batch = append(batch, Record(ev))
				default:
					drained = true
				}
			}
			l.write(batch)
			return
		}
		l.write(batch)
		batch = batch[:0]
	}
}

func (l *Log) write(batch []record.Record) {
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.sink.Ingest(ctx, batch); err != nil {
		l.dropped.Add(float64(len(batch)))
		l.log.Error("audit events not stored (each was logged)", "events", len(batch), "err", err)
		return
	}
	l.written.Add(float64(len(batch)))
}

// Close writes what is queued and stops Run (which must be running).
func (l *Log) Close() {
	l.once.Do(func() { close(l.stop) })
	<-l.done
}

// Record is the audit record of ev: stream {action}, a message that reads
// on its own, and one field per detail.
func Record(ev auth.Event) record.Record {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	msg := ev.Action
	if ev.Method != "" || ev.Path != "" {
		msg += " " + ev.Method + " " + ev.Path
	}
	if ev.Status != 0 {
		msg += " (" + strconv.Itoa(ev.Status) + ")"
	}
	if ev.Reason != "" {
		msg += ": " + ev.Reason
	}
	r := record.Record{Time: ev.Time.UnixNano(), Tenant: tenant.Audit, Message: msg,
		Stream: []record.Field{{Name: "action", Value: ev.Action}}}
	add := func(name, v string) {
		if v != "" {
			r.Fields = append(r.Fields, record.Field{Name: name, Value: v})
		}
	}
	add("key", limit(ev.Key))
	add("tenant", limit(ev.Tenant))
	add("remote", ev.Remote)
	add("method", ev.Method)
	add("path", limit(ev.Path))
	if ev.Status != 0 {
		add("status", strconv.Itoa(ev.Status))
	}
	add("reason", limit(ev.Reason))
	return r
}

// limit bounds what a client chose (a tenant header, a path) in the
// trail, so that a hostile one cannot make each refusal large.
func limit(s string) string {
	const max = 256
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
