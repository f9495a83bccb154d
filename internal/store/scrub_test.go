package store

import "testing"

// TestScrubReadPartsFirst: the scrubber hashes newest partitions first,
// but a part whose file a read opened before the scrubber reached it
// jumps the queue, and the read itself hashes nothing.
func TestScrubReadPartsFirst(t *testing.T) {
	fx := newCrashFixture(t)
	s := openTest(t, fx.dir, Options{})
	defer func() { _ = s.Close() }()
	s.scrubMu.Lock()
	queue := append([]*part(nil), s.scrub.rest...)
	s.scrubMu.Unlock()
	if len(queue) < 3 || queue[0].partition < queue[len(queue)-1].partition {
		t.Fatalf("the queue does not start with the newest partition: %d parts", len(queue))
	}
	last := queue[len(queue)-1]
	req := SearchRequest{Tenant: tenantOf(t, last.ref().id()), From: last.minTime, To: last.maxTime + 1}
	if rows := searchAll(t, s, req); len(rows) == 0 {
		t.Fatalf("search of %s found nothing", last.ref().id())
	}
	if st := s.Stats(); st.PartsScrubbed != 0 {
		t.Fatalf("a read hashed %d parts", st.PartsScrubbed)
	}
	p := s.nextToScrub()
	if p == nil {
		t.Fatal("nothing to scrub")
	}
	defer p.decRef()
	// The search read the parts of last's partition (its day), the
	// oldest in the queue.
	if p.partition != last.partition {
		t.Fatalf("the scrubber's next part is %s, want one of partition %s, which a search read first", p.ref().id(), last.partition)
	}
}
