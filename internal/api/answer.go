package api

import (
	"errors"
	"net/http"
	"os"
	"time"
)

// DefaultWriteTimeout is how long a write of an answer may wait for its
// client to read, when QueryLimits does not say.
const DefaultWriteTimeout = 30 * time.Second

// answerChunk is the most of an answer one write sends under one
// deadline: a large JSON answer goes out in pieces, each with the whole
// write timeout, so that a client reading at any pace gets all of it.
const answerChunk = 64 << 10

// heldAnswer is how much of an answer net/http holds back to send it with
// a Content-Length, should the handler end before writing more (its
// bufferBeforeChunkingSize). An answer that wrote more has sent its
// header, so flushing its end itself changes nothing on the wire.
const heldAnswer = 2 << 10

// answerWriter bounds how long each write of an answer (a query's, a live
// tail's, Loki's) may wait for its client to read (query.write_timeout).
// The deadline moves on with every write and flush, so a long answer that
// is being read goes on for as long as it takes; a client that stops
// reading is cut off once one write has waited that long. Until then the
// answer holds its query slot, the records kept for it, and the HTTP
// server's graceful stop; a client that never reads would hold them for
// ever, as the kernel keeps a connection whose peer acknowledges but does
// not read.
//
// After a failed write every later one fails at once with the same error,
// so that an answer whose client is gone ends without waiting again.
type answerWriter struct {
	http.ResponseWriter
	rc       *http.ResponseController
	timeout  time.Duration
	deadline time.Time
	err      error
	cutOff   func() // counts the answer cut off
	n        int64  // bytes written
	pending  bool   // written since the last flush
}

func newAnswerWriter(w http.ResponseWriter, timeout time.Duration, cutOff func()) *answerWriter {
	return &answerWriter{ResponseWriter: w, rc: http.NewResponseController(w), timeout: timeout, cutOff: cutOff}
}

// arm gives the next write the whole timeout. A writer that cannot take a
// deadline (a test's recorder) writes without one.
func (a *answerWriter) arm() {
	a.deadline = time.Now().Add(a.timeout)
	_ = a.rc.SetWriteDeadline(a.deadline)
}

// fail makes err sticky and counts the answer cut off when the deadline
// ended the write.
func (a *answerWriter) fail(err error) error {
	a.err = err
	if errors.Is(err, os.ErrDeadlineExceeded) || !time.Now().Before(a.deadline) {
		a.cutOff()
	}
	return err
}

func (a *answerWriter) Write(p []byte) (int, error) {
	if a.err != nil {
		return 0, a.err
	}
	n := 0
	for len(p) > 0 {
		c := min(len(p), answerChunk)
		a.arm()
		m, err := a.ResponseWriter.Write(p[:c])
		n += m
		a.n += int64(m)
		a.pending = true
		if err != nil {
			return n, a.fail(err)
		}
		p = p[c:]
	}
	return n, nil
}

// FlushError sends what is buffered (http.ResponseController.Flush).
func (a *answerWriter) FlushError() error {
	if a.err != nil {
		return a.err
	}
	a.arm()
	if err := a.rc.Flush(); err != nil {
		return a.fail(err)
	}
	a.pending = false
	return nil
}

// finish sends what the handler's last writes left buffered, under the
// write timeout, once the handler returns. net/http would send it after
// the handler too, under the same deadline, but a client that stops
// reading just before the end would be cut off there uncounted. An answer
// of at most heldAnswer bytes is left to net/http, which gives it a
// Content-Length; only a client that has left a connection's earlier
// answers unread can stall on one.
func (a *answerWriter) finish() {
	if a.err == nil && a.pending && a.n > heldAnswer {
		_ = a.FlushError()
	}
}

func (a *answerWriter) Flush() { _ = a.FlushError() }

func (a *answerWriter) Unwrap() http.ResponseWriter { return a.ResponseWriter }

// boundWrites serves h with its answer's writes bounded by
// query.write_timeout; an answer cut off counts in
// sluice_query_answers_cut_off_total under its route.
func (s *Server) boundWrites(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a := newAnswerWriter(w, s.cfg.Limits.WriteTimeout, func() { s.countCutOff(r) })
		h(a, r)
		a.finish()
	}
}

// countCutOff counts r's answer as cut off for a client that did not read.
func (s *Server) countCutOff(r *http.Request) {
	s.cutOff.WithLabelValues(r.Pattern).Inc()
}
