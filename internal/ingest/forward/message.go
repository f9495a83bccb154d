package forward

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
)

// Errors that close a connection; reason gives their metric label.
var (
	errMalformed   = errors.New("malformed forward message")
	errCompression = errors.New("bad compressed entries")
)

func reason(err error) string {
	switch {
	case errors.Is(err, errTooLarge):
		return "message_too_large"
	case errors.Is(err, errCompression):
		return "bad_compression"
	case errors.Is(err, errAuth):
		return "auth_failed"
	default:
		return "malformed"
	}
}

// decoder turns forward messages into records. It reuses its buffers and is
// not safe for concurrent use; each connection has its own.
type decoder struct {
	maxBytes int
	conv     converter
	gz       *gzip.Reader
	inflated bytes.Buffer
	// window refuses records whose time is outside it (nil: none); now is
	// the time of arrival of the message being decoded.
	window *ingest.TimeWindow
	now    time.Time
	// rejected counts records rejected for their content, by reason, and
	// firstErr keeps the first one's error, since the last call of
	// takeRejected.
	rejected map[string]int
	firstErr error
}

func newDecoder(maxBytes, maxFields int, window *ingest.TimeWindow) *decoder {
	return &decoder{maxBytes: maxBytes, conv: converter{b: ingest.FieldBuilder{MaxFields: maxFields}}, window: window, rejected: map[string]int{}}
}

// options are a message's option map. size is not checked against the
// entries: the spec makes it a hint.
type options struct {
	chunk      string
	compressed string
}

// decode appends the records of one complete message (one msgpack array, as
// framed by the scanner) to out and returns the chunk to acknowledge, if any.
// The modes are told apart by the second element: a time (Message), an
// array of entries (Forward) or a string of packed entries (PackedForward,
// CompressedPackedForward when the compressed option says gzip).
func (d *decoder) decode(p []byte, out []record.Record) ([]record.Record, string, error) {
	d.now = time.Now()
	r := &reader{p: p}
	h, err := r.next()
	if err != nil {
		return out, "", fmt.Errorf("%w: %w", errMalformed, err)
	}
	if h.kind != kArray || h.n < 2 || h.n > 4 {
		return out, "", fmt.Errorf("%w: want an array of 2 to 4 elements, got %s of %d", errMalformed, h.kind, h.n)
	}
	tag, err := r.str("tag")
	if err != nil {
		return out, "", fmt.Errorf("%w: %w", errMalformed, err)
	}
	second, err := r.next()
	if err != nil {
		return out, "", fmt.Errorf("%w: %w", errMalformed, err)
	}
	var opt options
	switch second.kind {
	case kInt, kUint, kFloat, kExt: // Message: [tag, time, record, option?]
		if h.n < 3 {
			return out, "", fmt.Errorf("%w: message mode needs a record", errMalformed)
		}
		ts, err := timeOf(second, r)
		if err == nil {
			out, err = d.record(tag, ts, r, out)
		} else {
			err = d.badTime(err, r)
		}
		if err != nil {
			return out, "", err
		}
		if h.n == 4 {
			if opt, err = readOptions(r); err != nil {
				return out, "", err
			}
		}
	case kArray: // Forward: [tag, [[time, record], …], option?]
		if h.n > 3 {
			return out, "", fmt.Errorf("%w: forward mode has at most 3 elements", errMalformed)
		}
		for range second.n {
			if out, err = d.entry(tag, r, out); err != nil {
				return out, "", err
			}
		}
		if h.n == 3 {
			if opt, err = readOptions(r); err != nil {
				return out, "", err
			}
		}
	case kStr, kBin: // PackedForward: [tag, entries, option?]
		if h.n > 3 {
			return out, "", fmt.Errorf("%w: packed forward mode has at most 3 elements", errMalformed)
		}
		packed := r.bytes(second)
		if h.n == 3 {
			if opt, err = readOptions(r); err != nil {
				return out, "", err
			}
		}
		switch opt.compressed {
		case "", "text":
		case "gzip":
			if packed, err = d.gunzip(packed); err != nil {
				return out, "", err
			}
		default:
			return out, "", fmt.Errorf("%w: unknown compression %q", errMalformed, opt.compressed)
		}
		pr := &reader{p: packed}
		for pr.off < len(pr.p) {
			if out, err = d.entry(tag, pr, out); err != nil {
				return out, "", err
			}
		}
	default:
		return out, "", fmt.Errorf("%w: second element is a %s", errMalformed, second.kind)
	}
	if r.off != len(p) {
		return out, "", fmt.Errorf("%w: %d bytes after the message", errMalformed, len(p)-r.off)
	}
	return out, opt.chunk, nil
}

// entry reads one [time, record] pair.
func (d *decoder) entry(tag []byte, r *reader, out []record.Record) ([]record.Record, error) {
	h, err := r.next()
	if err != nil {
		return out, fmt.Errorf("%w: entry: %w", errMalformed, err)
	}
	if h.kind != kArray || h.n != 2 {
		return out, fmt.Errorf("%w: entry is a %s of %d, want [time, record]", errMalformed, h.kind, h.n)
	}
	th, err := r.next()
	if err != nil {
		return out, fmt.Errorf("%w: entry time: %w", errMalformed, err)
	}
	meta := th.kind == kArray && th.n == 2
	if meta {
		// Fluent Bit 2.1+ may send [[time, metadata], record]: the
		// metadata map has no place in a record and is skipped.
		if th, err = r.next(); err != nil {
			return out, fmt.Errorf("%w: entry time: %w", errMalformed, err)
		}
	}
	ts, terr := timeOf(th, r)
	if terr != nil && !errors.Is(terr, ingest.ErrBadTime) {
		return out, fmt.Errorf("%w: entry time: %w", errMalformed, terr)
	}
	if meta {
		mh, err := r.next()
		if err == nil {
			err = r.skip(mh, 1)
		}
		if err != nil {
			return out, fmt.Errorf("%w: entry metadata: %w", errMalformed, err)
		}
	}
	if terr != nil {
		return out, d.badTime(terr, r)
	}
	return d.record(tag, ts, r, out)
}

// badTime rejects the record that follows a time that is none (terr): the
// record alone is counted and skipped, and its neighbours in the message
// are kept. Only a time or record that cannot be read past makes the
// message malformed.
func (d *decoder) badTime(terr error, r *reader) error {
	if !errors.Is(terr, ingest.ErrBadTime) {
		return fmt.Errorf("%w: %w", errMalformed, terr)
	}
	h, err := r.next()
	if err == nil {
		if h.kind != kMap {
			return fmt.Errorf("%w: record is a %s, not a map", errMalformed, h.kind)
		}
		err = r.skip(h, 1)
	}
	if err != nil {
		return fmt.Errorf("%w: record: %w", errMalformed, err)
	}
	d.reject(terr)
	return nil
}

// reject counts a record rejected for its content.
func (d *decoder) reject(err error) {
	d.rejected[ingest.RejectReason(err)]++
	if d.firstErr == nil {
		d.firstErr = err
	}
}

// record converts one record map. A record rejected for its content is
// counted and skipped; the rest of the message goes on.
func (d *decoder) record(tag []byte, ts int64, r *reader, out []record.Record) ([]record.Record, error) {
	h, err := r.next()
	if err != nil {
		return out, fmt.Errorf("%w: record: %w", errMalformed, err)
	}
	rec, err := d.conv.convert(tag, ts, h, r)
	if err == nil {
		err = d.window.Check(&rec, d.now)
	}
	switch {
	case err == nil:
		return append(out, rec), nil
	case errors.Is(err, errMalformed):
		return out, err
	default:
		d.reject(err)
		return out, nil
	}
}

func readOptions(r *reader) (options, error) {
	var opt options
	h, err := r.next()
	if err != nil {
		return opt, fmt.Errorf("%w: option: %w", errMalformed, err)
	}
	if h.kind == kNil {
		return opt, nil
	}
	if h.kind != kMap {
		return opt, fmt.Errorf("%w: option is a %s, not a map", errMalformed, h.kind)
	}
	for range h.n {
		k, err := r.str("option key")
		if err != nil {
			return opt, fmt.Errorf("%w: %w", errMalformed, err)
		}
		vh, err := r.next()
		if err != nil {
			return opt, fmt.Errorf("%w: option %q: %w", errMalformed, k, err)
		}
		switch string(k) {
		case "chunk", "compressed":
			if vh.kind != kStr && vh.kind != kBin {
				return opt, fmt.Errorf("%w: option %q is a %s, not a string", errMalformed, k, vh.kind)
			}
			if string(k) == "chunk" {
				opt.chunk = string(r.bytes(vh))
			} else {
				opt.compressed = string(r.bytes(vh))
			}
		default: // size, and options of later versions
			if err := r.skip(vh, 1); err != nil {
				return opt, fmt.Errorf("%w: option %q: %w", errMalformed, k, err)
			}
		}
	}
	return opt, nil
}

// gunzip inflates packed entries (possibly several concatenated gzip
// members) into a reused buffer, bounded by maxBytes.
func (d *decoder) gunzip(p []byte) ([]byte, error) {
	var err error
	if d.gz == nil {
		d.gz, err = gzip.NewReader(bytes.NewReader(p))
	} else {
		err = d.gz.Reset(bytes.NewReader(p))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errCompression, err)
	}
	d.inflated.Reset()
	n, err := d.inflated.ReadFrom(io.LimitReader(d.gz, int64(d.maxBytes)+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errCompression, err)
	}
	if n > int64(d.maxBytes) {
		return nil, fmt.Errorf("decompressed entries: %w", errTooLarge)
	}
	return d.inflated.Bytes(), nil
}

// takeRejected returns the rejected counts and the first rejection's
// error, and resets them.
func (d *decoder) takeRejected(f func(reason string, n int)) error {
	for k, n := range d.rejected {
		f(k, n)
		delete(d.rejected, k)
	}
	err := d.firstErr
	d.firstErr = nil
	return err
}
