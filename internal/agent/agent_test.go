package agent

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/record"
)

// memOutput keeps what it is given. It stands in for the server in these
// tests of reading and checkpointing; the real outputs are tested against
// the real server by the end-to-end test (cmd/sluice).
type memOutput struct {
	mu   sync.Mutex
	recs []record.Record
}

func (o *memOutput) kind() string { return "mem" }
func (o *memOutput) close()       {}
func (o *memOutput) encode(bt *batch, recs []record.Record) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.recs = append(o.recs, recs...)
	return nil
}
func (o *memOutput) send(context.Context, *batch) (bool, error) { return false, nil }

func (o *memOutput) messages() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, r := range o.recs {
		out = append(out, r.Message)
	}
	return out
}

// rig is an agent whose clock the test moves: every step is one poll.
type rig struct {
	t   *testing.T
	dir string
	a   *Agent
	out *memOutput
	now time.Time
}

func newRig(t *testing.T, dir string, in InputConfig) *rig {
	t.Helper()
	cfg := Default()
	cfg.StateDir = filepath.Join(dir, "state")
	cfg.Output.HTTP = "http://127.0.0.1:1"
	cfg.MetricsAddr = ""
	if in.Type == "" {
		in.Type = "file"
	}
	in.RotateWait = config.Duration(2 * time.Second)
	cfg.Inputs = []InputConfig{in}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	out := &memOutput{}
	a.out = out
	return &rig{t: t, dir: dir, a: a, out: out, now: time.Unix(1767225600, 0)}
}

// step advances the clock by d and polls; the batch is cut and
// acknowledged.
func (r *rig) step(d time.Duration) {
	r.t.Helper()
	r.now = r.now.Add(d)
	if !r.a.lastScan.IsZero() {
		r.a.lastScan = time.Time{}.Add(1) // every step globs
	}
	if _, err := r.a.step(context.Background(), r.now); err != nil {
		r.t.Fatal(err)
	}
	if err := r.a.cut(context.Background()); err != nil {
		r.t.Fatal(err)
	}
	r.ackAll()
}

// ackAll does what the sender does for every buffered batch.
func (r *rig) ackAll() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	acked := map[fileID]Position{}
	for _, p := range r.a.acked.Positions {
		acked[p.id()] = p
	}
	for {
		r.a.buf.mu.Lock()
		n := len(r.a.buf.queue)
		r.a.buf.mu.Unlock()
		if n == 0 {
			return
		}
		bt, _ := r.a.buf.next(ctx)
		applyPositions(acked, bt)
		r.a.acked = checkpoints{Acked: bt.Seq, Positions: sortedPositions(acked)}
		if err := writeCheckpoints(r.a.ckPath, r.a.acked); err != nil {
			r.t.Fatal(err)
		}
		if err := r.a.buf.done(bt); err != nil {
			r.t.Fatal(err)
		}
	}
}

func appendFile(t *testing.T, path string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, l := range lines {
		if _, err := f.WriteString(l + "\n"); err != nil {
			t.Fatal(err)
		}
	}
}

func seqLines(prefix string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("%s %d", prefix, i))
	}
	return out
}

// The file cases: what the files go through between polls, and the
// records that must come out, each once, in order per file.
func TestTailFiles(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, r *rig, log string) []string
	}{
		{"new file and appends", func(t *testing.T, r *rig, log string) []string {
			r.step(0)
			appendFile(t, log, seqLines("a", 0, 3)...)
			r.step(time.Second)
			appendFile(t, log, seqLines("a", 3, 5)...)
			r.step(time.Second)
			return seqLines("a", 0, 5)
		}},
		{"rotation by rename, the writer still writing to the old file", func(t *testing.T, r *rig, log string) []string {
			appendFile(t, log, seqLines("a", 0, 3)...)
			r.step(0)
			if err := os.Rename(log, log+".1"); err != nil {
				t.Fatal(err)
			}
			appendFile(t, log+".1", "a 3") // before the writer reopens
			appendFile(t, log, seqLines("b", 0, 2)...)
			r.step(time.Second)
			appendFile(t, log, "b 2")
			r.step(3 * time.Second) // rotate_wait passes: the old file is closed
			r.step(time.Second)
			if len(r.a.inputs[0].files) != 1 {
				t.Errorf("%d files open, want 1", len(r.a.inputs[0].files))
			}
			return append(seqLines("a", 0, 4), seqLines("b", 0, 3)...)
		}},
		{"copytruncate", func(t *testing.T, r *rig, log string) []string {
			appendFile(t, log, seqLines("a", 0, 3)...)
			r.step(0)
			copyFile(t, log, log+".1")
			if err := os.Truncate(log, 0); err != nil {
				t.Fatal(err)
			}
			r.step(time.Second)
			appendFile(t, log, seqLines("b", 0, 2)...)
			r.step(time.Second)
			return append(seqLines("a", 0, 3), seqLines("b", 0, 2)...)
		}},
		{"truncated and rewritten past the old size between two polls", func(t *testing.T, r *rig, log string) []string {
			appendFile(t, log, "a 0")
			r.step(0)
			if err := os.Truncate(log, 0); err != nil {
				t.Fatal(err)
			}
			appendFile(t, log, seqLines("b", 0, 3)...)
			r.step(time.Second)
			return append([]string{"a 0"}, seqLines("b", 0, 3)...)
		}},
		{"deleted while open, the writer still writing", func(t *testing.T, r *rig, log string) []string {
			f, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fmt.Fprintln(f, "a 0")
			r.step(0)
			if err := os.Remove(log); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(f, "a 1")
			r.step(time.Second)
			r.step(3 * time.Second)
			if len(r.a.inputs[0].files) != 0 || len(r.a.positions) != 0 {
				t.Errorf("%d files open, %d positions; want the deleted file closed and forgotten", len(r.a.inputs[0].files), len(r.a.positions))
			}
			return []string{"a 0", "a 1"}
		}},
		{"an unfinished line waits for its newline", func(t *testing.T, r *rig, log string) []string {
			if err := os.WriteFile(log, []byte("a 0\na 1 par"), 0o644); err != nil {
				t.Fatal(err)
			}
			r.step(0)
			if got := r.out.messages(); !slices.Equal(got, []string{"a 0"}) {
				t.Errorf("before the newline: %q", got)
			}
			appendFile(t, log, "t")
			r.step(time.Second)
			return []string{"a 0", "a 1 part"}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			log := filepath.Join(dir, "app.log")
			r := newRig(t, dir, InputConfig{Paths: []string{filepath.Join(dir, "*.log")}, StartAt: "beginning", MaxLineBytes: 1 << 10,
				Multiline: MultilineConfig{FlushTimeout: config.Duration(time.Second)}})
			want := tc.run(t, r, log)
			if got := r.out.messages(); !slices.Equal(sortedCopy(got), sortedCopy(want)) {
				t.Errorf("records\n got %q\nwant %q", got, want)
			}
		})
	}
}

func sortedCopy(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A restart resumes from the acknowledged checkpoint; an inode that holds
// other content than its checkpoint says is read from its start.
func TestCheckpoints(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "app.log")
	in := InputConfig{Paths: []string{filepath.Join(dir, "*.log")}, StartAt: "beginning", MaxLineBytes: 1 << 10,
		Multiline: MultilineConfig{FlushTimeout: config.Duration(time.Second)}}
	appendFile(t, log, seqLines("a", 0, 3)...)
	r := newRig(t, dir, in)
	r.step(0)
	appendFile(t, log, "a 3")
	r2 := newRig(t, dir, in)
	r2.step(0)
	if got := r2.out.messages(); !slices.Equal(got, []string{"a 3"}) {
		t.Fatalf("after a restart: %q, want only the new line", got)
	}

	// The same inode with other first bytes: a file that took a deleted
	// one's inode, or a rewrite.
	ck, _, err := loadCheckpoints(filepath.Join(dir, "state", "checkpoints.json"))
	if err != nil || len(ck.Positions) != 1 {
		t.Fatalf("checkpoints %+v, %v", ck, err)
	}
	ck.Positions[0].Head ^= 1
	if err := writeCheckpoints(filepath.Join(dir, "state", "checkpoints.json"), ck); err != nil {
		t.Fatal(err)
	}
	r3 := newRig(t, dir, in)
	r3.step(0)
	if got := r3.out.messages(); len(got) != 4 {
		t.Fatalf("reused inode: %q, want the whole file", got)
	}

	// start_at: end skips what files held when the agent first ran.
	dir2 := t.TempDir()
	appendFile(t, filepath.Join(dir2, "old.log"), "old")
	in.Paths, in.StartAt = []string{filepath.Join(dir2, "*.log")}, "end"
	r4 := newRig(t, dir2, in)
	r4.step(0)
	appendFile(t, filepath.Join(dir2, "old.log"), "new")
	appendFile(t, filepath.Join(dir2, "later.log"), "later")
	r4.step(time.Second)
	if got := sortedCopy(r4.out.messages()); !slices.Equal(got, []string{"later", "new"}) {
		t.Fatalf("start_at end: %q", got)
	}
}

func TestMultiline(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "app.log")
	r := newRig(t, dir, InputConfig{Paths: []string{log}, StartAt: "beginning", MaxLineBytes: 100,
		Multiline: MultilineConfig{Start: `^\d{4}-`, FlushTimeout: config.Duration(time.Second)}})
	appendFile(t, log,
		"  orphan continuation",
		"2026-01-01 ERROR boom",
		"java.lang.IllegalStateException: x",
		"\tat a.B.c(B.java:1)",
		"2026-01-01 INFO next",
		"2026-01-01 INFO held")
	r.step(0)
	want := []string{"  orphan continuation", "2026-01-01 ERROR boom\njava.lang.IllegalStateException: x\n\tat a.B.c(B.java:1)", "2026-01-01 INFO next"}
	if got := r.out.messages(); !slices.Equal(got, want) {
		t.Fatalf("records %q\nwant %q", got, want)
	}
	// The open record is held (and not checkpointed) until flush_timeout.
	if p := r.a.positions[firstID(r)]; p.Offset != int64(strings.Index(readAll(t, log), "2026-01-01 INFO held")) {
		t.Errorf("checkpoint %d is not the open record's start", p.Offset)
	}
	r.step(2 * time.Second)
	if got := r.out.messages(); got[len(got)-1] != "2026-01-01 INFO held" {
		t.Fatalf("flush timeout: %q", got)
	}
	// A line past max_line_bytes is cut.
	appendFile(t, log, "2026-"+strings.Repeat("x", 150))
	r.step(2 * time.Second)
	r.step(2 * time.Second)
	got := r.out.messages()
	if tail := got[len(got)-2:]; len(tail[0]) != 100 || tail[1] != strings.Repeat("x", 55) {
		t.Fatalf("long line cut into %q", tail)
	}
}

func firstID(r *rig) fileID {
	for id := range r.a.inputs[0].files {
		return id
	}
	return fileID{}
}

func readAll(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
