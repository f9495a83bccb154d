package main

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"
)

// TestWaitMerges checks that the harness polls Sluice's status until no
// merge is pending.
func TestWaitMerges(t *testing.T) {
	f := newFakeServer("", "_msg")
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := newClient(srv.URL, 1)
	if err := waitMerges(context.Background(), c, time.Millisecond, time.Minute); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	polls := f.statuses
	// A server whose merges never finish makes the wait give up.
	f.statuses = -1000
	f.mu.Unlock()
	if polls != hidePolls+1 {
		t.Fatalf("%d status polls, want %d", polls, hidePolls+1)
	}
	if err := waitMerges(context.Background(), c, time.Millisecond, 20*time.Millisecond); err == nil {
		t.Fatal("no error while merges stayed pending")
	}
}

// TestUnsettled: the run fails when the store merged or flushed while the
// idle queries ran.
func TestUnsettled(t *testing.T) {
	for _, tc := range []struct {
		name    string
		settled int
		st      sluiceStatus
		fails   bool
	}{
		{"unchanged", 22, sluiceStatus{Parts: 22}, false},
		{"merged meanwhile", 27, sluiceStatus{Parts: 22}, true},
		{"merge pending", 22, sluiceStatus{Parts: 22, MergesPending: 1}, true},
		{"records in the head", 22, sluiceStatus{Parts: 22, HeadRecords: 5}, true},
	} {
		if got := unsettled(tc.settled, tc.st); (got != "") != tc.fails {
			t.Errorf("%s: %q", tc.name, got)
		}
	}
}
