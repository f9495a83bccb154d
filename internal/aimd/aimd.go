// Package aimd is an adaptive concurrency limiter: additive increase,
// multiplicative decrease of the requests a client keeps in flight, on the
// latency it observes and on answers that say the server is overloaded
// (429, 503, timeouts). Vector's adaptive request concurrency is the
// reference: the limit grows by one per round trip while the limit was
// used and the round trip time is no higher than its moving mean, and
// shrinks by
// DecreaseRatio when a window's mean round trip time rises more than
// DeviationScale deviations above its moving mean, or when the server
// pushed back.
//
// It knows nothing of what it limits: the Elasticsearch/OpenSearch sink
// wraps its HTTP transport with it (Transport), and any sender (the agent's
// outputs, a producer) can call Acquire and Release around a request. A
// limiter that is full makes Acquire wait: the caller slows down, nothing
// is dropped.
package aimd

import (
	"context"
	"math"
	"sync"
	"time"
)

// Outcome is how a request ended.
type Outcome int

const (
	// OK: the server answered; its round trip time counts.
	OK Outcome = iota
	// Overloaded: the server pushed back (429, 503) or did not answer in
	// time; the limit shrinks.
	Overloaded
	// Failed: any other failure (the request's own fault, a connection
	// refused); neither its time nor the limit changes.
	Failed
)

// Config sets a limiter up; zero fields take the defaults.
type Config struct {
	Initial, Min, Max int
	// DecreaseRatio multiplies the limit on a decrease (0.9).
	DecreaseRatio float64
	// DeviationScale: a window's mean round trip time more than this many
	// mean deviations above the moving mean is congestion (2.5).
	DeviationScale float64
	// Alpha weighs a window in the moving mean of round trip times (0.4).
	Alpha float64
	// Now is the clock (time.Now); tests pass a fake one.
	Now func() time.Time
	// Unit is what one step of the limit holds, for callers whose
	// requests weigh differently (AcquireN): a limit of bytes in flight
	// moves by Unit bytes. 1 when zero: the limit counts requests.
	Unit int64
}

func (c Config) withDefaults() Config {
	if c.Min <= 0 {
		c.Min = 1
	}
	if c.Max <= 0 {
		c.Max = 64
	}
	if c.Initial <= 0 {
		c.Initial = c.Min
	}
	c.Initial = min(max(c.Initial, c.Min), c.Max)
	if c.DecreaseRatio <= 0 || c.DecreaseRatio >= 1 {
		c.DecreaseRatio = 0.9
	}
	if c.DeviationScale <= 0 {
		c.DeviationScale = 2.5
	}
	if c.Alpha <= 0 || c.Alpha > 1 {
		c.Alpha = 0.4
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Unit <= 0 {
		c.Unit = 1
	}
	return c
}

// Limiter bounds the requests in flight by a limit it adapts.
type Limiter struct {
	cfg Config

	mu       sync.Mutex
	cond     *sync.Cond
	limit    float64
	inFlight int64 // in the weight of AcquireN (requests, or bytes)
	// The moving mean and mean deviation of windows' round trip times
	// (seconds); zero before the first window.
	meanRTT, devRTT float64
	// The current window: it lasts about one mean round trip.
	windowStart  time.Time
	windowSum    float64
	windowN      int
	backpressure bool
	reachedLimit bool
	onChange     func(limit int)
}

// New makes a limiter.
func New(cfg Config) *Limiter {
	cfg = cfg.withDefaults()
	l := &Limiter{cfg: cfg, limit: float64(cfg.Initial), windowStart: cfg.Now()}
	l.cond = sync.NewCond(&l.mu)
	return l
}

// OnChange calls f with the new limit whenever it changes (a metric).
func (l *Limiter) OnChange(f func(limit int)) {
	l.mu.Lock()
	l.onChange = f
	l.mu.Unlock()
	f(l.Limit())
}

// Limit is the current limit.
func (l *Limiter) Limit() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int(l.limit)
}

// InFlight is the weight acquired and not released (requests, for
// Acquire).
func (l *Limiter) InFlight() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.inFlight
}

// TryAcquire takes a slot if one is free.
func (l *Limiter) TryAcquire() bool { return l.TryAcquireN(1) }

// TryAcquireN takes n of the limit's weight (limit × Unit) if that much is
// free, or if nothing is in flight: a request heavier than the whole limit
// goes alone, slowly, rather than never.
func (l *Limiter) TryAcquireN(n int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.tryLocked(n)
}

func (l *Limiter) tryLocked(n int64) bool {
	budget := int64(l.limit) * l.cfg.Unit
	if l.inFlight > 0 && l.inFlight+n > budget {
		l.reachedLimit = true
		return false
	}
	l.inFlight += n
	if l.inFlight >= budget {
		l.reachedLimit = true
	}
	return true
}

// Acquire waits for a slot, or for ctx to end.
func (l *Limiter) Acquire(ctx context.Context) error { return l.AcquireN(ctx, 1) }

// AcquireN waits until n of the limit's weight is free (TryAcquireN), or
// for ctx to end.
func (l *Limiter) AcquireN(ctx context.Context, n int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tryLocked(n) {
		return nil
	}
	stop := context.AfterFunc(ctx, func() {
		l.mu.Lock()
		l.cond.Broadcast()
		l.mu.Unlock()
	})
	defer stop()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if l.tryLocked(n) {
			return nil
		}
		l.cond.Wait()
	}
}

// Release returns a slot with how the request went and how long it took.
func (l *Limiter) Release(rtt time.Duration, o Outcome) { l.ReleaseN(1, rtt, o) }

// ReleaseN returns the weight n that AcquireN took, with how the request
// went and how long it took.
func (l *Limiter) ReleaseN(n int64, rtt time.Duration, o Outcome) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight -= n
	switch o {
	case OK:
		l.windowSum += rtt.Seconds()
		l.windowN++
	case Overloaded:
		l.backpressure = true
	}
	now := l.cfg.Now()
	// A window lasts one mean round trip (the first: one round trip).
	span := l.meanRTT
	if span == 0 && l.windowN > 0 {
		span = l.windowSum / float64(l.windowN)
	}
	if (l.windowN > 0 || l.backpressure) && now.Sub(l.windowStart).Seconds() >= span {
		l.endWindow(now)
	}
	l.cond.Broadcast()
}

// minRise: a rise of the round trip time smaller than this fraction of its
// mean is noise, however steady the round trips were (their deviation
// tends to 0 on a steady server, and rounding would read as congestion).
const minRise = 0.05

// flatRise: a round trip time within this fraction above its mean has not
// got slower (floating point never compares equal).
const flatRise = 0.01

func (l *Limiter) endWindow(now time.Time) {
	old := int(l.limit)
	var cur float64
	if l.windowN > 0 {
		cur = l.windowSum / float64(l.windowN)
	}
	switch {
	case l.backpressure:
		l.limit = math.Max(float64(l.cfg.Min), math.Floor(l.limit*l.cfg.DecreaseRatio))
	case l.meanRTT > 0 && cur > l.meanRTT+math.Max(l.cfg.DeviationScale*l.devRTT, minRise*l.meanRTT):
		l.limit = math.Max(float64(l.cfg.Min), math.Floor(l.limit*l.cfg.DecreaseRatio))
	case l.reachedLimit && (l.meanRTT == 0 || cur <= l.meanRTT*(1+flatRise)):
		// Grow only while the limit was used and the round trip did not
		// get slower: past the server's knee every slot adds latency.
		l.limit = math.Min(float64(l.cfg.Max), l.limit+1)
	}
	if l.windowN > 0 {
		if l.meanRTT == 0 {
			l.meanRTT, l.devRTT = cur, cur/2
		} else {
			a := l.cfg.Alpha
			l.devRTT = (1-a)*l.devRTT + a*math.Abs(cur-l.meanRTT)
			l.meanRTT = (1-a)*l.meanRTT + a*cur
		}
	}
	l.windowStart, l.windowSum, l.windowN = now, 0, 0
	l.backpressure = false
	l.reachedLimit = l.inFlight >= int64(l.limit)*l.cfg.Unit
	if int(l.limit) != old && l.onChange != nil {
		l.onChange(int(l.limit))
	}
}
