package store

import (
	"cmp"
	"context"
	"errors"
	"io"
	"slices"
	"sync"
	"time"
)

// Opening a store hashes no part: a start that re-read every byte stored
// would take as long as the data is large. A part's sha256 is checked
// against the manifest's before the first read of it in this process
// instead (checkFirstRead): the parts a query reads cost their hash once,
// at that query, and the others nothing until the scrubber, which hashes
// the parts opened from disk in the background at a bounded rate
// (Scrub), gets to them. Every read also checks what it reads (the
// meta-index, each index chunk, block header and column carries its own
// xxhash64), which catches damage done after the check but not a forger,
// who can recompute an xxhash64 but not the manifest's hash chain. A
// merge hashes its inputs before it merges them, so that it cannot turn
// altered bytes into a new part with a valid sha256. A part this process
// wrote was hashed as it was written. `sluice verify` still hashes
// everything, on demand.

// scrubQueue is the parts whose sha256 this process has not checked.
type scrubQueue struct {
	rest []*part // every part opened from disk, newest partition first
}

// queueScrub queues the parts opened from disk, newest partition first:
// recent data is the most read.
func (s *Store) queueScrub(parts []*part) {
	slices.SortFunc(parts, func(a, b *part) int {
		return cmp.Or(cmp.Compare(b.partition, a.partition), cmp.Compare(a.name, b.name))
	})
	s.scrubMu.Lock()
	s.scrub.rest = parts
	s.scrubMu.Unlock()
}

// partCheck is the one sha256 check of a part in flight, which every read,
// merge and the scrubber meeting the part unverified wait for rather than
// hash it again.
type partCheck struct {
	done chan struct{} // closed when the check ends
	// hurry is closed when a read or a merge waits for the check: a
	// scrubber's check then stops pacing itself.
	hurry     chan struct{}
	hurryOnce sync.Once
}

func (c *partCheck) hurryUp() { c.hurryOnce.Do(func() { close(c.hurry) }) }

// joinCheck returns the check of p in flight, or, when there is none and
// p is neither verified nor found corrupt (err), a new one for the caller
// to run (own) and end with endCheck.
func (p *part) joinCheck() (c *partCheck, own bool, err error) {
	p.checkMu.Lock()
	defer p.checkMu.Unlock()
	switch {
	case p.verified.Load():
		return nil, false, nil
	case errors.Is(p.checkErr, errCorrupt):
		return nil, false, p.checkErr
	case p.checking != nil:
		return p.checking, false, nil
	}
	p.checking = &partCheck{done: make(chan struct{}), hurry: make(chan struct{})}
	return p.checking, true, nil
}

// endCheck ends c, the check of p that the caller ran, with its verdict.
func (p *part) endCheck(c *partCheck, err error) {
	p.checkMu.Lock()
	p.checkErr, p.checking = err, nil
	p.checkMu.Unlock()
	close(c.done)
}

// checkFirstRead checks p's sha256 before the first read of it in this
// process, and before a merge reads it: altered bytes are not served, nor
// merged into a new part with a valid sha256, even when every xxhash64 in
// them was recomputed. The hash runs at disk and CPU speed, unpaced (see
// storage.md for what it costs), once per part however many reads meet
// the part unchecked: the first starts it apart from itself, under the
// store's lifetime rather than its own deadline, and every read waits
// for it or for its own ctx to end, whichever comes first. So a read
// that gives up does not throw the hash away, and a part too big to hash
// within one query's time still becomes readable. When the scrubber is
// hashing the part already, the read waits for the scrubber's hash
// instead, which stops pacing itself: the bytes it has hashed count, and
// none is hashed twice. A mismatch quarantines p and fails this read and
// every later one with the same errCorrupt error, which the search
// reports as a part it could not read; another failure (the file could
// not be read) fails the reads that waited, and the next read tries
// again.
func (s *Store) checkFirstRead(ctx context.Context, p *part) error {
	for {
		if p.verified.Load() {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err // a read that has given up starts no hash
		}
		c, own, err := p.joinCheck()
		if c == nil {
			return err
		}
		if own {
			// Under mu, so that Close, which sets closed under it before
			// it waits for the checks, waits for this one or refuses it.
			s.mu.RLock()
			closed := s.closed
			if !closed {
				s.checks.Add(1)
			}
			s.mu.RUnlock()
			if closed {
				p.endCheck(c, errClosed)
				return errClosed
			}
			p.incRef()
			go func() {
				defer s.checks.Done()
				defer p.decRef()
				p.endCheck(c, s.verifyPart(s.lifeCtx, p, nil))
			}()
		} else {
			c.hurryUp()
		}
		select {
		case <-c.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if p.verified.Load() {
			return nil
		}
		// verifyPart returns nil only once p is verified: the hash failed.
		p.checkMu.Lock()
		err = p.checkErr
		p.checkMu.Unlock()
		if own || !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		// The scrubber's hash ended with the scrubber: this read runs
		// its own.
	}
}

// checkOnRead is checkFirstRead for a read that has no context (partIO.check):
// a search checks its parts first, under its own (searcher.checkParts).
func (s *Store) checkOnRead(p *part) error { return s.checkFirstRead(context.Background(), p) }

// nextToScrub returns, with a reference, the next served part whose
// sha256 is unchecked, or nil when there is none.
func (s *Store) nextToScrub() *part {
	for {
		var p *part
		s.scrubMu.Lock()
		if len(s.scrub.rest) > 0 {
			p, s.scrub.rest = s.scrub.rest[0], s.scrub.rest[1:]
		}
		s.scrubMu.Unlock()
		if p == nil {
			return nil
		}
		if p.verified.Load() {
			continue
		}
		s.mu.RLock()
		served := s.parts[p.partition][p.name] == p
		if served {
			p.incRef()
		}
		s.mu.RUnlock()
		if served {
			return p
		}
	}
}

// Scrub checks the sha256 of every served part that this process has not
// checked yet, reading at most bytesPerSecond (0: no bound), and returns
// when none is left or ctx ends. A part that fails is quarantined, as one
// that fails a read.
func (s *Store) Scrub(ctx context.Context, bytesPerSecond int64) error {
	start := time.Now()
	var done int64
	// hurry is closed when a read or a merge waits for the part being
	// hashed: the rest of the part is hashed unpaced. Its bytes still
	// count against the rate, so the scrubber makes up for them after.
	var hurry <-chan struct{}
	pace := func(n int) error {
		done += int64(n)
		if bytesPerSecond > 0 {
			due := start.Add(time.Duration(float64(done) / float64(bytesPerSecond) * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				t := time.NewTimer(d)
				defer t.Stop()
				select {
				case <-ctx.Done():
				case <-hurry:
				case <-t.C:
				}
			}
		}
		return ctx.Err()
	}
	for {
		p := s.nextToScrub()
		if p == nil {
			return nil
		}
		err := s.scrubPart(ctx, p, pace, &hurry)
		p.decRef()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil && !errors.Is(err, errCorrupt) {
			s.log.Warn("scrub could not read a part; it stays unchecked until the next start", "part", p.ref().id(), "err", err)
		}
	}
}

// scrubPart checks p's sha256 for the scrubber: it runs the check, paced,
// with *hurry set to the check's hurry (see partCheck), or, when a read or
// merge is hashing p already, waits for that check instead.
func (s *Store) scrubPart(ctx context.Context, p *part, pace func(int) error, hurry *<-chan struct{}) error {
	for {
		c, own, err := p.joinCheck()
		if c == nil {
			return err
		}
		if own {
			*hurry = c.hurry
			err := s.verifyPart(ctx, p, pace)
			p.endCheck(c, err)
			return err
		}
		select {
		case <-c.done: // verified, corrupt, or to be tried again
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// verifyPart hashes p's file against the manifest's sha256 unless this
// process has already; pace, when not nil, is called after each read with
// its length. A mismatch, or a file missing or of the wrong size,
// quarantines p and returns an errCorrupt error.
func (s *Store) verifyPart(ctx context.Context, p *part, pace func(int) error) error {
	if p.verified.Load() {
		return nil
	}
	if pace == nil {
		pace = func(int) error { return ctx.Err() }
	}
	counted := func(n int) error {
		s.scrubBytes.Add(int64(n))
		return pace(n)
	}
	f, err := s.pio.files.acquire(p)
	if err == nil {
		err = verifyHash(io.NewSectionReader(f, 0, p.size), p.sha256, counted)
		s.pio.files.release(p)
	}
	switch {
	case err == nil:
		p.verified.Store(true)
		s.scrubbed.Add(1)
	case errors.Is(err, errCorrupt):
		s.scrubbed.Add(1)
		s.scrubFailures.Add(1)
		s.quarantineServed(p, err)
	}
	return err
}
