package config

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDefaultsRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteDefaults(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, o := range Options() {
		if o.Doc == "" {
			t.Errorf("option %s has no documentation", o.Path)
		}
	}
	if !strings.Contains(out, "# Bound on the WAL's bytes on disk.") {
		t.Errorf("printed defaults lack option docs:\n%s", out)
	}
	cfg, err := Parse(strings.NewReader(out))
	if err != nil {
		t.Fatalf("printed defaults do not parse: %v\n%s", err, out)
	}
	def := Default()
	if len(cfg.Store.Tenants) != 0 {
		t.Errorf("default store.tenants not empty after round trip: %v", cfg.Store.Tenants)
	}
	cfg.Store.Tenants, def.Store.Tenants = nil, nil
	if cfg.WAL != def.WAL || !reflect.DeepEqual(cfg.Store, def.Store) || cfg.Query != def.Query || !reflect.DeepEqual(cfg.HTTP, def.HTTP) || cfg.DataDir != def.DataDir {
		t.Errorf("defaults changed in round trip: %+v", cfg)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name, yaml string
		check      func(Config) bool
		err        string
	}{
		{name: "empty file keeps defaults", yaml: "", check: func(c Config) bool { return c.DataDir == "./sluice-data" }},
		{name: "sizes and durations", yaml: "wal:\n  max_size: 2GiB\n  sync: 10ms\nstore:\n  retention: 30d\n",
			check: func(c Config) bool {
				d, _ := c.WAL.SyncInterval()
				return c.WAL.MaxSize == 2<<30 && d == 10*time.Millisecond && time.Duration(c.Store.Retention) == 30*24*time.Hour
			}},
		{name: "unknown key", yaml: "wal:\n  max_sise: 1GiB\n", err: "field max_sise not found"},
		{name: "bad size", yaml: "wal:\n  max_size: lots\n", err: "invalid size \"lots\""},
		{name: "bad sync", yaml: "wal:\n  sync: sometimes\n", err: "wal.sync"},
		{name: "tls needs both", yaml: "http:\n  tls_cert_file: a.pem\n", err: "must be set together"},
		{name: "several errors at once", yaml: "log:\n  level: loud\n  format: xml\n", err: "log.format"},
		{name: "memory limit", yaml: "memory_limit: 2GiB\n", check: func(c Config) bool { return c.MemoryLimit == 2<<30 }},
		{name: "memory limit off", yaml: "memory_limit: 0\n", check: func(c Config) bool { return c.MemoryLimit == 0 }},
		{name: "memory limit auto", yaml: "memory_limit: auto\n", check: func(c Config) bool { return c.MemoryLimit == AutoMemoryLimit }},
		{name: "memory limit too small", yaml: "memory_limit: 1MiB\n", err: "memory_limit must be auto, 0"},
		{name: "memory limit nonsense", yaml: "memory_limit: lots\n", err: "(or auto)"},
		{name: "index cache too small", yaml: "store:\n  index_cache_bytes: 4KiB\n", err: "store.index_cache_bytes must be 0"},
		{name: "index cache over half the memory limit", yaml: "memory_limit: 1GiB\nstore:\n  index_cache_bytes: 600MiB\n", err: "at most half of memory_limit"},
		{name: "scrubber off", yaml: "store:\n  scrub_bytes_per_second: 0\n", check: func(c Config) bool { return c.Store.ScrubBytesPerSecond == 0 }},
		{name: "flush bytes too small", yaml: "store:\n  flush_bytes: 4KiB\n", err: "store.flush_bytes"},
		{name: "tenant retention", yaml: "store:\n  retention: 30d\n  tenants:\n    acme: {retention: 7d, max_disk_bytes: 10GiB}\n    \"\": {max_disk_bytes: 1GiB}\n",
			check: func(c Config) bool {
				acme, def := c.Store.Tenants["acme"], c.Store.Tenants[""]
				return len(c.Store.Tenants) == 2 && time.Duration(acme.Retention) == 7*24*time.Hour && acme.MaxDiskBytes == 10<<30 &&
					def.Retention == 0 && def.MaxDiskBytes == 1<<30 && time.Duration(c.Store.Retention) == 30*24*time.Hour
			}},
		{name: "tenant retention negative", yaml: "store:\n  tenants:\n    acme: {retention: -1h}\n", err: `store.tenants["acme"]: retention and max_disk_bytes must not be negative`},
		{name: "tenant retention empty", yaml: "store:\n  tenants:\n    acme: {}\n", err: `store.tenants["acme"]: set retention or max_disk_bytes`},
		{name: "tenant retention unknown key", yaml: "store:\n  tenants:\n    acme: {max_age: 7d}\n", err: "field max_age not found"},
		{name: "adaptive sink concurrency below its start", yaml: "sink:\n  type: elasticsearch\n  elasticsearch: {addresses: [\"http://es:9200\"], workers: 8, max_concurrency: 4}\n", err: "needs 1 <= workers <= max_concurrency"},
		{name: "merge fan-in", yaml: "store:\n  merge_fan_in: 4\n", check: func(c Config) bool { return c.Store.MergeFanIn == 4 }},
		{name: "merge fan-in above one merge's inputs", yaml: "store:\n  merge_fan_in: 32\n", err: "store.merge_fan_in must be between 2 and 16"},
		{name: "time window", yaml: "ingest:\n  max_future: 1h\n  out_of_window: stamp\n",
			check: func(c Config) bool {
				return c.Ingest.MaxFuture == Duration(time.Hour) && c.Ingest.OutOfWindow == OutOfWindowStamp
			}},
		{name: "time window off ahead", yaml: "ingest:\n  max_future: 0\n", check: func(c Config) bool { return c.Ingest.MaxFuture == 0 }},
		{name: "time window negative", yaml: "ingest:\n  max_future: -1h\n", err: "ingest.max_future must not be negative"},
		{name: "time window bad mode", yaml: "ingest:\n  out_of_window: drop\n", err: `ingest.out_of_window must be reject or stamp, got "drop"`},
		{name: "hold past the read timeout", yaml: "http:\n  read_timeout: 30s\nquotas:\n  ingest_max_hold: 30s\n", err: "quotas.ingest_hold and quotas.ingest_max_hold must be below http.read_timeout (30s), got 30s"},
		{name: "adaptive hold", yaml: "quotas:\n  ingest_max_hold: 20s\n", check: func(c Config) bool { return c.Quotas.IngestMaxHold == Duration(20*time.Second) }},
		{name: "dashboards per tenant", yaml: "query:\n  max_dashboards: 20\n", check: func(c Config) bool { return c.Query.MaxDashboards == 20 }},
		{name: "dashboards per tenant zero", yaml: "query:\n  max_dashboards: 0\n", err: "query.max_dashboards must be positive"},
		{name: "tenant retention bad size", yaml: "store:\n  tenants:\n    acme: {max_disk_bytes: lots}\n", err: "invalid size \"lots\""},
		{name: "autoscale", yaml: "autoscale:\n  statefulset: sluice-indexer-a\n  drain_target: 2m\n  headroom: 1.2\n  max_replicas: 12\n  indexer_metrics: [http://ix-0:9280/metrics]\n", check: func(c Config) bool {
			a := c.Autoscale
			return a.StatefulSet == "sluice-indexer-a" && a.DrainTarget == Duration(2*time.Minute) && a.Headroom == 1.2 && a.MaxReplicas == 12 && a.MinReplicas == 1 && len(a.IndexerMetrics) == 1
		}},
		{name: "autoscale both workloads", yaml: "autoscale:\n  deployment: a\n  statefulset: b\n", err: "autoscale.deployment and autoscale.statefulset: give one, not both"},
		{name: "autoscale headroom", yaml: "autoscale:\n  headroom: 0.9\n", err: "autoscale.headroom must be at least 1"},
		{name: "autoscale replicas", yaml: "autoscale:\n  min_replicas: 5\n  max_replicas: 2\n", err: "0 <= min_replicas <= max_replicas"},
		{name: "autoscale interval", yaml: "autoscale:\n  interval: 0s\n", err: "autoscale.interval must be positive"},
		{name: "autoscale indexer url", yaml: "autoscale:\n  indexer_metrics: [ix-0:9280]\n", err: "is not an http:// or https:// URL"},
		{name: "autoscale unknown key", yaml: "autoscale:\n  drain_time: 1m\n", err: "field drain_time not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse(strings.NewReader(tt.yaml))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(cfg) {
				t.Errorf("unexpected config %+v", cfg)
			}
		})
	}
}

func TestUnits(t *testing.T) {
	for in, want := range map[string]ByteSize{"64MiB": 64 << 20, "1GB": 1e9, "4096": 4096, "1.5KiB": 1536} {
		got, err := ParseByteSize(in)
		if err != nil || got != want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if ByteSize(64<<20).String() != "64MiB" || Duration(48*time.Hour).String() != "2d" {
		t.Error("String of units")
	}
}

func TestHeadBounds(t *testing.T) {
	tests := []struct {
		name               string
		memoryLimit        MemoryLimit
		flushBytes         ByteSize
		wantFlush, wantMax int64
	}{
		{"defaults", Default().MemoryLimit, Default().Store.FlushBytes, 32 << 20, 64 << 20},
		{"flush_bytes smaller than an eighth of the limit", 4 << 30, 64 << 20, 64 << 20, 128 << 20},
		{"a small limit caps flush_bytes", 256 << 20, 128 << 20, 32 << 20, 64 << 20},
		{"no limit: flush_bytes alone", 0, 128 << 20, 128 << 20, 256 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.MemoryLimit, c.Store.FlushBytes = tt.memoryLimit, tt.flushBytes
			if flush, max := c.HeadBounds(); flush != tt.wantFlush || max != tt.wantMax {
				t.Errorf("HeadBounds() = %d, %d; want %d, %d", flush, max, tt.wantFlush, tt.wantMax)
			}
		})
	}
}

func TestInFlightBytes(t *testing.T) {
	for _, tt := range []struct {
		name        string
		memoryLimit MemoryLimit
		set         ByteSize
		want        int64
	}{
		{"an eighth of memory_limit", 1 << 30, 0, 128 << 20},
		{"set explicitly", 1 << 30, 16 << 20, 16 << 20},
		{"no memory limit: four requests", 0, 0, 4 * 64 << 20},
	} {
		c := Default()
		c.MemoryLimit, c.Ingest.MaxInFlightBytes = tt.memoryLimit, tt.set
		if got := c.InFlightBytes(); got != tt.want {
			t.Errorf("%s: InFlightBytes() = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// TestMemoryShares checks the query bounds derived from memory_limit when
// their key is 0, and that a key set wins.
func TestMemoryShares(t *testing.T) {
	type bound struct {
		name string
		set  func(c *Config, b ByteSize)
		get  func(c Config) int64
	}
	result := bound{"max_result_bytes", func(c *Config, b ByteSize) { c.Query.MaxResultBytes = b }, Config.ResultBytes}
	tail := bound{"tail_buffer_bytes", func(c *Config, b ByteSize) { c.Query.TailBufferBytes = b }, Config.TailBytes}
	agg := bound{"max_aggregation_bytes", func(c *Config, b ByteSize) { c.Query.MaxAggregationBytes = b }, Config.AggregationBytes}
	for _, tt := range []struct {
		bound       bound
		memoryLimit MemoryLimit
		set         ByteSize
		want        int64
	}{
		{result, 1 << 30, 0, 64 << 20}, {result, 1 << 30, 1 << 20, 1 << 20}, {result, 0, 0, 256 << 20},
		{tail, 1 << 30, 0, 8 << 20}, {tail, 4 << 30, 0, 32 << 20}, {tail, 1 << 30, 1 << 20, 1 << 20}, {tail, 0, 0, 8 << 20},
		{agg, 1 << 30, 0, 128 << 20}, {agg, 16 << 30, 0, 2 << 30}, {agg, 1 << 30, 1 << 20, 1 << 20}, {agg, 0, 0, 256 << 20},
	} {
		c := Default()
		c.MemoryLimit = tt.memoryLimit
		tt.bound.set(&c, tt.set)
		if got := tt.bound.get(c); got != tt.want {
			t.Errorf("memory_limit %d, %s %d: derived %d, want %d", tt.memoryLimit, tt.bound.name, tt.set, got, tt.want)
		}
	}
}

func TestResolveMemoryLimit(t *testing.T) {
	tests := []struct {
		name       string
		set        MemoryLimit
		available  uint64
		gomemlimit int64
		want       MemoryLimit
	}{
		{"auto: a fraction of the cgroup's or host's memory", AutoMemoryLimit, 10 << 30, 0, 7 << 30},
		{"auto: GOMEMLIMIT wins", AutoMemoryLimit, 10 << 30, 1 << 30, 1 << 30},
		{"auto: never below the smallest valid limit", AutoMemoryLimit, 32 << 20, 0, 64 << 20},
		{"auto: unknown memory", AutoMemoryLimit, 0, 0, fallbackMemoryLimit},
		{"explicit size wins", 2 << 30, 10 << 30, 1 << 30, 2 << 30},
		{"explicit 0 (no limit) wins", 0, 10 << 30, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.MemoryLimit = tt.set
			c.ResolveMemoryLimit(tt.available, tt.gomemlimit)
			// 70% of a power of two is not one: compare within a byte.
			if d := c.MemoryLimit - tt.want; d < -1 || d > 1 {
				t.Errorf("memory_limit = %d, want %d", c.MemoryLimit, tt.want)
			}
			if err := c.Validate(); err != nil {
				t.Errorf("resolved config invalid: %v", err)
			}
		})
	}
}

func TestIndexCacheBytes(t *testing.T) {
	for _, tt := range []struct {
		name        string
		memoryLimit MemoryLimit
		set         ByteSize
		want        int64
	}{
		{"an eighth of memory_limit", 1 << 30, 0, 128 << 20},
		{"explicit wins", 1 << 30, 16 << 20, 16 << 20},
		{"no memory_limit", 0, 0, 64 << 20},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.MemoryLimit, c.Store.IndexCacheBytes = tt.memoryLimit, tt.set
			if got := c.IndexCacheBytes(); got != tt.want {
				t.Errorf("IndexCacheBytes() = %d, want %d", got, tt.want)
			}
		})
	}
}
