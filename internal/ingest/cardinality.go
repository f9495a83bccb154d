package ingest

import (
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/promreg"
	"github.com/sluice-log/sluice/internal/record"
)

// CardinalityConfig bounds what one tenant may add to the store's indexes:
// the streams and the distinct field names it uses.
type CardinalityConfig struct {
	// MaxStreams bounds a tenant's active streams; 0 means no bound.
	MaxStreams int
	// MaxFieldNames bounds a tenant's active distinct field names; 0
	// means no bound.
	MaxFieldNames int
	// Window is how long a stream or a field name stays active after a
	// record last used it.
	Window time.Duration
}

// Cardinality enforces a CardinalityConfig. Every stream and every field
// name costs the store index memory (a block per stream and partition,
// each block listing its field names): 500,000 unique streams took 161 MB
// of index, and one request of 998,000 distinct field names was accepted
// whole. So a record that would make its tenant's active streams or field
// names more than the bound is rejected on its own (ErrTooManyStreams,
// ErrTooManyFieldNames); records of the streams and names already active
// are always accepted, as Loki bounds a tenant's active streams.
//
// A stream or name is active while a record used it within the window;
// past it, it no longer counts (records may bring it back), which also
// frees the memory this takes: two 64-bit words per active stream or
// name, hashes of the tenant, stream labels and names rather than the
// strings. A nil *Cardinality bounds nothing.
type Cardinality struct {
	cfg CardinalityConfig

	mu        sync.Mutex
	tenants   map[string]*tenantCardinality
	lastSweep time.Time
	streams   int // active, over all tenants
	names     int

	activeStreams, activeNames prometheus.Gauge
}

type tenantCardinality struct {
	streams, names map[uint64]int64 // hash → last used, Unix seconds
	// shapes caches the sets of field names records used (their hashes'
	// sum), so that a record of a known shape costs one lookup, not one
	// per name; a shape is fresh no longer than its names are.
	shapes map[uint64]int64
}

// maxShapes bounds a tenant's cache of shapes; past it, records of new
// shapes are checked name by name.
const maxShapes = 4096

// NewCardinality returns the bounds of cfg, or nil when cfg bounds
// nothing. Its gauges (sluice_ingest_active_streams and
// sluice_ingest_active_field_names, summed over tenants) are registered
// with reg when not nil.
func NewCardinality(cfg CardinalityConfig, reg prometheus.Registerer) *Cardinality {
	if cfg.MaxStreams <= 0 && cfg.MaxFieldNames <= 0 {
		return nil
	}
	if cfg.Window <= 0 {
		cfg.Window = 24 * time.Hour
	}
	active := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "sluice_ingest_active",
		Help: "Streams (kind=streams) and distinct field names (kind=field_names) used within ingest.cardinality_window, summed over tenants; each tenant's are bounded by ingest.max_streams_per_tenant and ingest.max_field_names_per_tenant.",
	}, []string{"kind"})
	if reg != nil {
		active = promreg.Register(reg, active)
	}
	return &Cardinality{cfg: cfg, tenants: map[string]*tenantCardinality{}, lastSweep: time.Now(),
		activeStreams: active.WithLabelValues("streams"), activeNames: active.WithLabelValues("field_names")}
}

// Check returns an error wrapping ErrTooManyStreams or
// ErrTooManyFieldNames when r would take its tenant past a bound as of
// now; otherwise it marks r's stream and field names used.
func (c *Cardinality) Check(r *record.Record, now time.Time) error {
	if c == nil {
		return nil
	}
	stream := streamHash(r)
	// The field name hashes, between hashing (outside the lock) and
	// checking; on the stack for up to 64 names.
	var scratch [64]uint64
	names := scratch[:0]
	var shape uint64
	if c.cfg.MaxFieldNames > 0 {
		for _, f := range r.Fields {
			h := xxhash.Sum64String(f.Name)
			names = append(names, h)
			shape += h
		}
	}
	sec := now.Unix()
	// A mark younger than this is fresh enough: refreshing every use would
	// write the maps for every record.
	stale := sec - int64(c.cfg.Window/time.Second)/16

	c.mu.Lock()
	defer c.mu.Unlock()
	c.sweepLocked(now)
	t := c.tenants[r.Tenant]
	if t == nil {
		t = &tenantCardinality{streams: map[uint64]int64{}, names: map[uint64]int64{}, shapes: map[uint64]int64{}}
		c.tenants[r.Tenant] = t
	}
	seen, known := t.streams[stream]
	if !known && c.cfg.MaxStreams > 0 && len(t.streams) >= c.cfg.MaxStreams {
		return fmt.Errorf("%w: tenant %q used %d streams within %s (ingest.max_streams_per_tenant); this record's stream %s would be one more",
			ErrTooManyStreams, r.Tenant, len(t.streams), formatDuration(c.cfg.Window), r.StreamString())
	}
	if last, ok := t.shapes[shape]; len(names) > 0 && (!ok || last < stale) {
		added := 0
		for _, h := range names {
			if _, ok := t.names[h]; !ok {
				added++
			}
		}
		if added > 0 && len(t.names)+added > c.cfg.MaxFieldNames {
			return fmt.Errorf("%w: tenant %q used %d distinct field names within %s (ingest.max_field_names_per_tenant); this record would add %d",
				ErrTooManyFieldNames, r.Tenant, len(t.names), formatDuration(c.cfg.Window), added)
		}
		for _, h := range names {
			if _, ok := t.names[h]; !ok {
				c.names++
				c.activeNames.Set(float64(c.names))
			}
			t.names[h] = sec
		}
		if ok || len(t.shapes) < maxShapes {
			t.shapes[shape] = sec
		}
	}
	if !known || seen < stale {
		t.streams[stream] = sec
		if !known {
			c.streams++
			c.activeStreams.Set(float64(c.streams))
		}
	}
	// The gauges change only where the counts do (here and in
	// sweepLocked): setting them for every record cost two atomic stores.
	return nil
}

// sweepLocked forgets the streams and names unused for longer than the
// window, at most eight times a window.
func (c *Cardinality) sweepLocked(now time.Time) {
	if now.Sub(c.lastSweep) < c.cfg.Window/8 {
		return
	}
	c.lastSweep = now
	oldest := now.Add(-c.cfg.Window).Unix()
	for tenant, t := range c.tenants {
		var n int
		t.streams, n = sweep(t.streams, oldest)
		c.streams -= n
		t.names, n = sweep(t.names, oldest)
		c.names -= n
		t.shapes, _ = sweep(t.shapes, oldest)
		if len(t.streams) == 0 && len(t.names) == 0 {
			delete(c.tenants, tenant)
		}
	}
	c.activeStreams.Set(float64(c.streams))
	c.activeNames.Set(float64(c.names))
}

// sweep deletes the entries of m last used before oldest and returns the
// map (a smaller copy once most of it went: a Go map keeps its size) and
// how many it deleted.
func sweep(m map[uint64]int64, oldest int64) (map[uint64]int64, int) {
	n := 0
	for h, last := range m {
		if last < oldest {
			delete(m, h)
			n++
		}
	}
	if n > len(m) {
		m = maps.Clone(m)
	}
	return m, n
}

// streamHash identifies r's tenant and stream whatever the order of its
// labels: the tenant's hash plus one hash per label, that of its name, a
// zero byte and its value, put together in a stack buffer and hashed in
// one call (cheaper than a Digest's resets and writes).
func streamHash(r *record.Record) uint64 {
	var buf [256]byte
	h := xxhash.Sum64String(r.Tenant)
	for _, l := range r.Stream {
		b := append(buf[:0], l.Name...)
		b = append(b, 0)
		b = append(b, l.Value...)
		h += xxhash.Sum64(b)
	}
	return h
}
