package store

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

// sized is a cache value of a given size.
type sized int64

func (s sized) memBytes() int64 { return int64(s) }

func TestIndexCacheBound(t *testing.T) {
	c := newIndexCache(100)
	load := func(n int64) func() (cached, error) { return func() (cached, error) { return sized(n), nil } }
	for i := range 10 {
		if _, err := c.get(cacheKey{1, int32(i)}, load(30)); err != nil {
			t.Fatal(err)
		}
		// The bound holds after every insertion.
		if st := c.stats(); st.Bytes > 100 {
			t.Fatalf("after %d entries: %d bytes", i+1, st.Bytes)
		}
	}
	st := c.stats()
	if st.Entries != 3 || st.Misses != 10 || st.Evictions != 7 {
		t.Fatalf("stats %+v, want 3 entries, 10 misses, 7 evictions", st)
	}
	// Least recently used goes first: touch 7, then add one more.
	if _, err := c.get(cacheKey{1, 7}, load(30)); err != nil {
		t.Fatal(err)
	}
	c.put(cacheKey{1, 10}, sized(30))
	for ci, want := range map[int32]bool{7: true, 8: false, 9: true, 10: true} {
		if got := c.peek(cacheKey{1, ci}) != nil; got != want {
			t.Errorf("chunk %d cached: %v, want %v", ci, got, want)
		}
	}
	// An entry larger than the bound stays alone, evicting the rest.
	c.put(cacheKey{2, 0}, sized(500))
	if st := c.stats(); st.Entries != 1 || st.Bytes != 500 {
		t.Fatalf("one large entry: %+v", st)
	}
	// Growing an entry (kept headers) counts and evicts.
	c.put(cacheKey{3, 0}, sized(60))
	v := c.peek(cacheKey{3, 0})
	c.put(cacheKey{3, 1}, sized(30))
	c.grow(cacheKey{3, 1}, sized(0), 50) // not the cached value: ignored
	if st := c.stats(); st.Bytes != 90 {
		t.Fatalf("growing a value the cache no longer holds: %+v", st)
	}
	c.grow(cacheKey{3, 0}, v, 20)
	if st := c.stats(); st.Bytes != 30 || st.Entries != 1 {
		t.Fatalf("after growing the least recent entry past the bound: %+v, want it evicted", st)
	}
	// A dropped part leaves nothing behind.
	c.put(cacheKey{4, metaIndexChunk}, sized(5))
	c.put(cacheKey{4, 0}, sized(5))
	c.dropPart(4, 1)
	if c.peek(cacheKey{4, metaIndexChunk}) != nil || c.peek(cacheKey{4, 0}) != nil {
		t.Fatal("entries of a dropped part remain")
	}
}

func TestIndexCacheLoadsOnce(t *testing.T) {
	c := newIndexCache(1 << 20)
	var loads atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			v, err := c.get(cacheKey{1, 0}, func() (cached, error) {
				loads.Add(1)
				<-release
				return sized(10), nil
			})
			if err != nil || v != sized(10) {
				t.Errorf("get = %v, %v", v, err)
			}
		})
	}
	close(release)
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Fatalf("%d loads of one entry", n)
	}
	// A failed load is not kept: the next get tries again.
	boom := errors.New("boom")
	if _, err := c.get(cacheKey{2, 0}, func() (cached, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("failed load: %v", err)
	}
	if v, err := c.get(cacheKey{2, 0}, func() (cached, error) { return sized(1), nil }); err != nil || v != sized(1) {
		t.Fatalf("load after a failure: %v %v", v, err)
	}
}
