package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// statusPath is Sluice's status endpoint; pipeline.merges_pending counts the daily
// partitions whose parts it will still merge (now, or once idle).
const statusPath = "/api/v1/status"

// waitMerges waits until a Sluice server reports no merge pending, so that
// disk and queries are measured on the store as it will stay, the way the
// settle wait lets VictoriaLogs finish its merges. It gives up after
// timeout.
func waitMerges(ctx context.Context, c *client, poll, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		n, err := mergesPending(ctx, c)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d partitions still waiting for a merge after %s", n, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}

func mergesPending(ctx context.Context, c *client) (int, error) {
	st, err := storeStatus(ctx, c)
	return st.MergesPending, err
}

// sluiceStatus is what the harness reads of Sluice's /api/v1/status.
type sluiceStatus struct {
	MergesPending int
	Parts         int
}

func storeStatus(ctx context.Context, c *client) (sluiceStatus, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+statusPath, nil)
	if err != nil {
		return sluiceStatus{}, err
	}
	r, err := c.http.Do(req)
	if err != nil {
		return sluiceStatus{}, fmt.Errorf("get %s: %w", statusPath, err)
	}
	defer r.Body.Close()
	data, err := io.ReadAll(r.Body)
	if err != nil || r.StatusCode != http.StatusOK {
		return sluiceStatus{}, fmt.Errorf("get %s: status %d: %s (%v)", statusPath, r.StatusCode, snippet(data), err)
	}
	var st struct {
		Pipeline struct {
			MergesPending *int `json:"merges_pending"`
			Parts         int  `json:"parts"`
		} `json:"pipeline"`
	}
	if err := json.Unmarshal(data, &st); err != nil || st.Pipeline.MergesPending == nil {
		return sluiceStatus{}, fmt.Errorf("get %s: no pipeline.merges_pending in %s (%v)", statusPath, snippet(data), err)
	}
	return sluiceStatus{MergesPending: *st.Pipeline.MergesPending, Parts: st.Pipeline.Parts}, nil
}
