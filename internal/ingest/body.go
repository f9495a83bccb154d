package ingest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// DefaultMaxRequestBytes bounds a request body after decompression.
const DefaultMaxRequestBytes = 64 << 20

// SupportedEncodings lists the Content-Encoding values OpenBody accepts.
const SupportedEncodings = "identity, gzip, zstd"

// zstdMaxWindow bounds the memory a zstd frame can ask for; compressors use
// at most 8 MiB below level 20 and long-distance mode.
const zstdMaxWindow = 32 << 20

// ErrBodyTooLarge is what reading a body returns once it passed its limit.
var ErrBodyTooLarge = errors.New("request body too large")

// RequestError is a failure that the client caused, with the HTTP status
// to answer.
type RequestError struct {
	Status int
	Err    error
}

func (e *RequestError) Error() string { return e.Err.Error() }
func (e *RequestError) Unwrap() error { return e.Err }

// RequestStatus returns the status for an error from OpenBody or from
// reading its body: the RequestError's status, or 400.
func RequestStatus(err error) int {
	var re *RequestError
	if errors.As(err, &re) {
		return re.Status
	}
	return http.StatusBadRequest
}

// OpenBody returns r's body decompressed according to its Content-Encoding
// and limited to maxBytes (after decompression; DefaultMaxRequestBytes when
// not positive). Errors, from OpenBody and from reading the body, are
// *RequestError: 415 for an unsupported encoding, 413 for a body over the
// limit, 429 when the request bytes in flight are at their bound (when the
// handler runs under InFlight.Wrap: the body's Content-Length is reserved
// before anything is read, and what it decompresses to as it is read) and
// 400 for a corrupt compressed stream or a failed read.
func OpenBody(r *http.Request, maxBytes int64) (io.ReadCloser, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxRequestBytes
	}
	enc := encoding(r)
	if enc == "" {
		if r.ContentLength > maxBytes {
			return nil, tooLarge(maxBytes)
		}
	}
	if err, _ := r.Context().Value(refusalKey{}).(error); err != nil {
		return nil, err
	}
	rq := requestOf(r)
	if err := rq.reserveBody(r, maxBytes); err != nil {
		return nil, err
	}
	switch enc {
	case "":
		return newBodyReader(r.Body, r.Body, maxBytes, "", nil, rq), nil
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			if err == io.EOF {
				return nil, &RequestError{Status: http.StatusBadRequest, Err: errors.New("decode gzip body: empty body")}
			}
			return nil, &RequestError{Status: http.StatusBadRequest, Err: fmt.Errorf("decode gzip body: %w", err)}
		}
		return newBodyReader(zr, r.Body, maxBytes, enc, nil, rq), nil
	case "zstd":
		// The frame header's content size, when it has one, sizes the
		// records slice (RecordsSizer). Peeking at it reads the body's
		// first bytes before the decoder's first read would: after the
		// bytes in flight are reserved (a refused request still sends
		// nothing) and before the handler takes a CPU slot.
		br := bufio.NewReaderSize(r.Body, zstdHeaderPeek)
		head, _ := br.Peek(zstdHeaderPeek) // a read error comes back from the decoder's reads
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(zstdMaxWindow))
		if err != nil {
			return nil, &RequestError{Status: http.StatusBadRequest, Err: fmt.Errorf("decode zstd body: %w", err)}
		}
		b := newBodyReader(zr, r.Body, maxBytes, enc, zr, rq)
		b.declared = zstdContentSize(head, maxBytes)
		return b, nil
	default:
		return nil, &RequestError{
			Status: http.StatusUnsupportedMediaType,
			Err:    fmt.Errorf("unsupported Content-Encoding %q; supported: %s", enc, SupportedEncodings),
		}
	}
}

// zstdHeaderPeek is the longest zstd frame header with its magic number:
// 4 bytes of magic, the frame header descriptor, the window descriptor, a
// 4-byte dictionary id and an 8-byte content size.
const zstdHeaderPeek = 4 + 1 + 1 + 4 + 8

// zstdContentSize is the decoded size that the zstd frame at the start of
// head declares, at most maxBytes (a client may declare anything: the
// body is still bounded as it decodes); -1 when head does not start with
// a frame header that declares one (a skippable frame, no content size,
// not zstd). A body of several frames declares its first one's.
func zstdContentSize(head []byte, maxBytes int64) int64 {
	var h zstd.Header
	if h.Decode(head) != nil || h.Skippable || !h.HasFCS {
		return -1
	}
	return int64(min(h.FrameContentSize, uint64(maxBytes)))
}

// DeclaredSize is the decoded size that body, from OpenBody, declares
// before it is read (a zstd frame's content size), at most its bound
// (maxBytes); -1 when it declares none (an uncompressed body's is its
// Content-Length).
func DeclaredSize(body io.Reader) int64 {
	if b, ok := body.(*bodyReader); ok {
		return b.declared
	}
	return -1
}

// encoding is r's Content-Encoding in lower case, "" for none or identity.
func encoding(r *http.Request) string {
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	if enc == "identity" {
		return ""
	}
	return enc
}

type refusalKey struct{}

// WithRefusal returns ctx under which OpenBody refuses the request with
// err (a *RequestError) before reading anything: how a gate in front of a
// receiver (a tenant over its quota) answers in the receiver's own shape.
func WithRefusal(ctx context.Context, err error) context.Context {
	return context.WithValue(ctx, refusalKey{}, err)
}

func tooLarge(limit int64) error {
	return &RequestError{
		Status: http.StatusRequestEntityTooLarge,
		Err:    fmt.Errorf("%w: limit is %d bytes after decompression", ErrBodyTooLarge, limit),
	}
}

// bodyReader enforces the size limit and turns read failures into
// RequestErrors.
type bodyReader struct {
	r      io.Reader
	closer io.Closer
	left   int64
	limit  int64
	enc    string // "" when not compressed
	zstd   *zstd.Decoder
	rq     *request // accounts what is read to InFlight; nil when not wrapped
	err    error
	// declared is the decoded size a compressed body declares
	// (DeclaredSize), -1 when none.
	declared int64
}

func newBodyReader(r io.Reader, closer io.Closer, limit int64, enc string, zr *zstd.Decoder, rq *request) *bodyReader {
	return &bodyReader{r: r, closer: closer, left: limit, limit: limit, enc: enc, zstd: zr, rq: rq, declared: -1}
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.left <= 0 {
		// Only a further byte proves that the body is over the limit.
		var one [1]byte
		n, err := b.r.Read(one[:])
		if n > 0 {
			b.err = tooLarge(b.limit)
			return 0, b.err
		}
		if err == nil {
			return 0, nil
		}
		b.err = b.wrap(err)
		return 0, b.err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if ferr := b.rq.readMore(n); ferr != nil {
		// What was read is dropped with the request.
		b.err = ferr
		return 0, b.err
	}
	if err != nil {
		b.err = b.wrap(err)
	}
	return n, b.err
}

func (b *bodyReader) wrap(err error) error {
	if err == io.EOF {
		return io.EOF
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &RequestError{Status: http.StatusRequestEntityTooLarge, Err: fmt.Errorf("%w: %w", ErrBodyTooLarge, err)}
	}
	what := "read request body"
	if b.enc != "" {
		what = "decode " + b.enc + " body"
	}
	return &RequestError{Status: http.StatusBadRequest, Err: fmt.Errorf("%s: %w", what, err)}
}

func (b *bodyReader) Close() error {
	if b.zstd != nil {
		b.zstd.Close()
	}
	return b.closer.Close()
}
