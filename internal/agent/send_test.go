package agent

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/aimd"
	"github.com/sluice-log/sluice/internal/config"
)

// gateOutput answers each batch when the test says so, to put the
// acknowledgements in an order the server chose; the real output is
// tested against the real server by the end-to-end test (cmd/sluice).
type gateOutput struct {
	memOutput
	mu             sync.Mutex
	inFlight, peak int
	gates          map[uint64]chan error
}

func (o *gateOutput) gate(seq uint64) chan error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.gates[seq] == nil {
		o.gates[seq] = make(chan error, 1)
	}
	return o.gates[seq]
}

func (o *gateOutput) send(ctx context.Context, bt *batch) (bool, error) {
	g := o.gate(bt.Seq)
	o.mu.Lock()
	o.inFlight++
	o.peak = max(o.peak, o.inFlight)
	o.mu.Unlock()
	defer func() { o.mu.Lock(); o.inFlight--; o.mu.Unlock() }()
	select {
	case err := <-g:
		return false, err
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// TestSendConcurrentInOrder: with output.http several batches are in
// flight at once, but the checkpoints move only over batches acknowledged
// in order: a batch acknowledged before an older one waits for it. A
// batch answered 429 shrinks the adaptive limit and is sent again.
func TestSendConcurrentInOrder(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "app.log")
	r := newRig(t, dir, InputConfig{Paths: []string{filepath.Join(dir, "*.log")}, StartAt: "beginning", MaxLineBytes: 1 << 10,
		Multiline: MultilineConfig{FlushTimeout: config.Duration(time.Second)}})
	out := &gateOutput{gates: map[uint64]chan error{}}
	r.a.out = out
	r.a.lim = aimd.New(aimd.Config{Initial: 4, Max: 4})
	for i := range 4 {
		appendFile(t, log, seqLines("a", i, i+1)...)
		r.now = r.now.Add(time.Second)
		if _, err := r.a.step(context.Background(), r.now); err != nil {
			t.Fatal(err)
		}
		if err := r.a.cut(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	r.a.buf.mu.Lock()
	var seqs []uint64
	for _, bt := range r.a.buf.queue {
		seqs = append(seqs, bt.Seq)
	}
	r.a.buf.mu.Unlock()
	if len(seqs) != 4 {
		t.Fatalf("%d batches buffered, want 4", len(seqs))
	}
	ckPath := filepath.Join(dir, "state", "checkpoints.json")
	acked := func() uint64 {
		ck, _, err := loadCheckpoints(ckPath)
		if err != nil {
			t.Fatal(err)
		}
		return ck.Acked
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("waiting for %s", what)
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.a.sendLoop(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	waitFor("4 batches in flight", func() bool { out.mu.Lock(); defer out.mu.Unlock(); return out.peak == 4 })
	start := acked()
	out.gate(seqs[1]) <- nil
	time.Sleep(100 * time.Millisecond)
	if got := acked(); got != start {
		t.Fatalf("checkpoints at batch %d after only the second batch was acknowledged, want %d", got, start)
	}
	out.gate(seqs[0]) <- nil
	waitFor("checkpoints over the first two batches", func() bool { return acked() == seqs[1] })

	out.gate(seqs[2]) <- &overloadedError{errors.New("429 Too Many Requests")}
	waitFor("the limit to shrink", func() bool { return r.a.lim.Limit() < 4 })
	out.gate(seqs[3]) <- nil
	time.Sleep(50 * time.Millisecond)
	if got := acked(); got != seqs[1] {
		t.Fatalf("checkpoints at batch %d while batch %d waits to be sent again, want %d", got, seqs[2], seqs[1])
	}
	out.gate(seqs[2]) <- nil // the retry
	// The checkpoints are written before the batch leaves the buffer.
	waitFor("checkpoints over every batch and an empty buffer", func() bool { return acked() == seqs[3] && r.a.buf.oldest() == nil })
}
