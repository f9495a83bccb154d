package agent

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"syscall"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

// fileID tells files apart across renames: device and inode.
type fileID struct{ Dev, Ino uint64 }

func (id fileID) String() string { return fmt.Sprintf("%d:%d", id.Dev, id.Ino) }

// headLen is how many of a file's first bytes identify its content: a file
// whose first bytes changed under the same inode was truncated and
// rewritten, or is another file that got a deleted file's inode.
const headLen = 256

// Position is a file's checkpoint: what of it has been made into records.
type Position struct {
	Path    string `json:"path"`
	Dev     uint64 `json:"dev"`
	Ino     uint64 `json:"ino"`
	Offset  int64  `json:"offset"`
	Head    uint64 `json:"head"`
	HeadLen int    `json:"head_len"`
}

func (p Position) id() fileID { return fileID{p.Dev, p.Ino} }

func statID(fi os.FileInfo) fileID {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fileID{Dev: uint64(st.Dev), Ino: uint64(st.Ino)} //nolint:unconvert // Dev's type differs by platform
	}
	return fileID{}
}

func hashHead(b []byte) uint64 {
	h := fnv.New64a()
	_, _ = h.Write(b)
	return h.Sum64()
}

// emit receives every record a file gives, with the file's checkpoint
// after it.
type emitFunc func(r record.Record, pos Position)

// tailFile is one open file of an input.
type tailFile struct {
	in      *input
	id      fileID
	path    string
	f       *os.File
	readOff int64  // bytes read from the file
	buf     []byte // read bytes not yet a whole raw line; starts at readOff-len(buf)
	dec     decoder
	labels  []record.Field

	// committed is where the file must be read again from after a
	// restart: the start of the pending (unsent) content, or the end of
	// the last raw line made into a record.
	committed int64
	lineStart int64 // start of the raw line whose parts dec holds
	ml        []byte
	mlTime    int64
	mlSource  string
	mlStart   int64
	mlOpen    bool
	lastLine  time.Time // when the open multiline record last grew
	lastData  time.Time // when bytes were last read
	size      int64     // the size seen at the last poll
	head      uint64
	headN     int
	gone      bool // no path of the input names this file any more
}

func (t *tailFile) pos() Position {
	return Position{Path: t.path, Dev: t.id.Dev, Ino: t.id.Ino, Offset: t.committed, Head: t.head, HeadLen: t.headN}
}

// readHead hashes the file's first n bytes.
func (t *tailFile) readHead(n int) (uint64, error) {
	b := make([]byte, n)
	if _, err := t.f.ReadAt(b, 0); err != nil {
		return 0, err
	}
	return hashHead(b), nil
}

// check looks at the file's size and first bytes: a file shorter than
// what was read, or whose first bytes changed, was truncated (copytruncate
// or a rewrite) and is read again from its start. It returns the size.
func (t *tailFile) check(emit emitFunc, now time.Time) (int64, error) {
	fi, err := t.f.Stat()
	if err != nil {
		return 0, err
	}
	size := fi.Size()
	if size == t.size && size >= t.readOff {
		return size, nil
	}
	t.size = size
	truncated := size < t.readOff
	if !truncated && t.headN > 0 {
		h, err := t.readHead(t.headN)
		if err != nil {
			return 0, err
		}
		truncated = h != t.head
	}
	if truncated {
		t.in.log.Info("file truncated; reading it from its start", "path", t.path, "read", t.readOff, "size", size)
		t.in.m.truncations.Inc()
		t.flushAll(emit, now)
		t.readOff, t.buf, t.committed, t.lineStart, t.headN = 0, t.buf[:0], 0, 0, 0
		if _, err := t.f.Seek(0, io.SeekStart); err != nil {
			return 0, err
		}
	}
	if t.headN < headLen && size > int64(t.headN) {
		n := int(min(size, headLen))
		if t.head, err = t.readHead(n); err != nil {
			return 0, err
		}
		t.headN = n
	}
	return size, nil
}

// read reads up to limit new bytes and makes records of the whole lines.
// It reports how many bytes it read.
func (t *tailFile) read(emit emitFunc, limit int, now time.Time) (int, error) {
	start := len(t.buf)
	if cap(t.buf)-start < 64<<10 {
		nb := make([]byte, start, start+max(64<<10, min(limit, 1<<20)))
		copy(nb, t.buf)
		t.buf = nb
	}
	total := 0
	for total < limit {
		if len(t.buf) == cap(t.buf) {
			if len(t.buf) >= int(t.in.cfg.MaxLineBytes) {
				break
			}
			nb := make([]byte, len(t.buf), 2*cap(t.buf))
			copy(nb, t.buf)
			t.buf = nb
		}
		n, err := t.f.Read(t.buf[len(t.buf):cap(t.buf)])
		t.buf = t.buf[:len(t.buf)+n]
		t.readOff += int64(n)
		total += n
		if n > 0 {
			t.lastData = now
		}
		if errors.Is(err, io.EOF) || n == 0 {
			break
		}
		if err != nil {
			return total, err
		}
		if len(t.buf) >= cap(t.buf)/2 {
			t.lines(emit, now)
		}
	}
	t.in.m.bytesRead.Add(float64(total))
	t.lines(emit, now)
	return total, nil
}

// lines makes records of the whole raw lines in buf; a line longer than
// max_line_bytes is cut.
func (t *tailFile) lines(emit emitFunc, now time.Time) {
	off := t.readOff - int64(len(t.buf))
	rest := t.buf
	maxLine := int(t.in.cfg.MaxLineBytes)
	for len(rest) > 0 {
		i := bytes.IndexByte(rest, '\n')
		var raw []byte
		var n int
		switch {
		case i >= 0 && i < maxLine:
			raw, n = rest[:i], i+1
		case i < 0 && len(rest) < maxLine:
			// An unfinished line: it waits for its newline.
			copy(t.buf, rest)
			t.buf = t.buf[:len(rest)]
			return
		default:
			raw, n = rest[:maxLine], maxLine
			t.in.m.linesSplit.Inc()
		}
		raw = bytes.TrimSuffix(raw, []byte{'\r'})
		t.raw(raw, off, off+int64(n), emit, now)
		off += int64(n)
		rest = rest[n:]
	}
	t.buf = t.buf[:0]
}

// raw handles one raw line that spans [start, end) of the file.
func (t *tailFile) raw(raw []byte, start, end int64, emit emitFunc, now time.Time) {
	t.in.m.linesRead.Inc()
	if !t.dec.pending() {
		t.lineStart = start
	}
	l, ok, err := t.dec.decode(raw)
	if err != nil {
		t.in.m.decodeErrors.Inc()
	}
	if !ok {
		t.committed = t.pendingStart()
		return
	}
	t.logical(l, t.lineStart, end, emit, now)
}

func (t *tailFile) pendingStart() int64 {
	if t.mlOpen {
		return t.mlStart
	}
	return t.lineStart
}

// logical handles a whole line spanning [start, end): multiline joining.
func (t *tailFile) logical(l line, start, end int64, emit emitFunc, now time.Time) {
	re := t.in.start
	switch {
	case re == nil:
		t.committed = end
		emit(t.record(l.text, l.time, l.source, now), t.pos())
	case re.Match(l.text) || !t.mlOpen:
		t.flushML(start, emit, now)
		t.ml = append(t.ml[:0], l.text...)
		t.mlTime, t.mlSource, t.mlStart, t.mlOpen = l.time, l.source, start, true
		t.committed = start
	default:
		if len(t.ml)+1+len(l.text) > int(t.in.cfg.MaxLineBytes) {
			t.flushML(start, emit, now)
			t.ml = append(t.ml[:0], l.text...)
			t.mlTime, t.mlSource, t.mlStart, t.mlOpen = l.time, l.source, start, true
			t.committed = start
			break
		}
		t.ml = append(append(t.ml, '\n'), l.text...)
	}
	t.lastLine = now
}

// flushML sends the open multiline record; the file's checkpoint becomes
// next, where what follows it starts.
func (t *tailFile) flushML(next int64, emit emitFunc, now time.Time) {
	if !t.mlOpen {
		return
	}
	t.mlOpen = false
	t.committed = next
	emit(t.record(t.ml, t.mlTime, t.mlSource, now), t.pos())
}

// expire sends an open multiline record that waited flush_timeout.
func (t *tailFile) expire(emit emitFunc, now time.Time) {
	if t.mlOpen && now.Sub(t.lastLine) >= time.Duration(t.in.cfg.Multiline.FlushTimeout) {
		next := t.readOff - int64(len(t.buf))
		if t.dec.pending() {
			next = t.lineStart
		}
		t.flushML(next, emit, now)
	}
}

// flushAll sends whatever is pending: the file is closed or truncated.
func (t *tailFile) flushAll(emit emitFunc, now time.Time) {
	end := t.readOff
	if len(t.buf) > 0 {
		if !t.dec.pending() {
			t.lineStart = t.readOff - int64(len(t.buf))
		}
		if l, ok, _ := t.dec.decode(t.buf); ok {
			t.logical(l, t.lineStart, end, emit, now)
		}
		t.buf = t.buf[:0]
	}
	if l, ok := t.dec.flush(); ok {
		t.logical(l, t.lineStart, end, emit, now)
	}
	t.flushML(end, emit, now)
}

func (t *tailFile) record(text []byte, ts int64, source string, now time.Time) record.Record {
	if ts == 0 {
		ts = now.UnixNano()
	}
	// Steps may change a record's labels in place: each has its own.
	r := record.Record{Time: ts, Message: string(text), Stream: slices.Clone(t.labels)}
	r.Fields = make([]record.Field, 0, 2)
	r.Fields = append(r.Fields, record.Field{Name: "file", Value: t.path})
	if source != "" {
		r.Fields = append(r.Fields, record.Field{Name: "source", Value: source})
	}
	return r
}

// input is one configured input and its open files.
type input struct {
	cfg      InputConfig
	index    int
	start    *regexp.Regexp
	labels   []record.Field // from the configuration
	files    map[fileID]*tailFile
	log      *slog.Logger
	m        *inputMetrics
	firstRun bool // no checkpoints existed: start_at applies
}

// matches globs the input's paths.
func (in *input) matches() (map[string]os.FileInfo, error) {
	out := map[string]os.FileInfo{}
	for _, p := range in.cfg.Paths {
		names, err := filepath.Glob(p)
		if err != nil {
			return nil, err
		}
	names:
		for _, name := range names {
			for _, ex := range in.cfg.Exclude {
				if ok, _ := filepathMatch(ex, name); ok {
					continue names
				}
				if ok, _ := filepathMatch(ex, filepath.Base(name)); ok {
					continue names
				}
			}
			fi, err := os.Stat(name)
			if err != nil || !fi.Mode().IsRegular() {
				continue
			}
			out[name] = fi
		}
	}
	return out, nil
}

func filepathMatch(pattern, name string) (bool, error) { return filepath.Match(pattern, name) }

// open starts reading a file the input's globs found, from its checkpoint
// when it has one for this content.
func (in *input) open(path string, positions map[fileID]Position, atStart bool, now time.Time) (*tailFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	id := statID(fi)
	if _, ok := in.files[id]; ok {
		f.Close()
		return nil, nil
	}
	labels := mergeLabels(in.labels, formats[in.cfg.Type].labels(path))
	t := &tailFile{in: in, id: id, path: path, f: f, dec: formats[in.cfg.Type].newDecoder(), labels: labels, lastData: now, size: -1}
	if p, ok := positions[id]; ok && p.Offset <= fi.Size() && p.HeadLen <= int(fi.Size()) {
		same := p.HeadLen == 0
		if !same {
			h, err := t.readHead(p.HeadLen)
			same = err == nil && h == p.Head
		}
		if same {
			t.readOff, t.committed, t.lineStart, t.head, t.headN = p.Offset, p.Offset, p.Offset, p.Head, p.HeadLen
		} else {
			in.log.Info("a checkpointed inode holds other content now; reading it from its start", "path", path, "inode", id.Ino)
		}
	} else if atStart && in.firstRun && in.cfg.StartAt == "end" {
		t.readOff, t.committed, t.lineStart = fi.Size(), fi.Size(), fi.Size()
	}
	if t.readOff > 0 {
		if _, err := f.Seek(t.readOff, io.SeekStart); err != nil {
			f.Close()
			return nil, err
		}
	}
	in.files[id] = t
	in.m.filesOpen.Inc()
	in.log.Debug("reading file", "path", path, "offset", t.readOff)
	return t, nil
}

func (t *tailFile) close() {
	_ = t.f.Close()
	delete(t.in.files, t.id)
	t.in.m.filesOpen.Dec()
	t.in.m.behind.DeleteLabelValues(t.path)
}

func mergeLabels(a, b []record.Field) []record.Field {
	out := append([]record.Field(nil), b...)
next:
	for _, f := range a {
		for _, g := range out {
			if g.Name == f.Name {
				continue next
			}
		}
		out = append(out, f)
	}
	return sorted(out)
}
