package forward

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/sluice-log/sluice/internal/ingest"
)

// reader decodes msgpack values from a byte slice. Every length is checked
// against the bytes left before it is used, so no input can make it
// allocate more than it was given. Strings it returns alias the input.
type reader struct {
	p   []byte
	off int
}

func (r *reader) next() (head, error) {
	h, err := readHead(r.p[r.off:])
	if err != nil {
		return h, fmt.Errorf("at offset %d: %w", r.off, err)
	}
	if h.payload() > len(r.p)-r.off-h.size {
		return h, fmt.Errorf("at offset %d: %w", r.off, errShort)
	}
	// A container of n values needs at least n more bytes.
	if h.items() > len(r.p)-r.off-h.size {
		return h, fmt.Errorf("at offset %d: container of %d values in %d bytes: %w", r.off, h.items(), len(r.p)-r.off-h.size, errShort)
	}
	r.off += h.size
	return h, nil
}

// bytes returns the payload of a str, bin or ext header just read.
func (r *reader) bytes(h head) []byte {
	b := r.p[r.off : r.off+h.payload()]
	r.off += h.payload()
	return b
}

// skip skips the value whose header was just read.
func (r *reader) skip(h head, depth int) error {
	if depth > maxDepth {
		return errTooDeep
	}
	r.off += h.payload()
	for range h.items() {
		c, err := r.next()
		if err != nil {
			return err
		}
		if err := r.skip(c, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// str reads a str or bin value.
func (r *reader) str(what string) ([]byte, error) {
	h, err := r.next()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	if h.kind != kStr && h.kind != kBin {
		return nil, fmt.Errorf("%s: want a string, got %s", what, h.kind)
	}
	return r.bytes(h), nil
}

// eventTime decodes a time value: an integer of seconds, a float of seconds
// (some clients send those), or the EventTime extension (type 0: seconds and
// nanoseconds as two big-endian uint32).
func (r *reader) eventTime() (int64, error) {
	h, err := r.next()
	if err != nil {
		return 0, fmt.Errorf("read time: %w", err)
	}
	return timeOf(h, r)
}

// timeOf decodes the time value whose header h was just read, and moves r
// past it whatever it holds. A value that is no time, or one outside what
// int64 nanoseconds hold (after 2262 or before 1678), is the record's
// problem, not the message's: the error wraps ingest.ErrBadTime and the
// message can be read on. Only a value that cannot be skipped is
// malformed.
func timeOf(h head, r *reader) (int64, error) {
	switch h.kind {
	case kUint:
		if h.u > uint64(maxSeconds) {
			return 0, fmt.Errorf("%w: %d seconds is out of range", ingest.ErrBadTime, h.u)
		}
		return int64(h.u) * int64(time.Second), nil
	case kInt:
		if h.i < -maxSeconds || h.i > maxSeconds {
			return 0, fmt.Errorf("%w: %d seconds is out of range", ingest.ErrBadTime, h.i)
		}
		return h.i * int64(time.Second), nil
	case kFloat:
		if !(h.f > -maxSeconds && h.f < maxSeconds) {
			return 0, fmt.Errorf("%w: %g seconds is out of range", ingest.ErrBadTime, h.f)
		}
		return int64(h.f * float64(time.Second)), nil
	case kExt:
		b := r.bytes(h)
		if h.extType != 0 || len(b) != 8 {
			return 0, fmt.Errorf("%w: ext type %d of %d bytes is not an EventTime", ingest.ErrBadTime, h.extType, len(b))
		}
		sec := binary.BigEndian.Uint32(b)
		nsec := binary.BigEndian.Uint32(b[4:])
		if nsec >= uint32(time.Second) {
			return 0, fmt.Errorf("%w: EventTime nanoseconds %d out of range", ingest.ErrBadTime, nsec)
		}
		return int64(sec)*int64(time.Second) + int64(nsec), nil
	}
	if err := r.skip(h, 1); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("%w: want an integer or EventTime, got %s", ingest.ErrBadTime, h.kind)
}

// maxSeconds keeps times within what int64 nanoseconds can hold
// (9,223,372,036 seconds, in April 2262).
const maxSeconds = 9_000_000_000

func (k kind) String() string {
	switch k {
	case kNil:
		return "nil"
	case kBool:
		return "bool"
	case kInt, kUint:
		return "integer"
	case kFloat:
		return "float"
	case kStr:
		return "string"
	case kBin:
		return "binary"
	case kArray:
		return "array"
	case kMap:
		return "map"
	case kExt:
		return "extension"
	}
	return "unknown"
}
