package syslog

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/sluice-log/sluice/internal/ingest"
)

// ErrFraming means the stream cannot be split into messages any more (a
// broken octet count); the connection must be closed.
var ErrFraming = errors.New("broken syslog framing")

// maxCountDigits bounds MSG-LEN: nine digits are far above any sane
// max_message_bytes, and more would overflow nothing but waste reads.
const maxCountDigits = 9

// frameReader splits a syslog byte stream into messages, detecting the
// framing of each frame by its first byte (RFC 6587): a digit starts
// octet counting ("LEN SP MSG"), anything else a line ended by LF. A
// message always starts with '<', so the two never clash.
type frameReader struct {
	r   *bufio.Reader
	max int
	buf []byte
}

func newFrameReader(r io.Reader, maxBytes int) *frameReader {
	size := 16 << 10
	if maxBytes+16 < size {
		size = maxBytes + 16
	}
	return &frameReader{r: bufio.NewReaderSize(r, size), max: maxBytes}
}

// Buffered reports how many bytes can be read without touching the
// socket: 0 means the next frame may block.
func (f *frameReader) Buffered() int { return f.r.Buffered() }

// Next returns the next frame, valid until the following call. A frame
// over the size limit is skipped and reported with an error wrapping
// ingest.ErrLineTooLong, after which reading may go on; ErrFraming and read
// errors end the stream (io.EOF at a clean end).
func (f *frameReader) Next() ([]byte, error) {
	c, err := f.skipEmptyLines()
	if err != nil {
		return nil, err
	}
	if c >= '1' && c <= '9' {
		return f.counted()
	}
	return f.line()
}

// skipEmptyLines drops line ends between frames (some senders end
// octet-counted frames with LF too) and peeks the frame's first byte.
func (f *frameReader) skipEmptyLines() (byte, error) {
	for {
		b, err := f.r.Peek(1)
		if err != nil {
			return 0, err
		}
		if b[0] != '\n' && b[0] != '\r' {
			return b[0], nil
		}
		_, _ = f.r.Discard(1)
	}
}

func (f *frameReader) counted() ([]byte, error) {
	n, digits := 0, 0
	for {
		c, err := f.r.ReadByte()
		if err != nil {
			return nil, noEOF(err)
		}
		if c == ' ' {
			break
		}
		if !isDigit(c) || digits == maxCountDigits {
			return nil, fmt.Errorf("%w: octet count followed by %q", ErrFraming, c)
		}
		n = n*10 + int(c-'0')
		digits++
	}
	if n > f.max {
		if _, err := f.r.Discard(n); err != nil {
			return nil, noEOF(err)
		}
		return nil, fmt.Errorf("%w: octet-counted frame of %d bytes is over the limit of %d", ingest.ErrLineTooLong, n, f.max)
	}
	if cap(f.buf) < n {
		f.buf = make([]byte, n)
	}
	f.buf = f.buf[:n]
	if _, err := io.ReadFull(f.r, f.buf); err != nil {
		return nil, noEOF(err)
	}
	return f.buf, nil
}

func (f *frameReader) line() ([]byte, error) {
	line, err := f.r.ReadSlice('\n')
	if err == nil && len(line) <= f.max+1 {
		return trimEOL(line), nil // the common case: no copy
	}
	f.buf = f.buf[:0]
	size := 0
	for {
		size += len(line)
		if size <= f.max+1 {
			f.buf = append(f.buf, line...)
		}
		if err != bufio.ErrBufferFull {
			break
		}
		line, err = f.r.ReadSlice('\n')
	}
	switch {
	case err == io.EOF && size > 0:
		// The last frame of a stream may lack its LF.
	case err != nil:
		return nil, err
	}
	if end := len(trimEOL(f.buf)); size > f.max+1 || (err == io.EOF && end > f.max) {
		return nil, fmt.Errorf("%w: line of more than %d bytes", ingest.ErrLineTooLong, f.max)
	}
	return trimEOL(f.buf), nil
}

// noEOF turns an end of stream inside a frame into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}
