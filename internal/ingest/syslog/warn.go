package syslog

import (
	"log/slog"
	"sync"
	"time"
)

// warnEvery is the least time between two warnings of one kind, so that a
// flood of bad input cannot flood the log; the metrics count every event.
const warnEvery = 10 * time.Second

// warnLimiter logs a warning at most once per warnEvery and says how many
// were suppressed in between.
type warnLimiter struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

func (w *warnLimiter) warn(log *slog.Logger, msg string, args ...any) {
	w.mu.Lock()
	now := time.Now()
	if now.Sub(w.last) < warnEvery {
		w.suppressed++
		w.mu.Unlock()
		return
	}
	n := w.suppressed
	w.last, w.suppressed = now, 0
	w.mu.Unlock()
	log.Warn(msg, append(args, "suppressed_since_last", n)...)
}
