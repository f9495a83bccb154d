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
