package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
)

// fileCache keeps part files open for reading, at most max at a time: a
// part's file is opened when a read first needs it and closed, least
// recently used first, when more than max are open, so the descriptors a
// store holds do not grow with the days it keeps. A read pins the file
// for its duration; pinned files are never closed, so while every open
// file is pinned (more concurrent reads than max) the bound is exceeded
// by those reads and restored as they end.
type fileCache struct {
	mu   sync.Mutex
	max  int
	open int
	lru  fileEntry // sentinel: lru.next is the most recently released
	// openFile opens a part's file; the store opens the path and checks
	// its size, tests may serve bytes from memory.
	openFile func(p *part) (partFile, error)

	opens, closes atomic.Int64
}

// partFile is an open part file.
type partFile interface {
	io.ReaderAt
	io.Closer
}

// fileEntry is a part's place in the fileCache; the part's fmu guards
// f and pins, the cache's mu listed and the list links (an
// unlink writes the neighbours' links too).
type fileEntry struct {
	f          partFile
	pins       int
	listed     bool // in the LRU list: open and not pinned
	prev, next *fileEntry
	p          *part
}

func newFileCache(max int, openFile func(p *part) (partFile, error)) *fileCache {
	c := &fileCache{max: max, openFile: openFile}
	c.lru.prev, c.lru.next = &c.lru, &c.lru
	return c
}

// defaultMaxOpenFiles is a quarter of the process's limit on open files
// (RLIMIT_NOFILE, which the Go runtime raises to its hard limit at
// start), leaving the rest to connections, the WAL and everything else;
// at least 64. The server passes the share its connection budget
// reserves instead (internal/connlimit).
func defaultMaxOpenFiles() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur == 0 {
		return 256
	}
	return int(max(64, min(lim.Cur/4, 1<<20)))
}

// acquire returns p's open file, opening it if needed, pinned until the
// matching release.
func (c *fileCache) acquire(p *part) (partFile, error) {
	e := &p.file
	p.fmu.Lock()
	if e.f == nil {
		f, err := c.openFile(p)
		if err != nil {
			p.fmu.Unlock()
			return nil, err
		}
		e.f, e.p = f, p
		c.mu.Lock()
		c.open++
		c.mu.Unlock()
		c.opens.Add(1)
	}
	e.pins++
	if e.pins == 1 {
		c.mu.Lock()
		if e.listed {
			c.unlinkLocked(e)
		}
		c.mu.Unlock()
	}
	f := e.f
	p.fmu.Unlock()
	c.evict()
	return f, nil
}

// release unpins p's file, which then waits in the LRU list to be reused
// or closed.
func (c *fileCache) release(p *part) {
	e := &p.file
	p.fmu.Lock()
	e.pins--
	if e.pins == 0 && e.f != nil {
		c.mu.Lock()
		e.prev, e.next = &c.lru, c.lru.next
		e.prev.next, e.next.prev = e, e
		e.listed = true
		c.mu.Unlock()
	}
	p.fmu.Unlock()
	c.evict()
}

func (c *fileCache) unlinkLocked(e *fileEntry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
	e.listed = false
}

// evict closes the least recently released files while more than max
// are open.
func (c *fileCache) evict() {
	for {
		c.mu.Lock()
		if c.open <= c.max || c.lru.prev == &c.lru {
			c.mu.Unlock()
			return
		}
		e := c.lru.prev
		c.unlinkLocked(e)
		c.mu.Unlock()
		c.closeEntry(e.p, false)
	}
}

// closeEntry closes p's file unless a read pinned it or released it again
// since evict took it off the list (then it is recently used); forget
// (the part left the store and no read holds it) closes it regardless.
func (c *fileCache) closeEntry(p *part, forget bool) {
	e := &p.file
	p.fmu.Lock()
	defer p.fmu.Unlock()
	if e.f == nil || e.pins > 0 {
		return
	}
	c.mu.Lock()
	if e.listed {
		if !forget {
			c.mu.Unlock()
			return
		}
		c.unlinkLocked(e)
	}
	c.mu.Unlock()
	_ = e.f.Close()
	e.f = nil
	c.mu.Lock()
	c.open--
	c.mu.Unlock()
	c.closes.Add(1)
}

// forget closes p's file for good: p left the store and its last reader
// is done.
func (c *fileCache) forget(p *part) { c.closeEntry(p, true) }

// FileCacheStats describes the open part files.
type FileCacheStats struct {
	Open, Max     int
	Opens, Closes int64
}

func (c *fileCache) stats() FileCacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return FileCacheStats{Open: c.open, Max: c.max, Opens: c.opens.Load(), Closes: c.closes.Load()}
}

// openPartFile opens the file of p at path and checks its size against
// the manifest's: a truncated or extended file is corrupt, a missing one
// too (the manifest says it is live).
func openPartFile(path string, size int64) (partFile, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: part file %s is missing", errCorrupt, path)
	}
	if err != nil {
		return nil, fmt.Errorf("open part %s: %w", path, err)
	}
	st, err := f.Stat()
	if err == nil && st.Size() != size {
		err = fmt.Errorf("%w: part %s has %d bytes, manifest says %d", errCorrupt, path, st.Size(), size)
	}
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}
