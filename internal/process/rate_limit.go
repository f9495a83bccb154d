package process

import (
	"fmt"
	"sync"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

func init() {
	Register(Spec{
		Name:    "rate_limit",
		Summary: "Limits each stream (or each combination of the fields named in by) to a rate of records with a token bucket; records over it are dropped and counted in sluice_processor_dropped_records_total.",
		New:     func() Builder { return &rateLimitConfig{RecordsPerSecond: 1000, MaxKeys: 10000} },
	})
}

type rateLimitConfig struct {
	RecordsPerSecond float64  `yaml:"records_per_second" doc:"The rate each stream may keep up."`
	Burst            int      `yaml:"burst" doc:"How many records a stream may send at once above the rate; 0 means one second's worth (records_per_second)."`
	By               []string `yaml:"by" doc:"Fields whose values make the key that is limited; empty: the record's tenant and stream."`
	MaxKeys          int      `yaml:"max_keys" doc:"Most keys tracked at once (memory is bounded by it); past it the keys idle long enough to have a full bucket are forgotten, then any."`
}

func (c *rateLimitConfig) Build(env Env) (Processor, error) {
	if c.RecordsPerSecond <= 0 {
		return nil, fmt.Errorf("records_per_second must be positive")
	}
	if c.Burst < 0 || c.MaxKeys <= 0 {
		return nil, fmt.Errorf("burst must not be negative and max_keys must be positive")
	}
	burst := float64(c.Burst)
	if burst == 0 {
		burst = max(c.RecordsPerSecond, 1)
	}
	for _, f := range c.By {
		if err := checkReadable(f); err != nil && f != TenantField {
			return nil, fmt.Errorf("by: %w", err)
		}
	}
	return &rateLimitProc{rate: c.RecordsPerSecond, burst: burst, by: c.By, maxKeys: c.MaxKeys, now: env.Now, buckets: map[string]*bucket{}}, nil
}

type bucket struct {
	tokens float64
	last   time.Time
}

type rateLimitProc struct {
	rate, burst float64
	by          []string
	maxKeys     int
	now         func() time.Time
	keys        sync.Pool // *[]byte

	mu      sync.Mutex
	buckets map[string]*bucket
}

func (p *rateLimitProc) Process(r *record.Record) Result {
	kp, _ := p.keys.Get().(*[]byte)
	if kp == nil {
		kp = new([]byte)
	}
	defer p.keys.Put(kp)
	key := p.key(r, (*kp)[:0])
	*kp = key
	now := p.now()

	p.mu.Lock()
	defer p.mu.Unlock()
	b, ok := p.buckets[string(key)]
	if !ok {
		if len(p.buckets) >= p.maxKeys {
			p.evict(now)
		}
		b = &bucket{tokens: p.burst, last: now}
		p.buckets[string(key)] = b
	}
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = min(p.burst, b.tokens+dt*p.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return Drop
	}
	b.tokens--
	return Keep
}

// key appends the record's key: its tenant and stream, or the by fields.
func (p *rateLimitProc) key(r *record.Record, dst []byte) []byte {
	if len(p.by) == 0 {
		dst = append(dst, r.Tenant...)
		for _, f := range r.Stream {
			dst = append(dst, 0)
			dst = append(dst, f.Name...)
			dst = append(dst, 1)
			dst = append(dst, f.Value...)
		}
		return dst
	}
	for _, name := range p.by {
		v, _ := r.Get(name)
		if name == TenantField {
			v = r.Tenant
		}
		dst = append(dst, v...)
		dst = append(dst, 0)
	}
	return dst
}

// evict forgets keys whose bucket has refilled (they behave as new ones
// would), or any key when none has.
func (p *rateLimitProc) evict(now time.Time) {
	full := time.Duration(p.burst / p.rate * float64(time.Second))
	for k, b := range p.buckets {
		if now.Sub(b.last) >= full {
			delete(p.buckets, k)
		}
	}
	for k := range p.buckets {
		if len(p.buckets) < p.maxKeys {
			break
		}
		delete(p.buckets, k)
	}
}
