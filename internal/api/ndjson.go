package api

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/sluice-log/sluice/internal/cpuslot"
)

// NDJSONWriter streams an NDJSON answer: it commits the 200 status with
// the first line, flushes every 1000 lines, and ends the answer with the
// partial-answer line and trailer when the answer is partial (Close).
//
// Its 64 KiB buffer comes from a pool and goes back to it at Close: a
// query of one row (a count) allocated it afresh, a third of the bytes it
// allocated, and its garbage collections.
//
// Its writes to the client give back the query's CPU slot (package
// cpuslot) while they block: a client that reads slowly, or not at all,
// must not keep a CPU from the others.
type NDJSONWriter struct {
	w       http.ResponseWriter
	cpu     *cpuslot.Hold
	bw      *bufio.Writer
	scratch []byte
	started bool
	n       int64
	lines   int
}

// NewNDJSONWriter returns a writer of an NDJSON answer to w. cpu, when not
// nil, is the query's CPU slot (cpuslot.WithHold), given back around each
// write to the client, and for good by Close.
func NewNDJSONWriter(w http.ResponseWriter, cpu *cpuslot.Hold) *NDJSONWriter {
	return &NDJSONWriter{w: w, cpu: cpu}
}

// slotFree writes to w without the CPU slot cpu (Hold.Blocking).
type slotFree struct {
	w   io.Writer
	cpu *cpuslot.Hold
}

func (s slotFree) Write(p []byte) (int, error) {
	var n int
	err := s.cpu.Blocking(context.Background(), func() (err error) {
		n, err = s.w.Write(p)
		return err
	})
	return n, err
}

// Buf returns a buffer to build the next line in; Write may be passed it.
func (o *NDJSONWriter) Buf() []byte { return o.scratch[:0] }

// Started reports whether the status (200) went out; before that, the
// handler may still answer an error instead.
func (o *NDJSONWriter) Started() bool { return o.started }

// Bytes is how many bytes the answer took so far.
func (o *NDJSONWriter) Bytes() int64 { return o.n }

func (o *NDJSONWriter) start() {
	o.started = true
	h := o.w.Header()
	h.Set("Content-Type", "application/x-ndjson")
	h.Set("Trailer", PartialTrailer)
	o.bw = getAnswerBuf(slotFree{o.w, o.cpu})
}

// answerBufSize is the NDJSON answer's buffer: the writes to the client
// it gathers (each a system call) are of up to this size.
const answerBufSize = 64 << 10

var answerBufs sync.Pool // *bufio.Writer of answerBufSize

func getAnswerBuf(w io.Writer) *bufio.Writer {
	if bw, ok := answerBufs.Get().(*bufio.Writer); ok {
		bw.Reset(w)
		return bw
	}
	return bufio.NewWriterSize(w, answerBufSize)
}

// putAnswerBuf gives bw back to the pool, forgetting its writer and
// anything left unwritten in it.
func putAnswerBuf(bw *bufio.Writer) {
	bw.Reset(nil)
	answerBufs.Put(bw)
}

// errClosed is what a write after Close returns.
var errClosed = errors.New("api: NDJSON answer written after Close")

// Write writes one line (without its newline).
func (o *NDJSONWriter) Write(line []byte) error {
	o.scratch = line
	if !o.started {
		o.start()
	}
	if o.bw == nil {
		return errClosed
	}
	o.n += int64(len(line)) + 1
	o.lines++
	if _, err := o.bw.Write(line); err != nil {
		return err
	}
	if err := o.bw.WriteByte('\n'); err != nil {
		return err
	}
	if o.lines%1000 == 0 {
		return o.flush()
	}
	return nil
}

// Fail ends an answer whose rows already went out (with 200) with a line
// {"error": "…"} saying what failed.
func (o *NDJSONWriter) Fail(err error) error {
	return o.Write(append(append([]byte(`{"error":`), jsonString(err.Error())...), '}'))
}

func (o *NDJSONWriter) flush() error {
	if err := o.bw.Flush(); err != nil {
		return err
	}
	return o.flushClient()
}

// flushClient sends what w holds to the client (http.Flusher), without
// the query's CPU slot.
func (o *NDJSONWriter) flushClient() error {
	if f, ok := o.w.(http.Flusher); ok {
		_ = o.cpu.Blocking(context.Background(), func() error {
			f.Flush()
			return nil
		})
	}
	return nil
}

// Close ends the answer: when p is not nil, with its partial-answer line
// and the trailer Sluice-Partial: true. The query's work is done by then,
// so Close gives its CPU slot back for good before the last writes: a
// write that took it back afterwards (Hold.Blocking) would wait for a
// slot behind ingest and background work only to give it back at once,
// which was most of a small query's time under ingest.
//
// Close hands the buffered lines to w but does not flush w itself: the
// handler's end sends them, the last chunk and the trailer in one write
// (net/http), where a flush here cost a system call and a packet of its
// own to every small answer. (The query routes' answerWriter flushes a
// larger rest under the write timeout at the handler's end.) Writes after
// Close fail.
func (o *NDJSONWriter) Close(p *Partial) error {
	if !o.started {
		o.start()
	}
	if o.bw == nil {
		return errClosed
	}
	defer func() {
		putAnswerBuf(o.bw)
		o.bw = nil
	}()
	if p != nil {
		if err := o.Write(appendPartialLine(o.Buf(), p)); err != nil {
			return err
		}
		o.w.Header().Set(PartialTrailer, "true")
	}
	o.cpu.Release()
	return o.bw.Flush()
}
