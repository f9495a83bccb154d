package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-log/sluice/internal/cpuslot"
	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
	"github.com/sluice-log/sluice/internal/trust"
	"github.com/sluice-log/sluice/internal/wal"
)

// Options configures the pipeline's background work.
type Options struct {
	FlushInterval time.Duration // seal the store's head this often
	FlushBytes    int64         // or as soon as the head holds this much
	MaxHeadBytes  int64         // ingest waits while the head holds this much; 0: no bound
	HeadWait      time.Duration // longest such wait before backpressure; default 10s
	MergeInterval time.Duration // run each merge lane this often (and the small one after each flush)
	Retention     time.Duration // drop partitions older than this; 0 keeps all
	MaxDiskBytes  int64         // drop the oldest partitions above this; 0: no bound
	// TenantRetention overrides Retention and adds a size bound per tenant.
	TenantRetention map[string]store.TenantRetention
	RetryAfter      time.Duration // what a client is told to wait under backpressure
	WALMaxBytes     int64         // the WAL's bound, reported in Status
	MemoryLimit     int64         // memory_limit, resolved, reported in Status; 0: none
	// Witness reports how pushing the chain head to the witness goes, for
	// Status; nil without a witness.
	Witness func() trust.PublisherStatus
	// ScrubBytesPerSecond paces the store's scrubber (store.Scrub), which
	// runs once after Open; 0 turns it off.
	ScrubBytesPerSecond int64
}

// Pipeline is the path receive → WAL → store. It implements ingest.Sink.
type Pipeline struct {
	wal   *wal.Log
	store *store.Store
	opts  Options
	log   *slog.Logger
	seq   *sequencer
	hub   *hub
	m     *Metrics

	flushNow chan struct{}
	probeNow chan struct{}
	mergeNow chan struct{} // wakes the small merge lane after a flush
	// bigNow wakes the big lane after a flush too: once the node has
	// received nothing for a flush interval, the idle partitions' final
	// merges are due at once (store.Options.QuietAfter), the largest of
	// them in that lane, and the timer's next flush wakes it for them.
	bigNow  chan struct{}
	stop    chan struct{}
	wg      sync.WaitGroup
	flushMu sync.Mutex // one flush at a time: loop, force_flush and shutdown
	failed  atomic.Pointer[error]
	closed  atomic.Bool
	// writeFailed is the last WAL write failure (a full disk) while no
	// write has succeeded since; the pipeline is not ready meanwhile.
	writeFailed atomic.Pointer[error]
	// removed is set once the WAL or the store found its files removed
	// from under the server (wal.ErrRemoved, store.ErrRemoved): ingest is
	// refused and the pipeline not ready until a restart.
	removed atomic.Pointer[error]

	flushedMu sync.Mutex
	flushed   chan struct{} // closed and replaced when a flush attempt ends

	ingested          atomic.Int64
	backpressureTotal atomic.Int64
}

var _ ingest.Sink = (*Pipeline)(nil)

// Open replays the WAL past the store's durable watermark into the store's
// head and starts the background loops. The WAL and store are owned by the
// pipeline from then on and closed by Close.
func Open(w *wal.Log, s *store.Store, opts Options, m *Metrics, log *slog.Logger) (*Pipeline, error) {
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = time.Second
	}
	if opts.HeadWait <= 0 {
		opts.HeadWait = defaultHeadWait
	}
	p := &Pipeline{
		wal: w, store: s, opts: opts, log: log, hub: newHub(),
		m:        m,
		flushNow: make(chan struct{}, 1),
		probeNow: make(chan struct{}, 1),
		mergeNow: make(chan struct{}, 1),
		bigNow:   make(chan struct{}, 1),
		stop:     make(chan struct{}),
		flushed:  make(chan struct{}),
	}
	if err := p.replay(); err != nil {
		return nil, err
	}
	p.seq = newSequencer(w.LastSeq() + 1)
	m.watch(p)
	p.wg.Add(4)
	go p.flushLoop()
	go p.mergeLoop(store.MergeSmall, p.mergeNow)
	go p.mergeLoop(store.MergeBig, p.bigNow)
	go p.probeLoop()
	if opts.ScrubBytesPerSecond > 0 {
		p.wg.Add(1)
		go p.scrub()
	}
	return p, nil
}

// scrub runs the store's scrubber until it has checked every part opened
// from disk, or the pipeline stops.
func (p *Pipeline) scrub() {
	defer p.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-p.stop:
		case <-ctx.Done():
		}
		cancel()
	}()
	start := time.Now()
	if err := p.store.Scrub(ctx, p.opts.ScrubBytesPerSecond); err != nil && ctx.Err() == nil {
		p.log.Error("scrub failed", "err", err)
		return
	}
	if ctx.Err() == nil {
		st := p.store.Stats()
		p.log.Info("scrub done: every part's sha256 checked", "parts", st.PartsScrubbed, "failed", st.ScrubFailures,
			"bytes", st.ScrubBytes, "duration", time.Since(start).Round(time.Millisecond))
	}
}

// replay loads every WAL record the store has not made durable yet.
func (p *Pipeline) replay() error {
	after := p.store.DurableSeq()
	start := time.Now()
	const batchSize = 4096
	batch := make([]record.Record, 0, batchSize)
	var last uint64
	var n int
	err := p.wal.Replay(after, func(seq uint64, r *record.Record) error {
		batch = append(batch, r.Clone())
		last = seq
		n++
		if len(batch) == batchSize {
			p.store.Append(batch, last)
			batch = batch[:0]
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("replay WAL after seq %d: %w", after, err)
	}
	if len(batch) > 0 {
		p.store.Append(batch, last)
	}
	p.log.Info("replayed write-ahead log", "records", n, "after_seq", after, "last_seq", p.wal.LastSeq(), "duration", time.Since(start).Round(time.Millisecond))
	return nil
}

// Ingest makes recs durable in the WAL, then searchable in the store. It
// returns a *ingest.BackpressureError when the WAL is at its bound.
func (p *Pipeline) Ingest(ctx context.Context, recs []record.Record) error {
	if len(recs) == 0 {
		return nil
	}
	if errp := p.removed.Load(); errp != nil {
		return fmt.Errorf("ingest unavailable, nothing of this request was stored: %w", *errp)
	}
	if errp := p.failed.Load(); errp != nil {
		return fmt.Errorf("ingest unavailable after a write-ahead log failure: %w", *errp)
	}
	if p.closed.Load() {
		return errors.New("ingest unavailable: server is shutting down")
	}
	if err := p.waitForHeadRoom(ctx); err != nil {
		return err
	}
	// Encoding the batch into the WAL is CPU work on a slot of ingest's
	// priority (package cpuslot), as the receivers' parsing is: a search
	// waiting for a CPU goes first, background work after. The WAL gives
	// the slot back before it waits for the fsync.
	cpu := cpuslot.Shared().NewHold(cpuslot.Ingest)
	defer cpu.Release()
	if err := cpu.Reacquire(ctx); err != nil {
		return err
	}
	// The request's context is not passed down: once records are handed to
	// the WAL they must reach the store in order, whatever the client does.
	first, last, err := p.wal.Append(cpuslot.WithHold(context.Background(), cpu), recs)
	cpu.Release()
	switch {
	case errors.Is(err, wal.ErrFull):
		p.m.backpressure.Inc()
		p.backpressureTotal.Add(1)
		p.kickFlush()
		return &ingest.BackpressureError{RetryAfter: p.opts.RetryAfter,
			Reason: fmt.Sprintf("write-ahead log full (%d bytes); the store is catching up", p.wal.Size())}
	case errors.Is(err, wal.ErrBatchTooLarge):
		return fmt.Errorf("batch of %d records is larger than the write-ahead log's bound; send smaller requests: %w", len(recs), err)
	case errors.Is(err, wal.ErrWrite):
		// Nothing of the batch was kept and the WAL goes on: not ready
		// until a write succeeds again (a later request, or the probe).
		p.m.walWriteErrors.Inc()
		if p.writeFailed.Swap(&err) == nil {
			p.log.Error("write-ahead log write failed; answering 503 until the disk takes writes again", "err", err)
			select {
			case p.probeNow <- struct{}{}:
			default:
			}
		}
		return fmt.Errorf("write-ahead log write failed, nothing of this request was stored; retry later: %w", err)
	case errors.Is(err, wal.ErrRemoved):
		// The WAL refuses every later batch: stop as after any failure.
		p.failed.Store(&err)
		p.seq.breakDown()
		p.noteRemoved(err)
		return fmt.Errorf("nothing of this request was stored: %w", err)
	case err != nil:
		// A failed write or fsync may leave a gap in the seqs; stop taking
		// writes rather than risk acknowledging something not durable.
		p.failed.Store(&err)
		p.seq.breakDown()
		p.log.Error("write-ahead log failed; ingest stopped", "err", err)
		return fmt.Errorf("write-ahead log: %w", err)
	}
	p.writeSucceeded()
	// The head append runs without a slot: batches reach the head in
	// their WAL order, one at a time (the sequencer), so a batch waiting
	// there for a slot would hold up every batch behind it.
	if !p.seq.apply(first, last, func() { p.store.Append(recs, last) }) {
		return errors.New("ingest stopped after a write-ahead log failure")
	}
	p.m.recordsStored.Add(float64(len(recs)))
	p.ingested.Add(int64(len(recs)))
	p.hub.publish(recs)
	if p.opts.FlushBytes > 0 && p.store.HeadBytes() >= p.opts.FlushBytes {
		p.kickFlush()
	}
	return nil
}

// Subscribe returns a live feed of every record stored from now on, which
// is dropped (ErrSlowReader) once more than maxBytes of records wait for
// its consumer.
func (p *Pipeline) Subscribe(maxBytes int64) *Subscription { return p.hub.subscribe(maxBytes) }

// Searcher is the read side: the store, head included.
func (p *Pipeline) Searcher() store.Searcher { return p.store }

// Ready reports whether the pipeline takes writes.
func (p *Pipeline) Ready() bool {
	return p.failed.Load() == nil && p.writeFailed.Load() == nil && p.removed.Load() == nil && !p.closed.Load()
}

// noteRemoved records err, a wal.ErrRemoved or store.ErrRemoved: the data
// directory (or part of it) was removed from under the server, so nothing
// can be made durable any more and ingest is refused until a restart.
func (p *Pipeline) noteRemoved(err error) {
	if p.removed.CompareAndSwap(nil, &err) {
		p.log.Error("files of the data directory were removed from under the server; ingest refused and not ready until restarted", "err", err)
	}
}

// writeSucceeded ends a spell of failed WAL writes.
func (p *Pipeline) writeSucceeded() {
	if p.writeFailed.Load() != nil && p.writeFailed.Swap(nil) != nil {
		p.log.Info("write-ahead log writes succeed again; ingest resumed")
	}
}

// probeInterval is how often a pipeline whose WAL writes failed checks
// whether the disk takes writes again.
const probeInterval = time.Second

// probeLoop wakes while WAL writes fail: a load balancer that took the
// node out of service on /readyz sends no request that could succeed, so
// the pipeline tries a write of its own every probeInterval and is ready
// again once one succeeds.
func (p *Pipeline) probeLoop() {
	defer p.wg.Done()
	t := time.NewTicker(probeInterval)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-p.probeNow:
		}
		for p.writeFailed.Load() != nil {
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
			if err := p.wal.Probe(); err == nil {
				p.writeSucceeded()
			}
		}
	}
}

func (p *Pipeline) kickFlush() {
	select {
	case p.flushNow <- struct{}{}:
	default:
	}
}

// Flush seals the store's head into parts and releases the WAL they cover.
func (p *Pipeline) Flush(ctx context.Context) error {
	p.flushMu.Lock()
	defer p.flushMu.Unlock()
	defer p.signalFlushed()
	start := time.Now()
	if err := p.store.Flush(ctx); err != nil {
		p.m.flushErrors.Inc()
		if errors.Is(err, store.ErrRemoved) {
			p.noteRemoved(err)
		}
		return fmt.Errorf("flush store: %w", err)
	}
	p.m.flushDuration.Observe(time.Since(start).Seconds())
	for _, wake := range []chan struct{}{p.mergeNow, p.bigNow} {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	if err := p.wal.Release(p.store.DurableSeq()); err != nil {
		return fmt.Errorf("release WAL up to seq %d: %w", p.store.DurableSeq(), err)
	}
	// With the merges behind, the next flush (and so ingest, once the head
	// is full) waits for them; not on the way out, which must not wait.
	if !p.closed.Load() {
		if _, err := p.store.AssistMerges(ctx); err != nil && ctx.Err() == nil {
			p.log.Error("assisted merge failed", "err", err)
		}
	}
	return nil
}

func (p *Pipeline) flushLoop() {
	defer p.wg.Done()
	t := time.NewTicker(p.opts.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		case <-p.flushNow:
		}
		if err := p.Flush(context.Background()); err != nil && !errors.Is(err, store.ErrRemoved) {
			p.log.Error("background flush failed; will retry", "err", err)
		}
	}
}

// mergeLoop runs the merges of one lane every merge_interval and after
// every flush (the timer's empty ones too), which is what makes new parts
// due, and the idle partitions' final merges once the node has gone
// quiet (store.Options.QuietAfter); the small lane's loop applies
// retention after its merges. Each lane merges
// one at a time, so a long merge of large parts never holds up the small
// ones that keep a partition under continuous ingest at few parts.
func (p *Pipeline) mergeLoop(lane store.MergeLane, wake <-chan struct{}) {
	defer p.wg.Done()
	t := time.NewTicker(p.opts.MergeInterval)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		case <-wake:
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-p.stop:
			case <-ctx.Done():
			}
			cancel()
		}()
		if err := p.store.MergeLane(ctx, lane); errors.Is(err, store.ErrRemoved) {
			p.noteRemoved(err)
		} else if err != nil && ctx.Err() == nil {
			p.log.Error("background merge failed; will retry", "lane", lane.String(), "err", err)
		}
		if lane == store.MergeSmall {
			r := store.Retention{MaxAge: p.opts.Retention, MaxBytes: p.opts.MaxDiskBytes, Tenants: p.opts.TenantRetention}
			if _, err := p.store.ApplyRetention(ctx, time.Now(), r); err != nil && ctx.Err() == nil {
				p.log.Error("retention failed; will retry", "err", err)
			}
		}
		cancel()
	}
}

// Close stops taking writes, flushes what is in memory, and closes the WAL
// and the store. The caller stops the receivers first.
func (p *Pipeline) Close(ctx context.Context) error {
	if !p.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(p.stop)
	p.wg.Wait()
	p.hub.closeAll()
	var errs []error
	if p.failed.Load() == nil {
		if err := p.Flush(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if err := p.wal.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close WAL: %w", err))
	}
	if err := p.store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close store: %w", err))
	}
	return errors.Join(errs...)
}
