package ingest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"

	"github.com/sluice-log/sluice/internal/cpuslot"
)

// lineReadChunk is how much a LineReader asks its reader for at a time.
const lineReadChunk = 64 << 10

// A LineReader splits a body into lines ("\n" or "\r\n") without ever
// holding much more than one line of at most its limit: a longer line is
// skipped as it streams by and reported as ErrLineTooLong, and the lines
// after it are read as usual.
type LineReader struct {
	r       io.Reader
	max     int
	tooLong error
	buf     []byte
	start   int // first byte of the next line in buf
	scanned int // buf[start:scanned] holds no newline
	end     int
	line    int
	bytes   int64
	err     error // from r, sticky; io.EOF at the end
	cpu     *cpuslot.Hold
	ctx     context.Context
}

// HoldCPU makes lr hold a CPU slot of ingest's priority (package cpuslot) for
// the caller's work on the lines it returns: Next takes it before it
// returns a line and gives it back while it reads its input, so that a
// unit of work is what one read brings (at most 64 KiB of lines), and a
// waiting search gets the slot at the next read. The caller gives it back
// with ReleaseCPU once done with the lines, before it hands the records on.
// Next fails with ctx's error when ctx ends while it waits for the slot.
func (lr *LineReader) HoldCPU(ctx context.Context) {
	lr.ctx = ctx
	lr.cpu = cpuslot.Shared().NewHold(cpuslot.Ingest)
}

// ReleaseCPU gives back the slot HoldCPU made lr take, if it holds it.
func (lr *LineReader) ReleaseCPU() {
	if lr.cpu != nil {
		lr.cpu.Release()
	}
}

// NewLineReader returns a LineReader of r for lines of at most maxLine bytes
// (not counting the line end); no limit when maxLine is not positive.
func NewLineReader(r io.Reader, maxLine int) *LineReader {
	if maxLine <= 0 {
		maxLine = math.MaxInt32
	}
	return &LineReader{
		r:       r,
		max:     maxLine,
		tooLong: fmt.Errorf("%w: longer than %d bytes", ErrLineTooLong, maxLine),
	}
}

// Next returns the next line without its line end; the slice is valid until
// the next call. At the end of the input it returns io.EOF. An over-long
// line gives an error wrapping ErrLineTooLong, after which Next may be called
// again; any other error is the reader's and final.
func (lr *LineReader) Next() ([]byte, error) {
	for {
		if lr.cpu != nil && !lr.cpu.Held() {
			if err := lr.cpu.Yield(lr.ctx); err != nil {
				return nil, err
			}
		}
		if i := bytes.IndexByte(lr.buf[lr.scanned:lr.end], '\n'); i >= 0 {
			line := lr.buf[lr.start : lr.scanned+i]
			lr.start = lr.scanned + i + 1
			lr.scanned = lr.start
			return lr.deliver(line)
		}
		lr.scanned = lr.end
		if lr.err != nil {
			if lr.err == io.EOF && lr.start < lr.end {
				line := lr.buf[lr.start:lr.end]
				lr.start, lr.scanned = lr.end, lr.end
				return lr.deliver(line)
			}
			return nil, lr.err
		}
		// One byte more than the limit may still be the '\r' of "\r\n".
		if lr.end-lr.start > lr.max+1 {
			lr.ReleaseCPU()
			return nil, lr.skip()
		}
		lr.ReleaseCPU()
		lr.fill()
	}
}

// Line returns the 1-based number of the line Next returned last.
func (lr *LineReader) Line() int { return lr.line }

// Bytes returns how many bytes were read from the reader.
func (lr *LineReader) Bytes() int64 { return lr.bytes }

func (lr *LineReader) deliver(line []byte) ([]byte, error) {
	lr.line++
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if len(line) > lr.max {
		return nil, lr.tooLong
	}
	return line, nil
}

// fill reads more input after the pending partial line, moving that line to
// the front of buf and growing buf when needed.
func (lr *LineReader) fill() {
	if lr.start > 0 {
		n := copy(lr.buf, lr.buf[lr.start:lr.end])
		lr.scanned -= lr.start
		lr.start, lr.end = 0, n
	}
	if lr.end == len(lr.buf) {
		size := max(2*len(lr.buf), lineReadChunk)
		// Enough for a line at the limit, its "\r\n" and one read more.
		size = min(size, lr.max+2+lineReadChunk)
		buf := make([]byte, size)
		copy(buf, lr.buf[:lr.end])
		lr.buf = buf
	}
	n, err := lr.r.Read(lr.buf[lr.end:])
	lr.end += n
	lr.bytes += int64(n)
	lr.err = err
}

// skip drops the current over-long line up to and including its newline.
func (lr *LineReader) skip() error {
	lr.line++
	for {
		lr.start, lr.scanned, lr.end = 0, 0, 0
		if lr.err != nil {
			if lr.err == io.EOF {
				return lr.tooLong
			}
			return lr.err
		}
		lr.fill()
		if i := bytes.IndexByte(lr.buf[:lr.end], '\n'); i >= 0 {
			lr.start, lr.scanned = i+1, i+1
			return lr.tooLong
		}
	}
}
