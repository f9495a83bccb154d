package store

import (
	"sync"
	"sync/atomic"
)

// indexCache holds the parts' index structures that searches load on
// demand: each part's meta-index (what its index chunks cover) and its
// index chunks (the block metadata of up to chunkBlocks blocks: labels,
// fields, bloom filters, numeric ranges, and the block headers searches
// keep). It is bounded in bytes and evicts the least recently used entry
// first, so the memory indexes take is set by configuration
// (store.index_cache_bytes), not by the data stored, as VictoriaLogs'
// and Prometheus tsdb's index caches do.
//
// An entry a search holds stays valid after its eviction (it is only
// dropped from the cache), so the bound can be exceeded by what running
// searches hold, at most one chunk per search worker.
type indexCache struct {
	mu      sync.Mutex
	max     int64
	bytes   int64
	entries map[cacheKey]*cacheEntry
	head    cacheEntry // sentinel of the LRU list: head.next is the most recent
	// loading holds the loads in flight, so that workers asking for the
	// same chunk at once decode it once.
	loading map[cacheKey]*cacheLoad

	hits, misses, evictions atomic.Int64
}

// cacheKey names an entry: a part (by its name, unique in the store and
// never reused) and a chunk of its index, or metaIndexChunk.
type cacheKey struct {
	part  uint64
	chunk int32
}

// metaIndexChunk is the chunk number of a part's meta-index.
const metaIndexChunk = -1

// cached is what the cache holds: a *metaIndex or an *indexChunk.
type cached interface {
	// memBytes is about the memory the value takes.
	memBytes() int64
}

type cacheEntry struct {
	key        cacheKey
	val        cached
	size       int64
	prev, next *cacheEntry
}

type cacheLoad struct {
	done chan struct{}
	val  cached
	err  error
}

func newIndexCache(maxBytes int64) *indexCache {
	c := &indexCache{max: maxBytes, entries: make(map[cacheKey]*cacheEntry), loading: make(map[cacheKey]*cacheLoad)}
	c.head.prev, c.head.next = &c.head, &c.head
	return c
}

// get returns the entry of key, calling load to read it on a miss (once,
// however many callers miss at the same time) and keeping what it loaded.
func (c *indexCache) get(key cacheKey, load func() (cached, error)) (cached, error) {
	c.mu.Lock()
	if e := c.entries[key]; e != nil {
		c.moveToFront(e)
		c.mu.Unlock()
		c.hits.Add(1)
		return e.val, nil
	}
	if l := c.loading[key]; l != nil {
		c.mu.Unlock()
		<-l.done
		c.hits.Add(1)
		return l.val, l.err
	}
	l := &cacheLoad{done: make(chan struct{})}
	c.loading[key] = l
	c.mu.Unlock()
	c.misses.Add(1)
	l.val, l.err = load()
	c.mu.Lock()
	delete(c.loading, key)
	if l.err == nil {
		c.putLocked(key, l.val)
	}
	c.mu.Unlock()
	close(l.done)
	return l.val, l.err
}

// peek returns the entry of key if the cache holds it, without loading
// nor counting a hit or miss: a merge reads each chunk of its inputs once,
// and keeping them would only evict what searches use.
func (c *indexCache) peek(key cacheKey) cached {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[key]; e != nil {
		return e.val
	}
	return nil
}

// put keeps val as the entry of key (a part writer's freshly written
// index, which the first searches of a new part would otherwise read
// back at once).
func (c *indexCache) put(key cacheKey, val cached) {
	c.mu.Lock()
	c.putLocked(key, val)
	c.mu.Unlock()
}

func (c *indexCache) putLocked(key cacheKey, val cached) {
	if old := c.entries[key]; old != nil {
		c.removeLocked(old)
	}
	e := &cacheEntry{key: key, val: val, size: val.memBytes()}
	c.entries[key] = e
	c.bytes += e.size
	e.prev, e.next = &c.head, c.head.next
	e.prev.next, e.next.prev = e, e
	c.evictLocked()
}

// grow adds n bytes to the size of key's entry (a chunk that kept a block
// header), if the cache still holds it as val.
func (c *indexCache) grow(key cacheKey, val cached, n int64) {
	c.mu.Lock()
	if e := c.entries[key]; e != nil && e.val == val {
		e.size += n
		c.bytes += n
		c.evictLocked()
	}
	c.mu.Unlock()
}

// dropPart removes the entries of a part that left the store, whose
// index has chunks chunks.
func (c *indexCache) dropPart(part uint64, chunks int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for ci := metaIndexChunk; ci < chunks; ci++ {
		if e := c.entries[cacheKey{part, int32(ci)}]; e != nil {
			c.removeLocked(e)
		}
	}
}

func (c *indexCache) moveToFront(e *cacheEntry) {
	if c.head.next == e {
		return
	}
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = &c.head, c.head.next
	e.prev.next, e.next.prev = e, e
}

func (c *indexCache) removeLocked(e *cacheEntry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
	delete(c.entries, e.key)
	c.bytes -= e.size
}

// evictLocked drops least recently used entries while the cache holds
// more than its bound; the most recent entry stays even when it alone is
// larger.
func (c *indexCache) evictLocked() {
	for c.bytes > c.max && c.head.prev != c.head.next {
		c.removeLocked(c.head.prev)
		c.evictions.Add(1)
	}
}

// IndexCacheStats describes the index cache.
type IndexCacheStats struct {
	Bytes, MaxBytes         int64
	Entries                 int
	Hits, Misses, Evictions int64
}

func (c *indexCache) stats() IndexCacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return IndexCacheStats{Bytes: c.bytes, MaxBytes: c.max, Entries: len(c.entries),
		Hits: c.hits.Load(), Misses: c.misses.Load(), Evictions: c.evictions.Load()}
}
