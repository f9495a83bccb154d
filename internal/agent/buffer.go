package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/sluice-log/sluice/internal/durable"
)

// A batch is records ready to send, encoded for the output, with the
// checkpoints of the files they came from: once the server acknowledged
// the batch, those positions are durable in checkpoints.json.
type batch struct {
	Seq       uint64     `json:"seq"`
	Output    string     `json:"output"` // the output kind it was encoded for
	Tenant    string     `json:"tenant,omitempty"`
	Records   int        `json:"records"`
	Positions []Position `json:"positions,omitempty"`
	Forget    []fileID   `json:"forget,omitempty"` // files closed since the previous batch
	// StreamFields names the labels of the batch's records (HTTP output).
	StreamFields []string `json:"stream_fields,omitempty"`
	payload      []byte
}

// buffer keeps batches in files under dir, one file each, written before
// they are sent and removed once acknowledged, bounded in bytes: put
// waits while the buffer is full, so reading stops (backpressure) and
// nothing is dropped.
type buffer struct {
	dir      string
	maxBytes int64

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []*batch // in seq order; loaded lazily from disk
	sizes   map[uint64]int64
	used    int64
	onUsage func(used int64)
}

const batchSuffix = ".batch"

func batchName(seq uint64) string { return fmt.Sprintf("%020d%s", seq, batchSuffix) }

// openBuffer lists the batches a previous run left, dropping those whose
// sequence number acked says were acknowledged.
func openBuffer(dir string, maxBytes int64, acked uint64) (*buffer, []*batch, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, nil, fmt.Errorf("create buffer directory: %w", err)
	}
	b := &buffer{dir: dir, maxBytes: maxBytes, sizes: map[uint64]int64{}, onUsage: func(int64) {}}
	b.cond = sync.NewCond(&b.mu)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("list buffer: %w", err)
	}
	var left []*batch
	for _, e := range ents {
		name := e.Name()
		if strings.HasSuffix(name, ".tmp") {
			_ = os.Remove(filepath.Join(dir, name)) // a write a crash interrupted
			continue
		}
		seqText, ok := strings.CutSuffix(name, batchSuffix)
		if !ok {
			continue
		}
		seq, err := strconv.ParseUint(seqText, 10, 64)
		if err != nil {
			continue
		}
		path := filepath.Join(dir, name)
		if seq <= acked {
			_ = os.Remove(path)
			continue
		}
		bt, size, err := readBatch(path)
		if err != nil {
			return nil, nil, err
		}
		b.queue = append(b.queue, bt)
		b.sizes[seq] = size
		b.used += size
		left = append(left, bt)
	}
	sort.Slice(b.queue, func(i, j int) bool { return b.queue[i].Seq < b.queue[j].Seq })
	sort.Slice(left, func(i, j int) bool { return left[i].Seq < left[j].Seq })
	return b, left, nil
}

func readBatch(path string) (*batch, int64, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, fmt.Errorf("read buffered batch: %w", err)
	}
	head, payload, ok := bytes.Cut(raw, []byte{'\n'})
	bt := &batch{}
	if !ok || json.Unmarshal(head, bt) != nil {
		return nil, 0, fmt.Errorf("buffered batch %s is damaged", path)
	}
	bt.payload = payload
	return bt, int64(len(raw)), nil
}

// put writes bt durably (temporary file, fsync, rename), waiting while
// the buffer has no room. A batch larger than the whole buffer is taken
// when the buffer is empty.
func (b *buffer) put(ctx context.Context, bt *batch) error {
	head, err := json.Marshal(bt)
	if err != nil {
		return err
	}
	size := int64(len(head) + 1 + len(bt.payload))
	stop := context.AfterFunc(ctx, b.wake)
	defer stop()
	b.mu.Lock()
	for b.used > 0 && b.used+size > b.maxBytes {
		if ctx.Err() != nil {
			b.mu.Unlock()
			return ctx.Err()
		}
		b.cond.Wait()
	}
	b.mu.Unlock()
	if err := durable.WriteFile(filepath.Join(b.dir, batchName(bt.Seq)), append(append(head, '\n'), bt.payload...), 0o640); err != nil {
		return fmt.Errorf("write buffered batch: %w", err)
	}
	b.mu.Lock()
	b.queue = append(b.queue, bt)
	b.sizes[bt.Seq] = size
	b.used += size
	b.onUsage(b.used)
	b.cond.Broadcast()
	b.mu.Unlock()
	return nil
}

// next returns the oldest batch not yet acknowledged, waiting for one.
func (b *buffer) next(ctx context.Context) (*batch, error) {
	stop := context.AfterFunc(ctx, b.wake)
	defer stop()
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.queue) == 0 {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		b.cond.Wait()
	}
	return b.queue[0], nil
}

// after returns the oldest batch whose number is above seq, waiting for
// one: the batches that follow those already being sent.
func (b *buffer) after(ctx context.Context, seq uint64) (*batch, error) {
	stop := context.AfterFunc(ctx, b.wake)
	defer stop()
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		for _, bt := range b.queue {
			if bt.Seq > seq {
				return bt, nil
			}
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		b.cond.Wait()
	}
}

// oldest returns the oldest batch not yet acknowledged, or nil.
func (b *buffer) oldest() *batch {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.queue) == 0 {
		return nil
	}
	return b.queue[0]
}

// done removes the acknowledged oldest batch.
func (b *buffer) done(bt *batch) error {
	err := os.Remove(filepath.Join(b.dir, batchName(bt.Seq)))
	if errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	b.mu.Lock()
	b.queue = b.queue[1:]
	b.used -= b.sizes[bt.Seq]
	delete(b.sizes, bt.Seq)
	b.onUsage(b.used)
	b.cond.Broadcast()
	b.mu.Unlock()
	return err
}

// wake ends the waits of put and next (the context ended).
func (b *buffer) wake() {
	b.mu.Lock()
	b.cond.Broadcast()
	b.mu.Unlock()
}

// checkpoints is state_dir/checkpoints.json: every file's position as of
// the last acknowledged batch, and that batch's number.
type checkpoints struct {
	Acked     uint64     `json:"acked_seq"`
	Positions []Position `json:"positions"`
}

func loadCheckpoints(path string) (checkpoints, bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return checkpoints{}, false, nil
	}
	if err != nil {
		return checkpoints{}, false, fmt.Errorf("read checkpoints: %w", err)
	}
	var c checkpoints
	if err := json.Unmarshal(b, &c); err != nil {
		return checkpoints{}, false, fmt.Errorf("checkpoints %s are damaged: %w", path, err)
	}
	return c, true, nil
}

// writeCheckpoints replaces the file atomically: a crash leaves the old
// one or the new one.
func writeCheckpoints(path string, c checkpoints) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if err := durable.WriteFile(path, b, 0o640); err != nil {
		return fmt.Errorf("write checkpoints: %w", err)
	}
	return nil
}

// applyPositions merges a batch's positions into m.
func applyPositions(m map[fileID]Position, bt *batch) {
	for _, id := range bt.Forget {
		delete(m, id)
	}
	for _, p := range bt.Positions {
		m[p.id()] = p
	}
}

// isFull reports whether put(bt) would wait now.
func (b *buffer) isFull(bt *batch) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used > 0 && b.used+int64(len(bt.payload))+512 > b.maxBytes
}
