package forward

import (
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// errStopping ends a connection's read when the server shuts down.
var errStopping = errors.New("server is shutting down")

// errTruncated is a connection closed in the middle of a message.
var errTruncated = errors.New("connection closed in the middle of a message")

// frameReader cuts a connection's byte stream into messages (one msgpack
// value each). A message may not exceed max bytes; the buffer grows up to
// that as needed and no further.
type frameReader struct {
	conn     net.Conn
	buf      []byte
	start    int
	end      int
	sc       scanner
	max      int
	timeout  time.Duration
	stopping <-chan struct{}
	read     int64 // bytes read, for metrics
}

const initialBuffer = 64 << 10

func newFrameReader(conn net.Conn, max int, timeout time.Duration, stopping <-chan struct{}) *frameReader {
	f := &frameReader{conn: conn, buf: make([]byte, min(initialBuffer, max)), max: max, timeout: timeout, stopping: stopping}
	f.sc.reset(max)
	return f
}

// next returns the next message, reading as needed. The message aliases the
// buffer and is valid until the next call. At a clean end of the stream it
// returns io.EOF.
func (f *frameReader) next() ([]byte, error) {
	for {
		msg, ok, err := f.buffered()
		if err != nil || ok {
			return msg, err
		}
		if err := f.fill(); err != nil {
			return nil, err
		}
	}
}

// buffered returns the next message if it is complete in the buffer,
// without reading.
func (f *frameReader) buffered() ([]byte, bool, error) {
	if f.start == f.end {
		return nil, false, nil
	}
	n, err := f.sc.scan(f.buf[f.start:f.end])
	if err != nil {
		return nil, false, err
	}
	if n == 0 {
		return nil, false, nil
	}
	msg := f.buf[f.start : f.start+n]
	f.start += n
	f.sc.reset(f.max)
	return msg, true, nil
}

// fill reads more bytes, making room first.
func (f *frameReader) fill() error {
	if f.start > 0 {
		f.end = copy(f.buf, f.buf[f.start:f.end])
		f.start = 0
	}
	if f.end == len(f.buf) {
		// The scanner's limit stops a message at max bytes, so the buffer
		// never needs to be larger.
		if len(f.buf) >= f.max {
			return errTooLarge
		}
		nb := make([]byte, min(2*len(f.buf), f.max))
		copy(nb, f.buf[:f.end])
		f.buf = nb
	}
	if f.timeout > 0 {
		if err := f.conn.SetReadDeadline(time.Now().Add(f.timeout)); err != nil {
			return fmt.Errorf("set read deadline: %w", err)
		}
	}
	// Checked after setting the deadline: a shutdown that closes stopping
	// later also moves the deadline to now, so this read cannot outlive it.
	select {
	case <-f.stopping:
		return errStopping
	default:
	}
	n, err := f.conn.Read(f.buf[f.end:])
	f.end += n
	f.read += int64(n)
	if n > 0 {
		return nil
	}
	if errors.Is(err, io.EOF) && f.end > f.start {
		return errTruncated
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}
