// Package agent is sluice agent: it tails log files (plain, Docker
// json-file, CRI), joins multiline records, runs the processing pipeline
// (internal/process) and ships batches to a Sluice server over the
// forward protocol with acks or the _bulk API, through a disk buffer
// bounded in bytes. A file's checkpoint (inode, offset, a hash of its first
// bytes) moves only once the server acknowledged the batch that holds its
// records, so a crash repeats at most the batches in flight and loses
// nothing.
package agent

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sluice-log/sluice/internal/aimd"
	"github.com/sluice-log/sluice/internal/process"
	"github.com/sluice-log/sluice/internal/record"
)

// Agent reads its inputs and ships what they hold.
type Agent struct {
	cfg      Config
	log      *slog.Logger
	reg      *prometheus.Registry
	m        *Metrics
	pipeline *process.Pipeline
	out      output
	// lim adapts the batches in flight (output.http); nil: one at a time.
	lim    *aimd.Limiter
	buf    *buffer
	inputs []*input
	ckPath string
	acked  checkpoints

	positions map[fileID]Position // as of the records read (sent or not)
	seq       uint64              // the last batch's number
	lastScan  time.Time

	// The batch being filled.
	recs   []record.Record
	bytes  int
	first  time.Time
	dirty  map[fileID]Position
	forget []fileID
}

// New checks the state directory, the buffer and the checkpoints.
func New(cfg Config, log *slog.Logger) (*Agent, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a := &Agent{cfg: cfg, log: log, reg: reg, m: NewMetrics(reg), ckPath: filepath.Join(cfg.StateDir, "checkpoints.json"),
		dirty: map[fileID]Position{}}
	var err error
	if a.pipeline, err = cfg.Pipeline.Build(process.Options{Metrics: process.NewMetrics(reg)}); err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	if err := process.TestsFailed(cfg.Pipeline.RunTests()); err != nil {
		return nil, fmt.Errorf("pipeline: its tests fail: %w", err)
	}
	if a.out, err = newOutput(cfg.Output); err != nil {
		return nil, err
	}
	if cfg.Output.HTTP != "" && cfg.Output.MaxConcurrency > 1 {
		a.lim = aimd.New(aimd.Config{Initial: 1, Max: cfg.Output.MaxConcurrency})
		aimd.NewMetrics(reg).Track(a.lim, "http")
	}
	if err := os.MkdirAll(cfg.StateDir, 0o750); err != nil {
		return nil, fmt.Errorf("create state_dir: %w", err)
	}
	ck, found, err := loadCheckpoints(a.ckPath)
	if err != nil {
		return nil, err
	}
	a.acked = ck
	buf, left, err := openBuffer(filepath.Join(cfg.StateDir, "buffer"), int64(cfg.Buffer.MaxBytes), ck.Acked)
	if err != nil {
		return nil, err
	}
	a.buf = buf
	a.m.bufferMax.Set(float64(cfg.Buffer.MaxBytes))
	buf.onUsage = func(used int64) { a.m.bufferBytes.Set(float64(used)) }
	buf.onUsage(buf.used)
	a.positions = map[fileID]Position{}
	for _, p := range ck.Positions {
		a.positions[p.id()] = p
	}
	a.seq = ck.Acked
	for _, bt := range left {
		if bt.Output != a.out.kind() {
			return nil, fmt.Errorf("state_dir's buffer holds batches for output %s, and output is %s now: send them with the old output first, or remove %s (losing them)",
				bt.Output, a.out.kind(), buf.dir)
		}
		applyPositions(a.positions, bt)
		a.seq = max(a.seq, bt.Seq)
	}
	if len(left) > 0 {
		log.Info("sending the batches a previous run buffered", "batches", len(left), "bytes", buf.used)
	}
	for i, ic := range cfg.Inputs {
		in := &input{cfg: ic, index: i, files: map[fileID]*tailFile{}, log: log.With("input", i), m: a.m.input(strconv.Itoa(i)),
			firstRun: !found && len(left) == 0}
		if ic.Multiline.Start != "" {
			in.start = regexp.MustCompile(ic.Multiline.Start)
		}
		for k, v := range ic.Stream {
			in.labels = append(in.labels, record.Field{Name: k, Value: v})
		}
		in.labels = sorted(in.labels)
		a.inputs = append(a.inputs, in)
	}
	return a, nil
}

// Registry holds the agent's metrics.
func (a *Agent) Registry() *prometheus.Registry { return a.reg }

// Run reads and ships until ctx ends; what was read is then buffered, and
// what was buffered is sent by the next run.
func (a *Agent) Run(ctx context.Context) error {
	if a.cfg.MetricsAddr != "" {
		ln, err := net.Listen("tcp", a.cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("metrics_addr: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{}))
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		a.log.Info("serving metrics", "addr", ln.Addr().String())
	}
	sendCtx, stopSend := context.WithCancel(context.Background())
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		a.sendLoop(sendCtx)
	}()
	err := a.readLoop(ctx)
	// What was read goes to the buffer if it has room (else it is read
	// again by the next run), which sends it.
	if cerr := a.cut(ctx); cerr != nil && !errors.Is(cerr, context.Canceled) && err == nil {
		err = cerr
	}
	stopSend()
	a.buf.wake()
	<-sent
	a.out.close()
	for _, in := range a.inputs {
		for _, t := range in.files {
			t.close()
		}
	}
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

func (a *Agent) readLoop(ctx context.Context) error {
	poll := time.Duration(a.cfg.Batch.Poll)
	timer := time.NewTimer(poll)
	defer timer.Stop()
	for ctx.Err() == nil {
		read, err := a.step(ctx, time.Now())
		if err != nil {
			return err
		}
		if read == 0 {
			timer.Reset(poll)
			select {
			case <-ctx.Done():
			case <-timer.C:
			}
		}
	}
	return ctx.Err()
}

// step is one round of reading: the globs when poll_interval passed, then
// up to 1 MiB of every open file, multiline timeouts, closing files gone
// for rotate_wait, and the batch when max_wait passed. It reports the
// bytes read.
func (a *Agent) step(ctx context.Context, now time.Time) (int, error) {
	if now.Sub(a.lastScan) >= time.Duration(a.cfg.Batch.Poll) {
		a.scan(a.lastScan.IsZero(), now)
		a.lastScan = now
	}
	read := 0
	var err error
	emit := func(r record.Record, p Position) {
		if err == nil {
			err = a.add(ctx, r, p)
		}
	}
	for _, in := range a.inputs {
		for _, t := range in.files {
			size, cerr := t.check(emit, now)
			if cerr != nil {
				in.log.Warn("file unreadable; closing it", "path", t.path, "error", cerr)
				a.closeFile(t, emit, now)
				continue
			}
			n, rerr := t.read(emit, 1<<20, now)
			read += n
			if rerr != nil {
				in.log.Warn("read failed; closing the file", "path", t.path, "error", rerr)
				a.closeFile(t, emit, now)
				continue
			}
			in.m.behind.WithLabelValues(t.path).Set(float64(max(0, size-t.readOff)))
			t.expire(emit, now)
			if t.gone && n == 0 && now.Sub(t.lastData) >= time.Duration(in.cfg.RotateWait) {
				a.closeFile(t, emit, now)
			}
			if err != nil {
				return read, err
			}
		}
	}
	if len(a.recs) > 0 || len(a.dirty) > 0 || len(a.forget) > 0 {
		if a.first.IsZero() {
			a.first = now
		}
		if now.Sub(a.first) >= time.Duration(a.cfg.Batch.MaxWait) {
			if err := a.cut(ctx); err != nil {
				return read, err
			}
		}
	}
	return read, nil
}

// scan opens the files the inputs' globs name now and marks the open
// files they no longer name (renamed away or deleted): those are read to
// their end and closed after rotate_wait.
func (a *Agent) scan(atStart bool, now time.Time) {
	for _, in := range a.inputs {
		found, err := in.matches()
		if err != nil {
			in.log.Warn("glob failed", "error", err)
			continue
		}
		seen := map[fileID]bool{}
		for path, fi := range found {
			id := statID(fi)
			seen[id] = true
			if t, ok := in.files[id]; ok {
				t.path = path
				t.gone = false
				continue
			}
			if _, err := in.open(path, a.positions, atStart, now); err != nil {
				in.log.Warn("cannot open file", "path", path, "error", err)
			}
		}
		for id, t := range in.files {
			if !seen[id] {
				t.gone = true
			}
		}
	}
}

// closeFile sends what the file still holds and forgets it: its inode may
// be another file's next.
func (a *Agent) closeFile(t *tailFile, emit emitFunc, now time.Time) {
	t.flushAll(emit, now)
	t.close()
	delete(a.positions, t.id)
	delete(a.dirty, t.id)
	a.forget = append(a.forget, t.id)
}

// add puts a record into the batch, cutting the batch when it is full.
func (a *Agent) add(ctx context.Context, r record.Record, p Position) error {
	a.recs = append(a.recs, r)
	a.bytes += len(r.Message) + 64
	a.dirty[p.id()] = p
	a.positions[p.id()] = p
	if len(a.recs) >= a.cfg.Batch.MaxRecords || a.bytes >= int(a.cfg.Batch.MaxBytes) {
		return a.cut(ctx)
	}
	return nil
}

// cut runs the pipeline over the batch and writes it to the buffer (one
// batch per tenant that route chose), waiting while the buffer is full.
func (a *Agent) cut(ctx context.Context) error {
	if len(a.recs) == 0 && len(a.dirty) == 0 && len(a.forget) == 0 {
		return nil
	}
	recs := a.pipeline.Process(a.recs)
	a.m.records.Add(float64(len(recs)))
	groups := map[string][]record.Record{}
	var tenants []string
	for _, r := range recs {
		if _, ok := groups[r.Tenant]; !ok {
			tenants = append(tenants, r.Tenant)
		}
		groups[r.Tenant] = append(groups[r.Tenant], r)
	}
	if len(tenants) == 0 {
		tenants = []string{""}
	}
	for i, tenant := range tenants {
		a.seq++
		bt := &batch{Seq: a.seq, Output: a.out.kind(), Tenant: tenant, Records: len(groups[tenant])}
		if i == len(tenants)-1 {
			// Batches are acknowledged in order: the last one's
			// positions cover the records of all.
			bt.Positions = sortedPositions(a.dirty)
			bt.Forget = a.forget
		}
		if err := a.out.encode(bt, groups[tenant]); err != nil {
			return err
		}
		full := a.buf.isFull(bt)
		if full {
			a.m.waits.Inc()
			a.log.Warn("disk buffer full; reading stops until the server takes batches", "used", a.buf.used, "max_bytes", a.buf.maxBytes)
		}
		if err := a.buf.put(ctx, bt); err != nil {
			return err
		}
	}
	clear(a.recs)
	a.recs, a.bytes, a.first, a.forget = a.recs[:0], 0, time.Time{}, nil
	clear(a.dirty)
	return nil
}

func sortedPositions(m map[fileID]Position) []Position {
	out := slices.Collect(maps.Values(m))
	slices.SortFunc(out, func(a, b Position) int { return cmp.Or(cmp.Compare(a.Dev, b.Dev), cmp.Compare(a.Ino, b.Ino)) })
	return out
}

// sendLoop sends the buffered batches and, in their order, moves the
// checkpoints over each one the server acknowledged and removes it. With
// a limiter (output.http, max_concurrency above 1) several batches are in
// flight at once, as many as its adaptive limit; one acknowledged before
// an older one waits for it, so the checkpoints never pass a batch the
// server has not acknowledged, and a crash repeats at most the batches in
// flight.
func (a *Agent) sendLoop(ctx context.Context) {
	ackedPos := map[fileID]Position{}
	for _, p := range a.acked.Positions {
		ackedPos[p.id()] = p
	}
	finish := func(bt *batch) {
		applyPositions(ackedPos, bt)
		ck := checkpoints{Acked: bt.Seq, Positions: sortedPositions(ackedPos)}
		if err := writeCheckpoints(a.ckPath, ck); err != nil {
			// The batch is sent again after a restart; that is all.
			a.log.Error("checkpoints not written", "error", err)
		}
		if err := a.buf.done(bt); err != nil {
			a.log.Warn("acknowledged batch not removed", "batch", bt.Seq, "error", err)
		}
	}
	if a.lim == nil {
		for {
			bt, err := a.buf.next(ctx)
			if err != nil || !a.deliver(ctx, bt) {
				return
			}
			finish(bt)
		}
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	delivered := make(chan *batch)
	// window bounds the batches taken and not yet finished (sending,
	// waiting to retry, or acknowledged behind an older one); the limiter
	// bounds those whose request is in flight.
	window := make(chan struct{}, a.cfg.Output.MaxConcurrency)
	wg.Go(func() {
		var last uint64
		for {
			select {
			case window <- struct{}{}:
			case <-ctx.Done():
				return
			}
			bt, err := a.buf.after(ctx, last)
			if err != nil {
				return
			}
			last = bt.Seq
			wg.Go(func() {
				if a.deliver(ctx, bt) {
					select {
					case delivered <- bt:
					case <-ctx.Done():
					}
				}
			})
		}
	})
	acked := map[uint64]bool{}
	for {
		select {
		case <-ctx.Done():
			return
		case bt := <-delivered:
			acked[bt.Seq] = true
		}
		for bt := a.buf.oldest(); bt != nil && acked[bt.Seq]; bt = a.buf.oldest() {
			delete(acked, bt.Seq)
			finish(bt)
			<-window
		}
	}
}

// deliver sends bt until the server acknowledged it or refused it for
// good; false when ctx ended first.
func (a *Agent) deliver(ctx context.Context, bt *batch) bool {
	if bt.Records == 0 {
		return true
	}
	wait := 100 * time.Millisecond
	for {
		permanent, err := a.sendOnce(ctx, bt)
		var rej *rejectedError
		switch {
		case errors.As(err, &rej):
			a.m.rejected.Add(float64(rej.n))
			a.log.Warn("server rejected records of a batch", "batch", bt.Seq, "error", err)
		case err != nil && permanent:
			a.m.batches.WithLabelValues("refused").Inc()
			a.log.Error("server refused a batch for good; it is not sent again", "batch", bt.Seq, "records", bt.Records, "error", err)
		case err != nil:
			if ctx.Err() != nil {
				return false
			}
			a.m.sendErrors.Inc()
			a.log.Warn("send failed; retrying", "batch", bt.Seq, "in", wait, "error", err)
			select {
			case <-ctx.Done():
				return false
			case <-time.After(wait):
			}
			wait = min(2*wait, time.Duration(a.cfg.Output.RetryMax))
			continue
		default:
			a.m.batches.WithLabelValues("sent").Inc()
		}
		return true
	}
}

// sendOnce is one request, under the limiter when there is one.
func (a *Agent) sendOnce(ctx context.Context, bt *batch) (bool, error) {
	if a.lim == nil {
		return a.out.send(ctx, bt)
	}
	if err := a.lim.Acquire(ctx); err != nil {
		return false, err
	}
	start := time.Now()
	permanent, err := a.out.send(ctx, bt)
	a.lim.Release(time.Since(start), sendOutcome(err))
	return permanent, err
}

// sendOutcome says what a send's error says of the server's load: 429,
// 502, 503, 504 and timeouts are pushback; records rejected one by one
// are an answer like any other.
func sendOutcome(err error) aimd.Outcome {
	var rej *rejectedError
	var ov *overloadedError
	var ne net.Error
	switch {
	case err == nil, errors.As(err, &rej):
		return aimd.OK
	case errors.As(err, &ov), errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return aimd.Overloaded
	}
	return aimd.Failed
}
